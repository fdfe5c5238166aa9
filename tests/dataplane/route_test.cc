// Stage 4 of the packet path, route_packet (dataplane/route.h), on its own: no EAL, no ring
// ports, no worker. Frames are built byte by byte (test_packets.h), put in mbufs in plain
// memory, classified by the real classify(), and routed against flow entries, stream states
// and neighbours made by hand. The next hops come from a fixed list that records what the
// stage asked for.

#include "dataplane/route.h"

#include <gtest/gtest.h>

#include <array>
#include <cstring>
#include <memory>
#include <random>
#include <utility>
#include <vector>

#include "dataplane/classify.h"
#include "dataplane/local_addresses.h"
#include "dataplane/rewrite.h"
#include "tests/dataplane/srtp/test_util.h"
#include "tests/dataplane/test_packets.h"

namespace rtprelay::dp {
namespace {

using test::bytes;
using test::ip4;

uint64_t ep(uint32_t addr_be, uint16_t port) { return pack_endpoint(addr_be, rte_cpu_to_be_16(port)); }

// Next hops the test knows, by (DPDK port, address); records every request for an unknown one.
struct fixed_hops {
    std::vector<const neighbour*> known;
    mutable std::vector<std::pair<uint16_t, uint32_t>> requested;

    const neighbour* lookup(uint16_t port_id, uint32_t addr) const {
        for (const neighbour* n : known) {
            if (n->port_id == port_id && n->addr == addr) {
                return n;
            }
        }
        return nullptr;
    }
    void request(uint16_t port_id, uint32_t addr) const { requested.emplace_back(port_id, addr); }
    // IPv6 next hops: by address too (route6_test.cc); requests recorded apart.
    mutable std::vector<std::pair<uint16_t, std::array<uint8_t, 16>>> requested6;
    const neighbour* lookup6(uint16_t port_id, const uint8_t* addr) const {
        for (const neighbour* n : known) {
            if (n->v6 && n->port_id == port_id && std::memcmp(n->addr6, addr, 16) == 0) {
                return n;
            }
        }
        return nullptr;
    }
    void request6(uint16_t port_id, const uint8_t* addr) const {
        std::array<uint8_t, 16> a;
        std::memcpy(a.data(), addr, 16);
        requested6.emplace_back(port_id, a);
    }
};

constexpr uint16_t in_port = 0;
constexpr uint16_t out_port = 1;
constexpr uint16_t relay_port = 30000;
constexpr uint64_t tsc_hz = 1'000'000'000;  // the tests' clock: 1 cycle = 1 ns
constexpr uint64_t token_cycles = tsc_hz / auth_budget_rate;

class route_test : public ::testing::Test {
 protected:
    void SetUp() override {
        ASSERT_TRUE(locals_.add(local_a_, in_port, 0));
        resolved_.addr = peer_b_ip_;
        resolved_.port_id = out_port;
        resolved_.mac.store(pack_mac(test::mac(0x42)) | neighbour_valid);
        gateway_.addr = gateway_ip_;
        gateway_.port_id = out_port;
        gateway_.mac.store(pack_mac(test::mac(0x43)) | neighbour_valid);
        e_.self = &self_;
        e_.sibling = &sibling_;
        e_.sdp_next_hop = &resolved_;
        e_.sdp_dest = ep(peer_b_ip_, 6000);
        e_.expected_src = ep(peer_a_ip_, 4000);
        e_.out_src_addr = local_b_;
        e_.out_src_port = rte_cpu_to_be_16(40000);
        e_.out_port_id = out_port;
        e_.in_port_id = in_port;
        e_.gateway = gateway_ip_;
        e_.onlink_prefix = 24;
        e_.flags = flow_learn;
        e_.forward = forward_on;
        hops_.known = {&resolved_, &gateway_};
    }

    // A UDP frame from src_ip:src_port to the relay's RTP port, classified as the worker would.
    std::unique_ptr<test::plain_mbuf> packet(uint32_t src_ip, uint16_t src_port, const bytes& payload,
                                             size_t padding = 0) {
        test::frame_spec s;
        s.src_ip = src_ip;
        s.dst_ip = local_a_;
        s.src_port = src_port;
        s.dst_port = relay_port;
        s.payload = payload;
        bytes f = test::udp_frame(s);
        f.resize(f.size() + padding, 0xee);  // Ethernet padding after the IP datagram
        auto m = std::make_unique<test::plain_mbuf>(f, in_port);
        flow_key key;
        const classified c = classify(m->get(), locals_, &key);
        EXPECT_EQ(c.cls, packet_class::udp);
        EXPECT_EQ(key.local_port, rte_cpu_to_be_16(relay_port));
        return m;
    }

    drop_reason run(rte_mbuf* m, uint64_t now, route* r) {
        return route_packet(e_, m, kind_on_flow(m, e_), make_latch_clock(now, tsc_hz), hops_, r);
    }

    const uint32_t local_a_ = ip4(198, 18, 1, 1);
    const uint32_t local_b_ = ip4(198, 18, 2, 1);
    const uint32_t peer_a_ip_ = ip4(198, 18, 1, 10);
    const uint32_t peer_b_ip_ = ip4(198, 18, 2, 30);
    const uint32_t gateway_ip_ = ip4(198, 18, 2, 254);
    const uint32_t stranger_ip_ = ip4(198, 18, 1, 99);
    const bytes rtp_ = bytes(172, 0x80);
    local_addresses locals_;
    neighbour resolved_;
    neighbour gateway_;
    stream_state self_;
    stream_state sibling_;
    flow_entry e_;
    fixed_hops hops_;
    // A TSC a few seconds after boot, as a worker would see (the budget of a zeroed stream
    // state is full on first use because of it).
    const uint64_t now_ = 5 * tsc_hz;
};

TEST_F(route_test, plain_packet_from_the_peer_goes_to_the_other_legs_sdp_address) {
    auto m = packet(peer_a_ip_, 4000, rtp_);
    route r{};
    ASSERT_EQ(run(m->get(), now_, &r), drop_reason::count);
    EXPECT_EQ(r.src, ep(peer_a_ip_, 4000));
    EXPECT_EQ(r.dest, ep(peer_b_ip_, 6000));
    EXPECT_EQ(r.mac, pack_mac(test::mac(0x42)) | neighbour_valid);
    EXPECT_EQ(r.received_len, rtp_.size());
    EXPECT_EQ(r.received_frame, 14 + 20 + 8 + rtp_.size());
    EXPECT_EQ(r.kind, kind_rtp);
    EXPECT_FALSE(r.crypto);
    EXPECT_TRUE(r.latch) << "the SDP address latches a free leg";
    EXPECT_EQ(r.payload, rte_pktmbuf_mtod_offset(m->get(), uint8_t*, 14 + 20 + 8));
    EXPECT_TRUE(hops_.requested.empty()) << "the SDP next hop needs no lookup";
    EXPECT_EQ(self_.latched.load(), 0u) << "route_packet never latches";
}

TEST_F(route_test, destination_is_the_other_legs_latch_and_its_next_hop_is_looked_up) {
    self_.latched.store(ep(peer_a_ip_, 4000));
    // The other leg latched to an on-link address the table knows.
    neighbour nat;
    nat.addr = ip4(198, 18, 2, 77);
    nat.port_id = out_port;
    nat.mac.store(pack_mac(test::mac(0x77)) | neighbour_valid);
    hops_.known.push_back(&nat);
    sibling_.latched.store(ep(nat.addr, 9000));
    auto m = packet(peer_a_ip_, 4000, rtp_);
    route r{};
    ASSERT_EQ(run(m->get(), now_, &r), drop_reason::count);
    EXPECT_EQ(r.dest, ep(nat.addr, 9000));
    EXPECT_EQ(r.mac, pack_mac(test::mac(0x77)) | neighbour_valid);
    EXPECT_FALSE(r.latch) << "already latched to this source";
    // Off the prefix: the gateway.
    sibling_.latched.store(ep(ip4(203, 0, 113, 5), 9000));
    auto m2 = packet(peer_a_ip_, 4000, rtp_);
    ASSERT_EQ(run(m2->get(), now_, &r), drop_reason::count);
    EXPECT_EQ(r.dest, ep(ip4(203, 0, 113, 5), 9000));
    EXPECT_EQ(r.mac, pack_mac(test::mac(0x43)) | neighbour_valid);
    EXPECT_TRUE(hops_.requested.empty());
}

TEST_F(route_test, unknown_or_unresolved_next_hop_is_asked_for_and_dropped) {
    self_.latched.store(ep(peer_a_ip_, 4000));
    sibling_.latched.store(ep(ip4(198, 18, 2, 88), 9000));  // on-link, not in the table
    auto m = packet(peer_a_ip_, 4000, rtp_);
    route r{};
    EXPECT_EQ(run(m->get(), now_, &r), drop_reason::no_neighbour);
    ASSERT_EQ(hops_.requested.size(), 1u);
    EXPECT_EQ(hops_.requested[0], std::make_pair(out_port, ip4(198, 18, 2, 88)));
    // Known but not resolved yet (no valid MAC): flagged as wanted for the control plane.
    sibling_.latched.store(0);
    resolved_.mac.store(0);
    auto m2 = packet(peer_a_ip_, 4000, rtp_);
    EXPECT_EQ(run(m2->get(), now_, &r), drop_reason::no_neighbour);
    EXPECT_EQ(resolved_.wanted.load(), 1u);
    EXPECT_EQ(hops_.requested.size(), 1u);
}

TEST_F(route_test, no_destination_and_forwarding_modes) {
    e_.sdp_dest = 0;
    auto m = packet(peer_a_ip_, 4000, rtp_);
    route r{};
    EXPECT_EQ(run(m->get(), now_, &r), drop_reason::no_destination);
    e_.forward = forward_off;
    EXPECT_EQ(run(m->get(), now_, &r), drop_reason::stream_disabled);
    e_.forward = forward_no_key;
    EXPECT_EQ(run(m->get(), now_, &r), drop_reason::srtp_no_key);
}

TEST_F(route_test, source_policy_decides_before_anything_else) {
    self_.latched.store(ep(peer_a_ip_, 4000));
    // A stranger outside any learning window, toward a destination that is not resolved:
    // the source reason wins, and no next hop is asked for on its behalf.
    sibling_.latched.store(ep(ip4(198, 18, 2, 88), 9000));
    auto m = packet(stranger_ip_, 7000, rtp_);
    route r{};
    EXPECT_EQ(run(m->get(), now_, &r), drop_reason::unlatched_source);
    EXPECT_TRUE(hops_.requested.empty());
    e_.flags |= flow_strict_source;
    EXPECT_EQ(run(m->get(), now_, &r), drop_reason::strict_source);
}

TEST_F(route_test, rtcp_on_an_rtcp_mux_port) {
    e_.flags |= flow_rtcp_mux;
    bytes rtcp(28, 0);
    rtcp[0] = 0x80;
    rtcp[1] = 200;  // SR
    auto m = packet(peer_a_ip_, 4000, rtcp);
    EXPECT_EQ(kind_on_flow(m->get(), e_), kind_rtcp);
    auto m2 = packet(peer_a_ip_, 4000, rtp_);
    EXPECT_EQ(kind_on_flow(m2->get(), e_), kind_rtp);
    e_.flags &= static_cast<uint8_t>(~flow_rtcp_mux);
    EXPECT_EQ(kind_on_flow(m->get(), e_), kind_rtp) << "without rtcp-mux the flow's kind decides";
}

// SRTP in: the precheck and the authentication budget run here, before any HMAC.
class route_srtp_test : public route_test {
 protected:
    void SetUp() override {
        route_test::SetUp();
        key_ = srtp::test::random_key(rng_);
        sender_ = srtp::make_context(srtp::engine::native, srtp::suite::aes_cm_128_hmac_sha1_80, key_, false);
        receiver_ = srtp::make_context(srtp::engine::native, srtp::suite::aes_cm_128_hmac_sha1_80, key_, false);
        e_.srtp_in[kind_rtp] = receiver_.get();
    }
    bytes srtp_packet(uint16_t seq, uint32_t ssrc = 0x5eed0001) {
        srtp::test::rtp_spec spec;
        spec.seq = seq;
        spec.ssrc = ssrc;
        bytes p = srtp::test::make_rtp(spec, rng_);
        EXPECT_EQ(srtp::test::protect(*sender_, p), srtp::result::ok);
        return p;
    }

    std::mt19937_64 rng_{11};
    srtp::master_key key_{};
    std::unique_ptr<srtp::context> sender_, receiver_;
};

TEST_F(route_srtp_test, padding_is_cut_and_the_latched_peer_spends_no_token) {
    self_.latched.store(ep(peer_a_ip_, 4000));
    const bytes p = srtp_packet(1000);
    auto m = packet(peer_a_ip_, 4000, p, 20);
    route r{};
    ASSERT_EQ(run(m->get(), now_, &r), drop_reason::count);
    EXPECT_TRUE(r.crypto);
    EXPECT_FALSE(r.budgeted) << "the latched peer's plausible packet is trusted";
    EXPECT_FALSE(r.moving);
    EXPECT_EQ(rte_pktmbuf_pkt_len(m->get()), 14 + 20 + 8 + p.size()) << "Ethernet padding not cut";
    EXPECT_EQ(self_.auth_budget, 0u) << "no token taken (a zeroed budget is full on first use)";
}

TEST_F(route_srtp_test, strangers_spend_tokens_until_the_budget_is_gone) {
    self_.latched.store(ep(peer_a_ip_, 4000));
    const uint64_t now = now_;
    route r{};
    for (uint32_t i = 0; i < auth_budget_burst; ++i) {
        auto m = packet(stranger_ip_, 7000, srtp_packet(static_cast<uint16_t>(1000 + i)));
        ASSERT_EQ(run(m->get(), now, &r), drop_reason::count) << i;
        EXPECT_TRUE(r.budgeted);
        EXPECT_TRUE(r.latch) << "an SRTP leg may move once the packet authenticates";
        EXPECT_TRUE(r.moving) << "away from the latched peer";
        EXPECT_FALSE(r.top.has_value()) << "nothing known for its SSRC yet: an authentic one moves it";
    }
    auto m = packet(stranger_ip_, 7000, srtp_packet(2000));
    EXPECT_EQ(run(m->get(), now, &r), drop_reason::srtp_auth_capped);
    // A token a second later per auth_budget_rate.
    auto m2 = packet(stranger_ip_, 7000, srtp_packet(2001));
    EXPECT_EQ(run(m2->get(), now + token_cycles, &r), drop_reason::count);
}

TEST_F(route_srtp_test, a_move_records_the_ssrcs_highest_index_before_the_crypto) {
    // The receiver has seen index 1000 of the SSRC from the latched peer.
    self_.latched.store(ep(peer_a_ip_, 4000));
    const bytes first = srtp_packet(1000);
    bytes seen = first;
    ASSERT_EQ(srtp::test::unprotect(*receiver_, seen), srtp::result::ok);
    auto m = packet(ip4(198, 18, 1, 77), 9000, srtp_packet(1001));
    route r{};
    ASSERT_EQ(run(m->get(), now_, &r), drop_reason::count);
    EXPECT_TRUE(r.moving);
    EXPECT_EQ(r.ssrc, 0x5eed0001u);
    EXPECT_EQ(r.top, std::optional<uint64_t>(1000));
    EXPECT_EQ(r.latched, ep(peer_a_ip_, 4000));
    // A replay of what the receiver has seen is refused before the HMAC, but only by stage 5:
    // here it costs no token (free_drop needs no budget).
    auto m2 = packet(stranger_ip_, 7000, first);
    ASSERT_EQ(run(m2->get(), now_, &r), drop_reason::count);
    EXPECT_FALSE(r.budgeted);
}

}  // namespace
}  // namespace rtprelay::dp
