#pragma once
// The control plane's numbers for /metrics, as the control thread last copied them.
// Plain data: the control thread writes it under metrics_exporter's lock, the exposer
// thread copies it under the same lock and renders the copy. Names (interfaces,
// addresses, ports) are filled once at start-up; refreshes only store numbers.

#include <array>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "control/ng/names.h"
#include "control/ng/server.h"
#include "control/recording/recorder.h"
#include "control/session/manager.h"

namespace rtprelay::metrics {

// NG commands as metric labels (control/ng/protocol.def); anything else is `other`, so a
// peer sending garbage cannot grow the label set.
using ng_command = ng::command;
constexpr size_t ng_command_count = ng::command_count;
const char* ng_command_name(ng_command c);

// The reply's `result`: `ok` (and `pong`), `error`, or `load limit`.
enum class ng_result : uint8_t { ok, error, load_limit, count };
constexpr size_t ng_result_count = static_cast<size_t>(ng_result::count);
const char* ng_result_name(ng_result r);

// Upper bounds of the NG request-duration histogram, in seconds (an offer takes
// ~50-200 µs; the top buckets catch a control thread that stalls).
constexpr std::array<double, 14> ng_duration_bounds = {0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                                       0.01,    0.025,  0.05,    0.1,    0.25,  0.5,    1.0};

// Why a new call was refused; the label values of rtprelay_sessions_refused_total.
enum class refused_reason : uint8_t { capacity, cps, ports, draining, policy, count };
constexpr size_t refused_reason_count = static_cast<size_t>(refused_reason::count);
const char* refused_reason_name(refused_reason r);

struct budget_snapshot {
    uint64_t capacity_bps = 0;  // 0 = unlimited
    uint64_t reserved_bps = 0;
    uint64_t calls = 0;       // calls holding a reservation here
    uint64_t call_limit = 0;  // calls that fit in capacity_bps; 0 = unlimited
    double cps_limit = 0;     // new calls per second; 0 = no limit
};

struct address_snapshot {
    std::string address;
    uint64_t ports_free = 0;  // RTP/RTCP port pairs
    uint64_t ports_used = 0;
};

struct interface_snapshot {
    std::string name;
    uint16_t dpdk_port = 0;
    uint16_t vlan = 0;
    budget_snapshot budget;
    std::vector<address_snapshot> addresses;
};

// rte_eth_stats of one DPDK port, plus its link state.
struct port_snapshot {
    uint16_t port_id = 0;
    bool link_up = false;
    uint64_t rx_packets = 0, tx_packets = 0, rx_bytes = 0, tx_bytes = 0;
    uint64_t rx_missed = 0, rx_errors = 0, tx_errors = 0, rx_nombuf = 0;
    uint64_t link_changes = 0;  // up <-> down transitions seen by the link monitor
};

struct ng_request_stats {
    uint64_t requests[ng_command_count][ng_result_count] = {};
    uint64_t duration_buckets[ng_duration_bounds.size() + 1] = {};  // per bucket, last = +Inf
    double duration_sum = 0;                                        // seconds
    uint64_t duration_count = 0;
};

// The recorder's counters, copied on the control thread (recorder::counters).
using recording_snapshot = recording::recorder_counters;

struct control_snapshot {
    std::chrono::steady_clock::time_point taken{};  // epoch = never refreshed yet

    uint64_t calls_created = 0;
    uint64_t calls_closed[static_cast<size_t>(close_reason::count)] = {};
    uint64_t calls_refused[refused_reason_count] = {};

    bool has_admission = false;
    budget_snapshot node;
    bool draining = false;
    std::vector<interface_snapshot> interfaces;

    ng_request_stats ng;
    ng::ng_server_counters ng_server;

    uint64_t flows = 0;
    std::vector<port_snapshot> ports;
    uint64_t mbufs_in_use = 0;
    uint64_t mbufs_total = 0;

    recording_snapshot recording;  // zeros when recording is not configured
};

}  // namespace rtprelay::metrics
