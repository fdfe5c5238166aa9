#pragma once
// A 64-bit key -> stream number, built once before streaming and read-only afterwards (so the
// receivers need no lock): the socket mode finds a packet's stream by its SSRC, the DPDK mode
// by where it comes from (endpoint_key, call_table.h: every leg of every call has its own
// relay port, so that names the stream even when SSRCs repeat across streams sharing a
// precomputed identity, packet_store.h). Open addressing over a power-of-two table at most
// half full, 16 bytes a slot: one or two probes per lookup.

#include <cstddef>
#include <cstdint>
#include <vector>

namespace rtprelay::loadgen {

class stream_index {
 public:
    static constexpr uint32_t none = UINT32_MAX;

    explicit stream_index(size_t expected = 0);
    // False if `key` is already present (the caller picks another one).
    bool insert(uint64_t key, uint32_t stream);
    uint32_t find(uint64_t key) const;  // `none` when absent
    // Starts loading the slot where find(key) begins, for a find a little later: a lookup in
    // a table larger than the cache is a cache miss, which a burst's lookups can overlap.
    void prefetch(uint64_t key) const { __builtin_prefetch(&slots_[home(key)]); }

 private:
    struct slot {
        uint64_t key = 0;
        uint32_t stream = none;  // none = empty slot
    };
    // Fibonacci hashing, the product's top bits: they depend on every bit of the key (SSRCs
    // are random, but a peer could send sequential ones; endpoint keys differ in the port).
    size_t home(uint64_t key) const { return static_cast<size_t>((key * 0x9e3779b97f4a7c15ull) >> shift_); }
    size_t probe(uint64_t key) const;

    std::vector<slot> slots_;
    size_t mask_ = 0;
    int shift_ = 64;
    size_t size_ = 0;
};

}  // namespace rtprelay::loadgen
