#pragma once
// What the receiver learns about one direction of one call: unique packets, duplicates,
// reordering (from extended sequence numbers), RFC 3550 interarrival jitter, and the longest
// time without a packet between two that arrived (a relay's failover shows there). Loss is
// computed at the end against what the sender counted, so a lost tail is seen too.
// Owned by the receiver thread; read by main only after that thread has ended.

#include <array>
#include <cstdint>

namespace rtprelay::loadgen {

class stream_stats {
 public:
    // first_seq/first_ts: what the sender starts with (it is our own stream).
    void start(uint16_t first_seq, uint32_t first_ts, uint32_t clock_rate_hz);

    enum class verdict : uint8_t { fresh, reordered, duplicate, too_old };
    // One RTP packet in arrival order. Duplicates and too-old packets change nothing but
    // their counter; the caller records latency only for fresh and reordered ones.
    verdict on_rtp(uint16_t seq, uint32_t rtp_ts, int64_t arrival_ns);
    void on_rtcp() { ++rtcp_received_; }

    uint64_t received() const { return received_; }  // unique packets
    uint64_t duplicates() const { return duplicates_; }
    uint64_t reordered() const { return reordered_; }
    uint64_t too_old() const { return too_old_; }  // older than the window: not counted
    uint64_t rtcp_received() const { return rtcp_received_; }
    double jitter_ns() const { return jitter_ns_; }
    // Arrival times (CLOCK_MONOTONIC ns; 0 before anything arrived): the longest time between two
    // consecutive arrivals (0 with fewer than two), the arrival that ended it, the last one.
    int64_t longest_gap_ns() const { return longest_gap_ns_; }
    int64_t gap_end_ns() const { return gap_end_ns_; }
    int64_t last_arrival_ns() const { return last_arrival_ns_; }
    // From set_mark() on (mark_signal.h), also the longest gap that ends after the mark and
    // the arrival that ended it (0 = none yet): a failover's gap, whatever came before.
    void set_mark(int64_t mark_ns) { mark_ns_ = mark_ns; }
    int64_t mark_gap_ns() const { return mark_gap_ns_; }
    int64_t mark_gap_end_ns() const { return mark_gap_end_ns_; }

 private:
    // Duplicate detection remembers the last 1024 sequence numbers: 20 s at 50 packets/s,
    // 128 bytes per stream.
    static constexpr int64_t window = 1024;

    bool test_and_set(int64_t ext);
    void clear_range(int64_t from, int64_t to);  // [from, to)

    std::array<uint64_t, window / 64> seen_{};
    int64_t max_ext_ = 0;  // highest extended sequence number so far
    uint32_t first_ts_ = 0;
    double ns_per_tick_ = 0;
    bool have_transit_ = false;
    double last_transit_ns_ = 0;
    double jitter_ns_ = 0;
    int64_t last_arrival_ns_ = 0;
    int64_t longest_gap_ns_ = 0;
    int64_t gap_end_ns_ = 0;
    int64_t mark_ns_ = 0;
    int64_t mark_gap_ns_ = 0;
    int64_t mark_gap_end_ns_ = 0;
    uint64_t received_ = 0;
    uint64_t duplicates_ = 0;
    uint64_t reordered_ = 0;
    uint64_t too_old_ = 0;
    uint64_t rtcp_received_ = 0;
};

}  // namespace rtprelay::loadgen
