#include "bench/loadgen/srtp_streams.h"

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "bench/loadgen/rtp_wire.h"
#include "bench/loadgen/srtp_call_fixture.h"

namespace rtprelay::loadgen {
namespace {

std::vector<uint8_t> packet(uint32_t ssrc, uint16_t seq) {
    std::vector<uint8_t> buf(rtp_header_bytes + 160 + dp::srtp::max_overhead);
    rtp_fields f;
    f.seq = seq;
    f.timestamp = 160u * seq;
    f.ssrc = ssrc;
    f.call_index = 0;
    write_rtp(buf.data(), 160, f);
    stamp_send_time(buf.data(), 123456789);
    return buf;
}

TEST(srtp_streams, sent_packets_decrypt_and_libsrtp2_agrees_both_ways) {
    const stream_set set = one_srtp_call(0x1000, offered_key(), offered_key());
    srtp_sender tx(set, 1);
    srtp_receiver rx(set, 1);
    for (uint16_t seq = 100; seq < 110; ++seq) {
        for (uint32_t stream = 0; stream < 2; ++stream) {
            std::vector<uint8_t> buf = packet(set.streams[stream].ssrc, seq);
            const std::vector<uint8_t> plain(buf.begin(), buf.begin() + rtp_header_bytes + 160);
            uint32_t len = rtp_header_bytes + 160;
            ASSERT_TRUE(tx.protect(stream, buf.data(), &len, dp::srtp::max_overhead));
            EXPECT_EQ(len, rtp_header_bytes + 160 + 10);  // _80: 10-byte tag
            EXPECT_NE(std::memcmp(buf.data() + rtp_header_bytes, plain.data() + rtp_header_bytes, 160), 0);
            ASSERT_EQ(rx.unprotect(stream, buf.data(), &len), dp::srtp::result::ok);
            ASSERT_EQ(len, plain.size());
            EXPECT_EQ(std::memcmp(buf.data(), plain.data(), len), 0);
        }
    }
    EXPECT_EQ(tx.errors(), 0u);
    EXPECT_EQ(tx.checks().checked, 20u);
    EXPECT_EQ(tx.checks().mismatched, 0u);
    EXPECT_EQ(rx.failures(), 0u);
    EXPECT_EQ(rx.checks().checked, 20u);
    EXPECT_EQ(rx.checks().mismatched, 0u);
}

TEST(srtp_streams, tampered_and_replayed_packets_fail_and_both_transforms_agree) {
    const stream_set set = one_srtp_call(0x1000, offered_key(), offered_key());
    srtp_sender tx(set, 1);
    srtp_receiver rx(set, 1);
    std::vector<uint8_t> buf = packet(set.streams[0].ssrc, 7);
    uint32_t len = rtp_header_bytes + 160;
    ASSERT_TRUE(tx.protect(0, buf.data(), &len, dp::srtp::max_overhead));
    const std::vector<uint8_t> sent(buf.begin(), buf.begin() + len);

    buf[rtp_header_bytes + 5] ^= 1;
    uint32_t n = len;
    EXPECT_EQ(rx.unprotect(0, buf.data(), &n), dp::srtp::result::auth_failed);

    std::memcpy(buf.data(), sent.data(), len);
    n = len;
    EXPECT_EQ(rx.unprotect(0, buf.data(), &n), dp::srtp::result::ok);
    std::memcpy(buf.data(), sent.data(), len);
    n = len;
    EXPECT_EQ(rx.unprotect(0, buf.data(), &n), dp::srtp::result::replay);

    EXPECT_EQ(rx.failures(), 2u);
    EXPECT_EQ(rx.checks().checked, 3u);
    EXPECT_EQ(rx.checks().refused, 2u);  // libsrtp2 refused the same two
    EXPECT_EQ(rx.checks().mismatched, 0u);
}

// --srtp-mix, an RTP<->SRTP call: A's leg is plain, B's is SRTP. A->B is sent plain and
// arrives protected (the relay's key toward B); B->A is sent protected and arrives plain.
TEST(srtp_streams, a_plain_leg_passes_unchanged_and_is_never_checked) {
    stream_set set = one_srtp_call(0x1000, offered_key(), offered_key());
    set.streams[0].send_srtp = false;  // A sends plain
    set.streams[1].recv_srtp = false;  // A receives plain
    srtp_sender tx(set, 1);
    srtp_receiver rx(set, 1);
    std::vector<uint8_t> buf = packet(set.streams[0].ssrc, 5);
    const std::vector<uint8_t> plain(buf.begin(), buf.begin() + rtp_header_bytes + 160);
    uint32_t len = rtp_header_bytes + 160;
    ASSERT_TRUE(tx.protect(0, buf.data(), &len, dp::srtp::max_overhead));
    EXPECT_EQ(len, plain.size());
    EXPECT_EQ(std::memcmp(buf.data(), plain.data(), len), 0);
    // B->A: protected by B, plain at A (here the same bytes stand for the relay's output).
    std::vector<uint8_t> back = packet(set.streams[1].ssrc, 5);
    const std::vector<uint8_t> back_plain(back.begin(), back.begin() + rtp_header_bytes + 160);
    uint32_t back_len = rtp_header_bytes + 160;
    ASSERT_TRUE(tx.protect(1, back.data(), &back_len, dp::srtp::max_overhead));
    EXPECT_EQ(back_len, back_plain.size() + 10);
    std::vector<uint8_t> at_a = back_plain;
    uint32_t n = static_cast<uint32_t>(at_a.size());
    EXPECT_EQ(rx.unprotect(1, at_a.data(), &n), dp::srtp::result::ok);
    EXPECT_EQ(at_a, back_plain);
    EXPECT_EQ(tx.checks().checked, 1u);  // only B's protected packet
    EXPECT_EQ(rx.checks().checked, 0u);
    EXPECT_EQ(rx.failures(), 0u);
}

TEST(srtp_streams, a_wrong_key_fails_every_packet) {
    stream_set set = one_srtp_call(0x1000, offered_key(), offered_key());
    srtp_sender tx(set, 0);                   // no libsrtp2 checks on the sending side
    set.streams[0].recv_key = offered_key();  // not what the sender used
    srtp_receiver rx(set, 0);
    std::vector<uint8_t> buf = packet(set.streams[0].ssrc, 1);
    uint32_t len = rtp_header_bytes + 160;
    ASSERT_TRUE(tx.protect(0, buf.data(), &len, dp::srtp::max_overhead));
    EXPECT_EQ(rx.unprotect(0, buf.data(), &len), dp::srtp::result::auth_failed);
    EXPECT_EQ(tx.checks().checked, 0u);
    EXPECT_EQ(rx.checks().checked, 0u);
}

}  // namespace
}  // namespace rtprelay::loadgen
