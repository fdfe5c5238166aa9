#include "dataplane/arp.h"

#include <gtest/gtest.h>
#include <netinet/in.h>

#include <rte_mbuf.h>

#include <cstring>
#include <random>

#include "tests/dataplane/test_packets.h"

namespace rtprelay::dp {
namespace {

using test::bytes;
using test::ip4;

const rte_ether_addr our_mac = test::mac(0x01);
const rte_ether_addr peer_mac = test::mac(0x99);
const uint32_t our_ip = ip4(198, 18, 1, 1);
const uint32_t peer_ip = ip4(198, 18, 1, 10);

bool same(const rte_ether_addr& a, const rte_ether_addr& b) { return rte_is_same_ether_addr(&a, &b); }

uint32_t be32_at(const bytes& f, size_t at) {
    uint32_t v = 0;
    std::memcpy(&v, &f[at], 4);
    return v;
}

TEST(arp, parse_request_from_peer) {
    rte_mbuf* m = test::to_mbuf(test::arp_request_frame(peer_mac, peer_ip, our_ip, 0), 0);
    ASSERT_NE(m, nullptr);
    arp_info a;
    ASSERT_TRUE(parse_arp(m, &a));
    EXPECT_EQ(a.op, 1);
    EXPECT_TRUE(same(a.sender_mac, peer_mac));
    EXPECT_EQ(a.sender_ip, peer_ip);
    EXPECT_EQ(a.target_ip, our_ip);
    EXPECT_EQ(a.vlan, 0);
    rte_pktmbuf_free(m);
}

TEST(arp, parse_rejects_malformed) {
    const bytes good = test::arp_request_frame(peer_mac, peer_ip, our_ip, 0);
    auto rejects = [](const bytes& f) {
        rte_mbuf* m = test::to_mbuf(f, 0);
        arp_info a;
        const bool ok = parse_arp(m, &a);
        rte_pktmbuf_free(m);
        return !ok;
    };
    EXPECT_FALSE(rejects(good));
    bytes f = good;
    f.resize(14 + 27);  // one byte short
    EXPECT_TRUE(rejects(f));
    f = good;
    f[15] = 6;  // hardware type 6 (IEEE 802)
    EXPECT_TRUE(rejects(f));
    f = good;
    f[18] = 8;  // hlen 8
    EXPECT_TRUE(rejects(f));
    f = good;
    f[19] = 16;  // plen 16 (IPv6)
    EXPECT_TRUE(rejects(f));
    f = good;
    f[21] = 3;  // RARP request
    EXPECT_TRUE(rejects(f));
    f = test::arp_request_frame(peer_mac, peer_ip, our_ip, 9);
    f.resize(16);  // VLAN tag cut short
    EXPECT_TRUE(rejects(f));
}

TEST(arp, reply_swaps_roles) {
    for (uint16_t vlan : {0, 42}) {
        SCOPED_TRACE("vlan " + std::to_string(vlan));
        const bytes req = test::arp_request_frame(peer_mac, peer_ip, our_ip, vlan);
        rte_mbuf* m = test::to_mbuf(req, 0);
        ASSERT_NE(m, nullptr);
        make_arp_reply(m, our_mac);
        const bytes f = test::from_mbuf(m);
        ASSERT_EQ(f.size(), req.size());
        const size_t a = vlan != 0 ? 18 : 14;
        rte_ether_addr eth_dst, eth_src, sha, tha;
        std::memcpy(eth_dst.addr_bytes, &f[0], 6);
        std::memcpy(eth_src.addr_bytes, &f[6], 6);
        std::memcpy(sha.addr_bytes, &f[a + 8], 6);
        std::memcpy(tha.addr_bytes, &f[a + 18], 6);
        EXPECT_TRUE(same(eth_dst, peer_mac));
        EXPECT_TRUE(same(eth_src, our_mac));
        EXPECT_EQ(f[a + 6], 0);
        EXPECT_EQ(f[a + 7], 2);  // reply
        EXPECT_TRUE(same(sha, our_mac));
        EXPECT_EQ(be32_at(f, a + 14), our_ip);
        EXPECT_TRUE(same(tha, peer_mac));
        EXPECT_EQ(be32_at(f, a + 24), peer_ip);
        if (vlan != 0) {
            EXPECT_EQ(f[15], vlan);  // the tag is kept
        }
        arp_info info;
        ASSERT_TRUE(parse_arp(m, &info));
        EXPECT_EQ(info.op, 2);
        EXPECT_TRUE(same(info.sender_mac, our_mac));
        EXPECT_EQ(info.sender_ip, our_ip);
        EXPECT_EQ(info.target_ip, peer_ip);
        EXPECT_EQ(info.vlan, vlan);
        rte_pktmbuf_free(m);
    }
}

TEST(arp, request_parses_back) {
    for (uint16_t vlan : {0, 300}) {
        SCOPED_TRACE("vlan " + std::to_string(vlan));
        rte_mbuf* m = make_arp_request(test::packet_pool(), 5, our_mac, our_ip, peer_ip, vlan);
        ASSERT_NE(m, nullptr);
        EXPECT_EQ(m->port, 5);
        EXPECT_EQ(rte_pktmbuf_pkt_len(m), (vlan != 0 ? 18u : 14u) + 28u);
        const bytes f = test::from_mbuf(m);
        for (int i = 0; i < 6; ++i) {
            EXPECT_EQ(f[static_cast<size_t>(i)], 0xff);  // broadcast
        }
        arp_info a;
        ASSERT_TRUE(parse_arp(m, &a));
        EXPECT_EQ(a.op, 1);
        EXPECT_TRUE(same(a.sender_mac, our_mac));
        EXPECT_EQ(a.sender_ip, our_ip);
        EXPECT_EQ(a.target_ip, peer_ip);
        EXPECT_EQ(a.vlan, vlan);
        rte_pktmbuf_free(m);
    }
}

TEST(arp, gratuitous_announces_our_address) {
    rte_mbuf* m = make_arp_request(test::packet_pool(), 0, our_mac, our_ip, our_ip, 0);
    ASSERT_NE(m, nullptr);
    arp_info a;
    ASSERT_TRUE(parse_arp(m, &a));
    EXPECT_EQ(a.sender_ip, our_ip);
    EXPECT_EQ(a.target_ip, our_ip);
    EXPECT_TRUE(same(a.sender_mac, our_mac));
    rte_pktmbuf_free(m);
}

TEST(icmp, echo_reply_is_valid_and_echoes_the_payload) {
    std::mt19937 rng(99);
    for (int i = 0; i < 500; ++i) {
        SCOPED_TRACE("iteration " + std::to_string(i));
        test::frame_spec s;
        s.src_mac = peer_mac;
        s.dst_mac = our_mac;
        s.src_ip = peer_ip;
        s.dst_ip = our_ip;
        s.vlan = i % 4 == 0 ? 12 : 0;
        s.ip_options = i % 5 == 0 ? 1 : 0;
        s.payload.resize(rng() % 1001);
        for (auto& b : s.payload) {
            b = static_cast<uint8_t>(rng());
        }
        const auto id = static_cast<uint16_t>(rng());
        const auto seq = static_cast<uint16_t>(rng());
        const bytes req = test::icmp_frame(s, 8, id, seq);
        rte_mbuf* m = test::to_mbuf(req, 0);
        ASSERT_NE(m, nullptr);
        m->l2_len = static_cast<uint16_t>(test::l2_len(s));
        m->l3_len = static_cast<uint16_t>(20 + 4 * s.ip_options);
        make_icmp_echo_reply(m, our_mac);
        const bytes f = test::from_mbuf(m);
        rte_pktmbuf_free(m);
        ASSERT_EQ(f.size(), req.size());

        const size_t l2 = test::l2_len(s);
        const size_t ihl = 20 + 4u * s.ip_options;
        rte_ether_addr eth_dst, eth_src;
        std::memcpy(eth_dst.addr_bytes, &f[0], 6);
        std::memcpy(eth_src.addr_bytes, &f[6], 6);
        EXPECT_TRUE(same(eth_dst, peer_mac));
        EXPECT_TRUE(same(eth_src, our_mac));
        EXPECT_EQ(be32_at(f, l2 + 12), our_ip);
        EXPECT_EQ(be32_at(f, l2 + 16), peer_ip);
        EXPECT_EQ(f[l2 + 8], 64);                        // TTL
        EXPECT_EQ(test::ones_sum(&f[l2], ihl), 0xffff);  // IP header checksum
        const size_t icmp = l2 + ihl;
        EXPECT_EQ(f[icmp], 0);  // echo reply
        EXPECT_EQ(f[icmp + 1], 0);
        EXPECT_EQ(test::ones_sum(&f[icmp], f.size() - icmp), 0xffff);  // ICMP checksum
        EXPECT_TRUE(std::equal(f.begin() + static_cast<ptrdiff_t>(icmp + 4), f.end(),
                               req.begin() + static_cast<ptrdiff_t>(icmp + 4)));  // id, seq, data
        if (HasFailure()) {
            break;
        }
    }
}

}  // namespace
}  // namespace rtprelay::dp
