#pragma once
// Renders what /metrics reports: the data plane counters (summed, and per worker for the
// worker-scope lines of dataplane/worker_counters.def) and the control plane snapshot become
// Prometheus metric families. A pure function of its inputs, run on the exposer thread at
// scrape time.
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

// `sum` is the sum of `workers` (one block per worker, in worker order), kept monotonic by
// the caller; `tsc_hz` turns TSC-cycle counters into seconds.
std::vector<prometheus::MetricFamily> render(const dp::worker_counters& sum,
                                             const std::vector<dp::worker_counters>& workers, uint64_t tsc_hz,
                                             const control_snapshot& control,
                                             std::chrono::steady_clock::time_point now);

}  // namespace rtprelay::metrics
