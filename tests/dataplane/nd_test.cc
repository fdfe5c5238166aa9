// IPv6 neighbour discovery and ICMPv6 echo frames (dataplane/nd.h): what the relay sends is
// taken apart byte by byte and its ICMPv6 checksum recomputed by the tests' own code; what
// parse_nd accepts is every rule of RFC 4861 sections 7.1.1 and 7.1.2 it checks, one at a
// time.

#include "dataplane/nd.h"

#include <gtest/gtest.h>
#include <netinet/in.h>

#include <rte_mbuf.h>

#include <cstring>

#include "tests/dataplane/test_packets6.h"

namespace rtprelay::dp {
namespace {

using test::addr6;
using test::bytes;
using test::ip6;

const addr6 ours = ip6("2001:2:1::1");
const addr6 peer = ip6("2001:2:1::2");
const rte_ether_addr our_mac = test::mac(0x01);
const rte_ether_addr peer_mac = test::mac(0x02);

uint16_t get16(const bytes& f, size_t at) { return static_cast<uint16_t>(f[at] << 8 | f[at + 1]); }

// The ICMPv6 part of an untagged frame is right when its sum with the pseudo-header is 0xffff.
bool icmp6_checksum_ok(const bytes& f) {
    addr6 src;
    addr6 dst;
    std::memcpy(src.data(), &f[14 + 8], 16);
    std::memcpy(dst.data(), &f[14 + 24], 16);
    const uint32_t len = get16(f, 14 + 4);
    uint32_t sum = test::pseudo_sum6(src, dst, len, IPPROTO_ICMPV6) + test::ones_sum(&f[54], len);
    while (sum > 0xffff) {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    return sum == 0xffff;
}

bool parses(const bytes& f, nd_info* info = nullptr) {
    nd_info scratch;
    rte_mbuf* m = test::to_mbuf(f, 0);
    const bool ok = parse_nd(m, info != nullptr ? info : &scratch);
    rte_pktmbuf_free(m);
    return ok;
}

test::frame_spec6 from_peer(const addr6& dst) {
    test::frame_spec6 s;
    s.src_mac = peer_mac;
    s.src_ip = peer;
    s.dst_ip = dst;
    s.hop_limit = 255;
    return s;
}

TEST(nd, solicitation_for_a_next_hop) {
    rte_mbuf* m = make_neighbour_solicit(test::packet_pool(), 2, our_mac, ours.data(), peer.data(), 0);
    ASSERT_NE(m, nullptr);
    EXPECT_EQ(m->port, 2);
    const bytes f = test::from_mbuf(m);
    rte_pktmbuf_free(m);
    const addr6 group = test::solicited_node(peer);
    const rte_ether_addr group_mac = test::group_mac(group);
    ASSERT_EQ(f.size(), 14u + 40 + 32);
    EXPECT_EQ(std::memcmp(&f[0], group_mac.addr_bytes, 6), 0) << "to the solicited-node group's MAC";
    EXPECT_EQ(std::memcmp(&f[6], our_mac.addr_bytes, 6), 0);
    EXPECT_EQ(get16(f, 12), RTE_ETHER_TYPE_IPV6);
    EXPECT_EQ(f[14] >> 4, 6);
    EXPECT_EQ(get16(f, 14 + 4), 32);
    EXPECT_EQ(f[14 + 6], IPPROTO_ICMPV6);
    EXPECT_EQ(f[14 + 7], 255);
    EXPECT_EQ(std::memcmp(&f[14 + 8], ours.data(), 16), 0);
    EXPECT_EQ(std::memcmp(&f[14 + 24], group.data(), 16), 0);
    EXPECT_EQ(f[54], 135);
    EXPECT_EQ(f[55], 0);
    EXPECT_EQ(std::memcmp(&f[54 + 8], peer.data(), 16), 0);
    EXPECT_EQ(f[54 + 24], 1) << "source link-layer address option";
    EXPECT_EQ(f[54 + 25], 1);
    EXPECT_EQ(std::memcmp(&f[54 + 26], our_mac.addr_bytes, 6), 0);
    EXPECT_TRUE(icmp6_checksum_ok(f));
    nd_info info;
    ASSERT_TRUE(parses(f, &info));
    EXPECT_EQ(info.type, 135);
    EXPECT_TRUE(info.has_lladdr);
}

TEST(nd, advertisements_solicited_and_not) {
    rte_mbuf* m = make_neighbour_advert(test::packet_pool(), 0, our_mac, ours.data(), peer.data(), peer_mac, true, 0);
    ASSERT_NE(m, nullptr);
    bytes f = test::from_mbuf(m);
    rte_pktmbuf_free(m);
    EXPECT_EQ(std::memcmp(&f[0], peer_mac.addr_bytes, 6), 0);
    EXPECT_EQ(std::memcmp(&f[14 + 24], peer.data(), 16), 0);
    EXPECT_EQ(f[54], 136);
    EXPECT_EQ(f[54 + 4], 0x60) << "solicited and override";
    EXPECT_EQ(std::memcmp(&f[54 + 8], ours.data(), 16), 0) << "target: our address";
    EXPECT_EQ(f[54 + 24], 2) << "target link-layer address option";
    EXPECT_EQ(std::memcmp(&f[54 + 26], our_mac.addr_bytes, 6), 0);
    EXPECT_TRUE(icmp6_checksum_ok(f));

    // Unsolicited, as at start or when a link comes back: to all nodes.
    m = make_neighbour_advert(test::packet_pool(), 0, our_mac, ours.data(), nullptr, peer_mac, false, 12);
    ASSERT_NE(m, nullptr);
    f = test::from_mbuf(m);
    rte_pktmbuf_free(m);
    const rte_ether_addr all_nodes_mac{{0x33, 0x33, 0, 0, 0, 1}};
    EXPECT_EQ(std::memcmp(&f[0], all_nodes_mac.addr_bytes, 6), 0);
    EXPECT_EQ(get16(f, 12), RTE_ETHER_TYPE_VLAN);
    EXPECT_EQ(get16(f, 14) & 0xfff, 12);
    EXPECT_EQ(get16(f, 16), RTE_ETHER_TYPE_IPV6);
    const addr6 all_nodes = ip6("ff02::1");
    EXPECT_EQ(std::memcmp(&f[18 + 24], all_nodes.data(), 16), 0);
    EXPECT_EQ(f[58 + 4], 0x20) << "override only";
    nd_info info;
    ASSERT_TRUE(parses(f, &info));
    EXPECT_EQ(info.vlan, 12);
    EXPECT_FALSE(info.solicited);
    EXPECT_TRUE(info.override_flag);
}

TEST(nd, parse_takes_what_a_neighbour_sends) {
    nd_info info;
    ASSERT_TRUE(parses(test::ns_frame(from_peer(test::solicited_node(ours)), ours), &info));
    EXPECT_EQ(info.type, 135);
    EXPECT_EQ(std::memcmp(info.target, ours.data(), 16), 0);
    EXPECT_EQ(std::memcmp(info.src, peer.data(), 16), 0);
    EXPECT_TRUE(info.has_lladdr);
    EXPECT_TRUE(rte_is_same_ether_addr(&info.lladdr, &peer_mac));
    ASSERT_TRUE(parses(test::na_frame(from_peer(ours), peer, peer_mac, true), &info));
    EXPECT_EQ(info.type, 136);
    EXPECT_TRUE(info.solicited);
    EXPECT_EQ(std::memcmp(info.target, peer.data(), 16), 0);
    // A duplicate address probe: from ::, to the solicited-node group, no option.
    auto probe = from_peer(test::solicited_node(ours));
    probe.src_ip = addr6{};
    ASSERT_TRUE(parses(test::ns_frame(probe, ours, false), &info));
    EXPECT_FALSE(info.has_lladdr);
}

TEST(nd, parse_refuses_what_rfc_4861_refuses) {
    const auto to_group = from_peer(test::solicited_node(ours));
    bytes f = test::ns_frame(to_group, ours);
    ASSERT_TRUE(parses(f));
    auto hop = to_group;
    hop.hop_limit = 254;
    EXPECT_FALSE(parses(test::ns_frame(hop, ours))) << "hop limit below 255";
    bytes bad_sum = f;
    bad_sum[54 + 2] ^= 0x01;
    EXPECT_FALSE(parses(bad_sum)) << "ICMPv6 checksum";
    bytes code = f;
    code[55] = 1;
    test::fix_l4_checksum6(code, 14);
    EXPECT_FALSE(parses(code)) << "code 1";
    EXPECT_FALSE(parses(test::ns_frame(to_group, ip6("ff02::1")))) << "multicast target";
    bytes zero_opt = f;
    zero_opt[54 + 25] = 0;
    test::fix_l4_checksum6(zero_opt, 14);
    EXPECT_FALSE(parses(zero_opt)) << "option of length 0";
    bytes past = f;
    past[54 + 25] = 2;  // 16 bytes, 8 there
    test::fix_l4_checksum6(past, 14);
    EXPECT_FALSE(parses(past)) << "option past the end";
    auto probe = to_group;
    probe.src_ip = addr6{};
    EXPECT_FALSE(parses(test::ns_frame(probe, ours, true))) << "probe from :: with a source address option";
    probe.dst_ip = ours;
    EXPECT_FALSE(parses(test::ns_frame(probe, ours, false))) << "probe from :: not to the solicited-node group";
    EXPECT_FALSE(parses(test::na_frame(from_peer(ip6("ff02::1")), peer, peer_mac, true)))
        << "solicited advertisement to a multicast group";
    bytes cut = f;
    cut.resize(14 + 40 + 20);
    cut[14 + 5] = 20;
    EXPECT_FALSE(parses(cut)) << "shorter than an NS";
    EXPECT_FALSE(parses(test::icmp6_frame(to_group, 128, 0, bytes(20, 0)))) << "not ND";
}

TEST(nd, echo_reply_in_place) {
    test::frame_spec6 s = from_peer(ours);
    s.hop_limit = 60;
    const bytes body{0x12, 0x34, 0x00, 0x07, 'p', 'i', 'n', 'g'};
    rte_mbuf* m = test::to_mbuf(test::icmp6_frame(s, 128, 0, body), 0);
    m->l2_len = 14;
    m->l3_len = 40;
    make_icmp6_echo_reply(m, our_mac);
    const bytes f = test::from_mbuf(m);
    rte_pktmbuf_free(m);
    EXPECT_EQ(std::memcmp(&f[0], peer_mac.addr_bytes, 6), 0);
    EXPECT_EQ(std::memcmp(&f[6], our_mac.addr_bytes, 6), 0);
    EXPECT_EQ(std::memcmp(&f[14 + 8], ours.data(), 16), 0);
    EXPECT_EQ(std::memcmp(&f[14 + 24], peer.data(), 16), 0);
    EXPECT_EQ(f[14 + 7], 64);
    EXPECT_EQ(f[54], 129);
    EXPECT_EQ(f[55], 0);
    EXPECT_EQ(bytes(f.begin() + 58, f.end()), body);
    EXPECT_TRUE(icmp6_checksum_ok(f));
}

TEST(nd, solicited_node_group) {
    uint8_t g[16];
    solicited_node_group(ip6("2001:2:1::abcd:1234").data(), g);
    const addr6 want = ip6("ff02::1:ffcd:1234");
    EXPECT_EQ(std::memcmp(g, want.data(), 16), 0);
    const rte_ether_addr mac = multicast_mac(g);
    const rte_ether_addr want_mac{{0x33, 0x33, 0xff, 0xcd, 0x12, 0x34}};
    EXPECT_TRUE(rte_is_same_ether_addr(&mac, &want_mac));
}

}  // namespace
}  // namespace rtprelay::dp
