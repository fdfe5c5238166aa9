#pragma once
// SSRC -> stream number, built once before streaming and read-only afterwards (so the
// receiver needs no lock). Open addressing over a power-of-two table at most half full:
// one or two probes per lookup, 8 bytes per slot.

#include <cstddef>
#include <cstdint>
#include <vector>

namespace rtprelay::loadgen {

class ssrc_index {
 public:
    static constexpr uint32_t none = UINT32_MAX;

    explicit ssrc_index(size_t expected = 0);
    // False if `ssrc` is already present (the caller picks another one).
    bool insert(uint32_t ssrc, uint32_t stream);
    uint32_t find(uint32_t ssrc) const;  // `none` when absent

 private:
    struct slot {
        uint32_t ssrc = 0;
        uint32_t stream = none;  // none = empty slot
    };
    size_t home(uint32_t ssrc) const;

    std::vector<slot> slots_;
    size_t mask_ = 0;
    size_t size_ = 0;
};

}  // namespace rtprelay::loadgen
