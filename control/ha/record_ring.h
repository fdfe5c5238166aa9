#pragma once
// The control thread's hand-over of call records to the HA agent: a single-producer,
// single-consumer ring of preallocated slots, each holding one flat_record (flat_record.h).
// The control thread (the producer) writes a call's state straight into a slot: no lock,
// no allocation, no system call. The agent (the consumer) takes the slots in order.
//
// Coalescing, as write_queue.h: a call whose earlier record is still in the ring, not yet
// taken, has that slot rewritten in place, so the ring never holds two states of one call
// and Redis never gets an older state after a newer one (what the agent took is written
// before anything it takes later, on one connection). The producer remembers where each
// call's last record went (its position, 1-based; 0 = nowhere) and passes it back to
// claim(). A slot's state says who has it:
//
//   free -> writing (producer fills it) -> ready (published) -> taken (agent reads it) -> free
//   ready -> writing (producer takes it back to rewrite it) -> ready | cancelled
//   cancelled (the call's state went elsewhere: the agent skips it) -> free
//
// The producer and the agent race only on ready -> writing against ready -> taken (one
// compare-and-swap each): the loser sees the other's state. A slot being rewritten stops
// the agent's drain there until the next turn (the producer is a few hundred ns from done).
//
// Memory: slots x sizeof(flat_record) (~2.6 KB), allocated once.

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "control/ha/flat_record.h"

namespace rtprelay::ha {

class record_ring {
 public:
    explicit record_ring(size_t slots);

    // --- producer (control thread) ---
    // The slot to write a call's new state into. `*pos` is where the call's last record
    // went: if that record is still queued its slot comes back (*replaced = true: keep its
    // `queued` time); else a fresh slot, and *pos is set to it. nullptr: the ring is full.
    flat_record* claim(uint64_t* pos, bool* replaced);
    // Hands the claimed slot `pos` to the agent.
    void publish(uint64_t pos);
    // Gives up the claimed slot `pos`: a fresh one is not queued; a rewritten one is
    // skipped by the agent (the call's earlier state is dropped with it).
    void cancel(uint64_t pos);
    // Drops the call's record at `pos` if it is still queued (the agent skips it).
    void drop(uint64_t pos);
    // Whether at least `mark` records are published and not yet taken. Reads tail_ (the
    // agent's line: a cache miss) only when the last value read says the ring may be that
    // full, i.e. at most once per (mark - fill) records; otherwise a subtraction.
    bool filled_to(size_t mark) {
        const uint64_t h = head_.load(std::memory_order_relaxed);
        if (h - tail_seen_ < mark) {
            return false;
        }
        tail_seen_ = tail_.load(std::memory_order_acquire);
        return h - tail_seen_ >= mark;
    }

    // --- consumer (agent thread) ---
    // Calls f(const flat_record&) for each published slot in order, at most `max`, and
    // frees them; stops at a slot the producer is rewriting. Returns how many it took;
    // *skipped (if given) counts the cancelled slots it freed.
    template <class F>
    size_t drain(F&& f, size_t max, size_t* skipped = nullptr);

    // Any thread: records published and not yet taken (cancelled ones included).
    size_t size() const {
        return static_cast<size_t>(head_.load(std::memory_order_acquire) - tail_.load(std::memory_order_acquire));
    }
    size_t capacity() const { return n_; }
    // Any thread: positions up to this one have been taken (or skipped) by the agent.
    uint64_t taken_up_to() const { return tail_.load(std::memory_order_acquire); }

 private:
    enum state : uint8_t { free_slot, writing, ready, taken, cancelled };
    struct alignas(64) slot {
        std::atomic<uint8_t> st{free_slot};  // producer and agent: the transitions above
        flat_record rec;                     // producer wo while writing; agent ro while taken
    };
    slot& at(uint64_t pos) { return slots_[(pos - 1) % n_]; }

    const size_t n_;
    std::unique_ptr<slot[]> slots_;
    std::vector<uint64_t> filled_;  // producer only: the position each slot was last claimed for
    // Producer only: tail_ as last read. tail_'s line is the agent's; reading it on every
    // claim cost a cache miss. It only grows, so a stale value is safe: positions up to it
    // are surely taken, and the ring is full only if it still is after a fresh read.
    uint64_t tail_seen_ = 0;
    // Positions: the ring holds (tail_, head_]; position p lives in slot (p - 1) % n_.
    alignas(64) std::atomic<uint64_t> head_{0};  // producer wo, agent ro: last published position
    alignas(64) std::atomic<uint64_t> tail_{0};  // agent wo, producer ro: last position freed
};

template <class F>
size_t record_ring::drain(F&& f, size_t max, size_t* skipped) {
    uint64_t t = tail_.load(std::memory_order_relaxed);
    const uint64_t h = head_.load(std::memory_order_acquire);
    size_t took = 0;
    while (t < h && took < max) {
        slot& s = at(t + 1);
        uint8_t st = s.st.load(std::memory_order_acquire);
        if (st == ready) {
            if (t + 1 < h) {
                prefetch_flat(&at(t + 2).rec);  // read while this one is encoded
            }
            if (!s.st.compare_exchange_strong(st, taken, std::memory_order_acquire)) {
                break;  // the producer took it back to rewrite it: next turn
            }
            f(static_cast<const flat_record&>(s.rec));
            ++took;
        } else if (st != cancelled) {
            break;  // writing: being rewritten
        } else if (skipped != nullptr) {
            ++*skipped;
        }
        s.st.store(free_slot, std::memory_order_relaxed);
        tail_.store(++t, std::memory_order_release);  // orders our reads of rec before its reuse
    }
    return took;
}

}  // namespace rtprelay::ha
