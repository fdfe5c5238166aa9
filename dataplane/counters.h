#pragma once
// Per-worker data plane counters. Each worker writes only its own block (one cache-aligned
// struct per lcore); the control plane sums all blocks when it reports. Plain uint64
// increments: a reader may see a value one update old, never a torn one (aligned 8-byte
// loads and stores are atomic on x86-64).

#include <array>
#include <cstdint>
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
std::string_view drop_reason_text(drop_reason r);

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
    uint64_t bytes = 0;   // Ethernet frames as they arrived (rx) or left (tx), VLAN tag included
};
// [DPDK port][direction][kind]: 1 KiB per worker; a call's packets touch two of its lines.
using traffic_table = std::array<std::array<std::array<traffic_counter, media_kind_count>, traffic_dir_count>, counted_ports>;

struct alignas(64) worker_counters {
    uint64_t rx_packets = 0;        // everything received from the ports
    uint64_t rx_bytes = 0;
    uint64_t relayed_rtp = 0;       // forwarded, by kind of the flow they arrived on
    uint64_t relayed_rtcp = 0;
    uint64_t relayed_bytes = 0;
    uint64_t arp_to_control = 0;    // ARP frames handed to the control plane
    uint64_t icmp_echo_replies = 0;
    uint64_t control_tx = 0;        // frames the control plane asked this worker to send
    uint64_t control_tx_failed = 0; // of those, frames the TX queue refused
    uint64_t handed_off = 0;        // packets passed to the owning worker
    uint64_t polls = 0;             // loop turns
    uint64_t busy_polls = 0;        // loop turns that received at least one packet
    uint64_t recording_dropped = 0; // recorded packets relayed but not copied: record ring full
    std::array<uint64_t, drop_reason_count> drops{};
    traffic_table traffic{};        // relayed media by port, direction and kind

    uint64_t total_drops() const;
    // Everything that was received and has been accounted for: relayed, dropped, or
    // consumed locally (ARP/ICMP). rx = accounted once the pipeline is idle.
    uint64_t accounted() const;
};

// Sum of every worker's counters: what the control plane reports.
worker_counters sum(const worker_counters* blocks, size_t n);

}  // namespace rtprelay::dp
