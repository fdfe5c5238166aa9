#pragma once
// AES-128 and AES-256 in counter mode (NIST SP 800-38A) with the key schedule kept between
// calls: SRTP's AES-CM (RFC 3711 4.1.1, RFC 6188 for AES-256) and its key derivation PRF
// (4.3.3) are this with a per-packet initial counter block. Key lengths are in bytes: 16 or
// 32; anything else is refused by set_key and must not reach the aesni_* functions.
//
// Two implementations, picked once per key:
//  - aesni: our own AES-NI code, eight blocks in flight; chosen when the CPU has AES-NI
//    (checked at run time: the build baseline is -march=corei7, which lacks it).
//  - openssl: an EVP_CIPHER_CTX for aes-128/256-ctr keyed once; per call only the IV is reset
//    (EVP_EncryptInit_ex(ctx, NULL, NULL, NULL, iv), no allocation) and EVP_EncryptUpdate
//    runs. Correct on any CPU, and OpenSSL uses AES-NI inside, but the calls through the
//    provider layer cost more than the work: 160 bytes take 159 ns vs 50 ns with aesni,
//    1188 bytes 299 vs 175 ns (bench/micro/srtp_benchmark.cc, aes_ctr/*, CPU time, EPYC VM).
//
// The counter is the whole 16-byte block, big-endian. The aesni path adds the block number to
// the low 64 bits and carries into the high 64 bits in a slow path; SRTP IVs end in 16 zero
// bits, so the carry never happens for packets.

#include <cstddef>
#include <cstdint>

struct evp_cipher_ctx_st;  // OpenSSL's EVP_CIPHER_CTX

namespace rtprelay::dp::srtp {

enum class aes_impl : uint8_t { automatic, openssl, aesni };

// True when the CPU executes AES-NI (and SSSE3/SSE4.1, which the build baseline has).
bool cpu_has_aesni() noexcept;

// The AES-NI code without a class around it, for SRTP contexts that keep round keys inline
// (or, for SRTCP, expand them per packet: ~10 AESKEYGENASSIST, ~30 ns). Call only when
// cpu_has_aesni().
// Bytes of round keys: 11 x 16 for AES-128, 15 x 16 for AES-256.
constexpr size_t aes_round_keys_len(size_t key_len) noexcept { return key_len == 32 ? 15 * 16 : 11 * 16; }
inline constexpr size_t max_aes_round_keys_len = 15 * 16;
// The round keys of `key` (FIPS-197 order) to `round_keys`, 16-byte aligned.
void aesni_expand_key(const uint8_t* key, size_t key_len, uint8_t* round_keys) noexcept;
// `n` (at most 8) independent 16-byte blocks encrypted (ECB) in lockstep: the SRTP key
// derivation's counter blocks (kdf.cc) in one pass.
void aesni_encrypt_blocks(const uint8_t* round_keys, size_t key_len, const uint8_t* in, uint8_t* out,
                          size_t n) noexcept;
// As aes_ctr::apply, with round keys from aesni_expand_key.
void aesni_ctr(const uint8_t* round_keys, size_t key_len, const uint8_t iv[16], const uint8_t* in, uint8_t* out,
               size_t len) noexcept;

class aes_ctr {
 public:
    aes_ctr() = default;
    ~aes_ctr();
    aes_ctr(const aes_ctr&) = delete;
    aes_ctr& operator=(const aes_ctr&) = delete;

    // Control plane. A key length other than 16 or 32, `aesni` on a CPU without it, or an
    // OpenSSL failure, throws std::runtime_error. May be called again to re-key.
    void set_key(const uint8_t* key, size_t key_len, aes_impl impl = aes_impl::automatic);

    // out[i] = in[i] XOR keystream[i] for i < len, keystream starting at counter block `iv`.
    // in == out is allowed (in place). No allocation; never fails once keyed.
    void apply(const uint8_t iv[16], const uint8_t* in, uint8_t* out, size_t len) noexcept;

    aes_impl impl() const noexcept { return aesni_ ? aes_impl::aesni : aes_impl::openssl; }
    size_t key_len() const noexcept { return key_len_; }
    // aesni only: the round keys (16-byte aligned, FIPS-197 order), as intel-ipsec-mb's
    // AES-CTR takes them (burst SRTP, batch.h).
    const uint8_t* round_keys() const noexcept { return round_keys_; }

 private:
    alignas(16) uint8_t round_keys_[max_aes_round_keys_len]{};  // aesni only
    evp_cipher_ctx_st* evp_ = nullptr;                          // openssl only
    size_t key_len_ = 16;
    bool aesni_ = false;
};

}  // namespace rtprelay::dp::srtp
