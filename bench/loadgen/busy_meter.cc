#include "bench/loadgen/busy_meter.h"

#include <rte_cycles.h>

#include <sys/resource.h>

namespace rtprelay::loadgen {

namespace {

uint64_t involuntary_switches() {
    rusage ru{};
    getrusage(RUSAGE_THREAD, &ru);
    return static_cast<uint64_t>(ru.ru_nivcsw);
}

}  // namespace

void busy_meter::start(uint64_t now_tsc, uint64_t handled) {
    window_tsc_ = rte_get_tsc_hz() / 1000;
    turn_tsc_ = now_tsc;
    window_end_tsc_ = now_tsc + window_tsc_;
    window_switches_ = involuntary_switches();
    window_busy_tsc_ = busy_tsc_;
    window_handled_ = handled;
}

void busy_meter::next_window(uint64_t now_tsc, uint64_t handled) {
    const uint64_t switches = involuntary_switches();
    if (switches == window_switches_) {
        clean_busy_tsc_ += busy_tsc_ - window_busy_tsc_;
        clean_handled_ += handled - window_handled_;
    }
    window_end_tsc_ = now_tsc + window_tsc_;
    window_switches_ = switches;
    window_busy_tsc_ = busy_tsc_;
    window_handled_ = handled;
}

}  // namespace rtprelay::loadgen
