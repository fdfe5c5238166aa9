#pragma once
// Per stream, the longest time without a packet between two that arrived (a relay's
// failover shows there), and from a mark on (mark_signal.h) the longest such gap that ends
// after the mark: a failover's gap, whatever the generator's own stalls made before it.
// Kept by the socket receiver beside stream_stats (the DPDK mode's per-packet state stays
// as small as it is); owned by the receiver thread, read by main after it has ended.
// Times are CLOCK_MONOTONIC ns; 0 = nothing yet.

#include <cstdint>

namespace rtprelay::loadgen {

class arrival_gaps {
 public:
    // A packet that counted as received (fresh or reordered), in arrival order.
    void on_arrival(int64_t arrival_ns);
    void set_mark(int64_t mark_ns) { mark_ns_ = mark_ns; }

    int64_t longest_gap_ns() const { return longest_gap_ns_; }  // 0 with fewer than two arrivals
    int64_t gap_end_ns() const { return gap_end_ns_; }          // the arrival that ended it
    int64_t last_arrival_ns() const { return last_arrival_ns_; }
    int64_t mark_gap_ns() const { return mark_gap_ns_; }
    int64_t mark_gap_end_ns() const { return mark_gap_end_ns_; }

 private:
    bool any_ = false;
    int64_t last_arrival_ns_ = 0;
    int64_t longest_gap_ns_ = 0;
    int64_t gap_end_ns_ = 0;
    int64_t mark_ns_ = 0;
    int64_t mark_gap_ns_ = 0;
    int64_t mark_gap_end_ns_ = 0;
};

}  // namespace rtprelay::loadgen
