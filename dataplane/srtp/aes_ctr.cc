#include "dataplane/srtp/aes_ctr.h"

#include <cpuid.h>
#include <immintrin.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <cstring>
#include <stdexcept>
#include <string>

namespace rtprelay::dp::srtp {

namespace {

// The AES-NI code below is compiled for AES-NI on top of the build baseline (SSE4.2) and is
// only ever called after cpu_has_aesni() said yes. Its loops are unrolled by pragma: at -O2
// GCC keeps them, and the block array then lives in memory instead of registers (2.5x slower).

// FIPS-197 key expansion, one round key: each word of `base` XORed with all the words
// before it, then with `t` (the transformed last word of the key before, in every dword).
[[gnu::target("aes")]] inline __m128i next_round_key(__m128i base, __m128i t) {
    base = _mm_xor_si128(base, _mm_slli_si128(base, 4));
    base = _mm_xor_si128(base, _mm_slli_si128(base, 4));
    base = _mm_xor_si128(base, _mm_slli_si128(base, 4));
    return _mm_xor_si128(base, t);
}

// AES-128: round key i extends key i - 1 by RotWord/SubWord/Rcon of its last word
// (AESKEYGENASSIST dword 3).
template <int rcon>
[[gnu::target("aes")]] inline __m128i expand_round(__m128i k) {
    return next_round_key(k, _mm_shuffle_epi32(_mm_aeskeygenassist_si128(k, rcon), 0xff));
}

[[gnu::target("aes")]] void expand_key_128(const uint8_t* key, uint8_t* round_keys) {
    __m128i rk[11];
    rk[0] = _mm_loadu_si128(reinterpret_cast<const __m128i*>(key));
    rk[1] = expand_round<0x01>(rk[0]);
    rk[2] = expand_round<0x02>(rk[1]);
    rk[3] = expand_round<0x04>(rk[2]);
    rk[4] = expand_round<0x08>(rk[3]);
    rk[5] = expand_round<0x10>(rk[4]);
    rk[6] = expand_round<0x20>(rk[5]);
    rk[7] = expand_round<0x40>(rk[6]);
    rk[8] = expand_round<0x80>(rk[7]);
    rk[9] = expand_round<0x1b>(rk[8]);
    rk[10] = expand_round<0x36>(rk[9]);
#pragma GCC unroll 16
    for (int i = 0; i < 11; ++i) {
        _mm_store_si128(reinterpret_cast<__m128i*>(round_keys + 16 * i), rk[i]);
    }
}

// AES-256 (Nk = 8): round key i (of 15) extends the one two before it. Even ones take
// RotWord/SubWord/Rcon of the previous key's last word (AESKEYGENASSIST dword 3), odd ones
// only SubWord of it (dword 2, with rcon 0), as FIPS-197 5.2 says for i mod Nk = 4.
template <int rcon>
[[gnu::target("aes")]] inline __m128i expand_even_256(__m128i two_before, __m128i prev) {
    return next_round_key(two_before, _mm_shuffle_epi32(_mm_aeskeygenassist_si128(prev, rcon), 0xff));
}

[[gnu::target("aes")]] inline __m128i expand_odd_256(__m128i two_before, __m128i prev) {
    return next_round_key(two_before, _mm_shuffle_epi32(_mm_aeskeygenassist_si128(prev, 0), 0xaa));
}

[[gnu::target("aes")]] void expand_key_256(const uint8_t* key, uint8_t* round_keys) {
    __m128i rk[15];
    rk[0] = _mm_loadu_si128(reinterpret_cast<const __m128i*>(key));
    rk[1] = _mm_loadu_si128(reinterpret_cast<const __m128i*>(key + 16));
    rk[2] = expand_even_256<0x01>(rk[0], rk[1]);
    rk[3] = expand_odd_256(rk[1], rk[2]);
    rk[4] = expand_even_256<0x02>(rk[2], rk[3]);
    rk[5] = expand_odd_256(rk[3], rk[4]);
    rk[6] = expand_even_256<0x04>(rk[4], rk[5]);
    rk[7] = expand_odd_256(rk[5], rk[6]);
    rk[8] = expand_even_256<0x08>(rk[6], rk[7]);
    rk[9] = expand_odd_256(rk[7], rk[8]);
    rk[10] = expand_even_256<0x10>(rk[8], rk[9]);
    rk[11] = expand_odd_256(rk[9], rk[10]);
    rk[12] = expand_even_256<0x20>(rk[10], rk[11]);
    rk[13] = expand_odd_256(rk[11], rk[12]);
    rk[14] = expand_even_256<0x40>(rk[12], rk[13]);
#pragma GCC unroll 16
    for (int i = 0; i < 15; ++i) {
        _mm_store_si128(reinterpret_cast<__m128i*>(round_keys + 16 * i), rk[i]);
    }
}

// Encrypts N independent blocks in lockstep, so that N AESENC are in flight per round
// (latency ~4 cycles, throughput 1-2 per cycle: 8 blocks keep the unit busy). NR rounds:
// 10 for AES-128, 14 for AES-256.
template <int NR, int N>
[[gnu::target("aes")]] inline void encrypt_blocks(const __m128i* rk, __m128i* b) {
#pragma GCC unroll 16
    for (int i = 0; i < N; ++i) {
        b[i] = _mm_xor_si128(b[i], rk[0]);
    }
#pragma GCC unroll 16
    for (int r = 1; r < NR; ++r) {
#pragma GCC unroll 16
        for (int i = 0; i < N; ++i) {
            b[i] = _mm_aesenc_si128(b[i], rk[r]);
        }
    }
#pragma GCC unroll 16
    for (int i = 0; i < N; ++i) {
        b[i] = _mm_aesenclast_si128(b[i], rk[NR]);
    }
}

// Counter blocks are kept byte-reversed (a little-endian 128-bit number) so that the block
// number is one 64-bit add; `bswap` turns them back into big-endian counter blocks.
[[gnu::target("aes")]] inline __m128i byte_reverse() {
    return _mm_set_epi8(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
}

// The last 1..8 blocks of a message, `len` bytes in (16 * (N - 1), 16 * N].
template <int NR, int N>
[[gnu::target("aes")]] inline void ctr_tail(const __m128i* rk, __m128i ctr, const uint8_t* in, uint8_t* out,
                                            size_t len) {
    const __m128i bswap = byte_reverse();
    const __m128i one = _mm_set_epi64x(0, 1);
    __m128i b[N];
#pragma GCC unroll 16
    for (int i = 0; i < N; ++i) {
        b[i] = _mm_shuffle_epi8(ctr, bswap);
        ctr = _mm_add_epi64(ctr, one);
    }
    encrypt_blocks<NR, N>(rk, b);
#pragma GCC unroll 16
    for (int i = 0; i < N - 1; ++i) {
        const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(in + 16 * i));
        _mm_storeu_si128(reinterpret_cast<__m128i*>(out + 16 * i), _mm_xor_si128(x, b[i]));
    }
    const size_t last = len - 16 * (N - 1);
    alignas(16) uint8_t tmp[16] = {};
    std::memcpy(tmp, in + 16 * (N - 1), last);
    const __m128i x = _mm_load_si128(reinterpret_cast<const __m128i*>(tmp));
    _mm_store_si128(reinterpret_cast<__m128i*>(tmp), _mm_xor_si128(x, b[N - 1]));
    std::memcpy(out + 16 * (N - 1), tmp, last);
}

// Precondition: the low 64 bits of the counter do not wrap within this call.
template <int NR>
[[gnu::target("aes")]] void ctr_aesni(const uint8_t* round_keys, const uint8_t iv[16], const uint8_t* in, uint8_t* out,
                                      size_t len) {
    __m128i rk[NR + 1];
#pragma GCC unroll 16
    for (int i = 0; i <= NR; ++i) {
        rk[i] = _mm_load_si128(reinterpret_cast<const __m128i*>(round_keys + 16 * i));
    }
    const __m128i bswap = byte_reverse();
    const __m128i one = _mm_set_epi64x(0, 1);
    __m128i ctr = _mm_shuffle_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(iv)), bswap);
    while (len >= 128) {
        __m128i b[8];
#pragma GCC unroll 16
        for (int i = 0; i < 8; ++i) {
            b[i] = _mm_shuffle_epi8(ctr, bswap);
            ctr = _mm_add_epi64(ctr, one);
        }
        encrypt_blocks<NR, 8>(rk, b);
#pragma GCC unroll 16
        for (int i = 0; i < 8; ++i) {
            const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(in + 16 * i));
            _mm_storeu_si128(reinterpret_cast<__m128i*>(out + 16 * i), _mm_xor_si128(x, b[i]));
        }
        in += 128;
        out += 128;
        len -= 128;
    }
    switch ((len + 15) / 16) {
        case 0:
            break;
        case 1:
            ctr_tail<NR, 1>(rk, ctr, in, out, len);
            break;
        case 2:
            ctr_tail<NR, 2>(rk, ctr, in, out, len);
            break;
        case 3:
            ctr_tail<NR, 3>(rk, ctr, in, out, len);
            break;
        case 4:
            ctr_tail<NR, 4>(rk, ctr, in, out, len);
            break;
        case 5:
            ctr_tail<NR, 5>(rk, ctr, in, out, len);
            break;
        case 6:
            ctr_tail<NR, 6>(rk, ctr, in, out, len);
            break;
        case 7:
            ctr_tail<NR, 7>(rk, ctr, in, out, len);
            break;
        default:
            ctr_tail<NR, 8>(rk, ctr, in, out, len);
            break;
    }
}

// ECB over n <= 8 blocks, in place in `b`.
template <int NR>
[[gnu::target("aes")]] void ecb_aesni(const uint8_t* round_keys, __m128i* b, size_t n) {
    __m128i rk[NR + 1];
#pragma GCC unroll 16
    for (int i = 0; i <= NR; ++i) {
        rk[i] = _mm_load_si128(reinterpret_cast<const __m128i*>(round_keys + 16 * i));
    }
    for (size_t i = 0; i < n; ++i) {
        encrypt_blocks<NR, 1>(rk, b + i);
    }
}

uint64_t load_be64(const uint8_t* p) {
    uint64_t v = 0;
#pragma GCC unroll 16
    for (int i = 0; i < 8; ++i) {
        v = (v << 8) | p[i];
    }
    return v;
}

void store_be64(uint8_t* p, uint64_t v) {
#pragma GCC unroll 16
    for (int i = 7; i >= 0; --i) {
        p[i] = static_cast<uint8_t>(v);
        v >>= 8;
    }
}

}  // namespace

bool cpu_has_aesni() noexcept {
    // Asked once: CPUID is a VM exit under KVM (~tens of µs), and every SRTP call sets
    // four keys.
    static const bool has = [] {
        unsigned a = 0, b = 0, c = 0, d = 0;
        if (__get_cpuid(1, &a, &b, &c, &d) == 0) {
            return false;
        }
        return (c & bit_AES) != 0 && (c & bit_SSSE3) != 0 && (c & bit_SSE4_1) != 0;
    }();
    return has;
}

aes_ctr::~aes_ctr() {
    EVP_CIPHER_CTX_free(evp_);  // cleanses its key schedule
    OPENSSL_cleanse(round_keys_, sizeof(round_keys_));
}

void aes_ctr::set_key(const uint8_t* key, size_t key_len, aes_impl impl) {
    if (key_len != 16 && key_len != 32) {
        throw std::runtime_error("AES key of " + std::to_string(key_len) + " bytes (16 or 32)");
    }
    key_len_ = key_len;
    if (impl == aes_impl::automatic) {
        impl = cpu_has_aesni() ? aes_impl::aesni : aes_impl::openssl;
    }
    if (impl == aes_impl::aesni) {
        if (!cpu_has_aesni()) {
            throw std::runtime_error("AES-NI requested but this CPU lacks it");
        }
        aesni_expand_key(key, key_len, round_keys_);
        aesni_ = true;
        return;
    }
    if (evp_ == nullptr) {
        evp_ = EVP_CIPHER_CTX_new();
        if (evp_ == nullptr) {
            throw std::runtime_error("EVP_CIPHER_CTX_new failed");
        }
    }
    // A zero IV for now: apply() sets the real one per call without touching the key schedule.
    const uint8_t zero_iv[16] = {};
    if (EVP_EncryptInit_ex(evp_, key_len == 32 ? EVP_aes_256_ctr() : EVP_aes_128_ctr(), nullptr, key, zero_iv) != 1) {
        throw std::runtime_error("EVP_EncryptInit_ex(aes-ctr) failed");
    }
    aesni_ = false;
}

void aesni_expand_key(const uint8_t* key, size_t key_len, uint8_t* round_keys) noexcept {
    if (key_len == 32) {
        expand_key_256(key, round_keys);
    } else {
        expand_key_128(key, round_keys);
    }
}

[[gnu::target("aes")]] void aesni_encrypt_blocks(const uint8_t* round_keys, size_t key_len, const uint8_t* in,
                                                 uint8_t* out, size_t n) noexcept {
    __m128i b[8];
    n = n > 8 ? 8 : n;
    for (size_t i = 0; i < n; ++i) {
        b[i] = _mm_loadu_si128(reinterpret_cast<const __m128i*>(in + 16 * i));
    }
    if (key_len == 32) {
        ecb_aesni<14>(round_keys, b, n);
    } else {
        ecb_aesni<10>(round_keys, b, n);
    }
    for (size_t i = 0; i < n; ++i) {
        _mm_storeu_si128(reinterpret_cast<__m128i*>(out + 16 * i), b[i]);
    }
}

void aesni_ctr(const uint8_t* round_keys, size_t key_len, const uint8_t iv[16], const uint8_t* in, uint8_t* out,
               size_t len) noexcept {
    const uint64_t low = load_be64(iv + 8);
    const uint64_t blocks = (len + 15) / 16;
    if (blocks == 0 || blocks - 1 <= ~low) [[likely]] {
        if (key_len == 16) [[likely]] {
            ctr_aesni<10>(round_keys, iv, in, out, len);
        } else {
            ctr_aesni<14>(round_keys, iv, in, out, len);
        }
        return;
    }
    // The low 64 bits wrap inside this message: split it there and carry into the top half.
    const size_t first = static_cast<size_t>(~low + 1) * 16;
    aesni_ctr(round_keys, key_len, iv, in, out, first);
    uint8_t next[16];
    store_be64(next, load_be64(iv) + 1);
    store_be64(next + 8, 0);
    aesni_ctr(round_keys, key_len, next, in + first, out + first, len - first);
}

void aes_ctr::apply(const uint8_t iv[16], const uint8_t* in, uint8_t* out, size_t len) noexcept {
    if (aesni_) {
        aesni_ctr(round_keys_, key_len_, iv, in, out, len);
        return;
    }
    int n = 0;
    if (EVP_EncryptInit_ex(evp_, nullptr, nullptr, nullptr, iv) != 1 ||
        EVP_EncryptUpdate(evp_, out, &n, in, static_cast<int>(len)) != 1) [[unlikely]] {
        // Cannot happen once keyed; if it ever did, never let plaintext leave as "ciphertext".
        std::memset(out, 0, len);
    }
}

}  // namespace rtprelay::dp::srtp
