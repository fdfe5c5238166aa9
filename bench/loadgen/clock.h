#pragma once
// CLOCK_MONOTONIC in nanoseconds: the one clock for send stamps, arrival times, pacing and
// deadlines (sender and receiver share the host, so their stamps are comparable).

#include <time.h>

#include <cstdint>

namespace rtprelay::loadgen {

inline int64_t mono_ns() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

// Sleeps until CLOCK_MONOTONIC reaches `deadline_ns` (returns at once if it has).
inline void sleep_until_ns(int64_t deadline_ns) {
    timespec ts{};
    ts.tv_sec = static_cast<time_t>(deadline_ns / 1'000'000'000);
    ts.tv_nsec = static_cast<long>(deadline_ns % 1'000'000'000);
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr) != 0) {
        // EINTR: a signal arrived; sleep the rest.
    }
}

}  // namespace rtprelay::loadgen
