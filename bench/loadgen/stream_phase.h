#pragma once
// The streaming phase: a sender and a receiver thread over the planned streams for
// --duration, then a short drain; meanwhile the main thread shows progress and samples the
// relay's CPU (and, when the relay reports them, its workers' poll counters). With --srtp
// every packet is protected and unprotected (srtp_streams.h). Bounded: it returns by duration + drain whatever the relay does.

#include <string>

#include "bench/loadgen/call_table.h"
#include "bench/loadgen/options.h"
#include "bench/loadgen/progress_line.h"
#include "bench/loadgen/side_sockets.h"
#include "bench/loadgen/summary.h"
#include "control/ng/client.h"

namespace rtprelay::loadgen {

// Fills the streaming part of *out (packets, latency, jitter, RTCP, SRTP, relay CPU and
// polls). `client` asks the relay for its poll counters (may be null). Returns false with
// *error only if the threads (or the SRTP contexts) could not be set up.
bool run_stream_phase(const stream_set& streams, const side_sockets& a, const side_sockets& b, const options& opt,
                      ng::ng_client* client, progress_line* progress, run_summary* out, std::string* error);

}  // namespace rtprelay::loadgen
