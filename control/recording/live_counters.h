#pragma once
// The recorder's counters as its threads keep them (recorder.h, finisher.h): each
// counter has one writing thread, relaxed atomics; the control and metrics threads read
// them through recorder::counters().

#include <atomic>
#include <cstdint>

namespace rtprelay::recording {

struct live_counters {
    std::atomic<uint64_t> started{0};          // recorder thread
    std::atomic<uint64_t> write_failed{0};     // recorder thread: failed while open
    std::atomic<uint64_t> finished{0};         // finisher thread
    std::atomic<uint64_t> finish_failed{0};    // finisher thread: failed while finishing
    std::atomic<uint64_t> done{0};             // finisher thread: finished or not, handled
    std::atomic<uint64_t> packets{0};          // recorder thread
    std::atomic<uint64_t> bytes{0};            // recorder thread: pcap bytes
    std::atomic<uint64_t> finish_bytes{0};     // finisher thread: WAV and JSON bytes
    std::atomic<uint64_t> packets_lost{0};     // recorder thread
    std::atomic<uint64_t> file_wait_drops{0};  // recorder thread
    std::atomic<uint64_t> commands_run{0};     // finisher thread
    std::atomic<uint64_t> commands_failed{0};  // finisher thread
    std::atomic<uint64_t> recovered{0};        // finisher thread: left open by a node that died, now in done/

    static void bump(std::atomic<uint64_t>& c, uint64_t by = 1) {
        // One writer per counter: load + store, no locked instruction.
        c.store(c.load(std::memory_order_relaxed) + by, std::memory_order_relaxed);
    }
};

}  // namespace rtprelay::recording
