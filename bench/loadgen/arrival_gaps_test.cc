#include "bench/loadgen/arrival_gaps.h"

#include <gtest/gtest.h>

namespace rtprelay::loadgen {
namespace {

constexpr int64_t ms = 1'000'000;

TEST(arrival_gaps, longest_gap_between_arrivals) {
    arrival_gaps g;
    g.on_arrival(0);  // the clock's zero is a time like any other
    EXPECT_EQ(g.longest_gap_ns(), 0);
    g.on_arrival(20 * ms);
    g.on_arrival(840 * ms);  // a failover: 820 ms without a packet
    g.on_arrival(860 * ms);
    EXPECT_EQ(g.longest_gap_ns(), 820 * ms);
    EXPECT_EQ(g.gap_end_ns(), 840 * ms);
    EXPECT_EQ(g.last_arrival_ns(), 860 * ms);
    EXPECT_EQ(g.mark_gap_end_ns(), 0);  // no mark
}

TEST(arrival_gaps, after_a_mark_the_longest_gap_that_ends_after_it) {
    arrival_gaps g;
    const int64_t t0 = 1000 * ms;
    g.on_arrival(t0);
    g.on_arrival(t0 + 900 * ms);  // the generator stalled 900 ms before the mark
    g.on_arrival(t0 + 920 * ms);
    g.set_mark(t0 + 930 * ms);  // the kill
    g.on_arrival(t0 + 1500 * ms);
    g.on_arrival(t0 + 1520 * ms);
    EXPECT_EQ(g.longest_gap_ns(), 900 * ms);  // the stall
    EXPECT_EQ(g.mark_gap_ns(), 580 * ms);     // the failover
    EXPECT_EQ(g.mark_gap_end_ns(), t0 + 1500 * ms);
}

}  // namespace
}  // namespace rtprelay::loadgen
