#include "dataplane/srtp/ssrc_pool.h"

#include <cstring>
#include <new>

namespace rtprelay::dp::srtp::detail {

namespace {
// Where a worker starts looking: the block it last took a chunk from (no shared hint to write).
thread_local uint32_t next_block = 0;
}  // namespace

ssrc_pool& ssrc_pool::instance() {
    static ssrc_pool* pool = new ssrc_pool();
    return *pool;
}

void ssrc_pool::grow_locked() {
    const uint32_t n = n_blocks_.load(std::memory_order_relaxed);
    if (n == max_blocks) {
        return;  // the supply stays as it is: claims fail once it is used up
    }
    block* b = new block();
    blocks_[n].store(b, std::memory_order_release);
    n_blocks_.store(n + 1, std::memory_order_release);
    free_.fetch_add(chunks_per_block, std::memory_order_relaxed);
}

void ssrc_pool::context_created() {
    const uint64_t live = live_contexts_.fetch_add(1, std::memory_order_relaxed) + 1;
    const int64_t want = static_cast<int64_t>(live / contexts_per_chunk + spare_chunks);
    if (free_.load(std::memory_order_relaxed) >= want) {
        return;  // the common case: no lock
    }
    std::lock_guard<std::mutex> lock(grow_mutex_);
    while (free_.load(std::memory_order_relaxed) < want && n_blocks_.load(std::memory_order_relaxed) < max_blocks) {
        grow_locked();
    }
}

void ssrc_pool::context_destroyed() noexcept { live_contexts_.fetch_sub(1, std::memory_order_relaxed); }

ssrc_pool::chunk* ssrc_pool::claim(uint32_t* id) noexcept {
    if (!maybe_available()) {
        return nullptr;
    }
    const uint32_t n = n_blocks_.load(std::memory_order_acquire);
    for (uint32_t i = 0; i < n; ++i) {
        const uint32_t bi = (next_block + i) % n;
        block* b = blocks_[bi].load(std::memory_order_acquire);
        uint64_t mask = b->free_mask.load(std::memory_order_relaxed);
        while (mask != 0) {
            const uint32_t bit = static_cast<uint32_t>(__builtin_ctzll(mask));
            if (b->free_mask.compare_exchange_weak(mask, mask & ~(uint64_t{1} << bit), std::memory_order_acquire,
                                                   std::memory_order_relaxed)) {
                free_.fetch_sub(1, std::memory_order_relaxed);
                next_block = bi;
                *id = bi * chunks_per_block + bit;
                return &b->chunks[bit];
            }
        }
    }
    return nullptr;
}

void ssrc_pool::release(uint32_t id) noexcept {
    block* b = blocks_[id / chunks_per_block].load(std::memory_order_acquire);
    const uint32_t bit = id % chunks_per_block;
    // Zeroed before it is free: the next owner finds empty slots (its windows say empty).
    std::memset(static_cast<void*>(&b->chunks[bit]), 0, sizeof(chunk));
    b->free_mask.fetch_or(uint64_t{1} << bit, std::memory_order_release);
    free_.fetch_add(1, std::memory_order_relaxed);
}

uint32_t ssrc_pool::hold_all_but(int64_t chunks, uint32_t* held, uint32_t max_held) noexcept {
    uint32_t n = 0;
    while (n < max_held && free_chunks() > chunks) {
        if (claim(&held[n]) == nullptr) {
            break;
        }
        ++n;
    }
    return n;
}

}  // namespace rtprelay::dp::srtp::detail
