#include "bench/loadgen/endpoint_index.h"

#include <bit>
#include <utility>

namespace rtprelay::loadgen {

endpoint_index::endpoint_index(size_t expected) {
    const size_t capacity = std::bit_ceil(expected * 2 + 16);
    slots_.resize(capacity);
    mask_ = capacity - 1;
}

bool endpoint_index::insert(side at, uint32_t ip, uint16_t port, uint32_t stream) {
    if ((size_ + 1) * 2 > slots_.size()) {
        // Grow: rebuild at twice the size. Only happens before streaming starts.
        endpoint_index bigger(slots_.size());
        for (const slot& s : slots_) {
            if (s.stream != none) {
                bigger.slots_[bigger.probe(s.key)] = s;
                ++bigger.size_;
            }
        }
        *this = std::move(bigger);
    }
    const uint64_t key = key_of(at, ip, port);
    slot& s = slots_[probe(key)];
    if (s.stream != none) {
        return false;
    }
    s = slot{key, stream};
    ++size_;
    return true;
}

uint32_t endpoint_index::find(side at, uint32_t ip, uint16_t port) const {
    return slots_[probe(key_of(at, ip, port))].stream;
}

// The slot holding `key`, or the empty slot where it would go.
size_t endpoint_index::probe(uint64_t key) const {
    size_t i = home(key);
    while (slots_[i].stream != none && slots_[i].key != key) {
        i = (i + 1) & mask_;
    }
    return i;
}

}  // namespace rtprelay::loadgen
