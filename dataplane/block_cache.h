#pragma once
// Control-plane allocation of the 64-byte-aligned objects every call publishes (flow entries,
// stream states): a per-thread stack of freed blocks of one size in front of the aligned
// operator new. glibc's aligned allocation costs ~1,000 instructions a call and an SRTP
// offer+answer makes and retires a dozen of them (~6% of its instructions, bench/RESULTS.md).
// Workers never allocate or free these objects; a block freed on a thread is reused by that
// thread, and a thread's cached blocks are freed when it exits.

#include <cstddef>
#include <new>

namespace rtprelay::dp {

template <std::size_t Size>
class block_cache {
 public:
    static constexpr std::align_val_t align{64};

    static void* take() {
        cache& c = mine();
        if (c.n != 0) {
            return c.blocks[--c.n];
        }
        return ::operator new(Size, align);
    }
    static void give(void* p) noexcept {
        if (p == nullptr) {
            return;
        }
        cache& c = mine();
        if (c.n < capacity) {
            c.blocks[c.n++] = p;
            return;
        }
        ::operator delete(p, align);
    }
    // Blocks this thread holds for reuse (tests).
    static std::size_t cached() noexcept { return mine().n; }

 private:
    static constexpr std::size_t capacity = 1024;
    struct cache {
        void* blocks[capacity];
        std::size_t n = 0;
        ~cache() {
            while (n != 0) {
                ::operator delete(blocks[--n], align);
            }
        }
    };
    static cache& mine() noexcept {
        thread_local cache c;
        return c;
    }
};

// Base of a 64-aligned type T whose `new`/`delete` go through block_cache (an empty base:
// T's size and layout are unchanged).
template <class T>
struct block_cached {
    static void* operator new(std::size_t n, std::align_val_t a) {
        return n == sizeof(T) ? block_cache<sizeof(T)>::take() : ::operator new(n, a);
    }
    static void operator delete(void* p, std::size_t n, std::align_val_t a) noexcept {
        if (n == sizeof(T)) {
            block_cache<sizeof(T)>::give(p);
        } else {
            ::operator delete(p, a);
        }
    }
};

}  // namespace rtprelay::dp
