#include "bench/loadgen/stop_signal.h"

#include <signal.h>

#include <atomic>

namespace rtprelay::loadgen {

namespace {

// Lock-free, so setting it from a signal handler is safe.
std::atomic<bool> stop_flag{false};
static_assert(std::atomic<bool>::is_always_lock_free);

void on_stop_signal(int) { stop_flag.store(true, std::memory_order_relaxed); }

}  // namespace

void install_stop_handler() {
    struct sigaction sa {};
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESETHAND;  // the second signal gets the default action
    sigaction(SIGINT, &sa, nullptr);
    sigaction(SIGTERM, &sa, nullptr);
}

bool stop_requested() { return stop_flag.load(std::memory_order_relaxed); }

}  // namespace rtprelay::loadgen
