#pragma once
// A poll loop's busy time (turns that did work) in TSC ticks, over the whole run and over
// 1-ms windows in which the thread was not preempted (no involuntary context switch:
// getrusage, one system call a window). On a shared host a busy turn that was descheduled
// would otherwise count another process's time as the loop's own; the clean windows are the
// loop's own cost per unit handled. Voluntary switches (an idle sleep) fall in idle turns and
// do not spoil a window. Used by the DPDK generator (dpdk_streamer.h) and rtprelay-wire.
//
// Threads: owned by the loop's thread.

#include <cstdint>

namespace rtprelay::loadgen {

class busy_meter {
 public:
    // Before the loop's first turn: the first window opens at `now_tsc`, with `handled` units
    // (frames, packets) done so far.
    void start(uint64_t now_tsc, uint64_t handled);

    // At the top of every turn: the turn before was busy if it `worked`; `handled` is the
    // units done so far.
    void turn(uint64_t now_tsc, bool worked, uint64_t handled) {
        if (worked) {
            busy_tsc_ += now_tsc - turn_tsc_;
        }
        turn_tsc_ = now_tsc;
        if (now_tsc >= window_end_tsc_) {
            next_window(now_tsc, handled);
        }
    }

    uint64_t busy_tsc() const { return busy_tsc_; }
    uint64_t clean_busy_tsc() const { return clean_busy_tsc_; }  // in windows without a preemption
    uint64_t clean_handled() const { return clean_handled_; }    // ... and the units done in them

 private:
    void next_window(uint64_t now_tsc, uint64_t handled);

    uint64_t window_tsc_ = 0;  // 1 ms
    uint64_t turn_tsc_ = 0;
    uint64_t busy_tsc_ = 0;
    uint64_t clean_busy_tsc_ = 0;
    uint64_t clean_handled_ = 0;
    // The open window: when it ends, and the switches, busy time and units at its start.
    uint64_t window_end_tsc_ = 0;
    uint64_t window_switches_ = 0;
    uint64_t window_busy_tsc_ = 0;
    uint64_t window_handled_ = 0;
};

}  // namespace rtprelay::loadgen
