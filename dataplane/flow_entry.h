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
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>

#include <rte_byteorder.h>

#include "dataplane/block_cache.h"

namespace rtprelay::dp {

namespace srtp {
class context;
}

// Hash key: the local address and UDP port a packet is addressed to (network byte order).
// IPv4: local_addr is the address, v6_slot 0. IPv6: local_addr 0 and v6_slot = 1 + the
// address's index among local_addresses' IPv6 entries (classify() finds it, the publisher
// asks the same table): the key stays 8 bytes and one jhash round for both families, where
// a 128-bit address would double both for IPv4 too. Hashed whole, so padding must be zero.
struct flow_key {
    uint32_t local_addr = 0;
    uint16_t local_port = 0;
    uint16_t v6_slot = 0;
};
static_assert(sizeof(flow_key) == 8);

enum class flow_kind : uint8_t { rtp = 0, rtcp = 1 };

// An endpoint packed into one word so that a worker can publish it with one store. 0 means
// "none".
// IPv4: address (network order) in bits 16..47, port (network order) in bits 0..15.
// IPv6: bit 63 (endpoint_v6) set, port in bits 0..15 and a 32-bit fold of the address in
// bits 16..47; the address itself is elsewhere (stream_addr6 for a latched source,
// flow_entry_v6 for the SDP's). Equal words of two IPv6 endpoints are a hint, never proof:
// route.h compares the full address before it treats two as the same (v6_source()).
constexpr uint64_t endpoint_v6 = 1ull << 63;
// Never stored: route.h marks an IPv6 source that equals none of the stream's known
// endpoints with it, so that its word compares unequal to all of them whatever its fold.
constexpr uint64_t endpoint_stranger = 1ull << 62;
constexpr uint64_t pack_endpoint(uint32_t addr_be, uint16_t port_be) {
    return (static_cast<uint64_t>(addr_be) << 16) | port_be;
}
constexpr uint32_t endpoint_addr(uint64_t ep) { return static_cast<uint32_t>(ep >> 16); }
constexpr uint16_t endpoint_port(uint64_t ep) { return static_cast<uint16_t>(ep & 0xffff); }
constexpr bool endpoint_is_v6(uint64_t ep) { return (ep & endpoint_v6) != 0; }
// The word of IPv6 endpoint (addr, port_be); addr is 16 bytes, network order.
inline uint64_t pack_endpoint6(const uint8_t* addr, uint16_t port_be) {
    uint32_t w[4];
    std::memcpy(w, addr, sizeof(w));
    return endpoint_v6 | (static_cast<uint64_t>(w[0] ^ w[1] ^ w[2] ^ w[3]) << 16) | port_be;
}

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

// The IPv6 address an IPv6 stream latched to (its stream_state::latched word then has
// endpoint_v6 set and holds the port and a fold). Kept apart from stream_state so that IPv4
// streams keep their one line and never touch this one; only streams whose local address
// is IPv6 have it. Published with a sequence counter: the owner bumps `seq` to odd, writes,
// bumps it to even; a reader copies the endpoint and retries while `seq` was odd or moved.
// The owner worker reads its own writes without the counter.
struct alignas(64) stream_addr6 : block_cached<stream_addr6> {
    // dp: wo (owner worker), dp other worker: ro, ctl: ro. Even = stable.
    std::atomic<uint32_t> seq{0};
    // dp: wo (owner worker), dp other worker: ro, ctl: ro; under `seq`. The latched source:
    // address (network order, as two words: each load or store is one instruction) and
    // port (network order).
    std::atomic<uint16_t> port{0};
    std::atomic<uint64_t> addr[2] = {0, 0};

    // Owner worker only.
    void store(const uint8_t* a, uint16_t port_be) {
        uint64_t w[2];
        std::memcpy(w, a, sizeof(w));
        const uint32_t s = seq.load(std::memory_order_relaxed);
        seq.store(s + 1, std::memory_order_relaxed);
        std::atomic_thread_fence(std::memory_order_release);
        addr[0].store(w[0], std::memory_order_relaxed);
        addr[1].store(w[1], std::memory_order_relaxed);
        port.store(port_be, std::memory_order_relaxed);
        seq.store(s + 2, std::memory_order_release);
    }
    // Any thread: copies a consistent endpoint into a (16 bytes) and *port_be; false when
    // the owner kept writing through `tries` attempts (the caller uses another destination).
    bool load(uint8_t* a, uint16_t* port_be, int tries = 4) const {
        for (int i = 0; i < tries; ++i) {
            const uint32_t s1 = seq.load(std::memory_order_acquire);
            const uint64_t w[2] = {addr[0].load(std::memory_order_relaxed), addr[1].load(std::memory_order_relaxed)};
            const uint16_t p = port.load(std::memory_order_relaxed);
            std::atomic_thread_fence(std::memory_order_acquire);
            if ((s1 & 1) == 0 && seq.load(std::memory_order_relaxed) == s1) {
                std::memcpy(a, w, sizeof(w));
                *port_be = p;
                return true;
            }
        }
        return false;
    }
    // The owner's view of its own latched address: true when it is `a`.
    bool holds(const uint8_t* a) const {
        uint64_t w[2];
        std::memcpy(w, a, sizeof(w));
        return addr[0].load(std::memory_order_relaxed) == w[0] && addr[1].load(std::memory_order_relaxed) == w[1];
    }
};

// A resolved (or to-be-resolved) next hop. Created by the control plane, never freed while
// the relay runs (the table is fixed-size), so flow entries may point at it.
struct alignas(64) neighbour {
    uint32_t addr = 0;       // ctl: wo at creation; dp: ro. Next-hop IPv4, network order (0 when v6).
    uint16_t port_id = 0;    // ctl: wo at creation; dp: ro. DPDK port it is reached by.
    bool v6 = false;         // ctl: wo at creation; dp: ro. An IPv6 next hop: addr6, resolved by ND.
    uint8_t addr6[16] = {};  // ctl: wo at creation; dp: ro. Next-hop IPv6, network order.
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
    flow_record_leg_b = 1 << 5,   // recorded (record_id != 0) as the call's second leg: the
                                  // recording's channel 1 (0 = the leg of the first offer)
    flow_recorded = 1 << 6,       // record_id != 0: the worker tests this bit, read with the
                                  // flags route/latch read anyway, not record_id (set_recording)
};

enum forward_mode : uint8_t {
    forward_off = 0,  // stream disabled (port 0) or not relayed: count and drop
    forward_on = 1,
    forward_no_key = 2,  // an SRTP leg whose keys are not known yet (offer sent, no answer)
};

// SRTP contexts of a flow, indexed by packet kind (0 = RTP, 1 = RTCP). Each context is used
// by exactly one flow entry, whose owner worker is the only thread that touches it.
enum packet_kind : uint8_t { kind_rtp = 0, kind_rtcp = 1 };

// The IPv6 part of a flow with an IPv6 side (in6: packets arrive over IPv6; out6: they leave
// over IPv6; both for v6 <-> v6, one of them when bridging): addresses too long for the
// entry's IPv4 fields. A block of its own that the entry owns, so that IPv4 flows keep two
// cache lines and their size, and an IPv4 packet's only cost is the null test of
// flow_entry::v6. All fields ctl: wo (before publish), dp: ro.
struct alignas(64) flow_entry_v6 : block_cached<flow_entry_v6> {
    // First line: what every packet of the flow reads (the source check against the latch,
    // the destination, the rewrite); the second: the SDP source and the gateway, read only
    // before a latch and for peers off the prefix.
    bool in6 = false;
    bool out6 = false;
    bool has_gateway = false;                // out6: false = every peer is on-link
    uint8_t onlink_prefix = 128;             // out6: prefix length of out_src_addr's subnet (on-link peers)
    stream_addr6* self6 = nullptr;           // in6: this stream's latched address (owner worker writes it)
    const stream_addr6* sibling6 = nullptr;  // out6: the other leg's (its latch is our destination); may be null
    uint8_t out_src_addr[16] = {};           // out6: the other leg's local address
    uint8_t sdp_dest[16] = {};               // out6: address of flow_entry::sdp_dest
    uint8_t expected_src[16] = {};           // in6: address of flow_entry::expected_src
    uint8_t gateway[16] = {};                // out6: the other leg's interface's IPv6 gateway (has_gateway)
    // in6, RTCP ports: the latched address of the RTP port of the same leg (same owner), the
    // only one whose strangers' RTCP may latch here (latch.h, route.h v6_source). Null else.
    const stream_addr6* rtp_of_leg6 = nullptr;
};
static_assert(offsetof(flow_entry_v6, sdp_dest) + 16 <= 64, "the per-packet fields share the first line");

// An entry's IPv6 part: owned by the entry, copied with it (a copy of an entry is a new
// entry, as tests make them), tested for null and followed like a pointer.
class flow_v6_part {
 public:
    flow_v6_part() = default;
    flow_v6_part(std::unique_ptr<flow_entry_v6> p) : p_(std::move(p)) {}  // NOLINT: implicit by design
    flow_v6_part(const flow_v6_part& o) : p_(o.p_ ? std::make_unique<flow_entry_v6>(*o.p_) : nullptr) {}
    flow_v6_part(flow_v6_part&&) noexcept = default;
    flow_v6_part& operator=(const flow_v6_part& o) {
        if (this != &o) {
            p_ = o.p_ ? std::make_unique<flow_entry_v6>(*o.p_) : nullptr;
        }
        return *this;
    }
    flow_v6_part& operator=(flow_v6_part&&) noexcept = default;
    const flow_entry_v6* get() const { return p_.get(); }
    const flow_entry_v6* operator->() const { return p_.get(); }
    const flow_entry_v6& operator*() const { return *p_; }
    bool operator==(std::nullptr_t) const { return p_ == nullptr; }
    explicit operator bool() const { return p_ != nullptr; }

 private:
    std::unique_ptr<flow_entry_v6> p_;
};

// What a worker needs to forward one packet received on `key`, with no other lookup in the
// common case. All fields ctl: wo (before publish), dp: ro.
struct alignas(64) flow_entry : block_cached<flow_entry> {
    stream_state* self = nullptr;             // this port's state (owner worker writes it)
    const stream_state* sibling = nullptr;    // the other leg's state (its `latched` is our destination)
    const neighbour* sdp_next_hop = nullptr;  // next hop for sdp_dest (gateway or on-link peer); may be null
    // dp: rw (owner worker only: ROC, replay window), ctl: creates before publish, frees after
    // grace. Null = that side is plain RTP. in: authenticate/decrypt what arrives here;
    // out: encrypt/tag what leaves toward the other leg.
    srtp::context* srtp_in[2] = {nullptr, nullptr};
    srtp::context* srtp_out[2] = {nullptr, nullptr};

    uint64_t sdp_dest = 0;      // packed endpoint from the other leg's SDP; 0 = not known yet (v6: v6->sdp_dest)
    uint64_t expected_src = 0;  // packed endpoint from this leg's SDP; 0 = unknown (v6: v6->expected_src)
    // Learning window of a plain RTP leg (latch.h), in rte_rdtsc() cycles: opened when this
    // entry was published (offer/answer), closed at learn_until_tsc. 0/0 = no window.
    uint64_t learn_from_tsc = 0;
    uint64_t learn_until_tsc = 0;

    uint32_t out_src_addr = 0;  // the other leg's local address (network order)
    uint16_t out_src_port = 0;  // the other leg's local port (network order)
    uint16_t out_port_id = 0;   // egress DPDK port (the other leg's interface)
    uint32_t gateway = 0;       // other leg's interface gateway (network order), 0 = all on-link
    uint16_t vlan = 0;          // egress VLAN id, 0 = untagged
    uint16_t in_port_id = 0;    // DPDK port this leg's interface receives on
    // IPv6 on either side; null for IPv4 <-> IPv4 (route.h and the worker test it once).
    flow_v6_part v6;

    flow_kind kind = flow_kind::rtp;
    uint8_t flags = 0;              // flow_flags
    uint8_t owner = 0;              // index of the worker that owns `self` and the SRTP contexts
    uint8_t forward = forward_off;  // forward_mode
    uint8_t iface = 0;              // logical interface of this leg (< counted_interfaces): counters
    // Prefix length of the other leg's IPv4 subnet: peers whose address shares its first
    // bits with out_src_addr are on-link (next-hop choice). A length, not a mask and a
    // network: the entry has no room for 8 more bytes.
    uint8_t onlink_prefix = 32;
    // Call recording: the id the owner worker puts on the clear copy of every packet it
    // relays from this flow into its record ring (dataplane/record_ring.h); 0 = not recorded.
    // Read only for recorded flows (flow_recorded); written with set_recording().
    // 16 bits because the entry has no more room (it fills the two bytes between
    // onlink_prefix and rtp_of_leg): at most 65,535 recordings at a time
    // (control/recording/controller.cc allocates them). The leg it comes from is
    // flow_record_leg_b.
    uint16_t record_id = 0;
    // An RTCP port's RTP port on the same leg (same owner): a NAT'd peer's RTCP may latch
    // only from the address its RTP latched to (latch.h). Null on RTP ports.
    const stream_state* rtp_of_leg = nullptr;
};
static_assert(sizeof(flow_entry) == 128, "two cache lines: forwarding an IPv4 packet reads both");
static_assert(offsetof(flow_entry, record_id) + sizeof(uint16_t) == offsetof(flow_entry, rtp_of_leg),
              "record_id fills the padding after onlink_prefix: no byte to spare");

// Whether IPv4 address dst (network order) is on the other leg's subnet (flow_entry's
// onlink_prefix bits of out_src_addr), or there is no gateway to go through instead.
inline bool onlink4(const flow_entry& e, uint32_t dst_be) {
    if (e.gateway == 0 || e.onlink_prefix == 0) {
        return true;
    }
    // Compared in host order, where the prefix is the high bits.
    const uint32_t diff = rte_be_to_cpu_32(dst_be ^ e.out_src_addr);
    return e.onlink_prefix >= 32 ? diff == 0 : (diff >> (32 - e.onlink_prefix)) == 0;
}

// Stamps entry `e` with recording `record_id` (0 = not recorded) from leg b (the recording's
// channel 1) or not: record_id and the flow_recorded/flow_record_leg_b bits always together.
inline void set_recording(flow_entry& e, uint16_t record_id, bool leg_b) {
    uint8_t f = static_cast<uint8_t>(e.flags & ~(flow_recorded | flow_record_leg_b));
    if (record_id != 0) {
        f = static_cast<uint8_t>(f | flow_recorded | (leg_b ? flow_record_leg_b : 0));
    }
    e.record_id = record_id;
    e.flags = f;
}

}  // namespace rtprelay::dp
