#pragma once
// Sets the calls up over NG: per call an offer with A's SDP (the reply's SDP says where B
// must send), then an answer with B's SDP (the reply says where A must send). Requests are
// pipelined: each round carries the answers of the previous round's offers and the next
// offers, so hundreds of calls need a handful of round trips.

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "bench/loadgen/call_table.h"
#include "bench/loadgen/options.h"
#include "bench/loadgen/progress_line.h"
#include "bench/loadgen/side_sockets.h"
#include "control/ng/client.h"

namespace rtprelay::loadgen {

// NG requests outstanding at once. A relay answers an offer in ~50-100 us, so 64 queued
// keep it busy for milliseconds; more would overflow a relay's control socket left at the
// default 208 KB receive buffer (a queued datagram costs ~2.3 KB there), and every
// overflow costs a full retransmit timeout.
inline constexpr size_t ng_pipeline_depth = 64;

struct setup_result {
    uint32_t ok = 0;
    uint32_t failed = 0;
    std::string first_error;                    // of the lowest-numbered failed call
    std::map<std::string, uint32_t> by_reason;  // failure reason -> calls
    double seconds = 0;                         // wall time of the whole setup
};

// Fills calls[i].set_up / error / targets. Honours --setup-rate (offers per second).
setup_result set_up_calls(ng::ng_client& client, const options& opt, const side_sockets& a, const side_sockets& b,
                          std::vector<call_record>* calls, progress_line* progress);

// The reason a reply is not a success: "" for result "ok", else error-reason (or the
// result itself, e.g. "load limit").
std::string reply_failure(const ng::value* reply);

}  // namespace rtprelay::loadgen
