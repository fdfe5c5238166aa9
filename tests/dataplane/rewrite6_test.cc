// Stage 6 with an IPv6 side (dataplane/rewrite6.h): v6 -> v6 in place, v4 <-> v6 with the IP
// header resized. Every output is taken apart and its checksums recomputed from scratch by
// the tests' own code (test_packets.h, test_packets6.h).

#include "dataplane/rewrite6.h"

#include <gtest/gtest.h>

#include <rte_byteorder.h>
#include <rte_mbuf.h>

#include <cstring>

#include "tests/dataplane/test_packets6.h"

namespace rtprelay::dp {
namespace {

using test::addr6;
using test::bytes;
using test::ip4;
using test::ip6;

const addr6 peer_a = ip6("2001:2:a::10");
const addr6 relay_a = ip6("2001:2:1::1");
const addr6 relay_b = ip6("2001:2:2::1");
const addr6 peer_b = ip6("2001:2:b::20");

// An mbuf holding `f` with l2_len/l3_len as classify() sets them.
rte_mbuf* received(const bytes& f, uint16_t l2, uint16_t l3) {
    rte_mbuf* m = test::to_mbuf(f, 0);
    m->l2_len = l2;
    m->l3_len = l3;
    return m;
}

rewrite_target6 to_v6(const addr6& src, const addr6& dst, uint16_t sport, uint16_t dport) {
    rewrite_target6 t;
    t.out6 = true;
    std::memcpy(t.src, src.data(), 16);
    std::memcpy(t.dst, dst.data(), 16);
    t.src_port = rte_cpu_to_be_16(sport);
    t.dst_port = rte_cpu_to_be_16(dport);
    t.src_mac = test::mac(0xaa);
    t.dst_mac = test::mac(0xbb);
    return t;
}

rewrite_target6 to_v4(uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport) {
    rewrite_target6 t;
    t.out6 = false;
    std::memcpy(t.src, &src, 4);
    std::memcpy(t.dst, &dst, 4);
    t.src_port = rte_cpu_to_be_16(sport);
    t.dst_port = rte_cpu_to_be_16(dport);
    t.src_mac = test::mac(0xaa);
    t.dst_mac = test::mac(0xbb);
    return t;
}

test::frame_spec6 spec6(size_t payload) {
    test::frame_spec6 s;
    s.src_ip = peer_a;
    s.dst_ip = relay_a;
    s.src_port = 4000;
    s.dst_port = 30000;
    s.hop_limit = 61;
    s.traffic_class = 0xb8;  // EF
    s.flow_label = 0x12345;
    s.payload = bytes(payload);
    for (size_t i = 0; i < payload; ++i) {
        s.payload[i] = static_cast<uint8_t>(i * 7 + 3);
    }
    return s;
}

test::frame_spec spec4(size_t payload) {
    test::frame_spec s;
    s.src_ip = ip4(198, 18, 10, 10);
    s.dst_ip = ip4(198, 18, 1, 1);
    s.src_port = 4000;
    s.dst_port = 30000;
    s.payload = bytes(payload);
    for (size_t i = 0; i < payload; ++i) {
        s.payload[i] = static_cast<uint8_t>(i * 5 + 1);
    }
    return s;
}

// A frame of spec4 with the DSCP/ECN byte set (the builder writes TOS 0).
bytes udp4_with_tos(const test::frame_spec& s, uint8_t tos) {
    bytes f = test::udp_frame(s);
    f[test::l2_len(s) + 1] = tos;
    test::fix_ip_checksum(f, test::l2_len(s));
    return f;
}

TEST(rewrite6, v6_to_v6_in_place) {
    const auto s = spec6(172);
    rte_mbuf* m = received(test::udp6_frame(s), 14, 40);
    const uint16_t data_off = m->data_off;
    ASSERT_TRUE(rewrite_udp6(m, to_v6(relay_b, peer_b, 40000, 5000)));
    EXPECT_EQ(m->data_off, data_off) << "same header sizes: nothing moves";
    const auto v = test::parse_udp6(test::from_mbuf(m));
    rte_pktmbuf_free(m);
    ASSERT_TRUE(v);
    EXPECT_EQ(v->src_ip, relay_b);
    EXPECT_EQ(v->dst_ip, peer_b);
    EXPECT_EQ(v->src_port, 40000);
    EXPECT_EQ(v->dst_port, 5000);
    EXPECT_EQ(v->hop_limit, 64);
    EXPECT_EQ(v->traffic_class, 0xb8);
    EXPECT_EQ(v->flow_label, 0x12345u);
    const rte_ether_addr ours = test::mac(0xaa);
    const rte_ether_addr next_hop = test::mac(0xbb);
    EXPECT_TRUE(rte_is_same_ether_addr(&v->src_mac, &ours));
    EXPECT_TRUE(rte_is_same_ether_addr(&v->dst_mac, &next_hop));
    EXPECT_TRUE(v->udp_checksum_ok);
    EXPECT_EQ(v->payload, s.payload);
}

TEST(rewrite6, a_corrupt_packet_stays_corrupt) {
    // Incremental updates carry the error through: the receiving host drops the packet.
    const auto s = spec6(100);
    bytes f = test::udp6_frame(s);
    f[14 + 40 + 8 + 50] ^= 0x10;
    rte_mbuf* m = received(f, 14, 40);
    ASSERT_TRUE(rewrite_udp6(m, to_v6(relay_b, peer_b, 40000, 5000)));
    const auto v6 = test::parse_udp6(test::from_mbuf(m));
    rte_pktmbuf_free(m);
    ASSERT_TRUE(v6);
    EXPECT_FALSE(v6->udp_checksum_ok);
    // The same across families.
    bytes f4 = test::udp_frame(spec4(100));
    f4[14 + 20 + 8 + 50] ^= 0x10;
    m = received(f4, 14, 20);
    ASSERT_TRUE(rewrite_udp6(m, to_v6(relay_b, peer_b, 40000, 5000)));
    const auto x = test::parse_udp6(test::from_mbuf(m));
    rte_pktmbuf_free(m);
    ASSERT_TRUE(x);
    EXPECT_FALSE(x->udp_checksum_ok);
}

TEST(rewrite6, v4_to_v6_grows_the_header) {
    const auto s = spec4(172);
    rte_mbuf* m = received(udp4_with_tos(s, 0xb8), 14, 20);
    const uint16_t data_off = m->data_off;
    ASSERT_TRUE(rewrite_udp6(m, to_v6(relay_b, peer_b, 40000, 5000)));
    EXPECT_EQ(m->data_off, data_off - 20) << "20 more bytes of header, taken from the headroom";
    EXPECT_EQ(m->l2_len, 14);
    EXPECT_EQ(m->l3_len, 40);
    EXPECT_EQ(rte_pktmbuf_pkt_len(m), 14u + 40 + 8 + 172);
    const auto v = test::parse_udp6(test::from_mbuf(m));
    rte_pktmbuf_free(m);
    ASSERT_TRUE(v);
    EXPECT_EQ(v->src_ip, relay_b);
    EXPECT_EQ(v->dst_ip, peer_b);
    EXPECT_EQ(v->src_port, 40000);
    EXPECT_EQ(v->dst_port, 5000);
    EXPECT_EQ(v->payload_len, 8 + 172);
    EXPECT_EQ(v->udp_len, 8 + 172);
    EXPECT_EQ(v->traffic_class, 0xb8) << "the DSCP the phone marked survives";
    EXPECT_EQ(v->flow_label, 0u);
    EXPECT_EQ(v->hop_limit, 64);
    EXPECT_TRUE(v->udp_checksum_ok);
    EXPECT_EQ(v->payload, s.payload);
}

TEST(rewrite6, v4_with_options_and_vlans_to_v6) {
    auto s = spec4(60);
    s.ip_options = 3;  // a 32-byte IPv4 header
    s.vlan = 9;
    rte_mbuf* m = received(test::udp_frame(s), 18, 32);
    auto t = to_v6(relay_b, peer_b, 40000, 5000);
    t.vlan = 300;
    ASSERT_TRUE(rewrite_udp6(m, t));
    EXPECT_EQ(m->l2_len, 18);
    const auto v = test::parse_udp6(test::from_mbuf(m));
    rte_pktmbuf_free(m);
    ASSERT_TRUE(v);
    EXPECT_EQ(v->vlan, 300);
    EXPECT_TRUE(v->udp_checksum_ok);
    EXPECT_EQ(v->payload, s.payload);
}

TEST(rewrite6, v4_without_checksum_gets_one_over_v6) {
    auto s = spec4(172);
    s.udp_checksum = false;
    rte_mbuf* m = received(test::udp_frame(s), 14, 20);
    ASSERT_TRUE(rewrite_udp6(m, to_v6(relay_b, peer_b, 40000, 5000)));
    const auto v = test::parse_udp6(test::from_mbuf(m));
    rte_pktmbuf_free(m);
    ASSERT_TRUE(v);
    EXPECT_NE(v->udp_checksum, 0) << "mandatory over IPv6";
    EXPECT_TRUE(v->udp_checksum_ok);
}

TEST(rewrite6, v6_to_v4_shrinks_the_header) {
    const auto s = spec6(172);
    rte_mbuf* m = received(test::udp6_frame(s), 14, 40);
    const uint16_t data_off = m->data_off;
    ASSERT_TRUE(rewrite_udp6(m, to_v4(ip4(198, 18, 2, 1), ip4(198, 18, 20, 20), 40000, 5000)));
    EXPECT_EQ(m->data_off, data_off + 20);
    EXPECT_EQ(m->l3_len, 20);
    const auto v = test::parse_udp(test::from_mbuf(m));
    rte_pktmbuf_free(m);
    ASSERT_TRUE(v);
    EXPECT_EQ(v->src_ip(), ip4(198, 18, 2, 1));
    EXPECT_EQ(v->dst_ip(), ip4(198, 18, 20, 20));
    EXPECT_EQ(v->src_port(), 40000);
    EXPECT_EQ(v->dst_port(), 5000);
    EXPECT_EQ(v->ip.version_ihl, 0x45);
    EXPECT_EQ(v->ip.type_of_service, 0xb8);
    EXPECT_EQ(v->ip.time_to_live, 64);
    EXPECT_EQ(v->ip.fragment_offset, rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG));
    EXPECT_EQ(rte_be_to_cpu_16(v->ip.total_length), 20 + 8 + 172);
    EXPECT_TRUE(v->ip_checksum_ok);
    EXPECT_TRUE(v->udp_checksum_ok);
    EXPECT_NE(v->udp.dgram_cksum, 0);
    EXPECT_EQ(v->payload, s.payload);
}

TEST(rewrite6, changed_payload_is_summed_afresh) {
    const auto s = spec6(172);
    rte_mbuf* m = received(test::udp6_frame(s), 14, 40);
    // What SRTP does: new bytes, 10 more of them (the tag).
    rte_pktmbuf_append(m, 10);
    set_udp6_payload_len(m, 182);
    auto* p = rte_pktmbuf_mtod_offset(m, uint8_t*, 14 + 40 + 8);
    for (int i = 0; i < 182; ++i) {
        p[i] = static_cast<uint8_t>(0xff - i);
    }
    auto t = to_v4(ip4(198, 18, 2, 1), ip4(198, 18, 20, 20), 40000, 5000);
    t.payload_changed = true;
    ASSERT_TRUE(rewrite_udp6(m, t));
    const auto v = test::parse_udp(test::from_mbuf(m));
    rte_pktmbuf_free(m);
    ASSERT_TRUE(v);
    EXPECT_EQ(v->payload.size(), 182u);
    EXPECT_TRUE(v->ip_checksum_ok);
    EXPECT_TRUE(v->udp_checksum_ok);
}

TEST(rewrite6, set_udp6_payload_len_sets_both_lengths) {
    rte_mbuf* m = received(test::udp6_frame(spec6(172)), 14, 40);
    rte_pktmbuf_trim(m, 10);
    set_udp6_payload_len(m, 162);
    const bytes f = test::from_mbuf(m);
    rte_pktmbuf_free(m);
    EXPECT_EQ(f[14 + 4] << 8 | f[14 + 5], 170);
    EXPECT_EQ(f[14 + 40 + 4] << 8 | f[14 + 40 + 5], 170);
}

TEST(rewrite6, no_headroom_leaves_the_packet_alone) {
    const bytes f = test::udp_frame(spec4(172));
    rte_mbuf* m = received(f, 14, 20);
    // Move the frame to the start of the buffer: 4 bytes of headroom, 20 needed.
    auto* buf = static_cast<uint8_t*>(m->buf_addr);
    std::memmove(buf + 4, rte_pktmbuf_mtod(m, uint8_t*), f.size());
    m->data_off = 4;
    EXPECT_FALSE(rewrite_udp6(m, to_v6(relay_b, peer_b, 40000, 5000)));
    EXPECT_EQ(test::from_mbuf(m), f);
    rte_pktmbuf_free(m);
}

}  // namespace
}  // namespace rtprelay::dp
