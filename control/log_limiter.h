#pragma once
// Token bucket for log lines caused by untrusted input (bad NG requests, peers not in the
// allow-list): up to `burst` lines at once, then `per_second` on average. What it holds back
// is counted, and the next line it lets through is preceded by one
// `msg="messages suppressed" what=<name> count=N` line, so an operator sees that a flood
// happened and how big it was without the journal filling up. Control thread only; the
// clock is a parameter so tests can drive it.

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <string_view>

#include "control/log.h"

namespace rtprelay::log {

class rate_limiter {
 public:
    using clock = std::chrono::steady_clock;

    rate_limiter(std::string_view what, double per_second, double burst)
        : what_(what), rate_(per_second), burst_(burst), tokens_(burst) {}

    // Whether one more line may be written at `now`. Before saying yes after a run of
    // no's, writes the "messages suppressed" line (at `l`).
    bool allow(clock::time_point now, level l = level::warning) {
        refill(now);
        if (tokens_ < 1.0) {
            ++suppressed_;
            ++suppressed_total_;
            return false;
        }
        tokens_ -= 1.0;
        if (suppressed_ != 0) {
            event(l, "messages suppressed").field("what", what_).field("count", suppressed_);
            suppressed_ = 0;
        }
        return true;
    }

    // Held back since the last line let through (reported with the next one).
    uint64_t pending() const { return suppressed_; }
    // Held back since start.
    uint64_t suppressed_total() const { return suppressed_total_; }

 private:
    void refill(clock::time_point now) {
        if (started_) {
            const double dt = std::chrono::duration<double>(now - last_).count();
            if (dt > 0) {
                tokens_ = std::min(burst_, tokens_ + dt * rate_);
            }
        }
        if (!started_ || now > last_) {
            last_ = now;
        }
        started_ = true;
    }

    std::string_view what_;  // a literal: names the kind of message
    double rate_;
    double burst_;
    double tokens_;
    clock::time_point last_{};
    bool started_ = false;
    uint64_t suppressed_ = 0;
    uint64_t suppressed_total_ = 0;
};

}  // namespace rtprelay::log
