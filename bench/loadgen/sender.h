#pragma once
// The sending thread: every call sends one packet each way per ptime, the calls' phases
// spread evenly over the period so the relay sees a steady rate rather than one burst
// every 20 ms. Packets due at the same wake-up are batched per socket (sendmmsg).

#include <cstdint>
#include <vector>

#include "bench/loadgen/call_table.h"
#include "bench/loadgen/live_counters.h"
#include "bench/loadgen/send_batch.h"
#include "bench/loadgen/side_sockets.h"

namespace rtprelay::loadgen {

class srtp_sender;

struct sender_config {
    uint32_t payload_bytes = 160;
    uint32_t ptime_ms = 20;
    bool rtcp = false;            // one SR per stream every rtcp_interval
    int64_t start_ns = 0;         // CLOCK_MONOTONIC: first packet of call 0
    int64_t end_ns = 0;           // nothing is sent at or after this
    int64_t late_ns = 1'000'000;  // a packet sent more than this after its due time is late
    srtp_sender* srtp = nullptr;  // --srtp: protects every RTP packet (sender thread's own)
};

inline constexpr int64_t rtcp_interval_ns = 5'000'000'000;

class sender {
 public:
    sender(const stream_set& streams, const side_sockets& a, const side_sockets& b, const sender_config& config,
           live_counters* live);

    // Sends until config.end_ns (or a stop signal), then sets live->sender_done.
    void run();

    // Valid after run() has returned.
    const std::vector<stream_sent>& sent() const { return sent_; }
    uint64_t send_errors() const { return send_errors_; }
    int64_t max_lag_ns() const { return max_lag_ns_; }  // worst lateness of a packet vs schedule
    uint64_t skipped() const { return skipped_; }       // packets not sent: over a period late
    uint64_t late() const { return late_; }             // packets sent over config.late_ns late
    int64_t stopped_ns() const { return stopped_ns_; }  // when sending ended

 private:
    int64_t rtp_due(uint64_t slot) const;
    int64_t rtcp_due(uint64_t slot) const;
    send_batch& batch_for(side from, uint32_t socket, bool rtcp);
    void queue_rtp(uint32_t stream, uint64_t round);
    void queue_rtcp(uint32_t stream, int64_t now);
    void flush(send_batch& batch);
    void flush_all();  // and publish the totals

    const stream_set& streams_;
    sender_config config_;
    live_counters* live_;
    uint64_t calls_;  // streams / 2
    int64_t period_ns_;
    uint32_t ticks_per_packet_;  // RTP timestamp increment
    uint32_t sockets_;
    std::vector<send_batch> batches_;  // [side][socket][rtp, rtcp]
    std::vector<stream_sent> sent_;
    uint64_t rtp_sent_ = 0;
    uint64_t rtcp_sent_ = 0;
    uint64_t send_errors_ = 0;
    int64_t max_lag_ns_ = 0;
    uint64_t skipped_ = 0;
    uint64_t late_ = 0;
    int64_t stopped_ns_ = 0;
};

}  // namespace rtprelay::loadgen
