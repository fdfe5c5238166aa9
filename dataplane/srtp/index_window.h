#pragma once
// The packet indices of one SSRC seen so far: the highest, and a bitmap of the 128 just
// below and including it. On receive it is RFC 3711's replay list (3.3.2); on send it is the
// list of indices already used, so that no (key, SSRC, index) is ever encrypted twice.
// Works for 48-bit SRTP indices and 31-bit SRTCP indices alike. 32 bytes, no allocation.

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
    uint64_t top() const noexcept { return top_; }

    verdict check(uint64_t index) const noexcept {
        if (!any_ || index > top_) {
            return verdict::fresh;
        }
        const uint64_t back = top_ - index;
        if (back >= size) {
            return verdict::too_old;
        }
        return (bits_[back / 64] >> (back % 64)) & 1 ? verdict::seen : verdict::fresh;
    }

    // Records `index`; check(index) must have said fresh.
    void add(uint64_t index) noexcept {
        if (!any_) {
            any_ = true;
            top_ = index;
            bits_[0] = 1;
            bits_[1] = 0;
            return;
        }
        if (index > top_) {
            shift(index - top_);
            top_ = index;
            bits_[0] |= 1;
            return;
        }
        const uint64_t back = top_ - index;
        bits_[back / 64] |= uint64_t{1} << (back % 64);
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

    uint64_t top_ = 0;
    uint64_t bits_[2] = {0, 0};  // bit k (bits_[k / 64], bit k % 64) set: index top_ - k was added
    bool any_ = false;
};

}  // namespace rtprelay::dp::srtp
