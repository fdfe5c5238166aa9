#include "control/admission/admission.h"

#include <gtest/gtest.h>

#include <vector>

namespace rtprelay {
namespace {

using clock_t_ = admission::clock;
const clock_t_::time_point t0{};

TEST(admission, budget_admits_exactly_up_to_the_edge) {
    // 800 kbit/s at 80 kbit/s per call: exactly 10 calls, the 11th refused.
    admission a(800'000, 80'000, 0, 1);
    for (int i = 0; i < 10; ++i) {
        EXPECT_EQ(a.admit({0}, t0), refusal::none) << i;
    }
    EXPECT_EQ(a.node().reserved_bps, 800'000u);
    EXPECT_EQ(a.admit({0}, t0), refusal::capacity);
    a.release({0});
    EXPECT_EQ(a.admit({0}, t0), refusal::none);
    EXPECT_EQ(a.admit({0}, t0), refusal::capacity);
}

TEST(admission, one_bit_short_refuses) {
    admission a(159'999, 80'000, 0, 1);
    EXPECT_EQ(a.admit({0}, t0), refusal::none);
    EXPECT_EQ(a.admit({0}, t0), refusal::capacity);
}

TEST(admission, zero_capacity_means_unlimited) {
    admission a(0, 80'000, 0, 2);
    for (int i = 0; i < 100000; ++i) {
        ASSERT_EQ(a.admit({0, 1}, t0), refusal::none);
    }
    EXPECT_EQ(a.node().calls, 100000u);
}

TEST(admission, interface_budget_is_checked_per_interface_and_counted_once) {
    admission a(0, 80'000, 0, 2);
    a.set_interface(1, 160'000, 0);
    // Both legs on interface 1: it is reserved once per call.
    EXPECT_EQ(a.admit({1, 1}, t0), refusal::none);
    EXPECT_EQ(a.interface(1).reserved_bps, 80'000u);
    EXPECT_EQ(a.admit({0, 1}, t0), refusal::none);
    EXPECT_EQ(a.admit({0, 1}, t0), refusal::capacity);
    EXPECT_EQ(a.admit({0, 0}, t0), refusal::none);  // interface 0 has no budget
    EXPECT_EQ(a.interface(0).calls, 2u);
    a.release({1, 1});
    EXPECT_EQ(a.interface(1).reserved_bps, 80'000u);
    EXPECT_EQ(a.node().calls, 2u);
}

TEST(admission, release_never_underflows) {
    admission a(0, 80'000, 0, 1);
    a.release({0});
    EXPECT_EQ(a.node().reserved_bps, 0u);
    EXPECT_EQ(a.interface(0).calls, 0u);
}

TEST(admission, cps_limiter_refills_at_its_rate) {
    admission a(0, 80'000, 5, 1);  // 5 new calls per second, bursts of 5
    for (int i = 0; i < 5; ++i) {
        EXPECT_EQ(a.admit({0}, t0), refusal::none);
    }
    EXPECT_EQ(a.admit({0}, t0), refusal::cps);
    EXPECT_EQ(a.admit({0}, t0 + std::chrono::milliseconds(100)), refusal::cps);   // 0.5 token
    EXPECT_EQ(a.admit({0}, t0 + std::chrono::milliseconds(200)), refusal::none);  // 1 token
    EXPECT_EQ(a.admit({0}, t0 + std::chrono::milliseconds(200)), refusal::cps);
    // A long pause refills to the burst, not beyond.
    const auto later = t0 + std::chrono::seconds(60);
    for (int i = 0; i < 5; ++i) {
        EXPECT_EQ(a.admit({0}, later), refusal::none);
    }
    EXPECT_EQ(a.admit({0}, later), refusal::cps);
}

TEST(admission, capacity_refusal_does_not_spend_rate_tokens) {
    admission a(80'000, 80'000, 2, 1);
    EXPECT_EQ(a.admit({0}, t0), refusal::none);
    EXPECT_EQ(a.admit({0}, t0), refusal::capacity);
    EXPECT_EQ(a.admit({0}, t0), refusal::capacity);
    a.release({0});
    EXPECT_EQ(a.admit({0}, t0), refusal::none);  // the second token is still there
}

TEST(admission, interface_cps_refusal_gives_node_token_back) {
    admission a(0, 80'000, 2, 2);
    a.set_interface(1, 0, 1);
    EXPECT_EQ(a.admit({1}, t0), refusal::none);
    EXPECT_EQ(a.admit({1}, t0), refusal::cps);   // interface out of tokens; node token returned
    EXPECT_EQ(a.admit({0}, t0), refusal::none);  // the node still had one
    EXPECT_EQ(a.admit({0}, t0), refusal::cps);
}

TEST(admission, draining_refuses_everything_new) {
    admission a(0, 80'000, 0, 1);
    a.drain(true);
    EXPECT_EQ(a.admit({0}, t0), refusal::draining);
    a.drain(false);
    EXPECT_EQ(a.admit({0}, t0), refusal::none);
}

TEST(admission, a_stopping_node_stays_drained) {
    admission a(0, 80'000, 0, 1);
    a.stop();
    EXPECT_TRUE(a.stopping());
    EXPECT_EQ(a.admit({0}, t0), refusal::draining);
    a.drain(false);  // NG undrain during a SIGTERM drain
    EXPECT_TRUE(a.draining());
    EXPECT_EQ(a.admit({0}, t0), refusal::draining);
}

TEST(admission, sizing_both_ways) {
    admission a(0, 80'000, 0, 0);
    EXPECT_EQ(a.calls_for(1'000'000'000), 12'500u);
    EXPECT_EQ(a.bandwidth_for(12'500), 1'000'000'000u);
    EXPECT_EQ(a.calls_for(79'999), 0u);
}

// call-bandwidth = wire: G.711 20 ms at the IP layer, 50 packets/s of 160 + 12 (RTP) + tag
// + 8 (UDP) + 20/40 (IPv4/IPv6) bytes. Written out, not derived from the formula it checks.
TEST(admission, wire_cost_per_leg) {
    EXPECT_EQ(wire_bps(false, 0), 80'000u);   // the seeds' 80k: G.711 RTP over IPv4
    EXPECT_EQ(wire_bps(false, 10), 84'000u);  // SRTP AES_CM_128_HMAC_SHA1_80 over IPv4
    EXPECT_EQ(wire_bps(false, 4), 81'600u);   // SRTP ..._32 over IPv4
    EXPECT_EQ(wire_bps(true, 0), 88'000u);    // RTP over IPv6
    EXPECT_EQ(wire_bps(true, 10), 92'000u);   // SRTP _80 over IPv6 (issue 16)
    EXPECT_EQ(wire_bps(false, 16), 86'400u);  // SRTP AEAD_AES_*_GCM over IPv4
    EXPECT_EQ(wire_bps(true, 16), 94'400u);   // SRTP AEAD_AES_*_GCM over IPv6
    admission flat(0, 80'000, 0, 1);
    EXPECT_EQ(flat.leg_bps(true, 10), 80'000u) << "flat (the default) ignores family and SRTP";
    admission wire(0, 80'000, 0, 1);
    wire.set_wire(true);
    EXPECT_EQ(wire.leg_bps(true, 10), 92'000u);
}

// The node reserves a call's costliest leg, each interface the costliest of its legs, and
// release gives back exactly that.
TEST(admission, legs_reserve_their_own_cost) {
    admission a(184'000, 80'000, 0, 2);
    a.set_wire(true);
    a.set_interface(1, 184'000, 0);
    // An IPv4 RTP caller on interface 0 bridged to an IPv6 SRTP callee on interface 1.
    const std::vector<leg_cost> bridged{{0, wire_bps(false, 0)}, {1, wire_bps(true, 10)}};
    ASSERT_EQ(a.admit_legs(bridged, t0), refusal::none);
    EXPECT_EQ(a.node().reserved_bps, 92'000u);
    EXPECT_EQ(a.interface(0).reserved_bps, 80'000u);
    EXPECT_EQ(a.interface(1).reserved_bps, 92'000u);
    ASSERT_EQ(a.admit_legs(bridged, t0), refusal::none);  // 184k: exactly full
    EXPECT_EQ(a.admit_legs({{0, 80'000}, {0, 80'000}}, t0), refusal::capacity) << "node full";
    a.release_legs(bridged);
    EXPECT_EQ(a.node().reserved_bps, 92'000u);
    EXPECT_EQ(a.interface(1).reserved_bps, 92'000u);
    EXPECT_EQ(a.interface(0).calls, 1u);
    // Both legs on one interface: reserved once, at the larger cost.
    admission b(0, 80'000, 0, 1);
    ASSERT_EQ(b.admit_legs({{0, 88'000}, {0, 92'000}}, t0), refusal::none);
    EXPECT_EQ(b.interface(0).reserved_bps, 92'000u);
    EXPECT_EQ(b.interface(0).calls, 1u);
    b.release_legs({{0, 88'000}, {0, 92'000}});
    EXPECT_EQ(b.interface(0).reserved_bps, 0u);
    EXPECT_EQ(b.node().reserved_bps, 0u);
}

TEST(parse_bandwidth, units_and_errors) {
    EXPECT_EQ(parse_bandwidth("80k"), 80'000u);
    EXPECT_EQ(parse_bandwidth("1G"), 1'000'000'000u);
    EXPECT_EQ(parse_bandwidth("2.5M"), 2'500'000u);
    EXPECT_EQ(parse_bandwidth("1000"), 1'000u);
    EXPECT_EQ(parse_bandwidth("0"), 0u);
    EXPECT_FALSE(parse_bandwidth(""));
    EXPECT_FALSE(parse_bandwidth("k"));
    EXPECT_FALSE(parse_bandwidth("-1M"));
    EXPECT_FALSE(parse_bandwidth("1X"));
    EXPECT_FALSE(parse_bandwidth("nanG"));
    EXPECT_FALSE(parse_bandwidth("1e30"));
}

}  // namespace
}  // namespace rtprelay
