#pragma once
// /metrics for a node of a group (control/ha): Redis health, the record writer, leases,
// takeovers and adopted calls. Read at scrape time on the exposer's threads from the
// agent's and the group's counters (relaxed atomics); nothing on the control thread.

#include <memory>
#include <vector>

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

namespace rtprelay::ha {
class group;
}

namespace rtprelay::metrics {

std::vector<prometheus::MetricFamily> render_group(const ha::group& g);
// `g` must outlive the collectable (the exporter holds it until it goes).
std::shared_ptr<prometheus::Collectable> group_collector(const ha::group& g);

}  // namespace rtprelay::metrics
