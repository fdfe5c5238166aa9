#pragma once
// Where SRTP contexts (srtp.h) live: blocks of their own, one size class per block, carved in
// the order the control plane creates contexts, instead of the general heap.
//
// Why: at 10k+ calls a packet waits for its two contexts' lines (not in cache), and what it
// waits for depends on where the contexts sit. From the general heap they sit between the
// control plane's objects of each call (sessions, SDES state, flow bookkeeping: ~4.5 KB per
// call), so the spacing of consecutive calls' contexts, and with it how a burst's 64 contexts
// spread over cache sets and 4 KB pages, moved with every control-plane struct that grew or
// shrank: the pipeline bench's SRTP <-> SRTP figure moved by 4-5% with no change on the
// packet path (bench/RESULTS.md). Here an AES_CM_128 RTP context takes 320 bytes next to the
// previous one, so a burst of 32 calls reads its contexts from 40 KB (one or two 2 MB pages
// where transparent huge pages are on, ~10 4 KB pages otherwise), whatever else a call holds.
//
// Size classes: the allocation rounded up to 64 bytes (128 for an SRTCP context, 320 for an
// AES_CM_128 RTP one, ~1.2 KB for AES-GCM), up to max_bytes; each class has its own blocks
// (block_bytes, aligned to block_bytes so that a context's block, and its class, is found
// from its address) and a free list. Freed contexts are reused by the next of their size;
// blocks are never returned (as the SSRC pool: the relay's calls come back).
//
// Threads: control plane only (make_context and the destruction of a context after RCU), under
// one mutex; workers never allocate or free a context. Cost: one lock and a pointer bump or
// pop per context; a new block (mmap, madvise) every 6,553 AES_CM_128 RTP contexts. Memory: at
// least one 2 MB block per context size in use (4 MB for AES_CM_128 calls).
#include <cstddef>
#include <cstdint>
#include <mutex>

namespace rtprelay::dp::srtp::detail {

class context_pool {
 public:
    static constexpr size_t align = 64;                     // a context is cache-line aligned
    static constexpr size_t max_bytes = 4096;               // larger: a block of its own
    static constexpr size_t block_bytes = 2 * 1024 * 1024;  // per class; a header line, then contexts

    // The process-wide pool (never destroyed: contexts may outlive static destructors).
    static context_pool& instance();

    // Control plane: `bytes` of storage aligned to `align`. Throws std::bad_alloc.
    void* allocate(size_t bytes);
    // Control plane: storage from allocate() (its size is read from its block).
    void release(void* p) noexcept;

    // For the pipeline report: bytes of live contexts (rounded to their class), and of blocks
    // mapped so far.
    size_t in_use_bytes() const;
    size_t reserved_bytes() const;

 private:
    struct free_node {
        free_node* next;
    };
    struct size_class {
        uint8_t* next = nullptr;  // where the current block's unused part begins
        uint8_t* end = nullptr;
        free_node* free = nullptr;
    };
    // The first line of every block.
    struct block_header {
        uint32_t unit_bytes;  // the class's allocation size; 0: a block holding one large context
        uint32_t blocks;      // that block's length in block_bytes
    };
    static constexpr size_t n_classes = max_bytes / align;

    context_pool() = default;
    static block_header* header_of(void* p) noexcept;

    mutable std::mutex mutex_;
    size_class classes_[n_classes + 1];
    size_t in_use_ = 0;
    size_t reserved_ = 0;
};

}  // namespace rtprelay::dp::srtp::detail
