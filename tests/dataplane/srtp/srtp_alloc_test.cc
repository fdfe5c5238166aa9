// The native engine's per-packet calls allocate nothing: OpenSSL's allocator is replaced by a
// counting one before anything else runs (this test is its own executable for that reason),
// and a stream of protect/unprotect calls, failures included, must not move the count; every
// suite (AES-GCM on EVP too), both AES implementations.

#include <openssl/crypto.h>

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <random>
#include <string>

#include "dataplane/srtp/srtp.h"
#include "tests/dataplane/srtp/test_util.h"

namespace {

std::atomic<uint64_t> openssl_allocs{0};

void* count_malloc(size_t n, const char*, int) {
    openssl_allocs.fetch_add(1, std::memory_order_relaxed);
    return std::malloc(n);
}
void* count_realloc(void* p, size_t n, const char*, int) {
    openssl_allocs.fetch_add(1, std::memory_order_relaxed);
    return std::realloc(p, n);
}
void count_free(void* p, const char*, int) { std::free(p); }

// Before main, so before OpenSSL has allocated anything (it refuses the swap afterwards).
const bool hooked = CRYPTO_set_mem_functions(count_malloc, count_realloc, count_free) == 1;

}  // namespace

namespace rtprelay::dp::srtp {
namespace {

using test::bytes;

// 5,000 RTP and SRTCP packets through a protect/unprotect pair of suite `s`, one in ten
// first forged; OpenSSL must not allocate.
void expect_no_allocation(suite s, aes_impl aes, std::mt19937_64& rng) {
    SCOPED_TRACE(std::string(info(s).name) + (aes == aes_impl::openssl ? " openssl" : " automatic"));
    master_key k = test::random_key(rng);
    k.mki_len = s == suite::aead_aes_128_gcm ? 2 : 0;
    auto tx = make_context(engine::native, s, k, false, aes);
    auto rx = make_context(engine::native, s, k, false, aes);
    auto tx_c = make_context(engine::native, s, k, true, aes);
    auto rx_c = make_context(engine::native, s, k, true, aes);
    alignas(64) uint8_t buf[2048];
    const uint64_t before = openssl_allocs.load();
    for (uint32_t i = 0; i < 5000; ++i) {
        test::rtp_spec spec;
        spec.seq = static_cast<uint16_t>(65000 + i);
        spec.ssrc = 1 + i % 3;
        spec.payload_len = 160;
        const bytes plain = test::make_rtp(spec, rng);  // allocates, but not through OpenSSL
        std::copy(plain.begin(), plain.end(), buf);
        auto len = static_cast<uint32_t>(plain.size());
        ASSERT_EQ(protect_rtp(*tx, buf, &len, 64), result::ok);
        if (i % 10 == 0) {
            buf[20] ^= 1;
            ASSERT_EQ(unprotect_rtp(*rx, buf, &len), result::auth_failed);
            buf[20] ^= 1;
        }
        ASSERT_EQ(unprotect_rtp(*rx, buf, &len), result::ok);
        const bytes rtcp = test::make_rtcp(spec.ssrc, 6, rng);
        std::copy(rtcp.begin(), rtcp.end(), buf);
        len = static_cast<uint32_t>(rtcp.size());
        ASSERT_EQ(protect_rtcp(*tx_c, buf, &len, 64), result::ok);
        if (i % 10 == 0) {
            buf[9] ^= 1;
            ASSERT_EQ(unprotect_rtcp(*rx_c, buf, &len), result::auth_failed);
            buf[9] ^= 1;
        }
        ASSERT_EQ(unprotect_rtcp(*rx_c, buf, &len), result::ok);
    }
    EXPECT_EQ(openssl_allocs.load(), before) << "OpenSSL allocated on the packet path";
}

TEST(srtp_native, no_allocation_per_packet) {
    ASSERT_TRUE(hooked);
    std::mt19937_64 rng(21);
    {
        // The hook sees OpenSSL's allocations: making an EVP-backed context is one.
        const uint64_t at_start = openssl_allocs.load();
        auto probe = make_context(engine::native, suite::aes_cm_128_hmac_sha1_80, test::random_key(rng), false,
                                  aes_impl::openssl);
        ASSERT_GT(openssl_allocs.load(), at_start);
    }
    for (const aes_impl aes : {aes_impl::automatic, aes_impl::openssl}) {
        for (const suite s : all_suites) {
            expect_no_allocation(s, aes, rng);
        }
    }
}

}  // namespace
}  // namespace rtprelay::dp::srtp
