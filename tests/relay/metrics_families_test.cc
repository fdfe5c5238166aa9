// render(): every line of dataplane/worker_counters.def becomes its Prometheus sample, with
// its family's HELP; worker-scope lines one sample per worker.

#include "relay/metrics_families.h"

#include <gtest/gtest.h>

#include <map>
#include <string>

namespace rtprelay::metrics {
namespace {

using prometheus::MetricFamily;

const MetricFamily* find(const std::vector<MetricFamily>& all, std::string_view name) {
    for (const MetricFamily& f : all) {
        if (f.name == name) {
            return &f;
        }
    }
    return nullptr;
}

// The family's samples by their labels ("" when unlabelled, else "name=value,...").
std::map<std::string, double> samples(const MetricFamily& f) {
    std::map<std::string, double> out;
    for (const auto& m : f.metric) {
        std::string key;
        for (const auto& l : m.label) {
            key += (key.empty() ? "" : ",") + l.name + "=" + l.value;
        }
        out[key] = f.type == prometheus::MetricType::Counter ? m.counter.value : m.gauge.value;
    }
    return out;
}

TEST(metrics_render, every_listed_counter_is_exported) {
    const uint64_t hz = 2'000'000'000;
    std::vector<dp::worker_counters> workers(2);
    uint64_t v = 1;
    for (auto& w : workers) {
        for (const dp::counter_info& c : dp::worker_counter_list) {
            w.*c.field = hz * v++;  // whole seconds when read as TSC cycles
        }
    }
    const dp::worker_counters sum = dp::sum(workers.data(), workers.size());
    const std::vector<MetricFamily> out = render(sum, workers, hz, control_snapshot{}, {});
    for (const dp::counter_info& c : dp::worker_counter_list) {
        const MetricFamily* f = find(out, c.metric);
        ASSERT_NE(f, nullptr) << c.metric;
        EXPECT_FALSE(f->help.empty()) << c.metric;
        EXPECT_EQ(f->type, prometheus::MetricType::Counter) << c.metric;
        const auto s = samples(*f);
        const double scale = c.unit == dp::counter_unit::tsc ? 1.0 / static_cast<double>(hz) : 1.0;
        if (c.scope == dp::counter_scope::worker) {
            EXPECT_EQ(s.size(), 2u) << c.metric;
            EXPECT_EQ(s.at("worker=0"), static_cast<double>(workers[0].*c.field) * scale) << c.metric;
            EXPECT_EQ(s.at("worker=1"), static_cast<double>(workers[1].*c.field) * scale) << c.metric;
        } else {
            ASSERT_TRUE(s.count(std::string(c.label))) << c.metric << "{" << c.label << "}";
            EXPECT_EQ(s.at(std::string(c.label)), static_cast<double>(sum.*c.field) * scale) << c.metric;
        }
    }
    ASSERT_NE(find(out, "rtprelay_handoff_packets_total"), nullptr);
    EXPECT_EQ(samples(*find(out, "rtprelay_packets_relayed_total")).size(), 2u) << "kind=rtp and kind=rtcp";
}

TEST(metrics_render, each_drop_reason_has_its_description) {
    const std::vector<MetricFamily> out = render({}, {}, 1, control_snapshot{}, {});
    const MetricFamily* info = find(out, "rtprelay_drop_reason_info");
    ASSERT_NE(info, nullptr);
    const auto s = samples(*info);
    ASSERT_EQ(s.size(), dp::drop_reason_count);
    for (size_t r = 0; r < dp::drop_reason_count; ++r) {
        const auto why = static_cast<dp::drop_reason>(r);
        const std::string key = "reason=" + std::string(dp::drop_reason_name(why)) +
                                ",description=" + std::string(dp::drop_reason_text(why));
        EXPECT_EQ(s.count(key), 1u) << key;
    }
    EXPECT_EQ(s.at("reason=tx_full,description=egress queue full"), 1);
}

}  // namespace
}  // namespace rtprelay::metrics
