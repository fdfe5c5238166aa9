#include "control/ports/port_pool.h"

#include <algorithm>
#include <vector>

namespace rtprelay {

port_pool::port_pool(uint16_t min, uint16_t max, uint64_t seed) : min_(min), max_(max) {
    std::vector<uint16_t> ports;
    for (uint32_t p = min + (min & 1u); p + 1 <= max; p += 2) {
        ports.push_back(static_cast<uint16_t>(p));
    }
    std::mt19937_64 rng(seed);
    std::shuffle(ports.begin(), ports.end(), rng);
    free_.assign(ports.begin(), ports.end());
    total_ = ports.size();
}

std::optional<uint16_t> port_pool::take() {
    if (free_.empty()) {
        return std::nullopt;
    }
    const uint16_t p = free_.front();
    free_.pop_front();
    return p;
}

void port_pool::give_back(uint16_t rtp_port) { free_.push_back(rtp_port); }

}  // namespace rtprelay
