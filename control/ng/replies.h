#pragma once
// Every NG reply dict rtprelay sends is built here as a value tree, from plain data the
// handlers gather (protocol.def names each command's reply_<shape>), but for the reply to
// query and delete, which call_stats.h writes straight to bencode (reply.h carries either).
// Keys and shapes are rtpengine's where rtpengine has the command, so tools written for it
// read them unchanged.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "control/ng/bencode.h"
#include "control/ng/call_stats.h"
#include "control/ng/names.h"
#include "control/ng/reply.h"
#include "control/ng/server.h"
#include "control/session/manager.h"
#include "control/session/report.h"
#include "dataplane/counters.h"

namespace rtprelay::ng {

// {"result": "error", "error-reason": reason}: nothing else (rtpengine's rule for errors).
value reply_error(const std::string& reason);
// {"result": "load limit", "message": message}: for proxies that said they handle it.
value reply_load_limit(const std::string& message);

struct pong {};
value reply_pong(pong);
// offer and answer: {"result": "ok", "sdp": ...}.
value reply_sdp(std::string sdp);
// query and delete: reply_call_stats, reply_query (call_stats.h).

// start/stop/pause recording: {"result": "ok"} (rtpengine's).
struct recording_done {};
value reply_recording(recording_done);
// list: {"calls": [call-id, ...]}.
value reply_call_list(std::vector<std::string> call_ids);

struct drain_state {
    bool draining = false;
    uint64_t sessions = 0;
};
value reply_drain_state(const drain_state& d);

struct budget_report {
    std::string name;  // empty for the node
    uint64_t capacity_bps = 0;
    uint64_t reserved_bps = 0;
    uint64_t calls = 0;
    uint64_t calls_capacity = 0;  // calls that fit in capacity_bps; 0 = unlimited
    uint64_t cps_limit = 0;
};
struct capacity_report {
    uint64_t call_bps = 0;
    bool wire = false;  // call-bandwidth = wire: each leg reserves by its family and SRTP
    bool draining = false;
    budget_report node;
    std::vector<budget_report> interfaces;
    std::optional<uint64_t> bandwidth_for_calls;  // the request's `calls`, in bps
    std::optional<uint64_t> calls_for_bandwidth;  // the request's `bandwidth`, in calls
};
value reply_capacity(const capacity_report& c);

// The data plane's part of `statistics`, from the relay: each worker's counter block
// (dataplane_value.h turns them into the "dataplane" dict), flow entries and links.
struct link_report {
    uint16_t port = 0;
    bool up = false;
    uint64_t changes = 0;
};
struct dataplane_report {
    std::vector<dp::worker_counters> blocks;  // one per worker
    uint64_t tsc_hz = 0;                      // for counters kept in TSC cycles
    uint64_t flows = 0;
    std::vector<link_report> links;
    // The logical interfaces' names in index order (logical_interface::index, the row of
    // worker_counters::latch_changes), for "latch changes".
    std::vector<std::string> interface_names;

    dp::worker_counters totals() const { return dp::sum(blocks.data(), blocks.size()); }
};

// Requests from one proxy (by address), for rtpengine's "controlstatistics".
struct proxy_report {
    std::string address;
    std::array<uint64_t, command_count> requests{};
    uint64_t errors = 0;
};

struct statistics_report {
    uint64_t sessions = 0;
    session_totals totals;
    std::vector<interface_report> interfaces;
    std::array<std::array<uint64_t, result_names.size()>, command_count> results{};  // by command, result
    std::vector<proxy_report> proxies;
    std::optional<ng_server_counters> server;
    std::optional<dataplane_report> dataplane;
    int64_t uptime_s = 0;
    // Per second, over the time since the previous statistics request (or the start).
    uint64_t packet_rate = 0;
    uint64_t byte_rate = 0;
    uint64_t error_rate = 0;
    std::optional<value> recording;  // call recording's counters, when it is configured
};
// {"statistics": {rtprelay's counters..., "currentstatistics", "totalstatistics",
// "controlstatistics" (rtpengine's shapes)}}.
value reply_statistics(const statistics_report& s);

// The per-interface port report of `statistics` (also read by `capacity`).
value interfaces_value(const std::vector<interface_report>& interfaces);

}  // namespace rtprelay::ng
