#include "bench/loadgen/tx_lane.h"

#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include <algorithm>
#include <stdexcept>
#include <string>
#include <utility>

namespace rtprelay::loadgen {

tx_lane::tx_lane(uint16_t queue, uint32_t capacity)
    : queue_(queue), capacity_(capacity), frames_(capacity), ns_(capacity) {
    if (capacity == 0 || (capacity & (capacity - 1)) != 0) {
        throw std::invalid_argument("tx_lane: capacity " + std::to_string(capacity) + " is not a power of two");
    }
}

tx_lane::tx_lane(tx_lane&& o) noexcept
    : queue_(o.queue_),
      capacity_(o.capacity_),
      frames_(std::move(o.frames_)),
      ns_(std::move(o.ns_)),
      head_(o.head_),
      count_(o.count_),
      taken_(o.taken_) {
    o.count_ = 0;
}

tx_lane::~tx_lane() {
    for (uint32_t i = 0; i < count_; ++i) {
        rte_pktmbuf_free(frames_[(head_ + i) & (capacity_ - 1)]);
    }
}

uint32_t tx_lane::flush(uint16_t port_id, uint16_t burst, int64_t now, int64_t hold_ns) {
    while (count_ > 0) {
        const uint32_t contiguous = std::min(count_, capacity_ - head_);
        const auto want = static_cast<uint16_t>(std::min<uint32_t>(contiguous, burst));
        const uint16_t n = rte_eth_tx_burst(port_id, queue_, frames_.data() + head_, want);
        head_ = (head_ + n) & (capacity_ - 1);
        count_ -= n;
        taken_ += n;
        if (n < want) {
            break;  // the link is full: try again next turn
        }
    }
    // Only what the link refused is dropped, once it has waited hold_ns: a frame that waited
    // because the loop itself was descheduled goes out (late, which its latency and the
    // lateness count show), it is not the relay's loss.
    uint32_t dropped = 0;
    while (count_ > 0 && now - ns_[head_] > hold_ns) {
        rte_pktmbuf_free(frames_[head_]);
        ++dropped;
        head_ = (head_ + 1) & (capacity_ - 1);
        --count_;
    }
    return dropped;
}

}  // namespace rtprelay::loadgen
