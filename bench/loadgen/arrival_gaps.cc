#include "bench/loadgen/arrival_gaps.h"

namespace rtprelay::loadgen {

void arrival_gaps::on_arrival(int64_t arrival_ns) {
    if (any_) {
        const int64_t gap = arrival_ns - last_arrival_ns_;
        if (gap > longest_gap_ns_) {
            longest_gap_ns_ = gap;
            gap_end_ns_ = arrival_ns;
        }
        if (mark_ns_ != 0 && arrival_ns > mark_ns_ && gap > mark_gap_ns_) {
            mark_gap_ns_ = gap;
            mark_gap_end_ns_ = arrival_ns;
        }
    }
    any_ = true;
    last_arrival_ns_ = arrival_ns;
}

}  // namespace rtprelay::loadgen
