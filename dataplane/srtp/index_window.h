#pragma once
// The packet indices of one SSRC seen so far: the highest, and a bitmap of the 128 just
// below and including it. On receive it is RFC 3711's replay list (3.3.2); on send it is the
// list of indices already used, so that no (key, SSRC, index) is ever encrypted twice.
// Works for 48-bit SRTP indices and 31-bit SRTCP indices alike. 32 bytes, no allocation.
//
// Threads: the owner worker does everything; the control plane may read top() at any time
// (call records of a group, control/ha), so the highest index is a relaxed atomic: a plain
// load and store on x86, nothing more per packet.

#include <atomic>
#include <cstdint>

namespace rtprelay::dp::srtp {

class index_window {
 public:
    static constexpr uint64_t size = 128;  // indices, including the highest

    enum class verdict : uint8_t {
        fresh,    // not seen, within or ahead of the window
        seen,     // already in the window
        too_old,  // below the window: cannot tell, so treated as seen
    };

    bool empty() const noexcept { return !any_; }
    // Highest index added; meaningful only when !empty().
    uint64_t top() const noexcept { return top_.load(std::memory_order_relaxed); }

    verdict check(uint64_t index) const noexcept {
        const uint64_t top = top_.load(std::memory_order_relaxed);
        if (!any_ || index > top) {
            return verdict::fresh;
        }
        const uint64_t back = top - index;
        if (back >= size) {
            return verdict::too_old;
        }
        return (bits_[back / 64] >> (back % 64)) & 1 ? verdict::seen : verdict::fresh;
    }

    // Records `index`; check(index) must have said fresh.
    void add(uint64_t index) noexcept {
        const uint64_t top = top_.load(std::memory_order_relaxed);
        if (!any_) {
            any_ = true;
            top_.store(index, std::memory_order_relaxed);
            bits_[0] = 1;
            bits_[1] = 0;
            return;
        }
        if (index > top) {
            shift(index - top);
            top_.store(index, std::memory_order_relaxed);
            bits_[0] |= 1;
            return;
        }
        const uint64_t back = top - index;
        bits_[back / 64] |= uint64_t{1} << (back % 64);
    }

    // As if `top` and every index below it had been added: a context made again on another
    // node goes on from there (control/ha). Only before the owner worker sees it.
    void seed(uint64_t top) noexcept {
        any_ = true;
        top_.store(top, std::memory_order_relaxed);
        bits_[0] = bits_[1] = ~uint64_t{0};
    }

 private:
    // Moves the bitmap up by n (> 0) indices: bit k becomes bit k + n.
    void shift(uint64_t n) noexcept {
        if (n >= size) {
            bits_[0] = bits_[1] = 0;
        } else if (n >= 64) {
            bits_[1] = bits_[0] << (n - 64);
            bits_[0] = 0;
        } else {
            bits_[1] = (bits_[1] << n) | (bits_[0] >> (64 - n));
            bits_[0] <<= n;
        }
    }

    std::atomic<uint64_t> top_{0};  // dp: rw (owner), ctl: ro (top())
    uint64_t bits_[2] = {0, 0};     // bit k (bits_[k / 64], bit k % 64) set: index top_ - k was added
    bool any_ = false;
};

}  // namespace rtprelay::dp::srtp
