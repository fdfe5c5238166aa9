#pragma once
// What the receiver learns about one direction of one call: unique packets, duplicates,
// reordering (from extended sequence numbers) and RFC 3550 interarrival jitter. Loss is
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
    uint64_t received_ = 0;
    uint64_t duplicates_ = 0;
    uint64_t reordered_ = 0;
    uint64_t too_old_ = 0;
    uint64_t rtcp_received_ = 0;
};

}  // namespace rtprelay::loadgen
