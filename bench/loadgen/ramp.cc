#include "bench/loadgen/ramp.h"

#include <algorithm>
#include <cmath>

namespace rtprelay::loadgen {

const char* verdict_name(step_verdict v) {
    switch (v) {
        case step_verdict::good:
            return "good";
        case step_verdict::loss:
            return "loss";
        case step_verdict::setup_failed:
            return "setup failed";
        case step_verdict::generator_behind:
            return "generator behind";
        case step_verdict::interrupted:
            return "interrupted";
    }
    return "?";
}

step_verdict judge_step(const run_summary& s, double loss_threshold_percent, double skip_tolerance_percent) {
    if (s.interrupted) {
        return step_verdict::interrupted;
    }
    if (s.calls_failed > 0 || s.calls_set_up < s.calls_requested) {
        return step_verdict::setup_failed;
    }
    // The generator's own lateness comes first: its skipped packets were never sent, its
    // late ones (more than --late-us behind their due time) went out in a burst, and a
    // sender that keeps running late makes the relay's loss and latency figures the
    // generator's. A shared host deschedules it now and then: up to the tolerance (1% of
    // the schedule late or skipped, by default), the step is still judged on the packets
    // that were sent.
    if (s.sender_behind_percent() > skip_tolerance_percent) {
        return step_verdict::generator_behind;
    }
    if (s.packets_sent == 0 || s.loss_percent() > loss_threshold_percent) {
        return step_verdict::loss;
    }
    return step_verdict::good;
}

ramp_search::ramp_search(uint32_t start, uint32_t max, double factor, uint32_t refine)
    : start_(std::max<uint32_t>(start, 1)),
      max_(std::max(max, std::max<uint32_t>(start, 1))),
      factor_(factor),
      refine_left_(refine) {}

std::optional<uint32_t> ramp_search::next() const {
    if (over_) {
        return std::nullopt;
    }
    if (!last_) {
        return start_;
    }
    if (!first_bad_) {
        // Still growing: the last step was good.
        const double grown = std::ceil(static_cast<double>(*last_) * factor_);
        return static_cast<uint32_t>(std::min<double>(grown, max_));
    }
    // Bisect between the largest good and the smallest bad count.
    return best_ + (*first_bad_ - best_) / 2;
}

void ramp_search::record(uint32_t calls, step_verdict v) {
    const bool refining = first_bad_.has_value();  // this was a bisection step
    last_ = calls;
    switch (v) {
        case step_verdict::good:
            best_ = std::max(best_, calls);
            if (!first_bad_ && calls >= max_) {
                over_ = true;
                stopped_by_ = "max reached";
                return;
            }
            break;
        case step_verdict::loss:
        case step_verdict::setup_failed:
            if (!first_bad_ || calls < *first_bad_) {
                first_bad_ = calls;
                stopped_by_ = verdict_name(v);  // what the smallest bad count ran into
            }
            break;
        case step_verdict::generator_behind:
        case step_verdict::interrupted:
            over_ = true;
            stopped_by_ = verdict_name(v);
            return;
    }
    if (!first_bad_) {
        return;
    }
    if (refining && refine_left_ > 0) {
        --refine_left_;
    }
    if (refine_left_ == 0 || *first_bad_ - best_ <= 1) {
        over_ = true;
    }
}

}  // namespace rtprelay::loadgen
