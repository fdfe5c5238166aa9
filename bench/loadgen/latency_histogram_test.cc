#include "bench/loadgen/latency_histogram.h"

#include <gtest/gtest.h>

namespace rtprelay::loadgen {
namespace {

TEST(latency_histogram, empty_reports_zero) {
    latency_histogram h;
    EXPECT_EQ(h.count(), 0u);
    EXPECT_EQ(h.percentile(0.5), 0);
    EXPECT_EQ(h.max(), 0);
}

TEST(latency_histogram, small_values_are_exact) {
    latency_histogram h;
    for (int v = 0; v < 100; ++v) {
        h.record(v);
    }
    EXPECT_EQ(h.percentile(0.50), 49);
    EXPECT_EQ(h.percentile(0.99), 98);
    EXPECT_EQ(h.max(), 99);
}

TEST(latency_histogram, percentiles_within_bucket_error) {
    latency_histogram h;
    // 1..100,000 us in ns: p50 = 50 ms, p99 = 99 ms.
    for (int64_t us = 1; us <= 100'000; ++us) {
        h.record(us * 1000);
    }
    EXPECT_NEAR(static_cast<double>(h.percentile(0.50)), 50e6, 50e6 / 64);
    EXPECT_NEAR(static_cast<double>(h.percentile(0.99)), 99e6, 99e6 / 64);
    EXPECT_EQ(h.max(), 100'000'000);
    EXPECT_EQ(h.percentile(1.0), 100'000'000);  // never above the true max
}

TEST(latency_histogram, negative_counts_as_zero_and_huge_fits) {
    latency_histogram h;
    h.record(-5);
    h.record(INT64_MAX);
    EXPECT_EQ(h.count(), 2u);
    EXPECT_EQ(h.percentile(0.5), 0);
    EXPECT_EQ(h.max(), INT64_MAX);
}

TEST(latency_histogram, merge_adds_counts) {
    latency_histogram a;
    latency_histogram b;
    a.record(10);
    b.record(1000);
    b.record(2000);
    a.merge(b);
    EXPECT_EQ(a.count(), 3u);
    EXPECT_EQ(a.max(), 2000);
}

}  // namespace
}  // namespace rtprelay::loadgen
