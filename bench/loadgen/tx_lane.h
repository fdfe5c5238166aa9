#pragma once
// One TX queue of one of the generator's DPDK ports (--dpdk), with the frames built for it
// and not yet taken: a circular queue of `capacity` frames and the time each was built. When
// the far side of the link is full, frames wait here at most a hold time and are then
// dropped (what a real link would have dropped at the relay's RX).
//
// With --dpdk-queues N a port has N lanes, lane q feeding TX queue q: the relay worker that
// owns a stream polls the matching queue of its memif port (options.h). A lane counts the
// frames its queue took, which is what that worker received when nothing is handed off.
//
// Streaming thread only. Sized once; pushing and flushing do not allocate.

#include <cstdint>
#include <vector>

struct rte_mbuf;

namespace rtprelay::loadgen {

class tx_lane {
 public:
    // `capacity`: a power of two (positions are masked, not divided: a division per frame
    // costs ~25 cycles).
    tx_lane(uint16_t queue, uint32_t capacity);
    ~tx_lane();  // frees the frames still waiting
    // A moved-from lane holds no frames (its destructor frees nothing).
    tx_lane(tx_lane&& o) noexcept;
    tx_lane(const tx_lane&) = delete;
    tx_lane& operator=(const tx_lane&) = delete;
    tx_lane& operator=(tx_lane&&) = delete;

    uint16_t queue() const { return queue_; }
    uint32_t count() const { return count_; }
    bool full() const { return count_ == capacity_; }
    // When the oldest waiting frame was built; count() > 0.
    int64_t oldest_ns() const { return ns_[head_]; }
    // Frames the port took from this lane since it was made.
    uint64_t taken() const { return taken_; }

    // Queues `m`, built at `now`; !full(). Inline: once per frame sent.
    void push(rte_mbuf* m, int64_t now) {
        const uint32_t at = (head_ + count_) & (capacity_ - 1);
        frames_[at] = m;
        ns_[at] = now;
        ++count_;
    }

    // Hands the frames to TX queue queue() of `port_id` in bursts of `burst` until the port
    // takes no more, then frees those it refused that were built more than `hold_ns` before
    // `now`. Returns how many it freed.
    uint32_t flush(uint16_t port_id, uint16_t burst, int64_t now, int64_t hold_ns);

 private:
    uint16_t queue_;
    uint32_t capacity_;
    std::vector<rte_mbuf*> frames_;
    std::vector<int64_t> ns_;
    uint32_t head_ = 0;
    uint32_t count_ = 0;
    uint64_t taken_ = 0;
};

}  // namespace rtprelay::loadgen
