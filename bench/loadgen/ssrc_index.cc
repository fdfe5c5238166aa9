#include "bench/loadgen/ssrc_index.h"

#include <bit>

namespace rtprelay::loadgen {

ssrc_index::ssrc_index(size_t expected) {
    const size_t capacity = std::bit_ceil(expected * 2 + 16);
    slots_.resize(capacity);
    mask_ = capacity - 1;
}

size_t ssrc_index::home(uint32_t ssrc) const {
    // Fibonacci hashing: SSRCs are random, but a peer could send sequential ones.
    return static_cast<size_t>((ssrc * 0x9e3779b97f4a7c15ull) >> 32) & mask_;
}

bool ssrc_index::insert(uint32_t ssrc, uint32_t stream) {
    if ((size_ + 1) * 2 > slots_.size()) {
        // Grow: rebuild at twice the size. Only happens before streaming starts.
        ssrc_index bigger(slots_.size());
        for (const slot& s : slots_) {
            if (s.stream != none) {
                bigger.insert(s.ssrc, s.stream);
            }
        }
        *this = std::move(bigger);
    }
    for (size_t i = home(ssrc);; i = (i + 1) & mask_) {
        slot& s = slots_[i];
        if (s.stream == none) {
            s = slot{ssrc, stream};
            ++size_;
            return true;
        }
        if (s.ssrc == ssrc) {
            return false;
        }
    }
}

uint32_t ssrc_index::find(uint32_t ssrc) const {
    for (size_t i = home(ssrc);; i = (i + 1) & mask_) {
        const slot& s = slots_[i];
        if (s.stream == none) {
            return none;
        }
        if (s.ssrc == ssrc) {
            return s.stream;
        }
    }
}

}  // namespace rtprelay::loadgen
