#pragma once
// (receiving side, relay address, relay port) -> stream number, for the DPDK mode's receiver
// (dpdk_stream.h): every leg of every call has its own relay port, so where a packet comes
// from names its stream even when SSRCs repeat (streams sharing a precomputed identity,
// packet_store.h). Built once before streaming, read-only afterwards. Open addressing over a
// power-of-two table at most half full, 16 bytes a slot: one or two probes per lookup.

#include <cstddef>
#include <cstdint>
#include <vector>

#include "bench/loadgen/call_table.h"

namespace rtprelay::loadgen {

class endpoint_index {
 public:
    static constexpr uint32_t none = UINT32_MAX;

    explicit endpoint_index(size_t expected = 0);
    // `ip` in network order, `port` in host order. False if the key is already present.
    bool insert(side at, uint32_t ip, uint16_t port, uint32_t stream);
    uint32_t find(side at, uint32_t ip, uint16_t port) const;  // `none` when absent

 private:
    struct slot {
        uint64_t key = 0;
        uint32_t stream = none;  // none = empty slot
    };
    static uint64_t key_of(side at, uint32_t ip, uint16_t port) {
        return uint64_t{ip} << 24 | uint64_t{static_cast<uint8_t>(at)} << 16 | port;
    }
    size_t home(uint64_t key) const { return static_cast<size_t>((key * 0x9e3779b97f4a7c15ull) >> 40) & mask_; }
    size_t probe(uint64_t key) const;

    std::vector<slot> slots_;
    size_t mask_ = 0;
    size_t size_ = 0;
};

}  // namespace rtprelay::loadgen
