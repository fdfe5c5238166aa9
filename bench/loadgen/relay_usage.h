#pragma once
// What the relay under test spends: CPU time of its process from /proc/PID/stat (user +
// system, all its threads, in seconds), and, from the NG `statistics` reply where the relay
// gives them (rtprelay: statistics.dataplane "polls" and "busy polls"), its poll-mode
// workers' loop turns and the turns that received packets. A busy-polling worker is at
// 100% CPU whatever the load; busy/polls is how much of its loop found work. Both are
// sampled at the start and end of the streaming window.

#include <cstdint>
#include <optional>

#include "control/ng/bencode.h"

namespace rtprelay::ng {
class ng_client;
}

namespace rtprelay::loadgen {

// std::nullopt if the process does not exist or the file cannot be parsed.
std::optional<double> process_cpu_seconds(int pid);

struct worker_polls {
    uint64_t polls = 0;
    uint64_t busy_polls = 0;
};

// From a `statistics` reply; std::nullopt when it has no poll counters (rtpengine).
std::optional<worker_polls> polls_from_statistics(const ng::value& reply);

// Asks the relay (one try, `timeout_ms`); std::nullopt without a usable answer.
std::optional<worker_polls> query_worker_polls(ng::ng_client& client, uint32_t timeout_ms);

struct run_summary;

// The relay's CPU seconds (with `relay_pid`) and worker polls (with an NG `client`) over the
// streaming window: sampled by start() and again by finish(), which puts the differences in
// the summary. A part whose first sample failed is left out (start() says so for the pid).
class relay_usage {
public:
    void start(std::optional<int> relay_pid, ng::ng_client* client, uint32_t timeout_ms);
    void finish(run_summary* out) const;

private:
    std::optional<int> pid_;
    ng::ng_client* client_ = nullptr;
    uint32_t timeout_ms_ = 0;
    std::optional<double> cpu_start_;
    std::optional<worker_polls> polls_start_;
};

}  // namespace rtprelay::loadgen
