// What a group's call record carries of a stream's SRTP indices, and when it must be
// written (control/ha/srtp_progress.h): new SSRCs, progress by 2^14, the ROC reservation
// before a sent stream's sequence number wraps, SRTCP index reservations, and the count
// of indices sent before Redis acknowledged a record covering them.

#include "control/ha/srtp_progress.h"

#include <gtest/gtest.h>

#include <random>

#include "dataplane/srtp/srtp.h"

namespace rtprelay::ha {
namespace {

constexpr uint32_t ssrc = 0xabcd;

class progress_test : public ::testing::Test {
 protected:
    void SetUp() override {
        s.contexts = std::make_unique<srtp_contexts>();
        for (int k = 0; k < 2; ++k) {
            s.contexts->in[k] =
                dp::srtp::make_context(dp::srtp::engine::native, dp::srtp::suite::aes_cm_128_hmac_sha1_80, key, k == 1);
            s.contexts->out[k] =
                dp::srtp::make_context(dp::srtp::engine::native, dp::srtp::suite::aes_cm_128_hmac_sha1_80, key, k == 1);
        }
    }
    // Sends RTP with these sequence numbers through the out context (what a worker does).
    void send_rtp(uint32_t from, uint32_t to) {
        for (uint32_t q = from; q <= to; ++q) {
            uint8_t buf[200] = {0x80, 0, static_cast<uint8_t>(q >> 8),    static_cast<uint8_t>(q),   0, 0, 0, 0,
                                0,    0, static_cast<uint8_t>(ssrc >> 8), static_cast<uint8_t>(ssrc)};
            uint32_t len = 172;
            ASSERT_EQ(dp::srtp::protect_rtp(*s.contexts->out[0], buf, &len, 28), dp::srtp::result::ok) << q;
        }
    }
    void send_rtcp(int n) {
        for (int i = 0; i < n; ++i) {
            uint8_t buf[64] = {0x80, 200, 0, 6, 0, 0, static_cast<uint8_t>(ssrc >> 8), static_cast<uint8_t>(ssrc)};
            uint32_t len = 28;
            ASSERT_EQ(dp::srtp::protect_rtcp(*s.contexts->out[1], buf, &len, 36), dp::srtp::result::ok);
        }
    }
    const srtp_progress::entry& written(int k) { return s.contexts->progress->written[k].at(0); }

    dp::srtp::master_key key{};
    stream s;
};

TEST_F(progress_test, nothing_to_write_before_packets) {
    const scan_result r = scan_srtp(s);
    EXPECT_FALSE(r.write);
    EXPECT_EQ(r.exposed, 0u);
    stream plain;
    EXPECT_FALSE(scan_srtp(plain).write);
}

TEST_F(progress_test, a_new_ssrc_then_every_2_14_indices) {
    send_rtp(1, 10);
    EXPECT_TRUE(scan_srtp(s).write) << "a new SSRC";
    EXPECT_EQ(written(2).index, 10u);
    s.contexts->progress->token = 1;
    srtp_acked(s, 1);
    send_rtp(11, 1000);
    EXPECT_FALSE(scan_srtp(s).write) << "990 further: the record's index still gives the right ROC";
    send_rtp(1001, 10 + (1u << 14));
    EXPECT_TRUE(scan_srtp(s).write) << "2^14 further";
    EXPECT_EQ(written(2).index, 10u + (1u << 14));
}

TEST_F(progress_test, the_roc_plus_one_is_reserved_before_the_wrap) {
    send_rtp(0x9000, 0x9001);
    EXPECT_TRUE(scan_srtp(s).write);
    s.contexts->progress->token = 1;
    srtp_acked(s, 1);
    send_rtp(0x9002, 0xbfff);
    EXPECT_FALSE(scan_srtp(s).write) << "from 0x9001 a taker already reaches ROC 1";
    // With a record at 0x4000, the last quarter needs a new one.
    s.contexts->progress->written[2][0].index = 0x4000;
    s.contexts->progress->acked[2][0].index = 0x4000;
    send_rtp(0xc000, 0xc000);
    const scan_result r = scan_srtp(s);
    EXPECT_TRUE(r.write) << "0xc000: ROC 1 must be reachable before the wrap";
    EXPECT_EQ(written(2).index, 0xc000u);
    EXPECT_EQ(r.exposed, 0u) << "nothing sent under ROC 1 yet";
}

TEST_F(progress_test, sending_past_the_acknowledged_roc_is_counted) {
    send_rtp(0xfff0, 0xfff0);
    scan_srtp(s);               // written 0xfff0, never acknowledged: Redis is down
    send_rtp(0xfff1, 0x10009);  // 10 packets under ROC 1
    const scan_result r = scan_srtp(s);
    EXPECT_EQ(r.exposed, 10u) << "indices 1:0 .. 1:9 sent with no record a taker could reach them from";
    send_rtp(0x1000a, 0x1000b);
    EXPECT_EQ(scan_srtp(s).exposed, 2u) << "each index counted once";
    s.contexts->progress->token = 5;
    srtp_acked(s, 4);
    send_rtp(0x1000c, 0x1000c);
    EXPECT_EQ(scan_srtp(s).exposed, 1u) << "an older token acknowledges nothing";
    srtp_acked(s, 5);
    send_rtp(0x1000d, 0x1000d);
    EXPECT_EQ(scan_srtp(s).exposed, 0u) << "covered once Redis acknowledged";
}

TEST_F(progress_test, srtcp_indices_are_reserved_in_blocks) {
    send_rtcp(1);  // index 0
    scan_result r = scan_srtp(s);
    EXPECT_TRUE(r.write);
    EXPECT_EQ(written(3).index, srtcp_block) << "reserved up to 64";
    EXPECT_EQ(r.exposed, 1u) << "index 0 went out before any record covered it";
    s.contexts->progress->token = 9;
    srtp_acked(s, 9);
    send_rtcp(40);  // up to 40
    r = scan_srtp(s);
    EXPECT_FALSE(r.write);
    EXPECT_EQ(r.exposed, 0u);
    send_rtcp(10);  // 50: fewer than 16 left
    r = scan_srtp(s);
    EXPECT_TRUE(r.write);
    EXPECT_EQ(written(3).index, 50 + srtcp_block);
    EXPECT_EQ(r.exposed, 0u);
}

TEST_F(progress_test, a_rekey_starts_over) {
    send_rtp(1, 5);
    scan_srtp(s);
    s.contexts->out[0] =
        dp::srtp::make_context(dp::srtp::engine::native, dp::srtp::suite::aes_cm_128_hmac_sha1_80, key, false);
    EXPECT_TRUE(scan_srtp(s).write) << "the record must drop the old context's indices";
    EXPECT_TRUE(s.contexts->progress->written[2].empty());
}

}  // namespace
}  // namespace rtprelay::ha
