// The source policy of dataplane/latch.h on its own, with an injected clock: no EAL, no
// worker. A simulated leg feeds packets to check_plain_source (plain RTP, UDPTL, RTCP) or
// check_srtp_source and stores the latch as the worker does after stage 5. The worker-level
// tests (bursts, SRTP authentication) are in latch_test.cc.

#include "dataplane/latch.h"

#include <gtest/gtest.h>

#include <random>
#include <vector>

#include <rte_byteorder.h>

#include "tests/dataplane/test_packets.h"

namespace rtprelay::dp {
namespace {

using test::ip4;

uint64_t ep(uint32_t addr_be, uint16_t port) { return pack_endpoint(addr_be, rte_cpu_to_be_16(port)); }

constexpr uint64_t hz = 1'000'000'000;  // the tests' TSC: 1 cycle = 1 ns
constexpr uint64_t ms = hz / 1000;

std::vector<uint8_t> rtp(uint16_t seq, uint32_t ssrc) {
    std::vector<uint8_t> p(172, 0);
    p[0] = 0x80;
    p[2] = static_cast<uint8_t>(seq >> 8);
    p[3] = static_cast<uint8_t>(seq);
    p[8] = static_cast<uint8_t>(ssrc >> 24);
    p[9] = static_cast<uint8_t>(ssrc >> 16);
    p[10] = static_cast<uint8_t>(ssrc >> 8);
    p[11] = static_cast<uint8_t>(ssrc);
    return p;
}

// One direction of a plain leg: the flow entry, its stream state, and the latch stored
// the way the worker stores it after stage 5.
struct plain_leg {
    flow_entry e;
    stream_state s;
    uint64_t latch_changes = 0;

    plain_leg(uint64_t sdp, uint8_t flags = flow_learn) {
        e.self = &s;
        e.expected_src = sdp;
        e.flags = flags;
        e.forward = forward_on;
    }
    // An offer/answer re-published the entry at `t`: a window of `seconds`.
    void open_window(uint64_t t, uint64_t seconds = 3) {
        e.learn_from_tsc = t;
        e.learn_until_tsc = t + seconds * hz;
    }
    source_verdict packet(uint64_t src, const std::vector<uint8_t>& payload, uint64_t t, uint8_t kind = kind_rtp) {
        const latch_clock clock = make_latch_clock(t, hz);
        const uint64_t latched = s.latched.load();
        const source_verdict v =
            check_plain_source(e, s, latched, src, payload.data(), static_cast<uint32_t>(payload.size()), kind, clock);
        if (v.why == drop_reason::count && v.latch && src != latched) {
            s.latched.store(src);
            ++latch_changes;
        }
        return v;
    }
    source_verdict rtp_packet(uint64_t src, uint16_t seq, uint32_t ssrc, uint64_t t) {
        return packet(src, rtp(seq, ssrc), t);
    }
    uint64_t latched() const { return s.latched.load(); }
};

const uint64_t sdp = ep(ip4(198, 18, 1, 10), 4000);
const uint64_t nat = ep(ip4(203, 0, 113, 5), 61000);
const uint64_t stranger = ep(ip4(198, 18, 1, 99), 7000);
constexpr auto ok = drop_reason::count;
constexpr uint64_t t0 = 100 * hz;  // the clock when a test's window opens

// --- single-packet decisions ---

TEST(latch_policy, plain_single_packet_cases) {
    struct one {
        const char* what;
        uint8_t flags;
        uint64_t expected, latched, heard, src, now;
        drop_reason why;
        bool latch;
    };
    constexpr uint8_t learn = flow_learn;
    constexpr uint8_t strict = flow_learn | flow_strict_source;
    // The window is [t0, t0 + 3 s); heard = when the current source was last heard.
    const uint64_t in = t0 + 500 * ms;
    const uint64_t after = t0 + 4 * hz;
    const one cases[] = {
        {"SDP address, nothing latched: accepted and latched", learn, sdp, 0, 0, sdp, in, ok, true},
        {"stranger in the window, nothing latched: on probation", learn, sdp, 0, 0, nat, in,
         drop_reason::latch_probation, false},
        {"stranger after the window, nothing latched", learn, sdp, 0, 0, nat, after, drop_reason::unlatched_source,
         false},
        {"latched source after the window", learn, sdp, nat, t0 - hz, nat, after, ok, false},
        {"SDP address while latched elsewhere and heard in this window: latch kept", learn, sdp, nat, t0 + ms, sdp, in,
         ok, false},
        {"SDP address in a new window, latched source not heard since it opened: latched", learn, sdp, nat, t0 - hz,
         sdp, in, ok, true},
        {"stranger in a window the latched source already closed", learn, sdp, nat, t0 + ms, stranger, in,
         drop_reason::unlatched_source, false},
        {"strict: stranger in the window", strict, sdp, 0, 0, nat, in, drop_reason::strict_source, false},
        {"strict: stranger after latching", strict, sdp, sdp, t0 - hz, stranger, after, drop_reason::strict_source,
         false},
        {"strict: SDP address", strict, sdp, 0, 0, sdp, after, ok, true},
        {"no SDP address, nothing latched: a stranger starts probation, window or not", learn, 0, 0, 0, nat, after,
         drop_reason::latch_probation, false},
        {"strict, no SDP address: the same", strict, 0, 0, 0, nat, after, drop_reason::latch_probation, false},
        {"strict, no SDP address, latched: then only that one", strict, 0, nat, t0 - hz, stranger, after,
         drop_reason::strict_source, false},
        {"no learning: stranger in the window accepted, never latched", 0, sdp, 0, 0, nat, in, ok, false},
        {"forked port: another branch after the window is accepted, not latched", learn | flow_any_source, sdp, nat,
         t0 - hz, stranger, after, ok, false},
        {"forked port, strict: other branches dropped", strict | flow_any_source, sdp, nat, t0 - hz, stranger, after,
         drop_reason::strict_source, false},
    };
    for (const one& c : cases) {
        plain_leg l(c.expected, c.flags);
        l.open_window(t0);
        l.s.latched.store(c.latched);
        l.s.heard_tsc = c.heard;
        const source_verdict v = l.rtp_packet(c.src, 1000, 0x1234, c.now);
        EXPECT_EQ(v.why, c.why) << c.what;
        EXPECT_EQ(v.latch, c.latch) << c.what;
    }
}

TEST(latch_policy, srtp_source_is_checked_by_the_tag_not_the_address) {
    flow_entry e;
    e.flags = flow_learn;
    e.expected_src = sdp;
    // Anyone may try (window or not); only the latched peer is trusted.
    source_verdict v = check_srtp_source(e, nat, stranger);
    EXPECT_EQ(v.why, ok);
    EXPECT_TRUE(v.latch);
    EXPECT_FALSE(v.trusted);
    v = check_srtp_source(e, nat, nat);
    EXPECT_TRUE(v.trusted);
    EXPECT_FALSE(v.latch);
    v = check_srtp_source(e, 0, sdp);
    EXPECT_TRUE(v.trusted);
    EXPECT_TRUE(v.latch);
    // Strict: strangers never reach the HMAC.
    e.flags |= flow_strict_source;
    EXPECT_EQ(check_srtp_source(e, nat, stranger).why, drop_reason::strict_source);
    EXPECT_EQ(check_srtp_source(e, nat, sdp).why, ok);
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

// --- probation ---

TEST(latch_probation, a_natd_peer_latches_on_its_fourth_sequential_packet) {
    plain_leg l(sdp);
    l.open_window(t0);
    uint64_t t = t0 + 40 * ms;
    for (uint16_t k = 0; k < probation_packets - 1; ++k, t += 20 * ms) {
        EXPECT_EQ(l.rtp_packet(nat, static_cast<uint16_t>(5000 + k), 0xabc, t).why, drop_reason::latch_probation) << k;
        EXPECT_EQ(l.latched(), 0u);
    }
    const source_verdict v = l.rtp_packet(nat, static_cast<uint16_t>(5000 + probation_packets - 1), 0xabc, t);
    EXPECT_EQ(v.why, ok);
    EXPECT_TRUE(v.latch);
    EXPECT_EQ(l.latched(), nat);
    EXPECT_EQ(l.s.probation_count, 0u) << "probation is over";
    // Its stream goes on as the latched source; the sequence numbers no longer matter.
    EXPECT_EQ(l.rtp_packet(nat, 9, 0xabc, t + 20 * ms).why, ok);
    EXPECT_TRUE(l.rtp_packet(nat, 9, 0xabc, t + 20 * ms).trusted);
}

TEST(latch_probation, sequence_numbers_must_follow_each_other) {
    plain_leg l(sdp);
    l.open_window(t0);
    uint64_t t = t0 + ms;
    // Jumps, repeats and steps back never add up to a latch.
    for (uint16_t seq : {100, 102, 104, 104, 105, 103, 104, 106, 108, 110, 111, 113, 114, 116}) {
        EXPECT_EQ(l.rtp_packet(nat, seq, 0xabc, t).why, drop_reason::latch_probation) << seq;
        t += ms;
    }
    EXPECT_EQ(l.latched(), 0u);
    // Four in a row do, across the 16-bit wrap too.
    for (uint16_t seq : {65534, 65535, 0}) {
        EXPECT_EQ(l.rtp_packet(nat, seq, 0xabc, t).why, drop_reason::latch_probation) << seq;
    }
    EXPECT_EQ(l.rtp_packet(nat, 1, 0xabc, t).why, ok);
    EXPECT_EQ(l.latched(), nat);
}

TEST(latch_probation, a_new_ssrc_or_another_source_starts_again) {
    plain_leg l(sdp);
    l.open_window(t0);
    const uint64_t t = t0 + ms;
    EXPECT_EQ(l.rtp_packet(nat, 10, 0xabc, t).why, drop_reason::latch_probation);
    EXPECT_EQ(l.rtp_packet(nat, 11, 0xabc, t).why, drop_reason::latch_probation);
    EXPECT_EQ(l.rtp_packet(nat, 12, 0xabc, t).why, drop_reason::latch_probation);
    // The SSRC changes: count from 1 again.
    EXPECT_EQ(l.rtp_packet(nat, 13, 0xdef, t).why, drop_reason::latch_probation);
    EXPECT_EQ(l.rtp_packet(nat, 14, 0xdef, t).why, drop_reason::latch_probation);
    EXPECT_EQ(l.rtp_packet(nat, 15, 0xdef, t).why, drop_reason::latch_probation);
    // The same SSRC from another port of the same host: another candidate.
    const uint64_t nat2 = ep(ip4(203, 0, 113, 5), 61002);
    EXPECT_EQ(l.rtp_packet(nat2, 16, 0xdef, t).why, drop_reason::latch_probation);
    EXPECT_EQ(l.latched(), 0u);
    EXPECT_EQ(l.rtp_packet(nat2, 17, 0xdef, t).why, drop_reason::latch_probation);
    EXPECT_EQ(l.rtp_packet(nat2, 18, 0xdef, t).why, drop_reason::latch_probation);
    EXPECT_EQ(l.rtp_packet(nat2, 19, 0xdef, t).why, ok);
    EXPECT_EQ(l.latched(), nat2);
}

TEST(latch_probation, a_spray_of_unrelated_packets_never_latches) {
    std::mt19937_64 rng(5);
    plain_leg l(sdp);
    l.open_window(t0);
    uint64_t t = t0;
    for (int i = 0; i < 20000; ++i) {
        // Random hosts and ports of one /24, random SSRCs and sequence numbers, a packet
        // every 100 us: a bleed scanner, or noise.
        const uint64_t src = ep(ip4(198, 18, 1, static_cast<uint8_t>(rng())), static_cast<uint16_t>(rng()));
        const source_verdict v = l.rtp_packet(src, static_cast<uint16_t>(rng()), static_cast<uint32_t>(rng()), t);
        ASSERT_NE(v.why, ok) << i;
        t += 100'000;
    }
    // Ten copies of one packet per port, as a lazy scanner sends: repeats are not a sequence.
    for (int i = 0; i < 10; ++i) {
        EXPECT_EQ(l.rtp_packet(stranger, 0x1234, 0xdeadbeef, t0 + 2 * hz).why, drop_reason::latch_probation);
    }
    EXPECT_EQ(l.latched(), 0u);
    EXPECT_EQ(l.latch_changes, 0u);
    // Non-RTP bytes do not even start a probation.
    EXPECT_EQ(l.packet(stranger, std::vector<uint8_t>(8, 0x80), t0 + 2 * hz).why, drop_reason::unlatched_source);
}

TEST(latch_probation, the_real_peer_speaking_first_closes_its_window) {
    plain_leg l(sdp);
    l.open_window(t0);
    // Strangers' single packets before the peer speaks: nothing.
    EXPECT_EQ(l.rtp_packet(stranger, 1, 1, t0 + ms).why, drop_reason::latch_probation);
    EXPECT_EQ(l.rtp_packet(nat, 7, 2, t0 + 2 * ms).why, drop_reason::latch_probation);
    // The peer from its SDP address: latched, and the window is closed behind it.
    EXPECT_TRUE(l.rtp_packet(sdp, 500, 0x5d9, t0 + 20 * ms).latch);
    EXPECT_EQ(l.latched(), sdp);
    for (uint16_t k = 0; k < 10; ++k) {
        EXPECT_EQ(l.rtp_packet(stranger, static_cast<uint16_t>(100 + k), 9, t0 + 30 * ms + k).why,
                  drop_reason::unlatched_source);
    }
    EXPECT_EQ(l.latched(), sdp);
}

// The defect of issue 12: every offer/answer re-opened the window and the first stranger
// inside it took the leg while the real peer kept sending. Now the peer keeps the call.
TEST(latch_probation, the_real_peer_keeps_the_call_across_a_reinvite) {
    plain_leg l(sdp);
    l.open_window(t0 - 60 * hz);
    ASSERT_TRUE(l.rtp_packet(sdp, 1000, 0x5d9, t0 - 60 * hz).latch);
    uint16_t seq = 1001;
    uint64_t t = t0 - 60 * hz;
    // A minute of media at 20 ms, then a re-INVITE (same SDP) re-publishes the entry at t0.
    while (t + 20 * ms < t0) {
        t += 20 * ms;
        ASSERT_EQ(l.rtp_packet(sdp, seq++, 0x5d9, t).why, ok);
    }
    ASSERT_EQ(t, t0 - 20 * ms);
    l.open_window(t0);
    // A stranger that sends a perfect stream right away, before the peer's next packet:
    // the peer was heard 20 ms ago, so it is not silent.
    uint16_t bad = 40000;
    for (int k = 0; k < 8; ++k) {
        EXPECT_EQ(l.rtp_packet(stranger, bad++, 0xbad, t0 + k * 100'000).why, drop_reason::latch_probation) << k;
    }
    // The peer's next packet closes the window; from then on nothing a stranger sends at
    // 0.1, 0.5, 1, 2 or 2.9 s (a single packet, or a perfect stream) is even on probation.
    t += 20 * ms;
    ASSERT_EQ(l.rtp_packet(sdp, seq++, 0x5d9, t).why, ok);
    for (const uint64_t at : {100 * ms, 500 * ms, 1000 * ms, 2000 * ms, 2900 * ms}) {
        while (t + 20 * ms < t0 + at) {
            t += 20 * ms;
            ASSERT_EQ(l.rtp_packet(sdp, seq++, 0x5d9, t).why, ok);
        }
        for (int k = 0; k < 8; ++k) {
            EXPECT_EQ(l.rtp_packet(stranger, bad++, 0xbad, t0 + at + k).why, drop_reason::unlatched_source) << at;
        }
    }
    EXPECT_EQ(l.latched(), sdp);
    EXPECT_EQ(l.latch_changes, 1u);
}

TEST(latch_probation, a_peer_that_moved_and_went_silent_is_followed) {
    plain_leg l(sdp);
    l.s.latched.store(nat);
    l.s.heard_tsc = t0 - 2 * hz;  // the old address last sent 2 s before the re-INVITE
    l.open_window(t0);
    const uint64_t moved = ep(ip4(203, 0, 113, 77), 40000);
    for (uint16_t k = 0; k < probation_packets - 1; ++k) {
        EXPECT_EQ(l.rtp_packet(moved, static_cast<uint16_t>(70 + k), 0xabc, t0 + 50 * ms + k * 20 * ms).why,
                  drop_reason::latch_probation);
    }
    const source_verdict v = l.rtp_packet(moved, 73, 0xabc, t0 + 120 * ms);
    EXPECT_TRUE(v.latch);
    EXPECT_EQ(l.latched(), moved);
    // The old address coming back later is a stranger in a closed window.
    EXPECT_EQ(l.rtp_packet(nat, 1, 0xabc, t0 + 200 * ms).why, drop_reason::unlatched_source);
    EXPECT_EQ(l.latched(), moved);
}

TEST(latch_probation, a_move_waits_until_the_old_source_is_silent) {
    plain_leg l(sdp);
    l.s.latched.store(nat);
    const uint64_t last_heard = t0 - 300 * ms;  // the old address stopped 300 ms before
    l.s.heard_tsc = last_heard;
    l.open_window(t0);
    const uint64_t moved = ep(ip4(203, 0, 113, 77), 40000);
    uint16_t seq = 70;
    uint64_t t = t0;
    // Sequential packets every 20 ms: probation passes at once, the latch waits for the
    // old source to be quiet_ms silent.
    while (t < last_heard + quiet_ms * ms - 20 * ms) {
        t += 20 * ms;
        ASSERT_EQ(l.rtp_packet(moved, seq++, 0xabc, t).why, drop_reason::latch_probation) << (t - t0) / ms << " ms";
    }
    t += 40 * ms;
    EXPECT_TRUE(l.rtp_packet(moved, seq++, 0xabc, t).latch);
    EXPECT_EQ(l.latched(), moved);
}

TEST(latch_probation, a_source_still_sending_is_never_displaced) {
    plain_leg l(sdp);
    l.s.latched.store(nat);
    l.s.heard_tsc = t0 - 10 * ms;
    l.open_window(t0);
    // The latched source keeps going every 20 ms, a stranger sends a perfect stream every 5 ms
    // for the whole window and after it.
    uint16_t seq = 1;
    uint16_t bad = 9000;
    for (uint64_t t = t0; t < t0 + 4 * hz; t += 5 * ms) {
        if ((t - t0) % (20 * ms) == 0) {
            ASSERT_EQ(l.rtp_packet(nat, seq++, 0x111, t).why, ok);
        }
        ASSERT_NE(l.rtp_packet(stranger, bad++, 0x222, t + 1).why, ok) << (t - t0) / ms << " ms";
    }
    EXPECT_EQ(l.latched(), nat);
    EXPECT_EQ(l.latch_changes, 0u);
}

TEST(latch_probation, the_sdp_address_takes_back_a_leg_a_stranger_raced_for) {
    plain_leg l(sdp);
    l.open_window(t0);
    // A stranger wins probation before the (silent so far) peer speaks...
    for (uint16_t k = 0; k < probation_packets; ++k) {
        l.rtp_packet(stranger, static_cast<uint16_t>(300 + k), 0xbad, t0 + k * ms);
    }
    ASSERT_EQ(l.latched(), stranger);
    // ...and keeps sending; the peer's first packet from its SDP address still takes the
    // leg while the window's time runs.
    EXPECT_EQ(l.rtp_packet(stranger, 304, 0xbad, t0 + 10 * ms).why, ok);
    EXPECT_TRUE(l.rtp_packet(sdp, 1, 0x5d9, t0 + 20 * ms).latch);
    EXPECT_EQ(l.latched(), sdp);
    EXPECT_EQ(l.rtp_packet(stranger, 305, 0xbad, t0 + 30 * ms).why, drop_reason::unlatched_source);
    // A leg a NAT'd peer won by probation in an earlier window stays its own afterwards.
    plain_leg n(sdp);
    n.open_window(t0);
    for (uint16_t k = 0; k < probation_packets; ++k) {
        n.rtp_packet(nat, static_cast<uint16_t>(300 + k), 0xabc, t0 + k * ms);
    }
    ASSERT_EQ(n.latched(), nat);
    EXPECT_FALSE(n.rtp_packet(sdp, 1, 0x5d9, t0 + 4 * hz).latch) << "window over: a spoofed SDP address only injects";
    EXPECT_EQ(n.latched(), nat);
}

TEST(latch_probation, rtcp_port_latches_only_the_address_its_rtp_port_latched) {
    stream_state rtp_state;
    plain_leg l(ep(ip4(198, 18, 1, 10), 4001));
    l.e.kind = flow_kind::rtcp;
    l.e.rtp_of_leg = &rtp_state;
    l.open_window(t0);
    std::vector<uint8_t> sr(28, 0);
    sr[0] = 0x80;
    sr[1] = 200;
    const uint64_t nat_rtcp = ep(ip4(203, 0, 113, 5), 61001);
    // The RTP port has not latched anything yet: no RTCP stranger latches.
    EXPECT_EQ(l.packet(nat_rtcp, sr, t0 + ms, kind_rtcp).why, drop_reason::unlatched_source);
    rtp_state.latched.store(nat);
    EXPECT_EQ(l.packet(stranger, sr, t0 + 2 * ms, kind_rtcp).why, drop_reason::unlatched_source);
    EXPECT_TRUE(l.packet(nat_rtcp, sr, t0 + 3 * ms, kind_rtcp).latch);
    EXPECT_EQ(l.latched(), nat_rtcp);
}

TEST(latch_probation, rtcp_from_a_stranger_on_an_rtcp_mux_port_does_not_count) {
    plain_leg l(sdp, flow_learn | flow_rtcp_mux);
    l.open_window(t0);
    std::vector<uint8_t> sr(28, 0);
    sr[0] = 0x80;
    sr[1] = 200;
    EXPECT_EQ(l.rtp_packet(nat, 10, 0xabc, t0).why, drop_reason::latch_probation);
    EXPECT_EQ(l.packet(nat, sr, t0, kind_rtcp).why, drop_reason::unlatched_source);
    EXPECT_EQ(l.rtp_packet(nat, 11, 0xabc, t0).why, drop_reason::latch_probation);
    EXPECT_EQ(l.rtp_packet(nat, 12, 0xabc, t0).why, drop_reason::latch_probation);
    EXPECT_TRUE(l.rtp_packet(nat, 13, 0xabc, t0).latch) << "the RTCP packet did not break the sequence";
}

TEST(latch_probation, udptl_runs_probation_on_its_own_sequence_number) {
    plain_leg l(sdp, flow_learn | flow_opaque);
    l.open_window(t0);
    for (uint16_t k = 0; k < probation_packets; ++k) {
        std::vector<uint8_t> udptl = {static_cast<uint8_t>((200 + k) >> 8), static_cast<uint8_t>(200 + k), 0x00, 0x0e};
        const source_verdict v = l.packet(nat, udptl, t0 + k * 20 * ms);
        EXPECT_EQ(v.latch, k + 1 == probation_packets) << k;
    }
    EXPECT_EQ(l.latched(), nat);
}

TEST(latch_probation, forked_port_relays_every_branch_and_latches_after_probation) {
    plain_leg l(sdp, flow_learn | flow_any_source);
    l.open_window(t0);
    for (uint16_t k = 0; k < probation_packets - 1; ++k) {
        const source_verdict v = l.rtp_packet(nat, static_cast<uint16_t>(10 + k), 0xabc, t0 + k * ms);
        EXPECT_EQ(v.why, ok) << "early media of every branch is relayed";
        EXPECT_FALSE(v.latch);
    }
    EXPECT_TRUE(l.rtp_packet(nat, 13, 0xabc, t0 + 3 * ms).latch);
}

}  // namespace
}  // namespace rtprelay::dp
