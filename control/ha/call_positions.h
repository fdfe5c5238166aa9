#pragma once
// The control thread's map from a call (by address) to where its last record was queued
// for the HA agent (group.h: queued_). One look-up per call change, one per close.
//
// Open addressing with linear probing in one array of (call, position) pairs, erased by
// shifting the entries behind back (no tombstones): a look-up is a multiply, a shift and
// usually one cache line, where std::unordered_map took a division, its bucket array and
// a node of its own (and an allocation per call): ~0.3-0.4 us per look-up with cold lines,
// ~2-3% of an offer+answer pair on the control thread (bench/RESULTS.md). Grows (doubles)
// past half full; never shrinks. Not thread-safe: the control thread's alone.

#include <cstddef>
#include <cstdint>
#include <vector>

namespace rtprelay {
struct call;
}

namespace rtprelay::ha {

class call_positions {
 public:
    call_positions() : slots_(min_slots) {}

    // The call's position, made 0 (nowhere) if it had none. Valid until the next at() or
    // take().
    uint64_t& at(const call* c) {
        if (2 * (size_ + 1) > slots_.size()) {
            grow();
        }
        size_t i = home(c);
        while (slots_[i].key != nullptr) {
            if (slots_[i].key == c) {
                return slots_[i].pos;
            }
            i = (i + 1) & mask();
        }
        slots_[i] = {c, 0};
        ++size_;
        return slots_[i].pos;
    }

    // The call's position (0 when it had none), and its entry gone (if any).
    uint64_t take(const call* c) {
        size_t i = home(c);
        while (slots_[i].key != nullptr) {
            if (slots_[i].key == c) {
                const uint64_t pos = slots_[i].pos;
                remove_at(i);
                return pos;
            }
            i = (i + 1) & mask();
        }
        return 0;
    }

    size_t size() const { return size_; }

 private:
    struct entry {
        const call* key = nullptr;
        uint64_t pos = 0;
    };
    static constexpr size_t min_slots = 64;

    size_t mask() const { return slots_.size() - 1; }
    // Fibonacci hashing of the address (its low bits are the allocator's alignment).
    size_t home(const call* c) const {
        const uint64_t h = reinterpret_cast<uintptr_t>(c) * 0x9E3779B97F4A7C15ull;
        return static_cast<size_t>(h >> (64 - bits_));
    }
    // Empties slot i and moves back each later entry of the run that the hole would cut off
    // from its home slot, so that every entry stays reachable from its home without gaps.
    void remove_at(size_t i) {
        size_t hole = i;
        for (size_t j = (i + 1) & mask(); slots_[j].key != nullptr; j = (j + 1) & mask()) {
            const size_t h = home(slots_[j].key);
            // j's entry may fill the hole unless its home lies cyclically in (hole, j].
            const bool home_after_hole = hole <= j ? (hole < h && h <= j) : (hole < h || h <= j);
            if (!home_after_hole) {
                slots_[hole] = slots_[j];
                hole = j;
            }
        }
        slots_[hole] = {};
        --size_;
    }
    void grow() {
        std::vector<entry> old(slots_.size() * 2);
        old.swap(slots_);
        ++bits_;
        size_ = 0;
        for (const entry& e : old) {
            if (e.key != nullptr) {
                at(e.key) = e.pos;
            }
        }
    }

    std::vector<entry> slots_;
    unsigned bits_ = 6;  // log2(slots_.size())
    size_t size_ = 0;
};

}  // namespace rtprelay::ha
