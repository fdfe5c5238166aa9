#include "bench/loadgen/call_gaps.h"

#include <gtest/gtest.h>

namespace rtprelay::loadgen {
namespace {

constexpr int64_t ms = 1'000'000;

// A stream that received packets every 20 ms from t0, then nothing for `gap` ms, then more:
// its statistics and its gaps, as the receiver keeps them.
struct stream {
    stream_stats stats;
    arrival_gaps gaps;
};

stream stream_with_gap(int64_t t0, int64_t gap_ms) {
    stream s;
    s.stats.start(0, 0, 8000);
    uint16_t seq = 0;
    int64_t t = t0;
    for (int i = 0; i < 20; ++i, t += 20 * ms) {
        if (i == 10) {
            t += gap_ms * ms - 20 * ms;
        }
        s.stats.on_rtp(seq, seq * 160u, t);
        s.gaps.on_arrival(t);
        ++seq;
    }
    return s;
}

void add(const stream& s, std::vector<stream_stats>* stats, std::vector<arrival_gaps>* gaps) {
    stats->push_back(s.stats);
    gaps->push_back(s.gaps);
}

TEST(call_gaps, a_call_takes_the_longer_direction_and_figures_use_nearest_rank) {
    std::vector<stream_stats> stats;
    std::vector<arrival_gaps> gaps;
    std::vector<stream_sent> sent(200, stream_sent{30, 0, 0});
    for (int call = 0; call < 100; ++call) {
        add(stream_with_gap(1000 * ms, 100 + call), &stats, &gaps);  // A->B: 100..199 ms
        add(stream_with_gap(1000 * ms, 50), &stats, &gaps);          // B->A: 50 ms
    }
    std::vector<call_gap_row> rows = gap_rows(sent, stats, gaps);
    ASSERT_EQ(rows.size(), 100u);
    EXPECT_EQ(rows[7].a_to_b.longest_gap_ns, 107 * ms);
    EXPECT_EQ(rows[7].b_to_a.longest_gap_ns, 50 * ms);
    EXPECT_EQ(rows[7].longest_gap_ns(), 107 * ms);
    EXPECT_EQ(rows[7].a_to_b.sent, 30u);
    EXPECT_EQ(rows[7].a_to_b.received, 20u);
    EXPECT_EQ(rows[7].a_to_b.gap_end_ns, 1000 * ms + 9 * 20 * ms + 107 * ms);
    const gap_figures f = summarise_gaps(rows);
    EXPECT_EQ(f.measured, 100u);
    EXPECT_EQ(f.unmeasured, 0u);
    EXPECT_EQ(f.p50_ns, 149 * ms);
    EXPECT_EQ(f.p99_ns, 198 * ms);
    EXPECT_EQ(f.max_ns, 199 * ms);
}

TEST(call_gaps, a_silent_direction_leaves_the_call_unmeasured_and_rows_name_set_up_calls) {
    std::vector<stream_stats> stats;
    std::vector<arrival_gaps> gaps;
    add(stream_with_gap(0, 300), &stats, &gaps);
    add(stream_with_gap(0, 40), &stats, &gaps);
    add(stream_with_gap(0, 40), &stats, &gaps);
    stats.emplace_back().start(0, 0, 8000);  // call 1: B->A never arrived
    gaps.emplace_back();
    std::vector<stream_sent> sent(4, stream_sent{20, 0, 0});
    std::vector<call_gap_row> rows = gap_rows(sent, stats, gaps);
    std::vector<call_record> calls = make_calls(3, 1, 42, 0, leg_mode::mix);
    calls[0].set_up = true;
    calls[2].set_up = true;  // call 1 failed: the second row is call 2's
    name_rows(calls, &rows);
    EXPECT_EQ(rows[0].call_id, calls[0].call_id);
    EXPECT_STREQ(rows[0].legs, "plain");
    EXPECT_EQ(rows[1].call_index, 2u);
    EXPECT_STREQ(rows[1].legs, "srtp-rtp");
    const gap_figures f = summarise_gaps(rows);
    EXPECT_EQ(f.measured, 1u);
    EXPECT_EQ(f.unmeasured, 1u);
    EXPECT_EQ(f.max_ns, 300 * ms);
}

TEST(call_gaps, resume_after_the_mark_takes_the_later_direction_and_a_silent_one_is_unmeasured) {
    constexpr int64_t mark = 5000 * ms;
    std::vector<call_gap_row> rows(3);
    rows[0].a_to_b.mark_gap_end_ns = mark + 600 * ms;
    rows[0].b_to_a.mark_gap_end_ns = mark + 640 * ms;
    rows[1].a_to_b.mark_gap_end_ns = mark + 550 * ms;
    rows[1].b_to_a.mark_gap_end_ns = mark + 500 * ms;
    rows[2].a_to_b.mark_gap_end_ns = mark + 500 * ms;  // B->A never came back
    const gap_figures f = summarise_resume(rows, mark);
    EXPECT_EQ(f.measured, 2u);
    EXPECT_EQ(f.unmeasured, 1u);
    EXPECT_EQ(f.p50_ns, 550 * ms);
    EXPECT_EQ(f.max_ns, 640 * ms);
}

}  // namespace
}  // namespace rtprelay::loadgen
