#pragma once
// The path of a recorded call's packets from a worker to the recorder thread
// (control/recording/recorder.h): one ring per worker, one producer (the worker), one
// consumer (the recorder), fixed slots allocated once at start-up.
//
// The worker copies a packet's clear RTP/RTCP (after SRTP is removed, before it is applied
// again) into the next free slot: no lock, no allocation, no system call, ~20 ns for a
// G.711 packet (a 172-byte copy and two stores). A full ring refuses the copy; the worker
// counts it (worker_counters::recording_dropped) and relays the packet all the same, so a
// recorder that falls behind costs recordings, never media.
//
// Memory: slots x 1,536 bytes per worker (8,192 slots: 12 MiB), ordinary pages shared by
// the two threads. Indices grow without wrapping (64 bits) and are masked on use.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>

namespace rtprelay::dp {

// Bytes of a packet a slot keeps: a UDP payload on a 1500-byte IPv4 link. Longer ones are
// cut (record_slot::orig_len says how long they were; the pcap says so too).
constexpr uint32_t record_slot_data = 1472;

// Set in record_slot::flags by the producer.
enum record_slot_flags : uint8_t {
    record_rtcp = 1 << 0,     // the packet is RTCP (else RTP)
    record_discard = 1 << 1,  // copied, then not relayed after all (a protect step failed):
                              // the recorder skips it
};

// One copied packet. Written by the worker between reserve() and commit(), read by the
// recorder between peek() and release().
struct alignas(64) record_slot {
    uint64_t tsc = 0;          // worker's TSC when the packet's burst was received
    uint32_t record_id = 0;    // flow_entry::record_id: which recording
    uint32_t src_addr = 0;     // the sender's IPv4 address (network order)
    uint32_t dst_addr = 0;     // the relay's address the packet arrived at (network order)
    uint16_t src_port = 0;     // network order
    uint16_t dst_port = 0;     // network order
    uint16_t len = 0;          // bytes in data
    uint16_t orig_len = 0;     // the clear packet's length (> len when cut)
    uint8_t channel = 0;       // flow_entry::record_channel: the leg that sent it
    uint8_t flags = 0;         // record_slot_flags
    uint8_t data[record_slot_data];
};
static_assert(sizeof(record_slot) == 1536);

class record_ring {
 public:
    // `slots`: a power of two. Allocates them (control plane, before the worker starts).
    explicit record_ring(uint32_t slots) : mask_(slots - 1), slots_(new record_slot[slots]) {}
    record_ring(const record_ring&) = delete;
    record_ring& operator=(const record_ring&) = delete;

    uint32_t capacity() const { return mask_ + 1; }

    // Producer (the worker). The next free slot, or null when the ring is full. Slots
    // reserved are handed over in order by commit(), which publishes every slot reserved so
    // far: reserve several, fill them, commit once.
    record_slot* reserve() {
        if (head_ - cached_tail_ > mask_) {
            cached_tail_ = tail_.load(std::memory_order_acquire);
            if (head_ - cached_tail_ > mask_) {
                return nullptr;
            }
        }
        return &slots_[head_++ & mask_];
    }
    void commit() { published_.store(head_, std::memory_order_release); }

    // Consumer (the recorder). Slots ready to read, from the oldest; then release(n) gives
    // the n oldest back.
    uint64_t ready() const { return published_.load(std::memory_order_acquire) - tail_.load(std::memory_order_relaxed); }
    const record_slot& peek(uint64_t i) const { return slots_[(tail_.load(std::memory_order_relaxed) + i) & mask_]; }
    void release(uint64_t n) { tail_.store(tail_.load(std::memory_order_relaxed) + n, std::memory_order_release); }
    // Producer index as last committed: everything before it is in the ring or read.
    uint64_t committed() const { return published_.load(std::memory_order_acquire); }
    uint64_t consumed() const { return tail_.load(std::memory_order_acquire); }

 private:
    // Producer's line: written per packet by the worker only.
    alignas(64) uint64_t head_ = 0;         // dp: rw (worker). Next slot to reserve.
    uint64_t cached_tail_ = 0;              // dp: rw (worker). Last tail_ seen.
    // Shared lines: one writer each.
    alignas(64) std::atomic<uint64_t> published_{0};  // dp: wo (worker), recorder: ro
    alignas(64) std::atomic<uint64_t> tail_{0};       // recorder: wo, dp: ro (when full)
    alignas(64) uint32_t mask_ = 0;         // fixed at construction
    std::unique_ptr<record_slot[]> slots_;
};

// Copies one clear packet into the next slot of `ring` for the recorder: the worker's whole
// hook. Returns the slot (handed over at the ring's next commit()), or null when the ring is
// full (nothing written).
inline record_slot* record_copy(record_ring& ring, uint64_t tsc, uint32_t record_id, uint8_t channel, bool rtcp,
                                uint32_t src_addr, uint16_t src_port, uint32_t dst_addr, uint16_t dst_port,
                                const uint8_t* payload, uint32_t len) {
    record_slot* s = ring.reserve();
    if (s == nullptr) {
        return nullptr;
    }
    const uint32_t keep = len < record_slot_data ? len : record_slot_data;
    s->tsc = tsc;
    s->record_id = record_id;
    s->src_addr = src_addr;
    s->dst_addr = dst_addr;
    s->src_port = src_port;
    s->dst_port = dst_port;
    s->len = static_cast<uint16_t>(keep);
    s->orig_len = static_cast<uint16_t>(len);
    s->channel = channel;
    s->flags = rtcp ? record_rtcp : 0;
    std::memcpy(s->data, payload, keep);
    return s;
}

}  // namespace rtprelay::dp
