#pragma once
// Renders what /metrics reports: the summed data plane counters, the per-worker poll
// counters and the control plane snapshot become Prometheus metric families. A pure
// function of its inputs, run on the exposer thread at scrape time.
//
// Naming: prefix rtprelay_, base units (bytes, bits per second, seconds), counters end in
// _total, every family has HELP. Every label value that can be known in advance (drop
// reasons, close and refusal reasons, NG commands and results) is always present, zero
// included, so rate() sees the first event.

#include <chrono>
#include <cstdint>
#include <vector>

#include <prometheus/metric_family.h>

#include "dataplane/counters.h"
#include "relay/metrics_snapshot.h"

namespace rtprelay::metrics {

struct worker_polls {
    uint64_t polls = 0;
    uint64_t busy_polls = 0;
};

std::vector<prometheus::MetricFamily> render(const dp::worker_counters& sum, const std::vector<worker_polls>& workers,
                                             const control_snapshot& control,
                                             std::chrono::steady_clock::time_point now);

}  // namespace rtprelay::metrics
