// Endpoint learning and authentication-first, on the real worker (ring-backed ethdevs, as in
// worker_test.cc) with SRTP flows published by hand, and plain-RTP probation through the
// burst pipeline. The source policy of dataplane/latch.h on its own, with an injected clock,
// is in latch_policy_test.cc.

#include "dataplane/latch.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <rte_byteorder.h>
#include <rte_cycles.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring.h>

#include <memory>
#include <random>
#include <string>
#include <vector>

#include "dataplane/plane.h"
#include "dataplane/port_setup.h"
#include "dataplane/rewrite.h"
#include "dataplane/srtp/srtp.h"
#include "dataplane/worker.h"
#include "tests/dataplane/srtp/test_util.h"
#include "tests/dataplane/test_packets.h"

namespace rtprelay::dp {
namespace {

using test::bytes;
using test::free_all;
using test::ip4;
using test::ring_port;

uint64_t ep(uint32_t addr_be, uint16_t port) { return pack_endpoint(addr_be, rte_cpu_to_be_16(port)); }

// --- the worker with SRTP flows ---

constexpr uint16_t relay_port = 32000;
constexpr uint32_t ssrc = 0x5eed0001;

class latch_worker_test : public ::testing::Test {
 protected:
    static void SetUpTestSuite() {
        for (int s = 0; s < 2; ++s) {
            ring_port& p = ports_[s];
            ASSERT_TRUE(test::open_ring_port(std::string("lt_port") + static_cast<char>('a' + s), p))
                << "ring port " << s << ": rings or rte_eth_from_rings failed";
            ASSERT_LT(p.id, max_ports);
            p.mac = test::mac(static_cast<uint8_t>(0xb0 + s));
        }
    }

    static void TearDownTestSuite() {
        for (ring_port& p : ports_) {
            test::close_ring_port(p);
        }
    }

    void SetUp() override {
        ASSERT_NE(ports_[1].rx, nullptr);
        for (ring_port& p : ports_) {
            free_all(p.rx);
            free_all(p.tx);
        }
        plane_config c;
        c.name = "ut_latch";
        c.pool = test::packet_pool();
        for (const ring_port& p : ports_) {
            c.ports.push_back(plane_port{.id = p.id, .set_up = false, .mac = p.mac});
        }
        c.addresses = {{addr_a_, ports_[0].id, 0}, {addr_b_, ports_[1].id, 0}};
        c.max_flows = 64;
        c.max_neighbours = 16;
        plane_ = std::make_unique<plane>(c);
        plane_->register_readers();  // what worker::run() does before its loop
        worker_ = &plane_->worker_at(0);
        flows_ = &plane_->flows();
        neighbours_ = &plane_->neighbours();
        neighbours_->learn(ports_[1].id, dest_ip_, pack_mac(test::mac(0x31)), true, neighbour_table::clock::now());

        key_ = srtp::test::random_key(rng_);
        sender_ = srtp::make_context(srtp::engine::native, srtp::suite::aes_cm_128_hmac_sha1_80, key_, false);
        receiver_ = srtp::make_context(srtp::engine::native, srtp::suite::aes_cm_128_hmac_sha1_80, key_, false);
        auto e = std::make_unique<flow_entry>();
        e->self = &state_;
        e->sdp_dest = ep(dest_ip_, 6000);
        e->expected_src = ep(caller_ip_, 4000);
        e->out_src_addr = addr_b_;
        e->out_src_port = rte_cpu_to_be_16(41000);
        e->out_port_id = ports_[1].id;
        e->in_port_id = ports_[0].id;
        e->flags = flow_learn;
        e->forward = forward_on;
        e->srtp_in[kind_rtp] = receiver_.get();
        entry_ = e.get();
        ASSERT_TRUE(flows_->publish(flow_key{addr_a_, rte_cpu_to_be_16(relay_port), 0}, std::move(e)));
    }

    void TearDown() override {
        plane_.reset();
        for (ring_port& p : ports_) {
            free_all(p.rx);
            free_all(p.tx);
        }
    }

    // An SRTP packet of the genuine sender with sequence number `seq`.
    bytes genuine(uint16_t seq) {
        srtp::test::rtp_spec spec;
        spec.seq = seq;
        spec.ts = seq * 160u;
        spec.ssrc = ssrc;
        bytes p = srtp::test::make_rtp(spec, rng_);
        EXPECT_EQ(srtp::test::protect(*sender_, p), srtp::result::ok);
        return p;
    }
    // The same with its tag flipped: what a forger without the key sends.
    bytes forged(uint16_t seq) {
        srtp::test::rtp_spec spec;
        spec.seq = seq;
        spec.ssrc = ssrc;
        bytes p = srtp::test::make_rtp(spec, rng_);
        p.resize(p.size() + 10);  // a made-up tag
        for (size_t i = p.size() - 10; i < p.size(); ++i) {
            p[i] = static_cast<uint8_t>(rng_());
        }
        return p;
    }
    // A plain RTP packet (160 bytes of payload): what probation reads is the SSRC and seq.
    static bytes plain_rtp(uint16_t seq, uint32_t s) {
        bytes p(172, 0);
        p[0] = 0x80;
        p[2] = static_cast<uint8_t>(seq >> 8);
        p[3] = static_cast<uint8_t>(seq);
        p[8] = static_cast<uint8_t>(s >> 24);
        p[9] = static_cast<uint8_t>(s >> 16);
        p[10] = static_cast<uint8_t>(s >> 8);
        p[11] = static_cast<uint8_t>(s);
        return p;
    }
    // From src_ip:src_port to the relay's address, port `dst_port` (the stream's by default).
    void inject(uint32_t src_ip, uint16_t src_port, const bytes& payload, uint16_t dst_port = relay_port) {
        test::frame_spec s;
        s.src_mac = test::mac(0x10);
        s.dst_mac = ports_[0].mac;
        s.src_ip = src_ip;
        s.dst_ip = addr_a_;
        s.src_port = src_port;
        s.dst_port = dst_port;
        s.payload = payload;
        rte_mbuf* m = test::to_mbuf(test::udp_frame(s), ports_[0].id);
        ASSERT_NE(m, nullptr);
        ASSERT_EQ(rte_ring_enqueue(ports_[0].rx, m), 0);
    }
    void run() {
        for (int turns = 0; worker_->poll_once(rte_rdtsc()) != 0; ++turns) {
            ASSERT_LT(turns, 1000);
        }
        worker_->flush_tx();
    }
    size_t take_sent() {
        size_t n = 0;
        void* obj = nullptr;
        while (rte_ring_dequeue(ports_[1].tx, &obj) == 0) {
            rte_pktmbuf_free(static_cast<rte_mbuf*>(obj));
            ++n;
        }
        return n;
    }
    uint64_t drops(drop_reason r) const { return worker_->counters.drops[static_cast<size_t>(r)]; }
    void expect_accounted() const {
        const worker_counters& c = worker_->counters;
        EXPECT_EQ(c.rx_packets,
                  c.relayed_rtp + c.relayed_rtcp + c.total_drops() + c.arp_to_control + c.icmp_echo_replies);
    }
    // The genuine sender's first packet: latches the caller's source.
    void establish() {
        inject(caller_ip_, 4000, genuine(1000));
        run();
        ASSERT_EQ(take_sent(), 1u);
        ASSERT_EQ(state_.latched.load(), ep(caller_ip_, 4000));
    }

    static inline ring_port ports_[2];
    const uint32_t addr_a_ = ip4(198, 18, 1, 1);
    const uint32_t addr_b_ = ip4(198, 18, 2, 1);
    const uint32_t caller_ip_ = ip4(198, 18, 1, 10);
    const uint32_t stranger_ip_ = ip4(198, 18, 1, 99);
    const uint32_t dest_ip_ = ip4(198, 18, 2, 30);
    std::mt19937_64 rng_{7};
    srtp::master_key key_{};
    std::unique_ptr<srtp::context> sender_, receiver_;
    stream_state state_;
    flow_entry* entry_ = nullptr;  // still writable: nothing polls concurrently
    std::unique_ptr<plane> plane_;
    // The plane's, for the tests' convenience.
    worker* worker_ = nullptr;
    flow_table* flows_ = nullptr;
    neighbour_table* neighbours_ = nullptr;
};

TEST_F(latch_worker_test, failed_authentication_changes_nothing) {
    establish();
    const uint64_t last_rx = state_.last_rx_tsc.load();
    const uint64_t heard_tsc = state_.heard_tsc;
    // Forged packets from a stranger and from the latched source itself, for the next indices.
    for (uint16_t seq = 1001; seq < 1011; ++seq) {
        inject(stranger_ip_, 7000, forged(seq));
        inject(caller_ip_, 4000, forged(seq));
    }
    run();
    EXPECT_EQ(take_sent(), 0u);
    EXPECT_EQ(drops(drop_reason::srtp_auth_failed), 20u);
    EXPECT_EQ(state_.latched.load(), ep(caller_ip_, 4000)) << "a forged packet moved the latch";
    EXPECT_EQ(state_.heard_tsc, heard_tsc);
    EXPECT_EQ(state_.last_rx_tsc.load(), last_rx) << "a forged packet moved the media timer";
    EXPECT_EQ(state_.packets.load(), 1u);
    EXPECT_EQ(receiver_->highest_index(ssrc), std::optional<uint64_t>(1000)) << "ROC/replay window moved";
    // The indices the forger used are still free for the genuine packets.
    for (uint16_t seq = 1001; seq < 1011; ++seq) {
        inject(caller_ip_, 4000, genuine(seq));
    }
    run();
    EXPECT_EQ(take_sent(), 10u);
    EXPECT_EQ(receiver_->highest_index(ssrc), std::optional<uint64_t>(1010));
    EXPECT_GT(state_.last_rx_tsc.load(), last_rx);
    expect_accounted();
}

TEST_F(latch_worker_test, forged_first_packet_learns_nothing) {
    inject(stranger_ip_, 7000, forged(1000));
    run();
    EXPECT_EQ(take_sent(), 0u);
    EXPECT_EQ(state_.latched.load(), 0u);
    EXPECT_EQ(state_.last_rx_tsc.load(), 0u);
    EXPECT_EQ(receiver_->ssrc_count(), 0u);
    establish();  // the genuine first packet still latches
    expect_accounted();
}

TEST_F(latch_worker_test, authenticated_stream_moving_address_relatches) {
    establish();
    const uint32_t new_ip = ip4(198, 18, 1, 77);
    inject(new_ip, 9000, genuine(1001));  // the phone changed networks
    run();
    EXPECT_EQ(take_sent(), 1u);
    EXPECT_EQ(state_.latched.load(), ep(new_ip, 9000));
    // A late, reordered packet from the old address is genuine: relayed, but it does not
    // pull the latch back (it is older than what the new address sent).
    const bytes late = genuine(1002);
    inject(new_ip, 9000, genuine(1003));
    inject(caller_ip_, 4000, late);
    run();
    EXPECT_EQ(take_sent(), 2u);
    EXPECT_EQ(state_.latched.load(), ep(new_ip, 9000));
    // Moving back for real (the newest packet comes from there) is followed.
    inject(caller_ip_, 4000, genuine(1004));
    run();
    EXPECT_EQ(take_sent(), 1u);
    EXPECT_EQ(state_.latched.load(), ep(caller_ip_, 4000));
    expect_accounted();
}

TEST_F(latch_worker_test, strict_source_drops_strangers_before_the_hmac) {
    entry_->flags |= flow_strict_source;
    establish();
    inject(stranger_ip_, 7000, genuine(1001));  // even an authentic one
    inject(stranger_ip_, 7000, forged(1002));
    run();
    EXPECT_EQ(take_sent(), 0u);
    EXPECT_EQ(drops(drop_reason::strict_source), 2u);
    EXPECT_EQ(drops(drop_reason::srtp_auth_failed), 0u);
    EXPECT_EQ(state_.latched.load(), ep(caller_ip_, 4000));
    expect_accounted();
}

TEST_F(latch_worker_test, replayed_and_too_old_packets_cost_no_hmac) {
    establish();
    bytes p1001 = genuine(1001);
    inject(caller_ip_, 4000, p1001);
    run();
    ASSERT_EQ(take_sent(), 1u);
    for (int i = 0; i < 5; ++i) {
        inject(caller_ip_, 4000, p1001);  // duplicates
    }
    for (uint16_t seq = 1002; seq < 1200; ++seq) {
        inject(caller_ip_, 4000, genuine(seq));
    }
    run();
    EXPECT_EQ(take_sent(), 198u);
    const bytes old = forged(1003);  // far below the window now: refused unread
    inject(stranger_ip_, 7000, old);
    run();
    EXPECT_EQ(drops(drop_reason::srtp_replay), 6u);
    EXPECT_EQ(drops(drop_reason::srtp_auth_failed), 0u);
    EXPECT_EQ(drops(drop_reason::srtp_auth_capped), 0u);
    expect_accounted();
}

TEST_F(latch_worker_test, reordered_packets_within_the_window_are_accepted_once) {
    establish();
    std::vector<bytes> pkts;
    for (uint16_t seq = 1001; seq <= 1010; ++seq) {
        pkts.push_back(genuine(seq));
    }
    for (int i : {1, 0, 3, 2, 5, 4, 9, 8, 7, 6, 3, 9}) {  // the last two: duplicates
        inject(caller_ip_, 4000, pkts[static_cast<size_t>(i)]);
    }
    run();
    EXPECT_EQ(take_sent(), 10u);
    EXPECT_EQ(drops(drop_reason::srtp_replay), 2u);
    expect_accounted();
}

TEST_F(latch_worker_test, forged_flood_from_strangers_is_capped_and_the_call_flows) {
    establish();
    const uint64_t t0 = rte_rdtsc();
    uint64_t genuine_sent = 0;
    uint64_t forged_sent = 0;
    uint16_t seq = 1001;
    uint16_t forged_seq = 1001;
    for (int round = 0; round < 8; ++round) {
        for (int i = 0; i < 500; ++i) {
            if (i % 10 == 0) {
                inject(caller_ip_, 4000, genuine(seq++));
                ++genuine_sent;
            } else {
                // Rotating source ports and plausible, fresh indices: the worst a blind
                // forger can do.
                inject(stranger_ip_, static_cast<uint16_t>(7000 + i), forged(forged_seq++));
                ++forged_sent;
            }
        }
        run();
    }
    const double seconds = static_cast<double>(rte_rdtsc() - t0) / static_cast<double>(rte_get_tsc_hz());
    EXPECT_EQ(take_sent(), genuine_sent) << "an authentic packet was dropped under the flood";
    EXPECT_EQ(state_.packets.load(), 1 + genuine_sent);
    const uint64_t hmacs = drops(drop_reason::srtp_auth_failed);
    const uint64_t capped = drops(drop_reason::srtp_auth_capped);
    // (A forged index the genuine stream already used is a free replay drop.)
    EXPECT_EQ(hmacs + capped + drops(drop_reason::srtp_replay), forged_sent);
    EXPECT_LE(static_cast<double>(hmacs), auth_budget_burst + auth_budget_rate * seconds + 1)
        << "HMACs spent on forged packets from strangers exceed the budget (" << seconds << " s)";
    EXPECT_GT(capped, forged_sent / 2);
    EXPECT_EQ(state_.latched.load(), ep(caller_ip_, 4000));
    expect_accounted();
}

TEST_F(latch_worker_test, forged_flood_from_the_latched_source_never_costs_a_genuine_packet) {
    establish();
    uint64_t genuine_sent = 0;
    uint16_t seq = 1001;
    for (int round = 0; round < 4; ++round) {
        for (int i = 0; i < 500; ++i) {
            if (i % 10 == 0) {
                inject(caller_ip_, 4000, genuine(seq++));
                ++genuine_sent;
            } else {
                // Spoofing the peer's address with the next indices: every one is checked
                // (it cannot be told from the genuine stream without its tag).
                inject(caller_ip_, 4000, forged(static_cast<uint16_t>(seq + i)));
            }
        }
        run();
    }
    EXPECT_EQ(take_sent(), genuine_sent);
    EXPECT_EQ(drops(drop_reason::srtp_auth_capped), 0u);
    EXPECT_EQ(drops(drop_reason::srtp_auth_failed) + drops(drop_reason::srtp_replay), 4u * 450u);
    expect_accounted();
}

TEST_F(latch_worker_test, authentic_doubtful_packets_give_their_token_back) {
    establish();
    // The peer alternates between two addresses (each packet re-latches, so each one is
    // doubtful): far more than the burst, all authentic, none capped.
    const uint32_t other_ip = ip4(198, 18, 1, 78);
    uint16_t seq = 1001;
    for (uint32_t i = 0; i < 4 * auth_budget_burst; ++i) {
        inject(i % 2 == 0 ? other_ip : caller_ip_, 4000, genuine(seq++));
    }
    run();
    EXPECT_EQ(take_sent(), 4 * auth_budget_burst);
    EXPECT_EQ(drops(drop_reason::srtp_auth_capped), 0u);
    expect_accounted();
}

// Plain RTP, two strangers inside the learning window, in one RX burst: the first one
// passes probation and latches on its 4th packet, and the second one is then dropped as it
// would be in a later burst, and the first one's next packet is relayed as the latched
// source's (the burst pipeline checks each packet against what the packets before it
// changed).
TEST_F(latch_worker_test, learning_window_in_one_burst_latches_one_stranger_after_probation) {
    entry_->srtp_in[kind_rtp] = nullptr;
    entry_->learn_from_tsc = rte_rdtsc();
    entry_->learn_until_tsc = entry_->learn_from_tsc + rte_get_tsc_hz() * 60;
    const uint32_t other_ip = ip4(198, 18, 1, 98);
    for (uint16_t seq = 1000; seq < 1004; ++seq) {
        inject(stranger_ip_, 7000, plain_rtp(seq, 0x5eed0002));
    }
    for (uint16_t seq = 2000; seq < 2004; ++seq) {
        inject(other_ip, 7002, plain_rtp(seq, 0x5eed0003));
    }
    inject(stranger_ip_, 7000, plain_rtp(1004, 0x5eed0002));
    run();
    EXPECT_EQ(take_sent(), 2u);
    EXPECT_EQ(drops(drop_reason::latch_probation), 3u);
    EXPECT_EQ(drops(drop_reason::unlatched_source), 4u);
    EXPECT_EQ(state_.latched.load(), ep(stranger_ip_, 7000));
    EXPECT_EQ(state_.packets.load(), 2u);
    EXPECT_EQ(worker_->counters.latch_changes[0][static_cast<size_t>(latch_kind::first)], 1u);
    expect_accounted();
}

// The same behind a packet of another stream, so that the strangers' packets could share a
// round with it (grouping by stream, worker.cc): the first stranger's latch must still be
// seen by the second stranger's check and by its own next packet.
TEST_F(latch_worker_test, learning_window_behind_another_stream_latches_one_stranger_after_probation) {
    entry_->srtp_in[kind_rtp] = nullptr;
    entry_->learn_from_tsc = rte_rdtsc();
    entry_->learn_until_tsc = entry_->learn_from_tsc + rte_get_tsc_hz() * 60;
    stream_state other_state;
    auto o = std::make_unique<flow_entry>(*entry_);
    o->self = &other_state;
    o->learn_from_tsc = 0;
    o->learn_until_tsc = 0;
    ASSERT_TRUE(flows_->publish(flow_key{addr_a_, rte_cpu_to_be_16(relay_port + 2), 0}, std::move(o)));
    other_state.latched.store(ep(caller_ip_, 4002));
    const uint32_t other_ip = ip4(198, 18, 1, 98);
    inject(caller_ip_, 4002, plain_rtp(1, 0x11), relay_port + 2);
    for (uint16_t seq = 1000; seq < 1004; ++seq) {
        inject(stranger_ip_, 7000, plain_rtp(seq, 0x5eed0002));
    }
    inject(other_ip, 7002, plain_rtp(2000, 0x5eed0003));
    inject(stranger_ip_, 7000, plain_rtp(1004, 0x5eed0002));
    inject(other_ip, 7002, plain_rtp(2001, 0x5eed0003));
    run();
    EXPECT_EQ(take_sent(), 3u);
    EXPECT_EQ(drops(drop_reason::latch_probation), 3u);
    EXPECT_EQ(drops(drop_reason::unlatched_source), 2u);
    EXPECT_EQ(state_.latched.load(), ep(stranger_ip_, 7000));
    EXPECT_EQ(state_.packets.load(), 2u);
    EXPECT_EQ(other_state.packets.load(), 1u);
    expect_accounted();
}

// A latch change reaches the control plane as an event on the ring, with the stream's local
// address and port, the old and the new source; a full ring drops the event, not the packet.
TEST_F(latch_worker_test, latch_changes_are_counted_and_passed_to_the_control_plane) {
    rte_ring* events = plane_->latch_events();
    ASSERT_NE(events, nullptr);
    ASSERT_EQ(plane_->shared().latch_events, events);
    entry_->iface = 3;
    establish();  // the first latch, on an SRTP leg
    const uint32_t new_ip = ip4(198, 18, 1, 77);
    inject(new_ip, 9000, genuine(1001));  // an authenticated move
    run();
    ASSERT_EQ(take_sent(), 1u);
    const auto& lc = worker_->counters.latch_changes[3];
    EXPECT_EQ(lc[static_cast<size_t>(latch_kind::first)], 1u);
    EXPECT_EQ(lc[static_cast<size_t>(latch_kind::srtp_relatch)], 1u);
    EXPECT_EQ(lc[static_cast<size_t>(latch_kind::plain_move)], 0u);
    latch_event ev[4];
    ASSERT_EQ(rte_ring_dequeue_burst_elem(events, ev, sizeof(latch_event), 4, nullptr), 2u);
    EXPECT_EQ(ev[0].kind, static_cast<uint8_t>(latch_kind::first));
    EXPECT_EQ(ev[0].old_src, 0u);
    EXPECT_EQ(ev[0].new_src, ep(caller_ip_, 4000));
    EXPECT_EQ(ev[1].kind, static_cast<uint8_t>(latch_kind::srtp_relatch));
    EXPECT_EQ(ev[1].old_src, ep(caller_ip_, 4000));
    EXPECT_EQ(ev[1].new_src, ep(new_ip, 9000));
    EXPECT_EQ(ev[1].local_addr, addr_a_);
    EXPECT_EQ(ev[1].local_port, rte_cpu_to_be_16(relay_port));
    EXPECT_EQ(ev[1].iface, 3u);
    // The ring full: moves are still made and counted, their events dropped.
    while (rte_ring_enqueue_elem(events, &ev[0], sizeof(latch_event)) == 0) {
    }
    inject(caller_ip_, 4000, genuine(1002));
    run();
    EXPECT_EQ(take_sent(), 1u);
    EXPECT_EQ(state_.latched.load(), ep(caller_ip_, 4000));
    EXPECT_EQ(worker_->counters.latch_events_dropped, 1u);
    EXPECT_EQ(lc[static_cast<size_t>(latch_kind::srtp_relatch)], 2u);
    expect_accounted();
}

// SRTP behind a packet of another stream: the latched caller's newer packet, then an older
// authentic one from a new address. One at a time the second is not its SSRC's newest and
// does not move the latch; it must not share a round with the first (whose index it would
// otherwise be compared against before it is recorded).
TEST_F(latch_worker_test, late_packet_from_a_new_address_behind_another_stream_does_not_relatch) {
    establish();
    stream_state other_state;
    auto o = std::make_unique<flow_entry>(*entry_);
    o->self = &other_state;
    o->srtp_in[kind_rtp] = nullptr;
    ASSERT_TRUE(flows_->publish(flow_key{addr_a_, rte_cpu_to_be_16(relay_port + 2), 0}, std::move(o)));
    other_state.latched.store(ep(caller_ip_, 4002));
    const bytes p1001 = genuine(1001);
    const bytes p1002 = genuine(1002);
    inject(caller_ip_, 4002, bytes(160, 0x11), relay_port + 2);
    inject(caller_ip_, 4000, p1002);
    inject(stranger_ip_, 7000, p1001);
    run();
    EXPECT_EQ(take_sent(), 3u);
    EXPECT_EQ(state_.latched.load(), ep(caller_ip_, 4000));
    EXPECT_EQ(receiver_->highest_index(ssrc), std::optional<uint64_t>(1002));
    expect_accounted();
}

TEST_F(latch_worker_test, far_jump_is_doubtful_but_authentic_ones_pass) {
    establish();
    // An index far ahead of the stream (a new sequence start) is checked within the budget.
    inject(caller_ip_, 4000, genuine(static_cast<uint16_t>(1000 + srtp::plausible_jump + 10)));
    run();
    EXPECT_EQ(take_sent(), 1u);
    EXPECT_EQ(drops(drop_reason::srtp_auth_capped), 0u);
    expect_accounted();
}

}  // namespace
}  // namespace rtprelay::dp
