// ns per packet for dataplane/srtp: protect, unprotect and re-encrypt (unprotect with key A,
// protect with key B) of 172-byte (12 + 160, G.711 20 ms) and 1200-byte RTP packets, on the
// native engine (AES-NI / intel-ipsec-mb and OpenSSL-EVP AES) and on libsrtp2, for
// AES_CM_128_HMAC_SHA1_80 (names without a suite) and each other suite's family
// (".../aes256_80/...", ".../aes256_32/...", ".../gcm128/...", ".../gcm256/..."); then the
// primitives alone: the floor (AES-128-CTR over the payload + HMAC-SHA1 over packet and ROC,
// no SRTP logic) and the HMAC variants hmac_sha1.h chose between.
//
// Every iteration uses a new sequence number: unprotect and re-encrypt walk a ring of packets
// protected beforehand, and when the ring is used up the contexts are remade (timer paused),
// since a second pass would be replays.
//
//   srtp_benchmark --benchmark_repetitions=3 --benchmark_report_aggregates_only=true

#define OPENSSL_SUPPRESS_DEPRECATED 1

#include <benchmark/benchmark.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include <cstring>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "dataplane/srtp/aes_ctr.h"
#include "dataplane/srtp/hmac_sha1.h"
#include "dataplane/srtp/srtp.h"

namespace srtp = rtprelay::dp::srtp;

namespace {

constexpr uint32_t rtp_header = 12;  // bytes
constexpr uint32_t buffer_cap = 2048;

struct variant {
    const char* name;
    srtp::engine eng;
    srtp::aes_impl aes;
};

const variant variants[] = {
    {"native", srtp::engine::native, srtp::aes_impl::automatic},
    {"native_evp_aes", srtp::engine::native, srtp::aes_impl::openssl},
    {"libsrtp2", srtp::engine::libsrtp2, srtp::aes_impl::automatic},
};

srtp::master_key make_key(uint64_t seed) {
    std::mt19937_64 rng(seed);
    srtp::master_key k{};
    for (auto& x : k.key) {
        x = static_cast<uint8_t>(rng());
    }
    for (auto& x : k.salt) {
        x = static_cast<uint8_t>(rng());
    }
    return k;
}

void write_rtp_header(uint8_t* p, uint16_t seq, uint32_t ssrc) {
    p[0] = 0x80;
    p[1] = 0;
    p[2] = static_cast<uint8_t>(seq >> 8);
    p[3] = static_cast<uint8_t>(seq);
    const uint32_t ts = seq * 160u;
    p[4] = static_cast<uint8_t>(ts >> 24);
    p[5] = static_cast<uint8_t>(ts >> 16);
    p[6] = static_cast<uint8_t>(ts >> 8);
    p[7] = static_cast<uint8_t>(ts);
    p[8] = static_cast<uint8_t>(ssrc >> 24);
    p[9] = static_cast<uint8_t>(ssrc >> 16);
    p[10] = static_cast<uint8_t>(ssrc >> 8);
    p[11] = static_cast<uint8_t>(ssrc);
}

// False (and the benchmark marked failed) unless r is ok.
bool ok(benchmark::State& state, srtp::result r) {
    if (r != srtp::result::ok) [[unlikely]] {
        state.SkipWithError(srtp::result_name(r));
        return false;
    }
    return true;
}

// The suites measured besides AES_CM_128_HMAC_SHA1_80 (whose _32 twin costs the same) and
// their short names in benchmark names.
struct suite_case {
    srtp::suite s;
    const char* tag;  // "" for AES_CM_128_HMAC_SHA1_80: the names RESULTS.md has always used
};
const suite_case suites[] = {
    {srtp::suite::aes_cm_128_hmac_sha1_80, ""},           {srtp::suite::aes_256_cm_hmac_sha1_80, "aes256_80/"},
    {srtp::suite::aes_256_cm_hmac_sha1_32, "aes256_32/"}, {srtp::suite::aead_aes_128_gcm, "gcm128/"},
    {srtp::suite::aead_aes_256_gcm, "gcm256/"},
};

void bm_protect(benchmark::State& state, variant v, srtp::suite s, uint32_t size) {
    auto tx = srtp::make_context(v.eng, s, make_key(1), false, v.aes);
    alignas(64) uint8_t buf[buffer_cap];
    std::memset(buf, 0xd5, sizeof(buf));
    uint16_t seq = 0;
    for (auto _ : state) {
        // Protect runs in place: the payload left over from the last round is as good as any.
        write_rtp_header(buf, seq++, 0x1234abcd);
        uint32_t len = size;
        if (!ok(state, srtp::protect_rtp(*tx, buf, &len, buffer_cap - size))) {
            break;
        }
        benchmark::DoNotOptimize(buf);
    }
    state.SetItemsProcessed(state.iterations());
    state.SetBytesProcessed(state.iterations() * size);
}

// A ring of `n` consecutive SRTP packets under key A, and a pristine copy to restore from.
struct ring {
    uint32_t size = 0;
    uint32_t n = 0;
    std::vector<uint8_t> pristine;
    std::vector<uint8_t> work;
    uint32_t stride = 0;

    ring(uint32_t packet_size, uint32_t count, const srtp::master_key& key, srtp::suite s)
        : size(packet_size), n(count) {
        stride = (packet_size + srtp::max_overhead + 63) & ~63u;
        pristine.resize(size_t{stride} * n);
        auto tx = srtp::make_context(srtp::engine::native, s, key, false);
        std::mt19937_64 rng(9);
        for (uint32_t i = 0; i < n; ++i) {
            uint8_t* p = &pristine[size_t{stride} * i];
            write_rtp_header(p, static_cast<uint16_t>(i), 0x1234abcd);
            for (uint32_t b = rtp_header; b < size; ++b) {
                p[b] = static_cast<uint8_t>(rng());
            }
            uint32_t len = size;
            if (srtp::protect_rtp(*tx, p, &len, stride - size) != srtp::result::ok) {
                throw std::runtime_error("cannot build the packet ring");
            }
        }
        work = pristine;
    }
    uint8_t* packet(uint32_t i) { return &work[size_t{stride} * i]; }
    void restore() { work = pristine; }
};

uint32_t ring_len(uint32_t size) { return size <= 256 ? 4096 : 1024; }  // ~0.8 / 1.2 MB

void bm_unprotect(benchmark::State& state, variant v, srtp::suite s, uint32_t size) {
    const srtp::master_key key_a = make_key(2);
    ring r(size, ring_len(size), key_a, s);
    auto rx = srtp::make_context(v.eng, s, key_a, false, v.aes);
    const uint32_t wire = size + rx->overhead();
    uint32_t i = 0;
    for (auto _ : state) {
        if (i == r.n) {
            state.PauseTiming();
            r.restore();
            rx = srtp::make_context(v.eng, s, key_a, false, v.aes);
            i = 0;
            state.ResumeTiming();
        }
        uint32_t len = wire;
        if (!ok(state, srtp::unprotect_rtp(*rx, r.packet(i++), &len))) {
            break;
        }
    }
    state.SetItemsProcessed(state.iterations());
    state.SetBytesProcessed(state.iterations() * size);
}

// Both legs of suite `s` (as when the offerer and the answerer chose the same).
void bm_reencrypt(benchmark::State& state, variant v, srtp::suite s, uint32_t size) {
    const srtp::master_key key_a = make_key(3);
    const srtp::master_key key_b = make_key(4);
    ring r(size, ring_len(size), key_a, s);
    auto rx = srtp::make_context(v.eng, s, key_a, false, v.aes);
    auto tx = srtp::make_context(v.eng, s, key_b, false, v.aes);
    const uint32_t wire = size + rx->overhead();
    uint32_t i = 0;
    for (auto _ : state) {
        if (i == r.n) {
            state.PauseTiming();
            r.restore();
            rx = srtp::make_context(v.eng, s, key_a, false, v.aes);
            tx = srtp::make_context(v.eng, s, key_b, false, v.aes);
            i = 0;
            state.ResumeTiming();
        }
        uint8_t* p = r.packet(i++);
        uint32_t len = wire;
        if (!ok(state, srtp::unprotect_rtp(*rx, p, &len)) ||
            !ok(state, srtp::protect_rtp(*tx, p, &len, r.stride - len))) {
            break;
        }
    }
    state.SetItemsProcessed(state.iterations());
    state.SetBytesProcessed(state.iterations() * size);
}

// ---- primitives -------------------------------------------------------------------------

struct evp_ctr {
    EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
    explicit evp_ctr(const uint8_t* key) {
        const uint8_t iv[16] = {};
        EVP_EncryptInit_ex(ctx, EVP_aes_128_ctr(), nullptr, key, iv);
    }
    ~evp_ctr() { EVP_CIPHER_CTX_free(ctx); }
    void apply(const uint8_t* iv, uint8_t* data, int len) {
        int n = 0;
        EVP_EncryptInit_ex(ctx, nullptr, nullptr, nullptr, iv);
        EVP_EncryptUpdate(ctx, data, &n, data, len);
    }
};

// The floor: what any SRTP implementation must spend on crypto for one packet (AES-CTR over
// the payload, HMAC-SHA1 from precomputed pads over packet || ROC), without parsing, index
// estimation, replay window or tag compare.
void bm_floor(benchmark::State& state, srtp::aes_impl impl, uint32_t size) {
    const uint8_t key[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
    const uint8_t auth_key[20] = {7};
    srtp::aes_ctr aes;
    aes.set_key(key, sizeof(key), impl);
    srtp::hmac_sha1 mac;
    mac.set_key(auth_key, sizeof(auth_key));
    alignas(64) uint8_t buf[buffer_cap] = {};
    uint8_t iv[16] = {};
    uint8_t tag[20];
    const uint8_t roc[4] = {};
    uint32_t n = 0;
    for (auto _ : state) {
        std::memcpy(iv + 10, &n, 4);
        ++n;
        aes.apply(iv, buf + rtp_header, buf + rtp_header, size - rtp_header);
        mac.compute(buf, size, roc, 4, tag);
        benchmark::DoNotOptimize(tag);
    }
    state.SetItemsProcessed(state.iterations());
    state.SetBytesProcessed(state.iterations() * size);
}

// The same floor entirely through EVP (aes-128-ctr with a per-packet IV reset, HMAC by
// EVP_MD_CTX_copy_ex from pre-fed pad contexts): the "use OpenSSL's API as is" baseline.
void bm_floor_evp(benchmark::State& state, uint32_t size) {
    const uint8_t key[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
    evp_ctr aes(key);
    uint8_t pad[64];
    EVP_MD_CTX* inner = EVP_MD_CTX_new();
    EVP_MD_CTX* outer = EVP_MD_CTX_new();
    EVP_MD_CTX* work = EVP_MD_CTX_new();
    EVP_MD* sha1 = EVP_MD_fetch(nullptr, "SHA1", nullptr);
    std::memset(pad, 0x36 ^ 7, sizeof(pad));
    EVP_DigestInit_ex(inner, sha1, nullptr);
    EVP_DigestUpdate(inner, pad, 64);
    std::memset(pad, 0x5c ^ 7, sizeof(pad));
    EVP_DigestInit_ex(outer, sha1, nullptr);
    EVP_DigestUpdate(outer, pad, 64);
    alignas(64) uint8_t buf[buffer_cap] = {};
    uint8_t iv[16] = {};
    uint8_t digest[20];
    unsigned int dlen = 0;
    const uint8_t roc[4] = {};
    uint32_t n = 0;
    for (auto _ : state) {
        std::memcpy(iv + 10, &n, 4);
        ++n;
        aes.apply(iv, buf + rtp_header, static_cast<int>(size - rtp_header));
        EVP_MD_CTX_copy_ex(work, inner);
        EVP_DigestUpdate(work, buf, size);
        EVP_DigestUpdate(work, roc, 4);
        EVP_DigestFinal_ex(work, digest, &dlen);
        EVP_MD_CTX_copy_ex(work, outer);
        EVP_DigestUpdate(work, digest, 20);
        EVP_DigestFinal_ex(work, digest, &dlen);
        benchmark::DoNotOptimize(digest);
    }
    EVP_MD_free(sha1);
    EVP_MD_CTX_free(work);
    EVP_MD_CTX_free(outer);
    EVP_MD_CTX_free(inner);
    state.SetItemsProcessed(state.iterations());
}

void bm_aes_ctr(benchmark::State& state, srtp::aes_impl impl, uint32_t size) {
    const uint8_t key[16] = {1, 2, 3};
    srtp::aes_ctr aes;
    aes.set_key(key, sizeof(key), impl);
    alignas(64) uint8_t buf[buffer_cap] = {};
    uint8_t iv[16] = {};
    uint32_t n = 0;
    for (auto _ : state) {
        std::memcpy(iv + 10, &n, 4);
        ++n;
        aes.apply(iv, buf, buf, size - rtp_header);
        benchmark::DoNotOptimize(buf);
    }
    state.SetBytesProcessed(state.iterations() * (size - rtp_header));
}

// HMAC-SHA1 over `size` + 4 bytes, three ways.
void bm_hmac_midstate(benchmark::State& state, uint32_t size) {
    const uint8_t auth_key[20] = {7};
    srtp::hmac_sha1 mac;
    mac.set_key(auth_key, sizeof(auth_key));
    alignas(64) uint8_t buf[buffer_cap] = {};
    uint8_t tag[20];
    const uint8_t roc[4] = {};
    for (auto _ : state) {
        mac.compute(buf, size, roc, 4, tag);
        benchmark::DoNotOptimize(tag);
        buf[0]++;
    }
}

void bm_hmac_evp_copy(benchmark::State& state, uint32_t size) {
    uint8_t pad[64];
    EVP_MD_CTX* inner = EVP_MD_CTX_new();
    EVP_MD_CTX* outer = EVP_MD_CTX_new();
    EVP_MD_CTX* work = EVP_MD_CTX_new();
    EVP_MD* sha1 = EVP_MD_fetch(nullptr, "SHA1", nullptr);
    std::memset(pad, 0x36 ^ 7, sizeof(pad));
    EVP_DigestInit_ex(inner, sha1, nullptr);
    EVP_DigestUpdate(inner, pad, 64);
    std::memset(pad, 0x5c ^ 7, sizeof(pad));
    EVP_DigestInit_ex(outer, sha1, nullptr);
    EVP_DigestUpdate(outer, pad, 64);
    alignas(64) uint8_t buf[buffer_cap] = {};
    uint8_t digest[20];
    unsigned int dlen = 0;
    const uint8_t roc[4] = {};
    for (auto _ : state) {
        EVP_MD_CTX_copy_ex(work, inner);
        EVP_DigestUpdate(work, buf, size);
        EVP_DigestUpdate(work, roc, 4);
        EVP_DigestFinal_ex(work, digest, &dlen);
        EVP_MD_CTX_copy_ex(work, outer);
        EVP_DigestUpdate(work, digest, 20);
        EVP_DigestFinal_ex(work, digest, &dlen);
        benchmark::DoNotOptimize(digest);
        buf[0]++;
    }
    EVP_MD_free(sha1);
    EVP_MD_CTX_free(work);
    EVP_MD_CTX_free(outer);
    EVP_MD_CTX_free(inner);
}

void bm_hmac_evp_mac(benchmark::State& state, uint32_t size) {
    const uint8_t auth_key[20] = {7};
    EVP_MAC* hmac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
    EVP_MAC_CTX* ctx = EVP_MAC_CTX_new(hmac);
    char digest_name[] = "SHA1";
    const OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest_name, 0),
        OSSL_PARAM_construct_end(),
    };
    EVP_MAC_init(ctx, auth_key, sizeof(auth_key), params);
    alignas(64) uint8_t buf[buffer_cap] = {};
    uint8_t digest[20];
    size_t dlen = 0;
    const uint8_t roc[4] = {};
    for (auto _ : state) {
        EVP_MAC_init(ctx, nullptr, 0, nullptr);  // same key: restarts from the kept pad states
        EVP_MAC_update(ctx, buf, size);
        EVP_MAC_update(ctx, roc, 4);
        EVP_MAC_final(ctx, digest, &dlen, sizeof(digest));
        benchmark::DoNotOptimize(digest);
        buf[0]++;
    }
    EVP_MAC_CTX_free(ctx);
    EVP_MAC_free(hmac);
}

// SRTCP protect of an 80-byte RTCP packet (SR + SDES size). A native SRTCP context keeps only
// the 16-byte session key and expands the AES round keys per packet.
void bm_protect_rtcp(benchmark::State& state, variant v, srtp::suite s) {
    constexpr uint32_t size = 80;
    auto tx = srtp::make_context(v.eng, s, make_key(1), true, v.aes);
    alignas(64) uint8_t buf[buffer_cap];
    std::memset(buf, 0xd5, sizeof(buf));
    for (auto _ : state) {
        buf[0] = 0x80;  // V=2, RC 0
        buf[1] = 200;   // SR
        buf[2] = 0;
        buf[3] = static_cast<uint8_t>(size / 4 - 1);
        uint32_t len = size;
        if (!ok(state, srtp::protect_rtcp(*tx, buf, &len, buffer_cap - size))) {
            break;
        }
        benchmark::DoNotOptimize(buf);
    }
    state.SetItemsProcessed(state.iterations());
}

// Key setup as the control plane does it per SDES key: the RTP and the SRTCP context (key
// derivation, AES key schedule, HMAC pad states), then both destroyed.
void bm_make_context_pair(benchmark::State& state, variant v, srtp::suite s) {
    const srtp::master_key key = make_key(3);
    for (auto _ : state) {
        auto rtp = srtp::make_context(v.eng, s, key, false, v.aes);
        auto rtcp = srtp::make_context(v.eng, s, key, true, v.aes);
        benchmark::DoNotOptimize(rtp.get());
        benchmark::DoNotOptimize(rtcp.get());
    }
    state.SetItemsProcessed(state.iterations());
}

void register_all() {
    for (const suite_case& sc : suites) {
        const std::string tag = sc.tag;
        for (const variant& v : variants) {
            if (v.eng == srtp::engine::native && (v.aes != srtp::aes_impl::automatic || srtp::cpu_has_aesni())) {
                benchmark::RegisterBenchmark(("protect_rtcp/" + tag + v.name + "/80").c_str(), bm_protect_rtcp, v,
                                             sc.s);
                benchmark::RegisterBenchmark(("make_context_pair/" + tag + v.name).c_str(), bm_make_context_pair, v,
                                             sc.s);
            }
        }
    }
    for (const uint32_t size : {172u, 1200u}) {
        const std::string sz = "/" + std::to_string(size);
        for (const suite_case& sc : suites) {
            const std::string tag = sc.tag;
            for (const variant& v : variants) {
                if (v.aes == srtp::aes_impl::aesni && !srtp::cpu_has_aesni()) {
                    continue;
                }
                benchmark::RegisterBenchmark(("protect/" + tag + v.name + sz).c_str(), bm_protect, v, sc.s, size);
                benchmark::RegisterBenchmark(("unprotect/" + tag + v.name + sz).c_str(), bm_unprotect, v, sc.s, size);
                benchmark::RegisterBenchmark(("reencrypt/" + tag + v.name + sz).c_str(), bm_reencrypt, v, sc.s, size);
            }
        }
        if (srtp::cpu_has_aesni()) {
            benchmark::RegisterBenchmark(("floor/aesni_ctr+sha1_midstate" + sz).c_str(), bm_floor,
                                         srtp::aes_impl::aesni, size);
            benchmark::RegisterBenchmark(("aes_ctr/aesni" + sz).c_str(), bm_aes_ctr, srtp::aes_impl::aesni, size);
        }
        benchmark::RegisterBenchmark(("floor/evp_ctr+sha1_midstate" + sz).c_str(), bm_floor, srtp::aes_impl::openssl,
                                     size);
        benchmark::RegisterBenchmark(("floor/evp_ctr+evp_md_copy" + sz).c_str(), bm_floor_evp, size);
        benchmark::RegisterBenchmark(("aes_ctr/evp" + sz).c_str(), bm_aes_ctr, srtp::aes_impl::openssl, size);
        benchmark::RegisterBenchmark(("hmac_sha1/midstate_sha1" + sz).c_str(), bm_hmac_midstate, size);
        benchmark::RegisterBenchmark(("hmac_sha1/evp_md_ctx_copy" + sz).c_str(), bm_hmac_evp_copy, size);
        benchmark::RegisterBenchmark(("hmac_sha1/evp_mac_reinit" + sz).c_str(), bm_hmac_evp_mac, size);
    }
}

}  // namespace

int main(int argc, char** argv) {
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) {
        return 1;
    }
    register_all();
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
