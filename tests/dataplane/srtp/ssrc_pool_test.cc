// The context layout and the SSRC overflow (ssrc_pool.h): one SSRC inline, the second to
// eighth in a chunk taken from the shared pool only after the packet that brings it passed
// every check; state of every SSRC survives; nothing is evicted; an exhausted pool refuses a
// new SSRC with ssrc_limit and changes nothing. Runs on the single-packet path and, with
// RTPRELAY_SRTP_TEST_BATCH=1, on the burst path (test::protect/unprotect).

#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "dataplane/srtp/aes_gcm.h"
#include "dataplane/srtp/srtp.h"
#include "tests/dataplane/srtp/test_util.h"

namespace rtprelay::dp::srtp {
namespace {

using test::bytes;
using pool = detail::ssrc_pool;

// Holds every free chunk of the pool while it lives (so the next claim fails).
class exhausted_pool {
 public:
    exhausted_pool() {
        held_.resize(static_cast<size_t>(pool::instance().free_chunks()) + 1024);
        n_ = pool::instance().hold_all_but(0, held_.data(), static_cast<uint32_t>(held_.size()));
    }
    ~exhausted_pool() {
        for (uint32_t i = 0; i < n_; ++i) {
            pool::instance().release(held_[i]);
        }
    }

 private:
    std::vector<uint32_t> held_;
    uint32_t n_ = 0;
};

class ssrc_overflow : public ::testing::TestWithParam<suite> {
 protected:
    void SetUp() override {
        key = test::random_key(rng);
        tx = make_context(engine::native, GetParam(), key, false);
        rx = make_context(engine::native, GetParam(), key, false);
        tx_c = make_context(engine::native, GetParam(), key, true);
        rx_c = make_context(engine::native, GetParam(), key, true);
    }

    bytes rtp(uint16_t seq, uint32_t ssrc) {
        test::rtp_spec spec;
        spec.seq = seq;
        spec.ssrc = ssrc;
        spec.payload_len = 160;
        return test::make_rtp(spec, rng);
    }

    // Protects with tx and unprotects with rx, expecting the plain packet back.
    void round_trip(uint16_t seq, uint32_t ssrc) {
        const bytes plain = rtp(seq, ssrc);
        bytes p = plain;
        ASSERT_EQ(test::protect(*tx, p), result::ok) << "ssrc " << ssrc << " seq " << seq;
        ASSERT_EQ(test::unprotect(*rx, p), result::ok) << "ssrc " << ssrc << " seq " << seq;
        EXPECT_EQ(p, plain);
    }

    std::mt19937_64 rng{7};
    master_key key{};
    std::unique_ptr<context> tx, rx, tx_c, rx_c;
};

TEST(context_layout, sizes) {
    EXPECT_EQ(sizeof(context), 128u);
    std::mt19937_64 rng(1);
    const master_key key = test::random_key(rng);
    auto openssl_rtp = make_context(engine::native, suite::aes_cm_128_hmac_sha1_80, key, false, aes_impl::openssl);
    EXPECT_EQ(openssl_rtp->footprint(), 128u);
    if (!cpu_has_aesni()) {
        GTEST_SKIP() << "no AES-NI";
    }
    auto rtp = make_context(engine::native, suite::aes_cm_128_hmac_sha1_80, key, false);
    auto rtcp = make_context(engine::native, suite::aes_cm_128_hmac_sha1_80, key, true);
    EXPECT_EQ(rtp->footprint(), 128u + 176u);  // round keys after the object
    EXPECT_EQ(rtcp->footprint(), 128u);        // the raw session key inside (line 1)
    // AES-256: 15 round keys, SRTCP's raw key after the object; AES-GCM: intel-ipsec-mb's
    // precomputed key data (to 64 bytes).
    EXPECT_EQ(make_context(engine::native, suite::aes_256_cm_hmac_sha1_80, key, false)->footprint(), 128u + 240u);
    EXPECT_EQ(make_context(engine::native, suite::aes_256_cm_hmac_sha1_80, key, true)->footprint(), 128u + 32u);
    EXPECT_EQ(make_context(engine::native, suite::aead_aes_128_gcm, key, false)->footprint(),
              128u + (gcm_key_data_len() + 63) / 64 * 64);
    // A key with an MKI: its bytes after the keys.
    master_key with_mki = key;
    with_mki.mki_len = 2;
    with_mki.mki = {0x12, 0x34, 0, 0};
    auto rtp_mki = make_context(engine::native, suite::aes_cm_128_hmac_sha1_80, with_mki, false);
    auto rtcp_mki = make_context(engine::native, suite::aes_cm_128_hmac_sha1_80, with_mki, true);
    EXPECT_EQ(rtp_mki->footprint(), 128u + 176u + 4u);
    EXPECT_EQ(rtcp_mki->footprint(), 128u + 4u);
    EXPECT_EQ(make_context(engine::native, suite::aes_256_cm_hmac_sha1_80, with_mki, true)->footprint(),
              128u + 32u + 4u);
    for (const context* c : {rtp_mki.get(), rtcp_mki.get()}) {
        EXPECT_EQ(c->mki_len(), 2u);
        EXPECT_EQ(c->mki()[0], 0x12);
        EXPECT_EQ(c->mki()[1], 0x34);
    }
    EXPECT_EQ(reinterpret_cast<uintptr_t>(rtp.get()) % 64, 0u);
}

TEST(ssrc_pool_supply, grows_with_contexts) {
    std::mt19937_64 rng(2);
    const master_key key = test::random_key(rng);
    std::vector<std::unique_ptr<context>> many;
    for (int i = 0; i < 2000; ++i) {
        many.push_back(make_context(engine::native, suite::aes_cm_128_hmac_sha1_80, key, i % 2 == 1));
    }
    // At least one free chunk for every 8 live contexts, so 1 in 8 may take a second SSRC.
    EXPECT_GE(pool::instance().free_chunks(), 2000 / 8);
}

TEST_P(ssrc_overflow, one_ssrc_takes_no_chunk) {
    const int64_t before = pool::instance().free_chunks();
    for (uint16_t seq = 0; seq < 50; ++seq) {
        round_trip(seq, 0x1111);
    }
    EXPECT_EQ(pool::instance().free_chunks(), before);
    EXPECT_EQ(rx->ssrc_count(), 1u);
}

TEST_P(ssrc_overflow, eight_ssrcs_keep_their_state) {
    const int64_t before = pool::instance().free_chunks();
    // Interleaved: every SSRC's window and index go on across the others' packets, and the
    // sequence numbers of some wrap (ROC 1).
    for (uint32_t round = 0; round < 40; ++round) {
        for (uint32_t s = 0; s < max_ssrcs; ++s) {
            const uint16_t seq = static_cast<uint16_t>(65500 + round + 10 * s);
            round_trip(seq, 0x100 + s);
        }
    }
    EXPECT_EQ(rx->ssrc_count(), max_ssrcs);
    EXPECT_EQ(tx->ssrc_count(), max_ssrcs);
    // One chunk each for tx and rx, however many SSRCs beyond the first.
    EXPECT_EQ(pool::instance().free_chunks(), before - 2);
    for (uint32_t s = 0; s < max_ssrcs; ++s) {
        // A stream that started below 65536 wrapped into ROC 1; one that started past it
        // (its first sequence number already wrapped) is in ROC 0.
        const uint64_t start = 65500u + 10u * s;
        const uint64_t last = (start < 65536u ? start : start - 65536u) + 39u;
        EXPECT_EQ(rx->highest_index(0x100 + s), last) << s;
        EXPECT_EQ(tx->highest_index(0x100 + s), last) << s;
    }
    // A ninth is refused on both sides, and changes nothing.
    bytes p = rtp(1, 0x999);
    EXPECT_EQ(test::protect(*tx, p), result::ssrc_limit);
    auto other_tx = make_context(engine::native, GetParam(), key, false);
    ASSERT_EQ(test::protect(*other_tx, p), result::ok);
    EXPECT_EQ(test::unprotect(*rx, p), result::ssrc_limit);
    EXPECT_EQ(rx->ssrc_count(), max_ssrcs);
    // Destroying the contexts gives the chunks back.
    tx.reset();
    rx.reset();
    EXPECT_EQ(pool::instance().free_chunks(), before);
}

TEST_P(ssrc_overflow, replay_after_a_new_ssrc) {
    const bytes first_plain = rtp(10, 0xaaaa);
    bytes first = first_plain;
    ASSERT_EQ(test::protect(*tx, first), result::ok);
    const bytes first_wire = first;
    ASSERT_EQ(test::unprotect(*rx, first), result::ok);
    // A second SSRC arrives (the chunk is taken), then the first SSRC's packet again.
    bytes second = rtp(500, 0xbbbb);
    ASSERT_EQ(test::protect(*tx, second), result::ok);
    const bytes second_wire = second;
    ASSERT_EQ(test::unprotect(*rx, second), result::ok);
    bytes again = first_wire;
    EXPECT_EQ(test::unprotect(*rx, again), result::replay);
    again = second_wire;
    EXPECT_EQ(test::unprotect(*rx, again), result::replay);
    // Both go on; the sender refuses to reuse either SSRC's index.
    round_trip(11, 0xaaaa);
    round_trip(501, 0xbbbb);
    bytes reuse = rtp(500, 0xbbbb);
    EXPECT_EQ(test::protect(*tx, reuse), result::index_reuse);
    reuse = rtp(10, 0xaaaa);
    EXPECT_EQ(test::protect(*tx, reuse), result::index_reuse);
}

TEST_P(ssrc_overflow, forged_new_ssrc_takes_no_chunk) {
    round_trip(1, 0x1);
    const int64_t before = pool::instance().free_chunks();
    bytes p = rtp(7, 0x2);
    auto wrong_key_tx = make_context(engine::native, GetParam(), test::random_key(rng), false);
    ASSERT_EQ(test::protect(*wrong_key_tx, p), result::ok);
    EXPECT_EQ(test::unprotect(*rx, p), result::auth_failed);
    EXPECT_EQ(pool::instance().free_chunks(), before);
    EXPECT_EQ(rx->ssrc_count(), 1u);
}

TEST_P(ssrc_overflow, exhausted_pool_refuses_a_second_ssrc) {
    round_trip(1, 0x1);
    bytes from_other;
    {
        auto other_tx = make_context(engine::native, GetParam(), key, false);
        from_other = rtp(3, 0x2);
        ASSERT_EQ(test::protect(*other_tx, from_other), result::ok);
    }
    {
        exhausted_pool held;
        ASSERT_EQ(pool::instance().free_chunks(), 0);
        // Receive: refused before any HMAC, state unchanged; precheck says so too.
        EXPECT_EQ(precheck_rtp(*rx, from_other.data(), static_cast<uint32_t>(from_other.size())), precheck::free_drop);
        bytes p = from_other;
        EXPECT_EQ(test::unprotect(*rx, p), result::ssrc_limit);
        EXPECT_EQ(p, from_other);
        EXPECT_EQ(rx->ssrc_count(), 1u);
        // Send: refused before encrypting.
        bytes q = rtp(3, 0x2);
        EXPECT_EQ(test::protect(*tx, q), result::ssrc_limit);
        EXPECT_EQ(tx->ssrc_count(), 1u);
        // The first SSRC goes on, and SRTCP of the first SSRC too.
        round_trip(2, 0x1);
        bytes r = test::make_rtcp(0x1, 2, rng);
        ASSERT_EQ(test::protect(*tx_c, r), result::ok);
        ASSERT_EQ(test::unprotect(*rx_c, r), result::ok);
    }
    // Once chunks are free again, the same packet is taken.
    bytes p = from_other;
    EXPECT_EQ(test::unprotect(*rx, p), result::ok);
    EXPECT_EQ(rx->ssrc_count(), 2u);
}

TEST_P(ssrc_overflow, a_context_with_its_chunk_needs_no_pool) {
    round_trip(1, 0x1);
    round_trip(1, 0x2);  // tx and rx now hold their chunks
    exhausted_pool held;
    for (uint32_t s = 3; s <= max_ssrcs; ++s) {
        round_trip(5, s);
    }
    EXPECT_EQ(rx->ssrc_count(), max_ssrcs);
}

TEST_P(ssrc_overflow, srtcp_second_ssrc) {
    for (uint32_t s = 0; s < max_ssrcs; ++s) {
        for (int i = 0; i < 3; ++i) {
            const bytes plain = test::make_rtcp(0x50 + s, 3, rng);
            bytes r = plain;
            ASSERT_EQ(test::protect(*tx_c, r), result::ok);
            const bytes wire = r;
            ASSERT_EQ(test::unprotect(*rx_c, r), result::ok);
            EXPECT_EQ(r, plain);
            r = wire;
            EXPECT_EQ(test::unprotect(*rx_c, r), result::replay);
        }
        EXPECT_EQ(rx_c->highest_index(0x50 + s), 2u);
    }
    bytes r = test::make_rtcp(0x99, 3, rng);
    EXPECT_EQ(test::protect(*tx_c, r), result::ssrc_limit);
}

INSTANTIATE_TEST_SUITE_P(srtp, ssrc_overflow,
                         ::testing::Values(suite::aes_cm_128_hmac_sha1_80, suite::aes_cm_128_hmac_sha1_32));

}  // namespace
}  // namespace rtprelay::dp::srtp
