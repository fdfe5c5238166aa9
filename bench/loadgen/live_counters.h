#pragma once
// Running totals for the progress line and for the receiver's early stop. Each field has
// exactly one writer, which publishes once per batch (not per packet); readers take what
// they see. The exact per-stream figures are read only after the threads have ended.

#include <atomic>
#include <cstdint>

namespace rtprelay::loadgen {

struct live_counters {
    std::atomic<uint64_t> rtp_sent{0};       // sender: wo, receiver/main: ro
    std::atomic<uint64_t> rtcp_sent{0};      // sender: wo, receiver/main: ro
    std::atomic<bool> sender_done{false};    // sender: wo (last), receiver: ro
    std::atomic<uint64_t> rtp_received{0};   // receiver: wo (unique packets), main: ro
    std::atomic<uint64_t> rtcp_received{0};  // receiver: wo, main: ro
};

}  // namespace rtprelay::loadgen
