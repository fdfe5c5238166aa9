#include "dataplane/rewrite.h"

#include <gtest/gtest.h>

#include <rte_byteorder.h>
#include <rte_ip.h>
#include <rte_mbuf.h>

#include <cstring>
#include <random>

#include "dataplane/checksum.h"
#include "dataplane/flow_entry.h"
#include "tests/dataplane/test_packets.h"

namespace rtprelay::dp {
namespace {

using test::bytes;
using test::frame_spec;
using test::ip4;

// 0x0000 and 0xffff are the two one's-complement zeros; anything else has one spelling.
bool same_checksum(uint16_t a, uint16_t b) { return a == b || (a == 0 && b == 0xffff) || (a == 0xffff && b == 0); }

rewrite_target target(uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport, uint16_t vlan) {
    return rewrite_target{
        src, rte_cpu_to_be_16(sport), dst, rte_cpu_to_be_16(dport), vlan, test::mac(0xaa), test::mac(0xbb)};
}

// The mbuf for `f`, with the header lengths classify() would have set.
rte_mbuf* received(const bytes& f, const frame_spec& s) {
    rte_mbuf* m = test::to_mbuf(f, 0);
    if (m != nullptr) {
        m->l2_len = test::l2_len(s);
        m->l3_len = 20 + 4u * s.ip_options;
    }
    return m;
}

// Rewrites `f` and returns what would go on the wire.
bytes rewritten(const bytes& f, const frame_spec& s, const rewrite_target& t) {
    rte_mbuf* m = received(f, s);
    if (m == nullptr) {
        return {};
    }
    EXPECT_TRUE(rewrite_udp(m, t));
    EXPECT_EQ(m->l2_len, t.vlan != 0 ? 18 : 14);
    EXPECT_EQ(rte_pktmbuf_pkt_len(m), rte_pktmbuf_data_len(m));
    bytes out = test::from_mbuf(m);
    rte_pktmbuf_free(m);
    return out;
}

frame_spec basic_spec() {
    frame_spec s;
    s.src_ip = ip4(198, 18, 1, 10);
    s.dst_ip = ip4(198, 18, 1, 1);
    s.src_port = 4000;
    s.dst_port = 30000;
    s.payload = bytes(160, 0x5a);
    return s;
}

TEST(rewrite, random_packets_have_valid_checksums_and_intact_payload) {
    std::mt19937 rng(20240611);
    auto r8 = [&] { return static_cast<uint8_t>(rng()); };
    auto r16 = [&] { return static_cast<uint16_t>(rng()); };
    for (int i = 0; i < 3000; ++i) {
        SCOPED_TRACE("iteration " + std::to_string(i));
        frame_spec s;
        s.src_ip = rng();
        s.dst_ip = rng();
        s.src_port = r16();
        s.dst_port = r16();
        s.ttl = r8();
        s.ip_id = r16();
        s.vlan = (rng() % 3 == 0) ? static_cast<uint16_t>(1 + rng() % 4094) : 0;
        s.ip_options = (rng() % 8 == 0) ? static_cast<uint8_t>(1 + rng() % 3) : 0;
        s.udp_checksum = rng() % 10 != 0;
        s.payload.resize(rng() % 1401);  // odd lengths included
        for (auto& b : s.payload) {
            b = r8();
        }
        const rewrite_target t =
            target(rng(), r16(), rng(), r16(), (rng() % 3 == 0) ? static_cast<uint16_t>(1 + rng() % 4094) : 0);
        const bytes in = test::udp_frame(s);
        const bytes out = rewritten(in, s, t);
        const auto v = test::parse_udp(out);
        ASSERT_TRUE(v.has_value());
        EXPECT_TRUE(v->ip_checksum_ok);
        EXPECT_TRUE(v->udp_checksum_ok);
        EXPECT_EQ(v->udp.dgram_cksum == 0, !s.udp_checksum);
        EXPECT_EQ(v->src_ip(), t.src_addr);
        EXPECT_EQ(v->dst_ip(), t.dst_addr);
        EXPECT_EQ(v->udp.src_port, t.src_port);
        EXPECT_EQ(v->udp.dst_port, t.dst_port);
        EXPECT_EQ(v->ip.time_to_live, 64);
        EXPECT_EQ(rte_be_to_cpu_16(v->ip.packet_id), s.ip_id);
        EXPECT_EQ(v->vlan, t.vlan);
        EXPECT_TRUE(rte_is_same_ether_addr(&v->src_mac, &t.src_mac));
        EXPECT_TRUE(rte_is_same_ether_addr(&v->dst_mac, &t.dst_mac));
        EXPECT_EQ(v->payload, s.payload);
        EXPECT_EQ(out.size(), in.size() - test::l2_len(s) + (t.vlan != 0 ? 18 : 14));
        if (HasFailure()) {
            break;
        }
    }
}

// What the worker does after SRTP: new payload bytes, a new length (tag added or removed,
// set_udp_payload_len), then rewrite_udp with payload_changed. Both checksums must come
// out exact: the IPv4 one is updated incrementally through the length and address changes,
// the UDP one summed afresh.
TEST(rewrite, changed_payload_and_length_give_valid_checksums) {
    std::mt19937 rng(20261122);
    auto r8 = [&] { return static_cast<uint8_t>(rng()); };
    auto r16 = [&] { return static_cast<uint16_t>(rng()); };
    for (int i = 0; i < 2000; ++i) {
        SCOPED_TRACE("iteration " + std::to_string(i));
        frame_spec s;
        s.src_ip = rng();
        s.dst_ip = rng();
        s.src_port = r16();
        s.dst_port = r16();
        s.ttl = r8();
        s.ip_options = (rng() % 8 == 0) ? static_cast<uint8_t>(1 + rng() % 3) : 0;
        s.payload.resize(20 + rng() % 1300);
        for (auto& b : s.payload) {
            b = r8();
        }
        rte_mbuf* m = received(test::udp_frame(s), s);
        ASSERT_NE(m, nullptr);
        const uint32_t l4 = m->l2_len + m->l3_len + 8;
        bytes payload(s.payload.size() - 14 + rng() % 29);  // up to 14 removed or added
        for (auto& b : payload) {
            b = r8();
        }
        if (payload.size() > s.payload.size()) {
            ASSERT_NE(rte_pktmbuf_append(m, static_cast<uint16_t>(payload.size() - s.payload.size())), nullptr);
        } else {
            rte_pktmbuf_trim(m, static_cast<uint16_t>(s.payload.size() - payload.size()));
        }
        std::memcpy(rte_pktmbuf_mtod_offset(m, uint8_t*, l4), payload.data(), payload.size());
        set_udp_payload_len(m, static_cast<uint32_t>(payload.size()));
        rewrite_target t = target(rng(), r16(), rng(), r16(), (rng() % 3 == 0) ? 7 : 0);
        t.payload_changed = true;
        ASSERT_TRUE(rewrite_udp(m, t));
        const bytes out = test::from_mbuf(m);
        rte_pktmbuf_free(m);
        const auto v = test::parse_udp(out);
        ASSERT_TRUE(v.has_value());
        EXPECT_TRUE(v->ip_checksum_ok);
        EXPECT_TRUE(v->udp_checksum_ok);
        EXPECT_NE(v->udp.dgram_cksum, 0);
        EXPECT_EQ(v->ip.time_to_live, 64);
        EXPECT_EQ(v->payload, payload);
        if (HasFailure()) {
            break;
        }
    }
}

TEST(rewrite, zero_udp_checksum_stays_zero) {
    frame_spec s = basic_spec();
    s.udp_checksum = false;
    const auto v = test::parse_udp(
        rewritten(test::udp_frame(s), s, target(ip4(198, 18, 2, 1), 40000, ip4(198, 18, 2, 20), 5000, 0)));
    ASSERT_TRUE(v.has_value());
    EXPECT_EQ(v->udp.dgram_cksum, 0);
    EXPECT_TRUE(v->ip_checksum_ok);
}

TEST(rewrite, checksum_summing_to_zero_is_sent_as_all_ones) {
    // Choose two payload bytes so that the rewritten datagram's checksum computes to 0,
    // which UDP must send as 0xffff (0 would mean "no checksum").
    frame_spec s = basic_spec();
    const rewrite_target t = target(ip4(198, 18, 2, 1), 40000, ip4(198, 18, 2, 20), 5000, 0);
    s.payload.assign(40, 0x33);
    s.payload[10] = 0;
    s.payload[11] = 0;
    bytes pseudo(12, 0);
    std::memcpy(&pseudo[0], &t.src_addr, 4);
    std::memcpy(&pseudo[4], &t.dst_addr, 4);
    pseudo[9] = 17;
    const uint16_t ulen = static_cast<uint16_t>(8 + s.payload.size());
    pseudo[10] = static_cast<uint8_t>(ulen >> 8);
    pseudo[11] = static_cast<uint8_t>(ulen);
    bytes udp(8, 0);
    std::memcpy(&udp[0], &t.src_port, 2);
    std::memcpy(&udp[2], &t.dst_port, 2);
    udp[4] = pseudo[10];
    udp[5] = pseudo[11];
    bytes all = pseudo;
    all.insert(all.end(), udp.begin(), udp.end());
    all.insert(all.end(), s.payload.begin(), s.payload.end());
    const uint16_t w = static_cast<uint16_t>(~test::ones_sum(all.data(), all.size()));
    s.payload[10] = static_cast<uint8_t>(w >> 8);
    s.payload[11] = static_cast<uint8_t>(w);

    const auto v = test::parse_udp(rewritten(test::udp_frame(s), s, t));
    ASSERT_TRUE(v.has_value());
    EXPECT_EQ(v->udp.dgram_cksum, 0xffff);
    EXPECT_TRUE(v->udp_checksum_ok);
}

TEST(rewrite, vlan_added) {
    const frame_spec s = basic_spec();
    const bytes in = test::udp_frame(s);
    const bytes out = rewritten(in, s, target(ip4(198, 18, 2, 1), 40000, ip4(198, 18, 2, 20), 5000, 100));
    ASSERT_EQ(out.size(), in.size() + 4);
    EXPECT_EQ(out[12], 0x81);
    EXPECT_EQ(out[13], 0x00);
    EXPECT_EQ(out[14], 0x00);  // PCP 0, DEI 0, VID 100
    EXPECT_EQ(out[15], 100);
    EXPECT_EQ(out[16], 0x08);
    EXPECT_EQ(out[17], 0x00);
    const auto v = test::parse_udp(out);
    ASSERT_TRUE(v.has_value());
    EXPECT_TRUE(v->ip_checksum_ok && v->udp_checksum_ok);
    EXPECT_EQ(v->payload, s.payload);
}

TEST(rewrite, vlan_removed) {
    frame_spec s = basic_spec();
    s.vlan = 7;
    const bytes in = test::udp_frame(s);
    const bytes out = rewritten(in, s, target(ip4(198, 18, 2, 1), 40000, ip4(198, 18, 2, 20), 5000, 0));
    ASSERT_EQ(out.size(), in.size() - 4);
    EXPECT_EQ(out[12], 0x08);
    EXPECT_EQ(out[13], 0x00);
    const auto v = test::parse_udp(out);
    ASSERT_TRUE(v.has_value());
    EXPECT_EQ(v->vlan, 0);
    EXPECT_TRUE(v->ip_checksum_ok && v->udp_checksum_ok);
    EXPECT_EQ(v->payload, s.payload);
}

TEST(rewrite, vlan_changed_keeps_length) {
    frame_spec s = basic_spec();
    s.vlan = 7;
    const bytes in = test::udp_frame(s);
    const bytes out = rewritten(in, s, target(ip4(198, 18, 2, 1), 40000, ip4(198, 18, 2, 20), 5000, 4094));
    ASSERT_EQ(out.size(), in.size());
    const auto v = test::parse_udp(out);
    ASSERT_TRUE(v.has_value());
    EXPECT_EQ(v->vlan, 4094);
}

TEST(rewrite, refuses_without_headroom_and_leaves_the_frame_alone) {
    const frame_spec s = basic_spec();
    const bytes in = test::udp_frame(s);
    rte_mbuf* m = rte_pktmbuf_alloc(test::packet_pool());
    ASSERT_NE(m, nullptr);
    m->data_off = 2;  // room for 2 bytes, a VLAN tag needs 4
    std::memcpy(rte_pktmbuf_append(m, static_cast<uint16_t>(in.size())), in.data(), in.size());
    m->l2_len = 14;
    m->l3_len = 20;
    EXPECT_FALSE(rewrite_udp(m, target(ip4(198, 18, 2, 1), 40000, ip4(198, 18, 2, 20), 5000, 100)));
    EXPECT_EQ(test::from_mbuf(m), in);
    // Untagged egress needs no headroom.
    EXPECT_TRUE(rewrite_udp(m, target(ip4(198, 18, 2, 1), 40000, ip4(198, 18, 2, 20), 5000, 0)));
    rte_pktmbuf_free(m);
}

TEST(checksum_update, rfc1624_example_gives_positive_zero) {
    // RFC 1624 section 4: eqn. 3 yields 0x0000 where eqn. 2 would give 0xffff.
    EXPECT_EQ(csum::update16(0xdd2f, 0x5555, 0x3285), 0x0000);
}

TEST(checksum_update, matches_full_recompute_of_ip_header) {
    std::mt19937 rng(7);
    for (int i = 0; i < 20000; ++i) {
        rte_ipv4_hdr h{};
        h.version_ihl = 0x45;
        h.total_length = static_cast<uint16_t>(rng());
        h.packet_id = static_cast<uint16_t>(rng());
        h.time_to_live = static_cast<uint8_t>(rng());
        h.next_proto_id = 17;
        h.src_addr = rng();
        h.dst_addr = rng();
        h.hdr_checksum = rte_ipv4_cksum(&h);

        const uint32_t new_src = (i % 100 == 0) ? 0xffffffffu : rng();
        const uint16_t new_id = (i % 100 == 1) ? 0 : static_cast<uint16_t>(rng());
        uint16_t c = csum::update32(h.hdr_checksum, h.src_addr, new_src);
        c = csum::update16(c, h.packet_id, new_id);
        h.src_addr = new_src;
        h.packet_id = new_id;
        h.hdr_checksum = 0;
        const uint16_t full = rte_ipv4_cksum(&h);
        ASSERT_TRUE(same_checksum(c, full))
            << "iteration " << i << ": incremental " << std::hex << c << " full " << full;
        // And the header verifies with the incrementally updated checksum in it.
        h.hdr_checksum = c;
        ASSERT_EQ(test::ones_sum(reinterpret_cast<const uint8_t*>(&h), sizeof h), 0xffff);
    }
}

TEST(mac_packing, round_trips_in_neighbour_layout) {
    const rte_ether_addr a{{0x02, 0x42, 0xac, 0x11, 0x00, 0x07}};
    const uint64_t v = pack_mac(a);
    EXPECT_EQ(v & 0xff, 0x02u);  // byte 0 in bits 0..7
    EXPECT_EQ((v >> 40) & 0xff, 0x07u);
    const rte_ether_addr b = unpack_mac(v | neighbour_valid);  // the valid bit is ignored
    EXPECT_TRUE(rte_is_same_ether_addr(&a, &b));
}

}  // namespace
}  // namespace rtprelay::dp
