#include "bench/loadgen/mark_signal.h"

#include <signal.h>
#include <time.h>

#include <atomic>

namespace rtprelay::loadgen {

namespace {

// Lock-free, so setting it from a signal handler is safe; clock_gettime is async-signal-safe.
std::atomic<int64_t> mark{0};
static_assert(std::atomic<int64_t>::is_always_lock_free);

void on_mark_signal(int) {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    int64_t none = 0;
    mark.compare_exchange_strong(none, int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec, std::memory_order_relaxed);
}

}  // namespace

void install_mark_handler() {
    struct sigaction sa {};
    sa.sa_handler = on_mark_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    sigaction(SIGUSR1, &sa, nullptr);
}

int64_t mark_ns() { return mark.load(std::memory_order_relaxed); }

}  // namespace rtprelay::loadgen
