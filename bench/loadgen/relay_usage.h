#pragma once
// What the relay under test spends over the streaming window, sampled when streaming starts
// and again when it ends:
//  - rtprelay: its workers' busy time (NG `statistics`, "dataplane" "workers" "busy ns":
//    TSC time of the loop turns that received packets) and the packets they relayed. A
//    poll-mode worker's core reads 100% CPU whatever the load, and its busy-poll count
//    says little (0.02-0.2% of turns while 70-90% busy): busy time is its load.
//    With --relay-pid also the worker threads' scheduler times (/proc/PID/task/TID/schedstat
//    of the threads DPDK names rte-worker-N, lcore-worker-N in some builds: time on a CPU
//    and time runnable but waiting for one). Busy time is TSC time, so a busy turn during which the host ran another
//    process counts that process's time; on a shared host the workers' on-CPU share of
//    their runnable time, run / (run + wait), scales it back to an estimate of the workers'
//    own cost (relay_busy_time::on_cpu_share). Steal time of the hypervisor shows in neither.
//  - any other relay (rtpengine): the CPU time of its process from /proc/PID/stat (user +
//    system, all threads), with --relay-pid; reported as process CPU.

#include <cstdint>
#include <optional>
#include <vector>

#include "control/ng/bencode.h"

namespace rtprelay::ng {
class ng_client;
}

namespace rtprelay::loadgen {

// std::nullopt if the process does not exist or the file cannot be parsed.
std::optional<double> process_cpu_seconds(int pid);

// Nanoseconds on a CPU and runnable waiting for one, summed over threads.
struct sched_times {
    uint64_t run_ns = 0;
    uint64_t wait_ns = 0;
};
// One schedstat line ("RUN_NS WAIT_NS SLICES"); std::nullopt when it is not that.
std::optional<sched_times> parse_schedstat(const std::string& line);
// The DPDK worker lcore threads of `pid` (comm "rte-worker-N" or "lcore-worker-N");
// std::nullopt when there are none or their files cannot be read.
std::optional<sched_times> worker_sched_times(int pid);

// rtprelay's counters in one `statistics` reply.
struct worker_sample {
    std::vector<uint64_t> busy_ns;  // per worker, in worker order
    uint64_t relayed = 0;           // packets relayed: RTP + RTCP, all workers
    // Packets a worker passed to the one that owns their flow ("handed off"), all workers;
    // absent from an rtprelay that does not report it.
    std::optional<uint64_t> handed_off;
};

// From a `statistics` reply; std::nullopt when it has no per-worker busy time (rtpengine,
// or an rtprelay from before busy time).
std::optional<worker_sample> sample_from_statistics(const ng::value& reply);

// Asks the relay (one try, `timeout_ms`); std::nullopt without a usable answer.
std::optional<worker_sample> query_worker_sample(ng::ng_client& client, uint32_t timeout_ms);

struct run_summary;

// Samples at start() and finish(); finish() puts the differences in the summary: the busy
// time per worker and the relayed packets when the relay reports them, else the process
// CPU seconds (with `relay_pid`). A part whose first sample failed is left out (start()
// says so for the pid).
class relay_usage {
 public:
    void start(std::optional<int> relay_pid, ng::ng_client* client, uint32_t timeout_ms);
    void finish(run_summary* out) const;

 private:
    std::optional<int> pid_;
    ng::ng_client* client_ = nullptr;
    uint32_t timeout_ms_ = 0;
    std::optional<double> cpu_start_;
    std::optional<worker_sample> workers_start_;
    std::optional<sched_times> sched_start_;
};

}  // namespace rtprelay::loadgen
