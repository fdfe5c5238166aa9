#include "dataplane/srtp/context_pool.h"

#include <sys/mman.h>

#include <new>

namespace rtprelay::dp::srtp::detail {

context_pool& context_pool::instance() {
    static context_pool* pool = new context_pool();
    return *pool;
}

namespace {

// `len` bytes (a multiple of block_bytes) aligned to block_bytes, advised as transparent huge
// pages (2 MB: one TLB entry for ~6,500 AES_CM_128 RTP contexts; where THP is off the kernel
// ignores the advice and maps 4 KB pages). Throws std::bad_alloc.
void* map_blocks(size_t len) {
    const size_t span = len + context_pool::block_bytes;
    void* m = mmap(nullptr, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) {
        throw std::bad_alloc();
    }
    const uintptr_t start = reinterpret_cast<uintptr_t>(m);
    const uintptr_t aligned = (start + context_pool::block_bytes - 1) & ~uintptr_t{context_pool::block_bytes - 1};
    if (aligned > start) {
        munmap(m, aligned - start);
    }
    const uintptr_t tail = start + span - (aligned + len);
    if (tail > 0) {
        munmap(reinterpret_cast<void*>(aligned + len), tail);
    }
    madvise(reinterpret_cast<void*>(aligned), len, MADV_HUGEPAGE);
    return reinterpret_cast<void*>(aligned);
}

}  // namespace

context_pool::block_header* context_pool::header_of(void* p) noexcept {
    return reinterpret_cast<block_header*>(reinterpret_cast<uintptr_t>(p) & ~uintptr_t{block_bytes - 1});
}

void* context_pool::allocate(size_t bytes) {
    const size_t units = (bytes + align - 1) / align;
    std::lock_guard<std::mutex> lock(mutex_);
    if (units > n_classes) {
        // A block of its own (a context this large is not one of the suites' today).
        const size_t len = (align + units * align + block_bytes - 1) / block_bytes * block_bytes;
        void* b = map_blocks(len);
        reserved_ += len;
        in_use_ += len;
        static_cast<block_header*>(b)->unit_bytes = 0;
        static_cast<block_header*>(b)->blocks = static_cast<uint32_t>(len / block_bytes);
        return static_cast<uint8_t*>(b) + align;
    }
    size_class& c = classes_[units];
    if (c.free != nullptr) {
        free_node* n = c.free;
        c.free = n->next;
        in_use_ += units * align;
        return n;
    }
    if (c.next == nullptr || c.end - c.next < static_cast<ptrdiff_t>(units * align)) {
        void* b = map_blocks(block_bytes);
        reserved_ += block_bytes;
        static_cast<block_header*>(b)->unit_bytes = static_cast<uint32_t>(units * align);
        static_cast<block_header*>(b)->blocks = 1;
        c.next = static_cast<uint8_t*>(b) + align;
        c.end = static_cast<uint8_t*>(b) + block_bytes;
    }
    void* p = c.next;
    c.next += units * align;
    in_use_ += units * align;
    return p;
}

void context_pool::release(void* p) noexcept {
    if (p == nullptr) {
        return;
    }
    block_header* h = header_of(p);
    std::lock_guard<std::mutex> lock(mutex_);
    if (h->unit_bytes == 0) {
        reserved_ -= size_t{h->blocks} * block_bytes;
        in_use_ -= size_t{h->blocks} * block_bytes;
        munmap(h, size_t{h->blocks} * block_bytes);
        return;
    }
    size_class& c = classes_[h->unit_bytes / align];
    in_use_ -= h->unit_bytes;
    free_node* n = static_cast<free_node*>(p);
    n->next = c.free;
    c.free = n;
}

size_t context_pool::in_use_bytes() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return in_use_;
}

size_t context_pool::reserved_bytes() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return reserved_;
}

}  // namespace rtprelay::dp::srtp::detail
