#pragma once
// The ramp (--ramp): which call counts to try, and whether a step passed. Counts grow by
// a factor from the start until a step fails or the maximum passes; then a few bisection
// steps narrow the gap between the largest good and the smallest bad count. A step in
// which the generator itself fell behind (more than --skip-tolerance of its packets skipped,
// or sent more than --late-us after their due time) ends the ramp without a verdict on the relay: past that point the figures
// would be the generator's.

#include <cstdint>
#include <optional>
#include <string>

#include "bench/loadgen/summary.h"

namespace rtprelay::loadgen {

enum class step_verdict : uint8_t {
    good,              // every call set up, loss at or under the threshold
    loss,              // loss over the threshold
    setup_failed,      // a call could not be set up (ports, capacity, timeouts)
    generator_behind,  // the generator could not send on time (late + skipped over the tolerance)
    interrupted,       // stop signal
};
const char* verdict_name(step_verdict v);

step_verdict judge_step(const run_summary& s, double loss_threshold_percent, double skip_tolerance_percent = 1.0);

class ramp_search {
 public:
    ramp_search(uint32_t start, uint32_t max, double factor, uint32_t refine);

    // The next call count to try, or std::nullopt when the search is over.
    std::optional<uint32_t> next() const;
    void record(uint32_t calls, step_verdict v);

    uint32_t best() const { return best_; }                           // largest good count, 0 if none
    std::optional<uint32_t> first_bad() const { return first_bad_; }  // smallest bad count
    // Why the search ended: "max reached", "loss", "setup failed", ... ("" while running).
    const std::string& stopped_by() const { return stopped_by_; }

 private:
    uint32_t start_;
    uint32_t max_;
    double factor_;
    uint32_t refine_left_;
    uint32_t best_ = 0;
    std::optional<uint32_t> first_bad_;
    std::optional<uint32_t> last_;
    bool over_ = false;
    std::string stopped_by_;
};

}  // namespace rtprelay::loadgen
