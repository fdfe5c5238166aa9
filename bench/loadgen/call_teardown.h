#pragma once
// After streaming: NG `query` for every call that was set up, summing what the relay says
// it relayed (its own counters, independent of ours), then `delete` for every call the
// relay accepted. Pipelined like the setup.

#include <cstdint>
#include <string>
#include <vector>

#include "bench/loadgen/call_table.h"
#include "bench/loadgen/options.h"
#include "control/ng/client.h"

namespace rtprelay::loadgen {

struct relay_totals {
    uint32_t queried = 0;  // calls whose query returned "ok"
    uint32_t query_failed = 0;
    std::string first_query_error;
    uint64_t rtp_packets = 0;  // reply "totals" -> "RTP" -> "packets", summed over calls
    uint64_t rtp_bytes = 0;
    uint64_t rtp_errors = 0;
    uint64_t rtcp_packets = 0;
    uint64_t rtcp_bytes = 0;
    uint64_t rtcp_errors = 0;
};

relay_totals query_calls(ng::ng_client& client, const options& opt, const std::vector<call_record>& calls);

// rtpengine's reply layout: totals: {RTP: {packets, bytes, errors}, RTCP: {...}}. Missing
// keys count as zero. Adds one reply into *t.
void add_query_reply(const ng::value& reply, relay_totals* t);

struct delete_result {
    uint32_t deleted = 0;
    uint32_t failed = 0;
    std::string first_error;
};

delete_result delete_calls(ng::ng_client& client, const options& opt, const std::vector<call_record>& calls);

}  // namespace rtprelay::loadgen
