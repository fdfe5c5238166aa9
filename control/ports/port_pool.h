#pragma once
// UDP ports of one media address: even RTP ports with RTCP on port+1, handed out from the
// head of a shuffled queue and returned to its tail. A freed port is not reused until every
// other free port has been (an attacker who learns a port cannot expect it to come back
// soon with someone else's media on it: RTP bleed).

#include <cstdint>
#include <deque>
#include <optional>
#include <random>

namespace rtprelay {

class port_pool {
 public:
    // [min, max] inclusive; the pool holds every even p with min <= p and p + 1 <= max.
    port_pool(uint16_t min, uint16_t max, uint64_t seed);

    std::optional<uint16_t> take();  // an even RTP port; RTCP is the next one
    void give_back(uint16_t rtp_port);

    size_t free() const { return free_.size(); }
    size_t total() const { return total_; }
    size_t used() const { return total_ - free_.size(); }
    uint16_t min() const { return min_; }
    uint16_t max() const { return max_; }

 private:
    std::deque<uint16_t> free_;
    size_t total_ = 0;
    uint16_t min_ = 0;
    uint16_t max_ = 0;
};

}  // namespace rtprelay
