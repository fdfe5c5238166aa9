#include "control/ha/record_ring.h"

#include <stdexcept>

namespace rtprelay::ha {

record_ring::record_ring(size_t slots) : n_(slots), slots_(new slot[slots]), filled_(slots, 0) {
    if (slots == 0) {
        throw std::invalid_argument("record ring: no slots");
    }
}

flat_record* record_ring::claim(uint64_t* pos, bool* replaced) {
    if (*pos > tail_seen_ && filled_[(*pos - 1) % n_] == *pos) {
        // Still the call's slot (we have not reused it): ours again unless the agent took it.
        slot& s = at(*pos);
        uint8_t st = ready;
        if (s.st.compare_exchange_strong(st, writing, std::memory_order_acquire)) {
            *replaced = true;
            return &s.rec;
        }
    }
    const uint64_t h = head_.load(std::memory_order_relaxed);
    if (h - tail_seen_ >= n_) {
        tail_seen_ = tail_.load(std::memory_order_acquire);
        if (h - tail_seen_ >= n_) {
            return nullptr;
        }
    }
    slot& s = at(h + 1);
    // Free: the agent freed it before it moved tail_ past it (read with acquire into tail_seen_).
    s.st.store(writing, std::memory_order_relaxed);
    filled_[h % n_] = h + 1;
    // The next fresh slot, on its way for the next record (an NG request or more away):
    // its lines are cold (last used a ring's length ago) and would be missed one by one.
    prefetch_flat(&at(h + 2).rec);
    *pos = h + 1;
    *replaced = false;
    return &s.rec;
}

void record_ring::publish(uint64_t pos) {
    at(pos).st.store(ready, std::memory_order_release);
    if (pos > head_.load(std::memory_order_relaxed)) {
        head_.store(pos, std::memory_order_release);
    }
}

void record_ring::drop(uint64_t pos) {
    if (pos <= tail_seen_ || filled_[(pos - 1) % n_] != pos) {
        return;
    }
    uint8_t st = ready;
    at(pos).st.compare_exchange_strong(st, cancelled, std::memory_order_acq_rel);
}

void record_ring::cancel(uint64_t pos) {
    if (pos > head_.load(std::memory_order_relaxed)) {
        at(pos).st.store(free_slot, std::memory_order_relaxed);  // never published
        filled_[(pos - 1) % n_] = 0;
        return;
    }
    at(pos).st.store(cancelled, std::memory_order_release);
}

}  // namespace rtprelay::ha
