#pragma once
// UDP ports of one media address: even RTP ports with RTCP on port+1, handed out from the
// head of a shuffled queue and returned to its tail. A freed port is not reused until every
// other free port has been (an attacker who learns a port cannot expect it to come back
// soon with someone else's media on it: RTP bleed).
//
// take_exact() claims one given port (a call adopted from another node of the group keeps
// the ports its SDP named). It leaves the port's queue entry where it is; take() skips an
// entry whose port is in use or that has a newer entry behind it, so a port is handed out
// only from its newest (tail-most) entry and the tail rule holds after adoption too.

#include <cstdint>
#include <deque>
#include <optional>
#include <random>
#include <vector>

namespace rtprelay {

class port_pool {
 public:
    // [min, max] inclusive; the pool holds every even p with min <= p and p + 1 <= max.
    port_pool(uint16_t min, uint16_t max, uint64_t seed);

    std::optional<uint16_t> take();  // an even RTP port; RTCP is the next one
    // Claims `rtp_port`; false when it is not one of the pool's ports or is in use.
    bool take_exact(uint16_t rtp_port);
    void give_back(uint16_t rtp_port);

    size_t free() const { return total_ - used_; }
    size_t total() const { return total_; }
    size_t used() const { return used_; }
    uint16_t min() const { return min_; }
    uint16_t max() const { return max_; }

 private:
    // Slot of an even port in the vectors below; nullopt when outside the pool.
    std::optional<size_t> slot(uint16_t rtp_port) const;

    std::deque<uint16_t> free_;     // queue order; may hold stale entries (see above)
    std::vector<uint8_t> in_use_;   // per even port
    std::vector<uint16_t> queued_;  // entries of that port in free_
    size_t total_ = 0;
    size_t used_ = 0;
    uint16_t min_ = 0;
    uint16_t max_ = 0;
};

}  // namespace rtprelay
