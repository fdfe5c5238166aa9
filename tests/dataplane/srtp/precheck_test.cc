// srtp::precheck: what a packet's clear fields say before the HMAC, checked against what
// unprotect then does with the same packet. Native engine (the libsrtp2 engine keeps its
// indices to itself and says "plausible" to everything).

#include <gtest/gtest.h>

#include <random>

#include "dataplane/srtp/srtp.h"
#include "tests/dataplane/srtp/test_util.h"

namespace rtprelay::dp::srtp {
namespace {

using test::bytes;

class precheck_test : public ::testing::Test {
 protected:
    void SetUp() override {
        key = test::random_key(rng);
        tx = make_context(engine::native, suite::aes_cm_128_hmac_sha1_80, key, false);
        rx = make_context(engine::native, suite::aes_cm_128_hmac_sha1_80, key, false);
        tx_c = make_context(engine::native, suite::aes_cm_128_hmac_sha1_80, key, true);
        rx_c = make_context(engine::native, suite::aes_cm_128_hmac_sha1_80, key, true);
    }
    // Protected by `by` (default tx): a second sender lets a test make packets far ahead
    // without using up tx's indices.
    bytes srtp(uint16_t seq, uint32_t ssrc = 0x01020304, context* by = nullptr) {
        test::rtp_spec spec;
        spec.seq = seq;
        spec.ssrc = ssrc;
        bytes p = test::make_rtp(spec, rng);
        EXPECT_EQ(test::protect(by != nullptr ? *by : *tx, p), result::ok);
        return p;
    }
    precheck pre(const bytes& p) { return precheck_rtp(*rx, p.data(), static_cast<uint32_t>(p.size())); }
    void receive(bytes p) { ASSERT_EQ(test::unprotect(*rx, p), result::ok); }

    std::mt19937_64 rng{5};
    master_key key{};
    std::unique_ptr<context> tx, rx, tx_c, rx_c;
};

TEST_F(precheck_test, rtp_verdicts_match_unprotect) {
    const bytes first = srtp(100);
    EXPECT_EQ(pre(first), precheck::plausible) << "a context's first SSRC";
    receive(first);
    EXPECT_EQ(pre(first), precheck::free_drop) << "already received";
    const bytes next = srtp(101);
    EXPECT_EQ(pre(next), precheck::plausible);
    auto ahead = make_context(engine::native, suite::aes_cm_128_hmac_sha1_80, key, false);
    const bytes far = srtp(static_cast<uint16_t>(101 + plausible_jump), 0x01020304, ahead.get());
    EXPECT_EQ(pre(far), precheck::doubtful) << "further ahead than a stream jumps";
    const bytes near = srtp(static_cast<uint16_t>(100 + plausible_jump), 0x01020304, ahead.get());
    EXPECT_EQ(pre(near), precheck::plausible);
    const bytes other = srtp(7, 0x0a0b0c0d);
    EXPECT_EQ(pre(other), precheck::doubtful) << "a second SSRC";
    receive(next);
    for (uint16_t s = 102; s < 400; ++s) {
        receive(srtp(s));
    }
    auto late = make_context(engine::native, suite::aes_cm_128_hmac_sha1_80, key, false);
    bytes old = srtp(200, 0x01020304, late.get());  // never received, but older than the window now
    EXPECT_EQ(pre(old), precheck::free_drop);
    EXPECT_EQ(test::unprotect(*rx, old), result::replay);
    const bytes stub(11, 0x80);
    EXPECT_EQ(pre(stub), precheck::free_drop);
    // Precheck changed nothing: the far one still authenticates.
    EXPECT_EQ(rx->highest_index(0x01020304), std::optional<uint64_t>(399));
    receive(far);
}

TEST_F(precheck_test, full_ssrc_table_is_a_free_drop) {
    for (uint32_t i = 0; i < max_ssrcs; ++i) {
        receive(srtp(1, 0x100 + i));
    }
    auto other = make_context(engine::native, suite::aes_cm_128_hmac_sha1_80, key, false);
    EXPECT_EQ(pre(srtp(1, 0x999, other.get())), precheck::free_drop);
    EXPECT_EQ(pre(srtp(2, 0x100)), precheck::plausible);
}

TEST_F(precheck_test, rtcp_verdicts) {
    auto rtcp = [&](uint32_t ssrc) {
        bytes p = test::make_rtcp(ssrc, 6, rng);
        EXPECT_EQ(test::protect(*tx_c, p), result::ok);
        return p;
    };
    auto pre_c = [&](const bytes& p) { return precheck_rtcp(*rx_c, p.data(), static_cast<uint32_t>(p.size())); };
    const bytes a = rtcp(0x55);
    EXPECT_EQ(pre_c(a), precheck::plausible);
    bytes got = a;
    ASSERT_EQ(test::unprotect(*rx_c, got), result::ok);
    EXPECT_EQ(pre_c(a), precheck::free_drop);
    EXPECT_EQ(pre_c(rtcp(0x55)), precheck::plausible);
    EXPECT_EQ(pre_c(rtcp(0x66)), precheck::doubtful);
    EXPECT_EQ(precheck_rtp(*rx_c, a.data(), static_cast<uint32_t>(a.size())), precheck::free_drop)
        << "an RTCP context refuses RTP";
}

}  // namespace
}  // namespace rtprelay::dp::srtp
