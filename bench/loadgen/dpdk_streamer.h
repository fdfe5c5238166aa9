#pragma once
// The DPDK mode's streaming loop (dpdk_stream.h says what it does and why): one object per
// streaming phase, built on and used by the thread that runs the phase. The send side
// (pacing, frames from the precomputed store, the port queues, ARP) is dpdk_streamer.cc, the
// receive side (demultiplexing, statistics, sampled verification, latency) dpdk_receive.cc.

#include <rte_cycles.h>
#include <rte_ether.h>

#include <netinet/in.h>

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "bench/loadgen/busy_meter.h"
#include "bench/loadgen/call_table.h"
#include "bench/loadgen/clock.h"
#include "bench/loadgen/dpdk_link.h"
#include "bench/loadgen/latency_histogram.h"
#include "bench/loadgen/net_address.h"
#include "bench/loadgen/options.h"
#include "bench/loadgen/packet_store.h"
#include "bench/loadgen/progress_line.h"
#include "bench/loadgen/send_batch.h"
#include "bench/loadgen/srtp_streams.h"
#include "bench/loadgen/stream_index.h"
#include "bench/loadgen/stream_stats.h"
#include "bench/loadgen/udp_frame.h"

struct rte_mbuf;

namespace rtprelay::loadgen::dpdk_detail {

inline constexpr uint16_t burst = 32;
inline constexpr int64_t start_delay_ns = 50'000'000;  // polls (and answers ARP) before packet one
inline constexpr int64_t arp_timeout_ns = 3'000'000'000;
inline constexpr int64_t arp_retry_ns = 100'000'000;
// How long a frame may wait for room on the link: a descheduled relay worker (or generator
// catching up) must not turn into loss at once, but a relay that stays behind must.
inline constexpr int64_t tx_hold_ns = 2'000'000;
// A port's queue is handed over when it holds a full burst, or when its oldest frame has
// waited this long: at low rates a loop turn finds one or two frames due, and a transmit
// call per frame or two costs more than the frames (ring update, barriers, the peer's cache
// lines). 20 us of added latency, 0.1% of a 20-ms packet interval.
inline constexpr int64_t tx_gather_ns = 20'000;
// Rounds of send times kept per call for the latency of returning packets (16 x 20 ms): a
// packet older than that takes its due time instead (an upper bound by the sender's lag).
inline constexpr uint32_t send_time_rounds = 16;
// Slots ahead of the one being sent whose stored packets are prefetched (their templates at
// twice that): at 2 packets a slot, ~100-200 ns of work ahead, about one memory latency.
inline constexpr uint32_t prefetch_ahead = 4;

inline uint32_t ipv4_of(const net_address& a) {
    return reinterpret_cast<const sockaddr_in*>(&a.storage)->sin_addr.s_addr;
}

inline side other(side s) { return s == side::a ? side::b : side::a; }

// CLOCK_MONOTONIC nanoseconds from the TSC: one rdtsc per reading, anchored once.
class tsc_clock {
 public:
    tsc_clock()
        : base_ns_(mono_ns()), base_tsc_(rte_rdtsc()), ns_per_tick_(1e9 / static_cast<double>(rte_get_tsc_hz())) {}
    int64_t now() const { return to_ns(rte_rdtsc()); }
    int64_t to_ns(uint64_t tsc) const {
        return base_ns_ + static_cast<int64_t>(static_cast<double>(tsc - base_tsc_) * ns_per_tick_);
    }
    double ns_per_tick() const { return ns_per_tick_; }

 private:
    int64_t base_ns_;
    uint64_t base_tsc_;
    double ns_per_tick_;
};

// Per stream, what sending one of its packets needs, on one cache line.
struct alignas(64) stream_tx {
    uint8_t header[udp_frame_header_bytes];  // Ethernet, IPv4 (checksum done), UDP (sum 0)
    uint16_t port_index = 0;                 // into dpdk_link::ports()
    uint16_t queue = 0;                      // its TX queue there (dpdk_link::port_state::lanes)
    uint32_t header_sum = 0;                 // the template's pseudo header and UDP header, folded
    uint32_t identity = 0;
    uint32_t body_bytes = 0;  // the identity's stored packet: RTP, or SRTP on an SRTP leg
};
static_assert(sizeof(stream_tx) == 64, "one cache line a stream");

// Per stream, what receiving one of its packets needs besides its statistics: 12 bytes, five
// streams a cache line. (Reading these from the stream's stream_plan, ~200 bytes a stream,
// was one cache miss a packet of its own: 10% of the generator's time at 15,000 calls.)
struct stream_rx {
    uint32_t ssrc = 0;      // network order
    uint32_t identity = 0;  // the store identity the stream sends (its payload says so)
    uint16_t first_seq = 0;
};

// The loop of one streaming phase. Owns nothing of the link; every buffer it needs is sized
// in the constructor, so the loop itself does not allocate.
class dpdk_streamer {
 public:
    dpdk_streamer(dpdk_link& link, const packet_store& store, const stream_set& streams, const options& opt,
                  srtp_receiver* verify);

    // ARP: asks every relay address the streams send to, from the side that sends there,
    // until each port knows the relay's MAC (or --relay-mac gave it). The requests also
    // teach the relay our MACs. Bounded by arp_timeout_ns. With --dpdk-wire there is no
    // relay: frames go to the receiving port's MAC.
    bool resolve(std::string* error);

    // Streams from start_ns to end_ns, then receives until deadline_ns (or everything has
    // arrived). Shows progress on `progress`.
    void run(int64_t start_ns, int64_t end_ns, int64_t deadline_ns, int64_t drain_ns, progress_line* progress);

    const std::vector<stream_sent>& sent() const { return sent_; }
    const std::vector<stream_stats>& stats() const { return stats_; }
    const latency_histogram& latency() const { return latency_; }
    uint64_t skipped() const { return skipped_; }
    uint64_t late() const { return late_; }
    int64_t max_lag_ns() const { return max_lag_ns_; }
    int64_t stopped_ns() const { return stopped_ns_; }
    uint64_t tx_ring_full() const { return tx_ring_full_; }
    uint64_t alloc_failed() const { return alloc_failed_; }
    uint64_t foreign() const { return foreign_; }
    uint64_t misrouted() const { return misrouted_; }
    uint64_t verified() const { return verified_; }
    uint64_t verify_failed() const { return verify_failed_; }
    uint64_t arp_answered() const { return arp_answered_; }
    uint64_t handled() const { return rtp_sent_ + received_; }
    double busy_seconds() const { return static_cast<double>(busy_.busy_tsc()) * clock_.ns_per_tick() / 1e9; }
    double clean_busy_seconds() const {
        return static_cast<double>(busy_.clean_busy_tsc()) * clock_.ns_per_tick() / 1e9;
    }
    uint64_t clean_handled() const { return busy_.clean_handled(); }

 private:
    int64_t due(uint32_t round, uint32_t call) const {
        return start_ns_ + static_cast<int64_t>(round) * period_ns_ + call_offset_ns_[call];
    }

    void advance_slot();
    // The next slot goes unsent (the loop fell behind): counted as skipped for both streams.
    void skip_slot();
    // The last round `call` was sent in (the next slot is call_ of round_): -1 before any.
    int64_t last_round(uint32_t call) const;
    // Where send_ns_ keeps when `call`'s slot of `round` was sent.
    size_t send_ns_index(uint32_t round, uint32_t call) const {
        return static_cast<size_t>(round % send_time_rounds) * calls_ + call;
    }

    // Sends (or skips) every slot due by `now`. True when anything was sent.
    bool send_due(int64_t now, int64_t end_ns, uint32_t rounds);

    void queue_rtp(uint32_t stream, uint32_t round, int64_t now);

    // Prefetches what sending the slot `ahead` slots after the next one will read: its
    // templates at 2 x `ahead`, its stored packets at `ahead` (their address needs the
    // template's identity, prefetched the turn before).
    void prefetch_slot(uint32_t ahead, uint32_t rounds) const;
    // The slot k slots after the next one to send.
    void slot_after(uint32_t k, uint32_t* call, uint32_t* round) const;

    rte_mbuf* next_mbuf();

    // A frame counts as sent once built: taken by the link or dropped for want of room
    // there (which a real link would have dropped at the relay's RX), never both. Per
    // stream that is every slot of its call before the next one to send, less the slots
    // skipped and the frames not built for want of an mbuf (not_sent_): counted at the end,
    // not per packet (a write to a per-stream line per packet, ~4% of the loop).
    void count_sent();

    // Hands the lane's frames to its port in bursts until it takes no more, then drops
    // those the port refused that waited longer than tx_hold_ns.
    void flush(uint16_t port_id, tx_lane& lane, int64_t now);

    void flush_all(int64_t now);

    // After the run: gives the link up to tx_hold_ns for what is still queued.
    void flush_rest();

    // The header template of stream i: relay mode, from our side's address to the relay;
    // wire mode, already as the relay would send it on (from the relay's far side to the
    // receiving side's address, to the receiving port's MAC).
    void write_template(uint32_t i);

    bool resolve_relay(std::string* error);
    void on_arp(dpdk_link::port_state& p, rte_mbuf* m);
    uint32_t poll_rx(int64_t now);
    void on_burst(dpdk_link::port_state& p, uint16_t n, int64_t arrival_ns);
    // The round in which `stream`'s packet with sequence number `seq` was sent (negative:
    // before the first), and when: the slot's recorded time if it is among the last
    // send_time_rounds rounds, else its due time. send_slot is the recorded time's index in
    // send_ns_, or -1.
    int64_t round_of(uint32_t stream, uint16_t seq) const;
    int64_t send_slot(uint32_t stream, int64_t round) const;
    int64_t sent_at(uint32_t stream, int64_t round, int64_t slot) const;

    const tsc_clock clock_;
    dpdk_link& link_;
    const packet_store& store_;
    const stream_set& streams_;
    const options& opt_;
    srtp_receiver* verify_;
    bool wire_;
    uint32_t calls_;
    int64_t period_ns_;
    int64_t late_ns_;
    uint32_t verify_mask_;      // verify packets whose sequence number has these bits clear
    uint32_t checked_streams_;  // streams below this are verified in full
    int64_t start_ns_ = 0;
    uint32_t round_ = 0;  // the next slot to send: call_ of round_
    uint32_t call_ = 0;
    std::vector<stream_tx> tx_;
    std::vector<stream_sent> sent_;
    std::vector<stream_stats> stats_;
    std::vector<stream_rx> rx_;
    std::vector<uint32_t> not_sent_;       // per stream: slots skipped, frames without an mbuf
    std::vector<int64_t> call_offset_ns_;  // per call: its phase in the period
    std::vector<int64_t> send_ns_;         // [round % send_time_rounds][call]: when it was sent
    stream_index sources_;                 // (receiving side, relay address, port) -> stream
    std::array<uint16_t, RTE_MAX_ETHPORTS> port_index_{};
    std::array<rte_mbuf*, 64> mbufs_{};
    uint32_t mbuf_next_ = 0;
    uint32_t mbuf_count_ = 0;
    std::array<rte_mbuf*, burst> rx_pkts_{};
    latency_histogram latency_;
    busy_meter busy_;  // the generator's own cost: units are packets sent or received
    uint64_t rtp_sent_ = 0;
    uint64_t received_ = 0;
    uint64_t skipped_ = 0;
    uint64_t late_ = 0;
    int64_t max_lag_ns_ = 0;
    int64_t stopped_ns_ = 0;
    uint64_t tx_ring_full_ = 0;
    uint64_t alloc_failed_ = 0;
    uint64_t foreign_ = 0;
    uint64_t misrouted_ = 0;
    uint64_t verified_ = 0;
    uint64_t verify_failed_ = 0;
    uint64_t arp_answered_ = 0;
};

}  // namespace rtprelay::loadgen::dpdk_detail
