#pragma once
// The streaming phase: a sender and a receiver thread over the planned streams for
// --duration, then a short drain; meanwhile the main thread shows progress and samples the
// relay's CPU. Bounded: it returns by duration + drain whatever the relay does.

#include <string>

#include "bench/loadgen/call_table.h"
#include "bench/loadgen/options.h"
#include "bench/loadgen/progress_line.h"
#include "bench/loadgen/side_sockets.h"
#include "bench/loadgen/summary.h"

namespace rtprelay::loadgen {

// Fills the streaming part of *out (packets, latency, jitter, RTCP, relay CPU). Returns
// false with *error only if the threads could not be started.
bool run_stream_phase(const stream_set& streams, const side_sockets& a, const side_sockets& b,
                      const options& opt, progress_line* progress, run_summary* out,
                      std::string* error);

}  // namespace rtprelay::loadgen
