#include "bench/loadgen/stream_index.h"

#include <bit>
#include <utility>

namespace rtprelay::loadgen {

stream_index::stream_index(size_t expected) {
    const size_t capacity = std::bit_ceil(expected * 2 + 16);
    slots_.resize(capacity);
    mask_ = capacity - 1;
    shift_ = 64 - std::countr_zero(capacity);
}

bool stream_index::insert(uint64_t key, uint32_t stream) {
    if ((size_ + 1) * 2 > slots_.size()) {
        // Grow: rebuild at twice the size. Only happens before streaming starts.
        stream_index bigger(slots_.size());
        for (const slot& s : slots_) {
            if (s.stream != none) {
                bigger.slots_[bigger.probe(s.key)] = s;
                ++bigger.size_;
            }
        }
        *this = std::move(bigger);
    }
    slot& s = slots_[probe(key)];
    if (s.stream != none) {
        return false;
    }
    s = slot{key, stream};
    ++size_;
    return true;
}

uint32_t stream_index::find(uint64_t key) const { return slots_[probe(key)].stream; }

// The slot holding `key`, or the empty slot where it would go.
size_t stream_index::probe(uint64_t key) const {
    size_t i = home(key);
    while (slots_[i].stream != none && slots_[i].key != key) {
        i = (i + 1) & mask_;
    }
    return i;
}

}  // namespace rtprelay::loadgen
