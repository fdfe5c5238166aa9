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
    in_use_.assign(total_, 0);
    queued_.assign(total_, 1);
}

std::optional<size_t> port_pool::slot(uint16_t rtp_port) const {
    const uint32_t first = min_ + (min_ & 1u);
    if ((rtp_port & 1u) != 0 || rtp_port < first) {
        return std::nullopt;
    }
    const size_t i = (rtp_port - first) / 2;
    return i < total_ ? std::optional<size_t>(i) : std::nullopt;
}

std::optional<uint16_t> port_pool::take() {
    while (!free_.empty()) {
        const uint16_t p = free_.front();
        free_.pop_front();
        const size_t i = *slot(p);
        --queued_[i];
        if (in_use_[i] == 0 && queued_[i] == 0) {
            in_use_[i] = 1;
            ++used_;
            return p;
        }
    }
    return std::nullopt;
}

bool port_pool::take_exact(uint16_t rtp_port) {
    const auto i = slot(rtp_port);
    if (!i || in_use_[*i] != 0) {
        return false;
    }
    in_use_[*i] = 1;
    ++used_;
    return true;
}

void port_pool::give_back(uint16_t rtp_port) {
    const auto i = slot(rtp_port);
    if (!i || in_use_[*i] == 0) {
        return;  // not ours, or given back twice: never queue a port twice as free
    }
    in_use_[*i] = 0;
    --used_;
    ++queued_[*i];
    free_.push_back(rtp_port);
}

}  // namespace rtprelay
