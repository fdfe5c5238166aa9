#include "bench/loadgen/relay_usage.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include "bench/loadgen/summary.h"

namespace lg = rtprelay::loadgen;
using rtprelay::ng::value;

namespace {

value statistics_reply(std::vector<int64_t> busy_ns, int64_t rtp, int64_t rtcp) {
    value workers = value::list();
    for (size_t w = 0; w < busy_ns.size(); ++w) {
        value one = value::dict();
        one.set("worker", value::integer(static_cast<int64_t>(w)));
        one.set("busy ns", value::integer(busy_ns[w]));
        workers.as_list().push_back(std::move(one));
    }
    value dp = value::dict();
    dp.set("relayed rtp", value::integer(rtp));
    dp.set("relayed rtcp", value::integer(rtcp));
    dp.set("handed off", value::integer(7));
    dp.set("workers", std::move(workers));
    value st = value::dict();
    st.set("dataplane", std::move(dp));
    value r = value::dict();
    r.set("result", value::str("ok"));
    r.set("statistics", std::move(st));
    return r;
}

}  // namespace

TEST(RelayUsage, ReadsEachWorkersBusyTimeAndTheRelayedPackets) {
    const auto s = lg::sample_from_statistics(statistics_reply({1500, 2500}, 90, 10));
    ASSERT_TRUE(s.has_value());
    EXPECT_EQ(s->busy_ns, (std::vector<uint64_t>{1500, 2500}));
    EXPECT_EQ(s->relayed, 100u);
    EXPECT_EQ(s->handed_off, 7u);
}

TEST(RelayUsage, NoBusyTimeMeansNoSample) {
    value rtpengine = value::dict();
    rtpengine.set("result", value::str("ok"));
    rtpengine.set("statistics", value::dict());
    EXPECT_FALSE(lg::sample_from_statistics(rtpengine).has_value()) << "rtpengine: process CPU instead";
    EXPECT_FALSE(lg::sample_from_statistics(statistics_reply({}, 1, 1)).has_value()) << "no workers";
    EXPECT_FALSE(lg::sample_from_statistics(statistics_reply({-5}, 1, 1)).has_value()) << "negative";
}

TEST(RelayUsage, EachWorkersNsPerPacketFromThePacketsOnItsQueue) {
    lg::relay_busy_time b;
    b.busy_seconds = {2.0, 1.0};
    EXPECT_FALSE(b.worker_ns_per_packet(0).has_value()) << "no per-queue counts: no per-worker figure";
    b.worker_packets = {4'000'000, 0};
    ASSERT_TRUE(b.worker_ns_per_packet(0).has_value());
    EXPECT_DOUBLE_EQ(*b.worker_ns_per_packet(0), 500.0);
    EXPECT_FALSE(b.worker_ns_per_packet(1).has_value()) << "no packets on its queue";
    EXPECT_FALSE(b.worker_ns_per_packet(2).has_value()) << "no such worker";
}

TEST(RelayUsage, UtilisationAndNsPerPacket) {
    lg::relay_busy_time b;
    b.busy_seconds = {2.0, 1.0};
    b.relayed = 3'000'000;
    EXPECT_DOUBLE_EQ(b.total_seconds(), 3.0);
    EXPECT_DOUBLE_EQ(b.max_utilisation(10.0), 0.2);
    EXPECT_DOUBLE_EQ(b.mean_utilisation(10.0), 0.15);
    ASSERT_TRUE(b.ns_per_packet().has_value());
    EXPECT_DOUBLE_EQ(*b.ns_per_packet(), 1000.0);
    b.relayed = 0;
    EXPECT_FALSE(b.ns_per_packet().has_value());
    EXPECT_DOUBLE_EQ(b.max_utilisation(0), 0.0);
}

namespace {

TEST(relay_usage, schedstat_lines_parse_and_junk_does_not) {
    const std::optional<lg::sched_times> t = lg::parse_schedstat("123456789 2000 17\n");
    ASSERT_TRUE(t);
    EXPECT_EQ(t->run_ns, 123456789u);
    EXPECT_EQ(t->wait_ns, 2000u);
    EXPECT_FALSE(lg::parse_schedstat(""));
    EXPECT_FALSE(lg::parse_schedstat("12 x 3"));
    EXPECT_FALSE(lg::parse_schedstat("12 34"));
}

// This test process has no DPDK lcore threads: nothing to sum, and a pid that does not exist
// gives nothing either.
TEST(relay_usage, worker_sched_times_needs_lcore_worker_threads) {
    EXPECT_FALSE(lg::worker_sched_times(::getpid()));
    EXPECT_FALSE(lg::worker_sched_times(-1));
}

TEST(relay_usage, on_cpu_share_scales_busy_time_per_packet) {
    lg::relay_busy_time b;
    b.busy_seconds = {0.4, 0.2};
    b.relayed = 1'000'000;
    EXPECT_FALSE(b.on_cpu_ns_per_packet());  // no schedstat figures: no estimate
    b.on_cpu_share = 0.5;
    ASSERT_TRUE(b.on_cpu_ns_per_packet());
    EXPECT_DOUBLE_EQ(*b.on_cpu_ns_per_packet(), 300.0);  // 600 ns busy, half of it on a CPU
}

}  // namespace
