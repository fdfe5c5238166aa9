#include "bench/loadgen/udp_frame.h"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <rte_ip.h>
#include <rte_udp.h>

#include <array>
#include <cstring>

namespace lg = rtprelay::loadgen;

namespace {

lg::udp_frame_addresses sample() {
    lg::udp_frame_addresses a;
    a.src_mac = {{0x02, 0, 0, 0, 0, 1}};
    a.dst_mac = {{0x02, 0, 0, 0, 0, 2}};
    a.src_ip = inet_addr("198.18.1.2");
    a.dst_ip = inet_addr("198.18.1.1");
    a.src_port = 20000;
    a.dst_port = 10002;
    return a;
}

}  // namespace

TEST(UdpFrame, WrittenHeadersParseBackWithValidChecksums) {
    std::array<uint8_t, 256> f{};
    for (size_t i = 0; i < 100; ++i) {
        f[lg::udp_frame_header_bytes + i] = static_cast<uint8_t>(i * 7);
    }
    const size_t len = lg::write_udp_headers(f.data(), sample(), 100);
    ASSERT_EQ(len, lg::udp_frame_header_bytes + 100);
    lg::udp_frame_view v;
    ASSERT_TRUE(lg::parse_udp_frame(f.data(), len, &v));
    EXPECT_EQ(v.src_ip, inet_addr("198.18.1.2"));
    EXPECT_EQ(v.dst_ip, inet_addr("198.18.1.1"));
    EXPECT_EQ(v.src_port, 20000);
    EXPECT_EQ(v.dst_port, 10002);
    EXPECT_EQ(v.payload_offset, lg::udp_frame_header_bytes);
    EXPECT_EQ(v.payload_len, 100u);
    // The UDP checksum over pseudo-header, header and payload verifies to zero.
    const auto* ip = reinterpret_cast<const rte_ipv4_hdr*>(f.data() + sizeof(rte_ether_hdr));
    const auto* udp = reinterpret_cast<const rte_udp_hdr*>(ip + 1);
    EXPECT_NE(udp->dgram_cksum, 0);
    uint32_t sum = rte_ipv4_phdr_cksum(ip, 0) + rte_raw_cksum(udp, sizeof(rte_udp_hdr) + 100);
    sum = (sum & 0xffff) + (sum >> 16);
    sum = (sum & 0xffff) + (sum >> 16);
    EXPECT_EQ(sum, 0xffffu);
}

TEST(UdpFrame, RejectsOtherFramesAndBadHeaders) {
    std::array<uint8_t, 256> f{};
    const size_t len = lg::write_udp_headers(f.data(), sample(), 40);
    lg::udp_frame_view v;
    EXPECT_FALSE(lg::parse_udp_frame(f.data(), lg::udp_frame_header_bytes - 1, &v));
    EXPECT_FALSE(lg::parse_udp_frame(f.data(), len - 1, &v));  // IPv4 length beyond the frame

    auto bad = f;
    bad[12] = 0x08;  // ARP
    bad[13] = 0x06;
    EXPECT_FALSE(lg::parse_udp_frame(bad.data(), len, &v));
    bad = f;
    bad[14 + 9] = 6;  // TCP
    EXPECT_FALSE(lg::parse_udp_frame(bad.data(), len, &v));
    bad = f;
    bad[14 + 8] ^= 1;  // TTL changed, header checksum not
    EXPECT_FALSE(lg::parse_udp_frame(bad.data(), len, &v));
    bad = f;
    bad[14 + 6] |= 0x20;  // more fragments
    EXPECT_FALSE(lg::parse_udp_frame(bad.data(), len, &v));
    bad = f;
    bad[14 + 20 + 4] = 0xff;  // UDP length larger than the IP payload
    EXPECT_FALSE(lg::parse_udp_frame(bad.data(), len, &v));
    EXPECT_TRUE(lg::parse_udp_frame(f.data(), len, &v));
}
