#pragma once
// Per-worker data plane counters. Each worker writes only its own block (one cache-aligned
// struct per lcore); the control plane sums all blocks when it reports. Plain uint64
// increments: a reader may see a value one update old, never a torn one (aligned 8-byte
// loads and stores are atomic on x86-64).

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

namespace rtprelay::dp {

enum class drop_reason : uint8_t {
#define DROP_REASON(name, text) name,
#include "dataplane/drop_reasons.def"
#undef DROP_REASON
    count
};
constexpr size_t drop_reason_count = static_cast<size_t>(drop_reason::count);

std::string_view drop_reason_name(drop_reason r);
// What the reason means, for operators (Prometheus, rtprelay-ctl statistics).
std::string_view drop_reason_text(drop_reason r);
// The reason named `name`, if there is one.
std::optional<drop_reason> drop_reason_of(std::string_view name);

// Media traffic breakdown: what a packet was on the wire on one side of the relay. A
// bridged call's packet is `rtp` where it arrives and `srtp` where it leaves.
enum class media_kind : uint8_t { rtp, rtcp, srtp, srtcp, count };
constexpr size_t media_kind_count = static_cast<size_t>(media_kind::count);
std::string_view media_kind_name(media_kind k);
constexpr media_kind media_kind_of(bool rtcp, bool srtp) {
    return static_cast<media_kind>((rtcp ? 1 : 0) + (srtp ? 2 : 0));
}

// rx: received on the port and relayed (counted when handed to TX; a later tx_full drop is
// not taken back here). tx: sent out of the port (taken back when the TX queue refuses it).
enum class traffic_dir : uint8_t { rx, tx, count };
constexpr size_t traffic_dir_count = static_cast<size_t>(traffic_dir::count);

// DPDK port ids the traffic breakdown covers (dp::max_ports must not exceed it).
constexpr uint16_t counted_ports = 8;

struct traffic_counter {
    uint64_t packets = 0;
    uint64_t bytes = 0;  // Ethernet frames as they arrived (rx) or left (tx), VLAN tag included
};
// [DPDK port][direction][kind]: 1 KiB per worker; a call's packets touch two of its lines.
using traffic_table =
    std::array<std::array<std::array<traffic_counter, media_kind_count>, traffic_dir_count>, counted_ports>;

// Latch changes (dataplane/latch.h), by kind: a stream's first latch; a move on a plain
// leg (a new source after probation, or the SDP address taking a leg back inside its
// window); a re-latch on an SRTP leg after an authenticated packet from a new address.
enum class latch_kind : uint8_t { first, plain_move, srtp_relatch, count };
constexpr size_t latch_kind_count = static_cast<size_t>(latch_kind::count);
std::string_view latch_kind_name(latch_kind k);

// Logical interfaces the latch counters cover (flow_entry::iface); the control plane refuses
// more.
constexpr uint16_t counted_interfaces = 16;
// [interface][kind]: 384 bytes per worker, touched only when a latch changes.
using latch_table = std::array<std::array<uint64_t, latch_kind_count>, counted_interfaces>;

// What each line of worker_counters.def says about its counter besides the field.
enum class counter_scope : uint8_t { node, worker };
enum class counter_unit : uint8_t { count, tsc };

struct alignas(64) worker_counters {
    // One uint64 per line of worker_counters.def, in its order (that file says what each is).
#define WORKER_COUNTER(field, scope, unit, key, metric, label, help) uint64_t field = 0;
#include "dataplane/worker_counters.def"
#undef WORKER_COUNTER
    std::array<uint64_t, drop_reason_count> drops{};
    traffic_table traffic{};      // relayed media by port, direction and kind
    latch_table latch_changes{};  // latches set or moved, by interface and kind

    uint64_t total_drops() const;
    // Everything that was received and has been accounted for: relayed, dropped, or
    // consumed locally (ARP/ICMP). rx = accounted once the pipeline is idle.
    uint64_t accounted() const;
};

// One line of worker_counters.def: how the control plane reads, names and exports a field.
struct counter_info {
    uint64_t worker_counters::*field;
    counter_scope scope;
    counter_unit unit;
    std::string_view key;     // NG `statistics` name; the log writes it with '_' for ' '
    std::string_view metric;  // Prometheus family (shared by consecutive lines)
    std::string_view label;   // "name=value" of this line's sample, or ""
    std::string_view help;    // the family's HELP, on its first line only
};

inline constexpr counter_info worker_counter_list[] = {
#define WORKER_COUNTER(field, scope, unit, key, metric, label, help) \
    {&worker_counters::field, counter_scope::scope, counter_unit::unit, key, metric, label, help},
#include "dataplane/worker_counters.def"
#undef WORKER_COUNTER
};

// Sum of every worker's counters: what the control plane reports.
worker_counters sum(const worker_counters* blocks, size_t n);

}  // namespace rtprelay::dp
