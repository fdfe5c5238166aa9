#include "bench/loadgen/rtp_wire.h"

#include <gtest/gtest.h>

#include <array>
#include <cstring>

namespace rtprelay::loadgen {
namespace {

TEST(rtp_wire, round_trip) {
    std::array<uint8_t, rtp_header_bytes + 160> buf{};
    rtp_fields f;
    f.marker = true;
    f.seq = 0xfffe;
    f.timestamp = 0xdeadbeef;
    f.ssrc = 0x01020304;
    f.call_index = 77;
    write_rtp(buf.data(), 160, f);
    stamp_send_time(buf.data(), 123456789012345);
    EXPECT_EQ(buf[0], 0x80);
    EXPECT_EQ(buf[1], 0x80);  // marker, PT 0
    EXPECT_EQ(buf[11], 0x04);
    EXPECT_EQ(buf.back(), 0xff);

    rtp_view v;
    ASSERT_TRUE(parse_rtp(buf.data(), buf.size(), &v));
    EXPECT_EQ(v.seq, 0xfffe);
    EXPECT_EQ(v.timestamp, 0xdeadbeefu);
    EXPECT_EQ(v.ssrc, 0x01020304u);
    EXPECT_EQ(v.call_index, 77u);
    EXPECT_EQ(v.send_ns, 123456789012345);
}

TEST(rtp_wire, skips_csrc_and_extension_added_on_the_way) {
    std::array<uint8_t, 64> plain{};
    rtp_fields f;
    f.ssrc = 9;
    f.call_index = 3;
    write_rtp(plain.data(), 16, f);
    // Rebuild with one CSRC and a one-word header extension in front of the payload.
    std::array<uint8_t, 64> buf{};
    std::memcpy(buf.data(), plain.data(), rtp_header_bytes);
    buf[0] = 0x80 | 0x10 | 0x01;
    const uint8_t ext[] = {0xbe, 0xde, 0x00, 0x01, 1, 2, 3, 4};
    std::memcpy(buf.data() + 16, ext, sizeof ext);
    std::memcpy(buf.data() + 24, plain.data() + rtp_header_bytes, 16);
    rtp_view v;
    ASSERT_TRUE(parse_rtp(buf.data(), 40, &v));
    EXPECT_EQ(v.call_index, 3u);
    EXPECT_FALSE(parse_rtp(buf.data(), 39, &v));  // truncated payload
}

TEST(rtp_wire, rejects_foreign_packets) {
    std::array<uint8_t, 40> buf{};
    rtp_view v;
    buf[0] = 0x80;
    EXPECT_FALSE(parse_rtp(buf.data(), buf.size(), &v));  // no magic
    EXPECT_FALSE(parse_rtp(buf.data(), 5, &v));
    buf[0] = 0x40;
    EXPECT_FALSE(parse_rtp(buf.data(), buf.size(), &v));  // version 1
}

TEST(rtp_wire, sender_report) {
    std::array<uint8_t, rtcp_sr_max_bytes> buf{};
    const size_t n = write_rtcp_sr(buf.data(), buf.size(), 0xabcdef01, 0x1122334455667788ull, 42, 500, 80000);
    ASSERT_EQ(n, 56u);  // SR 28 + SDES 28
    EXPECT_EQ(n % 4, 0u);
    EXPECT_EQ(buf[1], 200);
    EXPECT_EQ(buf[3], 6);  // length in words - 1
    EXPECT_EQ(buf[29], 202);
    EXPECT_EQ(buf[31], 6);
    uint32_t ssrc = 0;
    ASSERT_TRUE(parse_rtcp_sr_ssrc(buf.data(), n, &ssrc));
    EXPECT_EQ(ssrc, 0xabcdef01u);
    EXPECT_EQ(write_rtcp_sr(buf.data(), 20, 1, 0, 0, 0, 0), 0u);
}

}  // namespace
}  // namespace rtprelay::loadgen
