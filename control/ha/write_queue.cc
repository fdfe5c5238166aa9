#include "control/ha/write_queue.h"

#include <utility>

namespace rtprelay::ha {

write_queue::result write_queue::push(write_op op, steady::time_point now) {
    const bool per_call = op.what != write_op::kind::forget;
    if (per_call) {
        auto it = by_call_.find(op.call_id);
        if (it != by_call_.end()) {
            write_op& old = ops_[it->second];
            old.what = op.what;
            old.record = std::move(op.record);
            old.token = op.token;
            return result::replaced;
        }
    }
    if (ops_.size() >= limit_) {
        return result::full;
    }
    op.queued = now;
    ops_.push_back(std::move(op));
    if (per_call) {
        by_call_.emplace(ops_.back().call_id, ops_.size() - 1);
    }
    return result::queued;
}

std::deque<write_op> write_queue::take() {
    by_call_.clear();  // before the views it holds move away with ops_
    return std::exchange(ops_, {});
}

}  // namespace rtprelay::ha
