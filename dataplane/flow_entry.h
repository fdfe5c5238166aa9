#pragma once
// The one header both planes share: what the control plane publishes for every local
// (address, port) it allocated, and the per-stream state a worker owns.
//
// Ownership in one line per field: "ctl: wo" = the control plane writes it (before
// publishing), "dp: ro" = workers only read it. A flow_entry is immutable once published;
// a change (re-INVITE, answer) publishes a new entry under the same key and retires the old
// one through RCU. A stream_state lives from port allocation to release + one RCU grace
// period and keeps its identity across re-publishes, so counters and latching survive.

#include <atomic>
#include <cstdint>

#include "dataplane/block_cache.h"

namespace rtprelay::dp {

namespace srtp {
class context;
}

// Hash key: the local IPv4 address and UDP port a packet is addressed to (both in network
// byte order). Hashed whole, so padding must be zero. 8 bytes.
struct flow_key {
    uint32_t local_addr = 0;
    uint16_t local_port = 0;
    uint16_t zero = 0;
};
static_assert(sizeof(flow_key) == 8);

enum class flow_kind : uint8_t { rtp = 0, rtcp = 1 };

// An IPv4 endpoint packed into one word so that a worker can publish it with one store:
// address (network order) in bits 16..47, port (network order) in bits 0..15.
// 0 means "none".
constexpr uint64_t pack_endpoint(uint32_t addr_be, uint16_t port_be) {
    return (static_cast<uint64_t>(addr_be) << 16) | port_be;
}
constexpr uint32_t endpoint_addr(uint64_t ep) { return static_cast<uint32_t>(ep >> 16); }
constexpr uint16_t endpoint_port(uint64_t ep) { return static_cast<uint16_t>(ep & 0xffff); }

// Per-stream mutable state, one per local (address, port). Written only by the worker that
// owns the stream (flow_entry::owner); read by the control plane (query, timeouts) and by
// the worker that forwards the opposite direction (it reads `latched` to know where to
// send). One cache line so that no two streams' owners write the same line.
struct alignas(64) stream_state : block_cached<stream_state> {
    // dp: wo (owner worker), dp other worker: ro, ctl: ro. Source the stream latched to.
    std::atomic<uint64_t> latched{0};
    // dp: wo (owner), ctl: ro. Packets/bytes received on this port and forwarded.
    std::atomic<uint64_t> packets{0};
    std::atomic<uint64_t> bytes{0};
    // dp: wo (owner), ctl: ro. Packets received on this port and dropped (any reason).
    std::atomic<uint64_t> errors{0};
    // dp: wo (owner), ctl: ro. rte_get_tsc_cycles() of the last packet received.
    std::atomic<uint64_t> last_rx_tsc{0};
    // dp: rw (owner only). Plain RTP: TSC of the last packet from the latched source or the
    // SDP address; one after a learning window opened closes it, and a stranger may latch
    // only once it is a while old (latch.h). SRTP: when `latched` was last set.
    uint64_t heard_tsc = 0;
    // dp: rw (owner only). Authentication budget for doubtful SRTP/SRTCP packets: the TSC
    // tokens were last topped up at, and tokens left (at most auth_budget_burst) (latch.h).
    // Zero = full on first use.
    uint64_t auth_budget_tsc = 0;
    uint8_t auth_budget = 0;
    // dp: rw (owner only). Plain RTP probation of a new source (latch.h): sequential
    // packets seen from the candidate, whether the latch was won by probation (the SDP
    // address may take it back inside the window), the candidate's last sequence number and
    // a 32-bit hash of its source and SSRC (0 = none).
    uint8_t probation_count : 7 = 0;
    uint8_t latched_by_probation : 1 = 0;
    uint16_t probation_seq = 0;
    uint32_t probation_key = 0;
};
static_assert(sizeof(stream_state) == 64);

// A resolved (or to-be-resolved) next hop. Created by the control plane, never freed while
// the relay runs (the table is fixed-size), so flow entries may point at it.
struct alignas(64) neighbour {
    uint32_t addr = 0;     // ctl: wo at creation; dp: ro. Next-hop IPv4, network order.
    uint16_t port_id = 0;  // ctl: wo at creation; dp: ro. DPDK port it is reached by.
    // ctl: wo, dp: ro. MAC in the low 48 bits (byte 0 of the address in bits 0..7);
    // bit 63 set = valid. 0 = unresolved.
    std::atomic<uint64_t> mac{0};
    // dp: wo (any worker, only while unresolved), ctl: ro+wo. Set when a packet needed this
    // neighbour and found it unresolved; the control plane sends ARP requests for it.
    std::atomic<uint32_t> wanted{0};
};
constexpr uint64_t neighbour_valid = 1ull << 63;

enum flow_flags : uint8_t {
    flow_strict_source = 1 << 0,  // drop packets whose source is not the expected/latched one
    flow_learn = 1 << 1,          // latch to the source of received packets (symmetric RTP);
                                  // when and to what: dataplane/latch.h
    flow_rtcp_mux = 1 << 2,       // RTP port also carries RTCP (RFC 5761): classify per packet
    flow_any_source = 1 << 3,     // forked answers share this port: a plain leg takes every
                                  // branch's media, latching only the first (latch.h)
    flow_opaque = 1 << 4,         // not RTP (T.38 UDPTL): probation reads the 16-bit
                                  // sequence number that starts each datagram (latch.h)
};

enum forward_mode : uint8_t {
    forward_off = 0,     // stream disabled (port 0) or not relayed: count and drop
    forward_on = 1,
    forward_no_key = 2,  // an SRTP leg whose keys are not known yet (offer sent, no answer)
};

// SRTP contexts of a flow, indexed by packet kind (0 = RTP, 1 = RTCP). Each context is used
// by exactly one flow entry, whose owner worker is the only thread that touches it.
enum packet_kind : uint8_t { kind_rtp = 0, kind_rtcp = 1 };

// What a worker needs to forward one packet received on `key`, with no other lookup in the
// common case. All fields ctl: wo (before publish), dp: ro.
struct alignas(64) flow_entry : block_cached<flow_entry> {
    stream_state* self = nullptr;            // this port's state (owner worker writes it)
    const stream_state* sibling = nullptr;   // the other leg's state (its `latched` is our destination)
    const neighbour* sdp_next_hop = nullptr; // next hop for sdp_dest (gateway or on-link peer); may be null
    // dp: rw (owner worker only: ROC, replay window), ctl: creates before publish, frees after
    // grace. Null = that side is plain RTP. in: authenticate/decrypt what arrives here;
    // out: encrypt/tag what leaves toward the other leg.
    srtp::context* srtp_in[2] = {nullptr, nullptr};
    srtp::context* srtp_out[2] = {nullptr, nullptr};

    uint64_t sdp_dest = 0;       // packed endpoint from the other leg's SDP; 0 = not known yet
    uint64_t expected_src = 0;   // packed endpoint from this leg's SDP; 0 = unknown
    // Learning window of a plain RTP leg (latch.h), in rte_rdtsc() cycles: opened when this
    // entry was published (offer/answer), closed at learn_until_tsc. 0/0 = no window.
    uint64_t learn_from_tsc = 0;
    uint64_t learn_until_tsc = 0;

    uint32_t out_src_addr = 0;   // the other leg's local address (network order)
    uint16_t out_src_port = 0;   // the other leg's local port (network order)
    uint16_t out_port_id = 0;    // egress DPDK port (the other leg's interface)
    uint32_t gateway = 0;        // other leg's interface gateway (network order), 0 = all on-link
    uint32_t onlink_net = 0;     // other leg's interface subnet (network order), for next-hop choice
    uint32_t onlink_mask = 0;    // its mask (network order)
    uint16_t vlan = 0;           // egress VLAN id, 0 = untagged
    uint16_t in_port_id = 0;     // DPDK port this leg's interface receives on

    flow_kind kind = flow_kind::rtp;
    uint8_t flags = 0;           // flow_flags
    uint8_t owner = 0;           // index of the worker that owns `self` and the SRTP contexts
    uint8_t forward = forward_off;  // forward_mode
    uint8_t iface = 0;           // logical interface of this leg (< counted_interfaces): counters
    // An RTCP port's RTP port on the same leg (same owner): a NAT'd peer's RTCP may latch
    // only from the address its RTP latched to (latch.h). Null on RTP ports.
    const stream_state* rtp_of_leg = nullptr;
};
static_assert(sizeof(flow_entry) == 128, "flow entry: two cache lines");

}  // namespace rtprelay::dp
