#include "bench/loadgen/ramp.h"

#include <gtest/gtest.h>

#include <vector>

namespace rtprelay::loadgen {
namespace {

// Runs a search against a relay that is good up to `limit` calls; returns the counts tried.
std::vector<uint32_t> run(ramp_search& r, uint32_t limit) {
    std::vector<uint32_t> tried;
    while (auto n = r.next()) {
        tried.push_back(*n);
        r.record(*n, *n <= limit ? step_verdict::good : step_verdict::loss);
        if (tried.size() > 100) {
            break;
        }
    }
    return tried;
}

TEST(ramp, grows_then_bisects) {
    ramp_search r(100, 100000, 2.0, 3);
    EXPECT_EQ(run(r, 1000), (std::vector<uint32_t>{100, 200, 400, 800, 1600, 1200, 1000, 1100}));
    EXPECT_EQ(r.best(), 1000u);
    EXPECT_EQ(r.first_bad(), 1100u);
    EXPECT_EQ(r.stopped_by(), "loss");
}

TEST(ramp, stops_at_max_when_every_step_is_good) {
    ramp_search r(100, 500, 2.0, 2);
    EXPECT_EQ(run(r, 1000000), (std::vector<uint32_t>{100, 200, 400, 500}));
    EXPECT_EQ(r.best(), 500u);
    EXPECT_FALSE(r.first_bad());
    EXPECT_EQ(r.stopped_by(), "max reached");
}

TEST(ramp, first_step_bad_bisects_down_from_it) {
    ramp_search r(1000, 10000, 2.0, 2);
    EXPECT_EQ(run(r, 300), (std::vector<uint32_t>{1000, 500, 250}));
    EXPECT_EQ(r.best(), 250u);
    EXPECT_EQ(r.first_bad(), 500u);
}

TEST(ramp, no_refinement_stops_at_the_first_bad_step) {
    ramp_search r(100, 10000, 1.5, 0);
    EXPECT_EQ(run(r, 200), (std::vector<uint32_t>{100, 150, 225}));
    EXPECT_EQ(r.best(), 150u);
}

TEST(ramp, generator_behind_ends_without_a_verdict) {
    ramp_search r(100, 10000, 2.0, 3);
    r.record(*r.next(), step_verdict::good);
    EXPECT_EQ(r.next(), 200u);
    r.record(200, step_verdict::generator_behind);
    EXPECT_FALSE(r.next());
    EXPECT_EQ(r.best(), 100u);
    EXPECT_FALSE(r.first_bad());
    EXPECT_EQ(r.stopped_by(), "generator behind");
}

TEST(ramp, judge_step) {
    run_summary s;
    s.calls_requested = s.calls_set_up = 10;
    s.packets_sent = 100000;
    s.packets_lost = 100;  // 0.1 %
    EXPECT_EQ(judge_step(s, 0.1), step_verdict::good);
    EXPECT_EQ(judge_step(s, 0.01), step_verdict::loss);
    s.sender_skipped = 2;  // descheduled once: judged on what was sent
    EXPECT_EQ(judge_step(s, 0.1), step_verdict::good);
    s.sender_skipped = 2000;  // 2% of the schedule never went out
    EXPECT_EQ(judge_step(s, 0.1), step_verdict::generator_behind);
    EXPECT_EQ(judge_step(s, 0.1, 5.0), step_verdict::good);  // a looser tolerance
    // Sent, but late: 1.5% of the packets over --late-us behind their due time is a
    // generator that cannot keep the schedule, even with nothing skipped.
    s.sender_skipped = 0;
    s.sender_late = 1500;
    EXPECT_EQ(judge_step(s, 0.1), step_verdict::generator_behind);
    s.sender_late = 500;  // 0.5%: within the tolerance
    EXPECT_EQ(judge_step(s, 0.1), step_verdict::good);
    s.sender_skipped = 600;  // late + skipped together over 1%
    EXPECT_EQ(judge_step(s, 0.1), step_verdict::generator_behind);
    s.calls_failed = 1;
    s.calls_set_up = 9;
    EXPECT_EQ(judge_step(s, 0.1), step_verdict::setup_failed);
    s.interrupted = true;
    EXPECT_EQ(judge_step(s, 0.1), step_verdict::interrupted);
}

}  // namespace
}  // namespace rtprelay::loadgen
