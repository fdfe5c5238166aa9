#pragma once
// Where an SRTP context keeps the state of its second to eighth SSRC. Almost every stream
// has one SSRC for its whole life, so a context holds one slot inline (40 bytes) and takes a
// chunk of seven more from this pool the first time an authenticated packet (or a packet it
// is asked to protect) brings a second SSRC. Seven inline slots per context were 280 bytes,
// x4 contexts per SRTP leg.
//
// Supply: the pool only grows, and only on the control plane: make_context() keeps at least
// one free chunk for every 8 live native contexts (+ 64), in blocks of 64 chunks (18 KB). A
// worker that needs a chunk when none is free gets ssrc_limit, as a context with all
// max_ssrcs slots taken does today; nothing is evicted (forgetting an SSRC re-opens replays
// and keystream reuse).
//
// Threads: claim() runs on a worker, once per context at most, after the packet that needs
// it passed every check (unprotect: after its tag). It is lock-free: one CAS on a block's
// free mask and a decrement of the shared free count, so it writes a cache line other
// workers may write, but only on a new SSRC, never per packet. release() runs on the
// control plane when the context is destroyed (after RCU): it zeroes the chunk, then frees it.

#include <atomic>
#include <cstdint>
#include <mutex>

#include "dataplane/srtp/index_window.h"

namespace rtprelay::dp::srtp {

struct ssrc_slot {
    uint32_t ssrc = 0;
    index_window seen;  // unprotect: replay window; protect: indices sent
};

namespace detail {

class ssrc_pool {
 public:
    static constexpr uint32_t chunk_slots = 7;         // max_ssrcs - 1 (checked in srtp.cc)
    static constexpr uint32_t chunks_per_block = 64;   // one free-mask word
    static constexpr uint32_t max_blocks = 8192;       // 524,288 chunks: 4M contexts at 1 in 8
    static constexpr uint32_t contexts_per_chunk = 8;  // supply kept free: live contexts / 8
    static constexpr uint32_t spare_chunks = 64;       // + this

    struct chunk {
        ssrc_slot slots[chunk_slots];
    };

    // The process-wide pool (never destroyed: contexts may outlive static destructors).
    static ssrc_pool& instance();

    // Control plane, from make_context / ~context of a native context. context_created may
    // allocate a block (throws std::bad_alloc if it cannot).
    void context_created();
    void context_destroyed() noexcept;

    // Any thread. False when no chunk is free now (a claim would fail).
    bool maybe_available() const noexcept { return free_.load(std::memory_order_relaxed) > 0; }
    // Worker: a zeroed chunk and its id, or nullptr when none is free.
    chunk* claim(uint32_t* id) noexcept;
    // Control plane: zeroes chunk `id` and returns it to the pool.
    void release(uint32_t id) noexcept;

    // For tests and the pipeline report: chunks free now.
    int64_t free_chunks() const noexcept { return free_.load(std::memory_order_relaxed); }
    // Tests: keep no more than `chunks` free chunks by claiming the rest (returned ids in
    // `held`, up to `max_held`); lets a test reach the exhausted state. Returns how many.
    uint32_t hold_all_but(int64_t chunks, uint32_t* held, uint32_t max_held) noexcept;

 private:
    struct block {
        std::atomic<uint64_t> free_mask{~uint64_t{0}};  // bit k set: chunks[k] is free
        chunk chunks[chunks_per_block];
    };

    ssrc_pool() = default;
    void grow_locked();

    std::atomic<block*> blocks_[max_blocks]{};
    std::atomic<uint32_t> n_blocks_{0};
    std::atomic<int64_t> free_{0};
    std::mutex grow_mutex_;                   // control plane only: one grower at a time
    std::atomic<uint64_t> live_contexts_{0};  // native contexts alive
};

}  // namespace detail
}  // namespace rtprelay::dp::srtp
