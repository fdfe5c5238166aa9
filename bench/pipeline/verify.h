#pragma once
// What makes a run count: every injected packet came out on the other side, the worker's
// counters say the same with no drop, and every sampled output frame is what the peer on
// that side should receive — addresses and ports from the SDP, valid IPv4 and UDP
// checksums, the sender's RTP payload — after libsrtp2 (independent of the relay's own
// transform) has authenticated and decrypted it under the key the relay's SDP gave that
// peer, on SRTP legs.

#include <cstdint>
#include <string>
#include <vector>

#include "bench/pipeline/options.h"
#include "bench/pipeline/timed_loop.h"
#include "bench/pipeline/topology.h"
#include "dataplane/counters.h"

namespace rtprelay::pipeline {

struct verdict {
    uint64_t samples = 0;
    uint64_t decrypted = 0;             // of those, SRTP frames libsrtp2 accepted
    std::vector<std::string> failures;  // empty = the run counts
};

// `c`: every worker's counters added up. `handoff`: packets may arrive at a worker that
// does not own their stream (--misroute); otherwise a handoff is a failure.
void check_delivery(const loop_totals& t, const dp::worker_counters& c, bool handoff, verdict* v);

// Call srtp_init() once before. Samples must be in output order (libsrtp2 keeps one
// receive session per sampled stream, and its replay window sees them in order);
// `max_packets_per_stream` bounds the rollover counters to try on a stream's first sample.
void check_samples(scenario s, ip_mode ip, const std::vector<call_info>& calls, const rte_ether_addr (&port_macs)[2],
                   const std::vector<output_sample>& samples, uint64_t max_packets_per_stream, verdict* v);

}  // namespace rtprelay::pipeline
