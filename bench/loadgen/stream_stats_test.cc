#include "bench/loadgen/stream_stats.h"

#include <gtest/gtest.h>

namespace rtprelay::loadgen {
namespace {

constexpr int64_t ptime_ns = 20'000'000;
constexpr uint32_t ticks = 160;  // 20 ms at 8 kHz

TEST(stream_stats, in_order_across_sequence_wrap) {
    stream_stats s;
    s.start(65530, 1000, 8000);
    for (uint32_t i = 0; i < 20; ++i) {
        const auto seq = static_cast<uint16_t>(65530 + i);
        EXPECT_EQ(s.on_rtp(seq, 1000 + i * ticks, i * ptime_ns), stream_stats::verdict::fresh);
    }
    EXPECT_EQ(s.received(), 20u);
    EXPECT_EQ(s.duplicates(), 0u);
    EXPECT_EQ(s.reordered(), 0u);
    EXPECT_DOUBLE_EQ(s.jitter_ns(), 0.0);  // perfectly paced
}

TEST(stream_stats, duplicates_and_reordering) {
    stream_stats s;
    s.start(100, 0, 8000);
    EXPECT_EQ(s.on_rtp(100, 0, 0), stream_stats::verdict::fresh);
    EXPECT_EQ(s.on_rtp(102, 2 * ticks, 2 * ptime_ns), stream_stats::verdict::fresh);
    EXPECT_EQ(s.on_rtp(101, ticks, 2 * ptime_ns), stream_stats::verdict::reordered);
    EXPECT_EQ(s.on_rtp(101, ticks, 2 * ptime_ns), stream_stats::verdict::duplicate);
    EXPECT_EQ(s.on_rtp(102, 2 * ticks, 2 * ptime_ns), stream_stats::verdict::duplicate);
    EXPECT_EQ(s.received(), 3u);
    EXPECT_EQ(s.duplicates(), 2u);
    EXPECT_EQ(s.reordered(), 1u);
}

TEST(stream_stats, first_packet_reordered_is_not_a_duplicate) {
    stream_stats s;
    s.start(0, 0, 8000);
    EXPECT_EQ(s.on_rtp(1, ticks, ptime_ns), stream_stats::verdict::fresh);
    EXPECT_EQ(s.on_rtp(0, 0, ptime_ns), stream_stats::verdict::reordered);
    EXPECT_EQ(s.received(), 2u);
}

TEST(stream_stats, window_forgets_old_numbers_after_a_gap) {
    stream_stats s;
    s.start(0, 0, 8000);
    s.on_rtp(0, 0, 0);
    s.on_rtp(5000, 5000 * ticks, 5000 * ptime_ns);  // a long gap clears the window
    EXPECT_EQ(s.on_rtp(0, 0, 5000 * ptime_ns), stream_stats::verdict::too_old);
    // Same low bits as an old number but within the window: fresh, not a duplicate.
    EXPECT_EQ(s.on_rtp(4990, 4990 * ticks, 5000 * ptime_ns), stream_stats::verdict::reordered);
    EXPECT_EQ(s.received(), 3u);
    EXPECT_EQ(s.too_old(), 1u);
}

TEST(stream_stats, jitter_follows_rfc3550) {
    stream_stats s;
    s.start(0, 0, 8000);
    // Every other packet 1 ms late: |D| alternates 1 ms; J converges towards 1 ms.
    for (uint32_t i = 0; i < 1000; ++i) {
        const int64_t late = (i % 2 == 1) ? 1'000'000 : 0;
        s.on_rtp(static_cast<uint16_t>(i), i * ticks, i * ptime_ns + late);
    }
    EXPECT_NEAR(s.jitter_ns(), 1e6, 1e3);
}

}  // namespace
}  // namespace rtprelay::loadgen
