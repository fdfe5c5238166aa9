// Endpoint learning and authentication-first, on the real worker (ring-backed ethdevs, as in
// worker_test.cc) with SRTP flows published by hand, plus the plain-RTP source policy of
// dataplane/latch.h as a table of cases.

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

#include "dataplane/port_setup.h"
#include "dataplane/rewrite.h"
#include "dataplane/srtp/srtp.h"
#include "dataplane/plane.h"
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

// --- the plain RTP policy, case by case ---

struct policy_case {
    const char* what;
    uint8_t flags;
    uint64_t expected, latched, latched_tsc, src, now;
    drop_reason why;
    bool latch;
};

TEST(latch_policy, plain_rtp_cases) {
    const uint64_t sdp = ep(ip4(198, 18, 1, 10), 4000);
    const uint64_t nat = ep(ip4(203, 0, 113, 5), 61000);
    const uint64_t other = ep(ip4(198, 18, 1, 99), 7000);
    constexpr uint8_t learn = flow_learn;
    constexpr uint8_t strict = flow_learn | flow_strict_source;
    constexpr auto ok = drop_reason::count;
    // The window is [100, 200).
    const policy_case cases[] = {
        {"SDP address, nothing latched: accepted and latched", learn, sdp, 0, 0, sdp, 500, ok, true},
        {"stranger in the window, nothing latched: latched (NAT)", learn, sdp, 0, 0, nat, 150, ok, true},
        {"stranger after the window, nothing latched", learn, sdp, 0, 0, nat, 250, drop_reason::unlatched_source, false},
        {"second stranger in the same window: first one wins", learn, sdp, nat, 120, other, 150,
         drop_reason::unlatched_source, false},
        {"latched source after the window", learn, sdp, nat, 120, nat, 900, ok, false},
        {"SDP address while latched elsewhere: accepted, latch kept", learn, sdp, nat, 120, sdp, 900, ok, false},
        {"a new window re-opens the latch (re-INVITE)", learn, sdp, nat, 50, other, 150, ok, true},
        {"SDP address in a new window takes the latch", learn, sdp, nat, 50, sdp, 150, ok, true},
        {"strict: stranger in the window", strict, sdp, 0, 0, nat, 150, drop_reason::strict_source, false},
        {"strict: stranger after latching", strict, sdp, sdp, 120, other, 900, drop_reason::strict_source, false},
        {"strict: SDP address", strict, sdp, 0, 0, sdp, 900, ok, true},
        {"no SDP address, nothing latched: first source taken", learn, 0, 0, 0, nat, 900, ok, true},
        {"strict, no SDP address: first source taken", strict, 0, 0, 0, nat, 900, ok, true},
        {"strict, no SDP address: then only that one", strict, 0, nat, 300, other, 900, drop_reason::strict_source,
         false},
        {"no learning: stranger in window accepted, never latched", 0, sdp, 0, 0, nat, 150, ok, false},
        {"forked port: another branch after the window is accepted, not latched", learn | flow_any_source, sdp, nat,
         120, other, 900, ok, false},
        {"forked port, strict: other branches dropped", strict | flow_any_source, sdp, nat, 120, other, 900,
         drop_reason::strict_source, false},
    };
    for (const policy_case& c : cases) {
        flow_entry e;
        e.flags = c.flags;
        e.expected_src = c.expected;
        e.learn_from_tsc = 100;
        e.learn_until_tsc = 200;
        stream_state s;
        s.latched_tsc = c.latched_tsc;
        const source_verdict v = check_source(e, s, c.latched, c.src, c.now, false);
        EXPECT_EQ(v.why, c.why) << c.what;
        EXPECT_EQ(v.latch, c.latch) << c.what;
    }
}

TEST(latch_policy, srtp_source_is_checked_by_the_tag_not_the_address) {
    const uint64_t sdp = ep(ip4(198, 18, 1, 10), 4000);
    const uint64_t nat = ep(ip4(203, 0, 113, 5), 61000);
    const uint64_t other = ep(ip4(198, 18, 1, 99), 7000);
    flow_entry e;
    e.flags = flow_learn;
    e.expected_src = sdp;
    stream_state s;
    // Anyone may try (window or not); only the latched peer is trusted.
    source_verdict v = check_source(e, s, nat, other, 1000, true);
    EXPECT_EQ(v.why, drop_reason::count);
    EXPECT_TRUE(v.latch);
    EXPECT_FALSE(v.trusted);
    v = check_source(e, s, nat, nat, 1000, true);
    EXPECT_TRUE(v.trusted);
    EXPECT_FALSE(v.latch);
    v = check_source(e, s, 0, sdp, 1000, true);
    EXPECT_TRUE(v.trusted);
    EXPECT_TRUE(v.latch);
    // Strict: strangers never reach the HMAC.
    e.flags |= flow_strict_source;
    EXPECT_EQ(check_source(e, s, nat, other, 1000, true).why, drop_reason::strict_source);
    EXPECT_EQ(check_source(e, s, nat, sdp, 1000, true).why, drop_reason::count);
}

TEST(latch_policy, auth_budget_is_a_token_bucket) {
    stream_state s;
    const uint64_t per = 1000;  // cycles per token
    uint64_t now = 1'000'000;
    for (uint32_t i = 0; i < auth_budget_burst; ++i) {
        EXPECT_TRUE(take_auth_token(s, now, per)) << i;  // a fresh state is full
    }
    EXPECT_FALSE(take_auth_token(s, now, per));
    EXPECT_FALSE(take_auth_token(s, now + per - 1, per));
    EXPECT_TRUE(take_auth_token(s, now + per, per));
    EXPECT_FALSE(take_auth_token(s, now + per, per));
    return_auth_token(s);  // an authentic packet gives its token back
    EXPECT_TRUE(take_auth_token(s, now + per, per));
    // A long quiet spell refills to the burst, no more.
    now += 1000 * per;
    for (uint32_t i = 0; i < auth_budget_burst; ++i) {
        EXPECT_TRUE(take_auth_token(s, now, per)) << i;
    }
    EXPECT_FALSE(take_auth_token(s, now, per));
}

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
        EXPECT_EQ(c.rx_packets, c.relayed_rtp + c.relayed_rtcp + c.total_drops() + c.arp_to_control + c.icmp_echo_replies);
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
    const uint64_t latched_tsc = state_.latched_tsc;
    // Forged packets from a stranger and from the latched source itself, for the next indices.
    for (uint16_t seq = 1001; seq < 1011; ++seq) {
        inject(stranger_ip_, 7000, forged(seq));
        inject(caller_ip_, 4000, forged(seq));
    }
    run();
    EXPECT_EQ(take_sent(), 0u);
    EXPECT_EQ(drops(drop_reason::srtp_auth_failed), 20u);
    EXPECT_EQ(state_.latched.load(), ep(caller_ip_, 4000)) << "a forged packet moved the latch";
    EXPECT_EQ(state_.latched_tsc, latched_tsc);
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
// latches, and the second is then dropped as it would be in a later burst (the burst
// pipeline checks each packet against what the packets before it changed).
TEST_F(latch_worker_test, learning_window_in_one_burst_latches_the_first_stranger_only) {
    entry_->srtp_in[kind_rtp] = nullptr;
    entry_->learn_from_tsc = rte_rdtsc();
    entry_->learn_until_tsc = entry_->learn_from_tsc + rte_get_tsc_hz() * 60;
    const uint32_t other_ip = ip4(198, 18, 1, 98);
    const bytes p = genuine(1000);  // any payload: nothing to authenticate
    inject(stranger_ip_, 7000, p);
    inject(other_ip, 7002, p);
    inject(stranger_ip_, 7000, p);
    inject(other_ip, 7002, p);
    run();
    EXPECT_EQ(take_sent(), 2u);
    EXPECT_EQ(drops(drop_reason::unlatched_source), 2u);
    EXPECT_EQ(state_.latched.load(), ep(stranger_ip_, 7000));
    EXPECT_EQ(state_.packets.load(), 2u);
    expect_accounted();
}

// The same behind a packet of another stream, so that the strangers' packets could share a
// round with it (grouping by stream, worker.cc): the first stranger's latch must still be
// seen by the second stranger's check.
TEST_F(latch_worker_test, learning_window_behind_another_stream_latches_the_first_stranger_only) {
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
    const bytes p = genuine(1000);  // any payload: nothing to authenticate
    inject(caller_ip_, 4002, p, relay_port + 2);
    inject(stranger_ip_, 7000, p);
    inject(stranger_ip_, 7000, p);
    inject(other_ip, 7002, p);
    inject(stranger_ip_, 7000, p);
    inject(other_ip, 7002, p);
    run();
    EXPECT_EQ(take_sent(), 4u);
    EXPECT_EQ(drops(drop_reason::unlatched_source), 2u);
    EXPECT_EQ(state_.latched.load(), ep(stranger_ip_, 7000));
    EXPECT_EQ(state_.packets.load(), 3u);
    EXPECT_EQ(other_state.packets.load(), 1u);
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
