// Stage 4 (dataplane/route.h) on flows with an IPv6 side, as route_test.cc does for IPv4:
// no EAL, frames built byte by byte (test_packets6.h) in plain-memory mbufs, classified by
// the real classify(). What is checked: an IPv6 source is the latched or SDP endpoint only
// when its whole address is (never by its 32-bit fold alone), the destination's address
// comes from the other leg's stream_addr6 or the SDP, and the next hop is the on-link peer or
// the IPv6 gateway; bridged flows mix the two families.

#include <gtest/gtest.h>

#include <array>
#include <cstring>
#include <memory>
#include <utility>
#include <vector>

#include "dataplane/classify.h"
#include "dataplane/local_addresses.h"
#include "dataplane/rewrite.h"
#include "dataplane/route.h"
#include "tests/dataplane/test_packets6.h"

namespace rtprelay::dp {
namespace {

using test::addr6;
using test::bytes;
using test::ip4;
using test::ip6;

// Next hops the test knows; records what the stage asked for.
struct hops6 {
    std::vector<const neighbour*> known;
    mutable std::vector<std::pair<uint16_t, uint32_t>> requested;
    mutable std::vector<std::pair<uint16_t, addr6>> requested6;

    const neighbour* lookup(uint16_t port_id, uint32_t addr) const {
        for (const neighbour* n : known) {
            if (!n->v6 && n->port_id == port_id && n->addr == addr) {
                return n;
            }
        }
        return nullptr;
    }
    void request(uint16_t port_id, uint32_t addr) const { requested.emplace_back(port_id, addr); }
    const neighbour* lookup6(uint16_t port_id, const uint8_t* addr) const {
        for (const neighbour* n : known) {
            if (n->v6 && n->port_id == port_id && std::memcmp(n->addr6, addr, 16) == 0) {
                return n;
            }
        }
        return nullptr;
    }
    void request6(uint16_t port_id, const uint8_t* addr) const {
        addr6 a;
        std::memcpy(a.data(), addr, 16);
        requested6.emplace_back(port_id, a);
    }
};

constexpr uint16_t in_port = 0;
constexpr uint16_t out_port = 1;
constexpr uint16_t relay_port = 30000;
constexpr uint64_t tsc_hz = 1'000'000'000;

uint64_t ep6(const addr6& a, uint16_t port) { return pack_endpoint6(a.data(), rte_cpu_to_be_16(port)); }
uint64_t ep4(uint32_t a, uint16_t port) { return pack_endpoint(a, rte_cpu_to_be_16(port)); }

// An address other than `a` with the same fold (the XOR of its four 32-bit words): two
// words changed by the same mask.
addr6 same_fold(const addr6& a) {
    addr6 b = a;
    b[4] ^= 0x5a;
    b[8] ^= 0x5a;
    return b;
}

void make_v6_neighbour(neighbour& n, const addr6& a, uint16_t port, uint8_t mac_last) {
    n.v6 = true;
    std::memcpy(n.addr6, a.data(), 16);
    n.port_id = port;
    n.mac.store(pack_mac(test::mac(mac_last)) | neighbour_valid);
}

// v6 <-> v6: packets arrive on our 2001:2:1::1 (port 0) and leave from 2001:2:2::1 (port 1).
class route6_test : public ::testing::Test {
 protected:
    void SetUp() override {
        local_address la{0, in_port, 0};
        la.v6 = true;
        std::memcpy(la.addr6, local_a_.data(), 16);
        ASSERT_TRUE(locals_.add(la));
        ASSERT_TRUE(locals_.add(ip4(198, 18, 1, 1), in_port, 0));
        auto v6 = std::make_unique<flow_entry_v6>();
        v6->in6 = true;
        v6->out6 = true;
        v6->self6 = &self6_;
        v6->sibling6 = &sibling6_;
        std::memcpy(v6->expected_src, peer_a_.data(), 16);
        std::memcpy(v6->sdp_dest, peer_b_.data(), 16);
        std::memcpy(v6->out_src_addr, local_b_.data(), 16);
        std::memcpy(v6->gateway, gateway_.data(), 16);
        v6->has_gateway = true;
        v6->onlink_prefix = 64;
        e_.v6 = std::move(v6);
        e_.self = &self_;
        e_.sibling = &sibling_;
        e_.sdp_next_hop = &peer_b_hop_;
        e_.sdp_dest = ep6(peer_b_, 6000);
        e_.expected_src = ep6(peer_a_, 4000);
        e_.out_src_port = rte_cpu_to_be_16(40000);
        e_.out_port_id = out_port;
        e_.in_port_id = in_port;
        e_.flags = flow_learn;
        e_.forward = forward_on;
        make_v6_neighbour(peer_b_hop_, peer_b_, out_port, 0x42);
        make_v6_neighbour(gateway_hop_, gateway_, out_port, 0x43);
        hops_.known = {&peer_b_hop_, &gateway_hop_};
    }

    // An RTP packet from src (sequence number seq, SSRC 0x80808080).
    std::unique_ptr<test::plain_mbuf> packet(const addr6& src, uint16_t src_port, uint16_t seq = 0x8080) {
        test::frame_spec6 s;
        s.src_ip = src;
        s.dst_ip = local_a_;
        s.src_port = src_port;
        s.dst_port = relay_port;
        s.payload = rtp_;
        s.payload[2] = static_cast<uint8_t>(seq >> 8);
        s.payload[3] = static_cast<uint8_t>(seq);
        auto m = std::make_unique<test::plain_mbuf>(test::udp6_frame(s), in_port);
        flow_key key;
        EXPECT_EQ(classify(m->get(), locals_, &key).cls, packet_class::udp);
        EXPECT_EQ(key.v6_slot, 1);
        return m;
    }

    drop_reason run(rte_mbuf* m, route* r) {
        return route_packet(e_, m, kind_on_flow(m, e_), make_latch_clock(now_, tsc_hz), hops_, r);
    }

    const addr6 local_a_ = ip6("2001:2:1::1");
    const addr6 local_b_ = ip6("2001:2:2::1");
    const addr6 peer_a_ = ip6("2001:2:1::10");
    const addr6 peer_b_ = ip6("2001:2:2::30");
    const addr6 gateway_ = ip6("2001:2:2::fe");
    const bytes rtp_ = bytes(172, 0x80);
    local_addresses locals_;
    neighbour peer_b_hop_;
    neighbour gateway_hop_;
    stream_state self_;
    stream_state sibling_;
    stream_addr6 self6_;
    stream_addr6 sibling6_;
    flow_entry e_;
    hops6 hops_;
    const uint64_t now_ = 5 * tsc_hz;
};

TEST_F(route6_test, packet_from_the_sdp_address_goes_to_the_other_legs_sdp_address) {
    auto m = packet(peer_a_, 4000);
    route r{};
    ASSERT_EQ(run(m->get(), &r), drop_reason::count);
    EXPECT_EQ(r.src, ep6(peer_a_, 4000)) << "the SDP's endpoint: its own word, no stranger mark";
    EXPECT_TRUE(r.latch);
    EXPECT_EQ(r.dest, ep6(peer_b_, 6000));
    EXPECT_EQ(std::memcmp(r.dest6, peer_b_.data(), 16), 0);
    EXPECT_EQ(r.mac, pack_mac(test::mac(0x42)) | neighbour_valid);
    EXPECT_EQ(r.received_frame, 14 + 40 + 8 + rtp_.size());
    EXPECT_EQ(r.received_len, rtp_.size());
    EXPECT_TRUE(hops_.requested6.empty()) << "the SDP next hop needs no lookup";
}

TEST_F(route6_test, a_source_with_the_sdp_addresss_fold_is_still_a_stranger) {
    const addr6 twin = same_fold(peer_a_);
    ASSERT_EQ(ep6(twin, 4000), ep6(peer_a_, 4000)) << "the test needs a colliding fold";
    // Latched to the SDP peer, outside any learning window: a stranger is dropped.
    self6_.store(peer_a_.data(), rte_cpu_to_be_16(4000));
    self_.latched.store(ep6(peer_a_, 4000));
    auto m = packet(twin, 4000);
    route r{};
    EXPECT_EQ(run(m->get(), &r), drop_reason::unlatched_source);
    e_.flags |= flow_strict_source;
    EXPECT_EQ(run(m->get(), &r), drop_reason::strict_source);
    // The real peer passes as the latched one.
    auto ok = packet(peer_a_, 4000);
    ASSERT_EQ(run(ok->get(), &r), drop_reason::count);
    EXPECT_FALSE(r.latch) << "already latched";
}

TEST_F(route6_test, a_source_with_the_latched_addresss_fold_is_a_stranger_that_may_latch_in_a_window) {
    const addr6 nat = ip6("2001:2:1::77");
    self6_.store(nat.data(), rte_cpu_to_be_16(5555));
    self_.latched.store(ep6(nat, 5555));
    const addr6 twin = same_fold(nat);
    route r{};
    EXPECT_EQ(run(packet(twin, 5555, 1)->get(), &r), drop_reason::unlatched_source);
    // Inside a learning window, the latched source silent: a stranger like any other, which
    // latches after probation (latch.h), its word marked so that it never passes for the
    // latched one.
    e_.learn_from_tsc = now_ - 10;
    e_.learn_until_tsc = now_ + tsc_hz;
    self_.heard_tsc = now_ - 2 * tsc_hz;
    for (uint16_t seq = 1; seq < probation_packets; ++seq) {
        EXPECT_EQ(run(packet(twin, 5555, seq)->get(), &r), drop_reason::latch_probation) << seq;
    }
    ASSERT_EQ(run(packet(twin, 5555, probation_packets)->get(), &r), drop_reason::count);
    EXPECT_TRUE(r.latch);
    EXPECT_NE(r.src, r.latched) << "a different endpoint, though its word without the mark is the same";
    EXPECT_EQ(r.src & ~endpoint_stranger, ep6(nat, 5555));
}

// An RTCP port latches a stranger only from the address its RTP port latched (latch.h), which
// the policy compares by the words' address bits: for IPv6 a fold, which an attacker can
// match with an address of their own. v6_source makes the fold differ unless the whole
// address is the RTP port's.
TEST_F(route6_test, an_rtcp_port_latches_only_the_rtp_ports_whole_address) {
    const addr6 nat = ip6("2001:2:1::77");
    stream_state rtp_state;
    stream_addr6 rtp6;
    rtp6.store(nat.data(), rte_cpu_to_be_16(5554));
    rtp_state.latched.store(ep6(nat, 5554));
    auto v6 = std::make_unique<flow_entry_v6>(*e_.v6);
    v6->rtp_of_leg6 = &rtp6;
    e_.v6 = std::move(v6);
    e_.rtp_of_leg = &rtp_state;
    e_.kind = flow_kind::rtcp;
    e_.learn_from_tsc = now_ - 10;
    e_.learn_until_tsc = now_ + tsc_hz;
    route r{};
    const addr6 twin = same_fold(nat);
    EXPECT_EQ(run(packet(twin, 5555)->get(), &r), drop_reason::unlatched_source) << "the fold alone";
    EXPECT_EQ(run(packet(ip6("2001:2:1::78"), 5555)->get(), &r), drop_reason::unlatched_source);
    ASSERT_EQ(run(packet(nat, 5555)->get(), &r), drop_reason::count) << "the RTP port's address, another port";
    EXPECT_TRUE(r.latch);
    EXPECT_EQ(r.src & ~endpoint_stranger, ep6(nat, 5555));
}

TEST_F(route6_test, destination_is_the_other_legs_latched_address) {
    const addr6 nat = ip6("2001:2:2::77");
    neighbour nat_hop;
    make_v6_neighbour(nat_hop, nat, out_port, 0x77);
    hops_.known.push_back(&nat_hop);
    sibling6_.store(nat.data(), rte_cpu_to_be_16(9000));
    sibling_.latched.store(ep6(nat, 9000));
    auto m = packet(peer_a_, 4000);
    route r{};
    ASSERT_EQ(run(m->get(), &r), drop_reason::count);
    EXPECT_EQ(r.dest, ep6(nat, 9000));
    EXPECT_EQ(std::memcmp(r.dest6, nat.data(), 16), 0);
    EXPECT_EQ(r.mac, pack_mac(test::mac(0x77)) | neighbour_valid);
    // Off the /64: through the IPv6 gateway.
    const addr6 far = ip6("2001:2:99::5");
    sibling6_.store(far.data(), rte_cpu_to_be_16(9000));
    sibling_.latched.store(ep6(far, 9000));
    ASSERT_EQ(run(m->get(), &r), drop_reason::count);
    EXPECT_EQ(std::memcmp(r.dest6, far.data(), 16), 0);
    EXPECT_EQ(r.mac, pack_mac(test::mac(0x43)) | neighbour_valid);
    // Unknown on-link next hop: asked for, dropped.
    const addr6 unknown = ip6("2001:2:2::88");
    sibling6_.store(unknown.data(), rte_cpu_to_be_16(9000));
    sibling_.latched.store(ep6(unknown, 9000));
    EXPECT_EQ(run(m->get(), &r), drop_reason::no_neighbour);
    ASSERT_EQ(hops_.requested6.size(), 1u);
    EXPECT_EQ(hops_.requested6[0], std::make_pair(out_port, unknown));
    EXPECT_TRUE(hops_.requested.empty());
}

TEST_F(route6_test, a_latch_the_owner_keeps_writing_falls_back_to_the_sdp_address) {
    sibling_.latched.store(ep6(ip6("2001:2:2::77"), 9000));
    sibling6_.seq.store(1);  // odd: the owner is in the middle of a write, for every try
    auto m = packet(peer_a_, 4000);
    route r{};
    ASSERT_EQ(run(m->get(), &r), drop_reason::count);
    EXPECT_EQ(r.dest, ep6(peer_b_, 6000));
    EXPECT_EQ(std::memcmp(r.dest6, peer_b_.data(), 16), 0);
}

TEST_F(route6_test, without_a_gateway_every_peer_is_on_link) {
    auto v6 = std::make_unique<flow_entry_v6>(*e_.v6);
    v6->has_gateway = false;
    e_.v6 = std::move(v6);
    const addr6 far = ip6("2001:2:99::5");
    sibling6_.store(far.data(), rte_cpu_to_be_16(9000));
    sibling_.latched.store(ep6(far, 9000));
    auto m = packet(peer_a_, 4000);
    route r{};
    EXPECT_EQ(run(m->get(), &r), drop_reason::no_neighbour);
    ASSERT_EQ(hops_.requested6.size(), 1u);
    EXPECT_EQ(hops_.requested6[0].second, far);
}

// Bridged: an IPv4 packet on a flow whose other leg is IPv6.
TEST_F(route6_test, ipv4_in_ipv6_out) {
    auto v6 = std::make_unique<flow_entry_v6>(*e_.v6);
    v6->in6 = false;
    v6->self6 = nullptr;
    e_.v6 = std::move(v6);
    e_.expected_src = ep4(ip4(198, 18, 1, 10), 4000);
    test::frame_spec s;
    s.src_ip = ip4(198, 18, 1, 10);
    s.dst_ip = ip4(198, 18, 1, 1);
    s.src_port = 4000;
    s.dst_port = relay_port;
    s.payload = rtp_;
    test::plain_mbuf m(test::udp_frame(s), in_port);
    flow_key key;
    ASSERT_EQ(classify(m.get(), locals_, &key).cls, packet_class::udp);
    route r{};
    ASSERT_EQ(run(m.get(), &r), drop_reason::count);
    EXPECT_EQ(r.src, ep4(ip4(198, 18, 1, 10), 4000));
    EXPECT_TRUE(r.latch);
    EXPECT_EQ(r.dest, ep6(peer_b_, 6000));
    EXPECT_EQ(std::memcmp(r.dest6, peer_b_.data(), 16), 0);
    EXPECT_EQ(r.received_frame, 14 + 20 + 8 + rtp_.size());
}

// Bridged the other way: an IPv6 packet whose destination is IPv4.
TEST_F(route6_test, ipv6_in_ipv4_out) {
    auto v6 = std::make_unique<flow_entry_v6>(*e_.v6);
    v6->out6 = false;
    v6->sibling6 = nullptr;
    e_.v6 = std::move(v6);
    neighbour peer4;
    peer4.addr = ip4(198, 18, 2, 30);
    peer4.port_id = out_port;
    peer4.mac.store(pack_mac(test::mac(0x44)) | neighbour_valid);
    e_.sdp_next_hop = &peer4;
    e_.sdp_dest = ep4(peer4.addr, 6000);
    e_.out_src_addr = ip4(198, 18, 2, 1);
    auto m = packet(peer_a_, 4000);
    route r{};
    ASSERT_EQ(run(m->get(), &r), drop_reason::count);
    EXPECT_EQ(r.src, ep6(peer_a_, 4000));
    EXPECT_EQ(r.dest, ep4(peer4.addr, 6000));
    EXPECT_EQ(r.mac, pack_mac(test::mac(0x44)) | neighbour_valid);
}

}  // namespace
}  // namespace rtprelay::dp
