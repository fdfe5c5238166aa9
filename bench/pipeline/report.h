#pragma once
// Figures of one benchmark invocation, as a table (stderr-free, stdout) or one JSON object.
// Per packet figures are medians over the timed runs; worker ns at the TSC rate EAL measured.

#include <cstdint>
#include <string>
#include <vector>

#include "bench/pipeline/crypto_floor.h"
#include "bench/pipeline/options.h"
#include "bench/pipeline/relay_under_test.h"
#include "bench/pipeline/verify.h"

namespace rtprelay::pipeline {

// With several workers, the per packet figures are means over the workers (each worker's
// cycles over the packets it relayed) and the lane_* vectors hold each worker's own.
struct run_figures {
    uint64_t packets = 0;
    double worker_ns = 0;      // per packet: poll_once + flush_tx, windows without a context switch
    double worker_raw_ns = 0;  // the same over all windows (includes time switched out)
    double clean_share = 0;    // packets in windows without a context switch, 0..1
    double loop_ns = 0;        // per packet: generator + worker + sink, thread CPU time
    double generator_ns = 0;   // per packet: generator + sink without the worker, thread CPU time
    double mpps = 0;           // all workers: sum of each worker's 1e3 / its clean ns per packet
    double loop_mpps = 0;      // all lanes: sum of 1e3 / loop ns (what generator + relay sustain)
    uint64_t handed_off = 0;
    std::vector<double> lane_ns;     // per worker: clean ns per packet relayed
    std::vector<double> lane_clean;  // per worker: clean share
    std::vector<double> lane_share;  // per worker: share of all packets relayed by it
};

// One paced run: arrivals at a fixed rate, latency from arrival to rte_eth_tx_burst.
struct paced_figures {
    double rate_pps = 0;     // offered, all workers
    double ceiling_pps = 0;  // the same run's throughput loop_mpps (0 with --rate)
    uint64_t offered = 0;
    uint64_t rx_lost = 0;  // arrived at a full RX queue
    uint64_t delivered = 0;
    uint64_t switches = 0;  // context switches of the lanes' threads meanwhile
    double steal_ms = 0;    // hypervisor steal time on the lanes' CPUs meanwhile (10 ms ticks)
    uint64_t stalls = 0;    // loop turns longer than loop_totals::stall_us, all lanes
    double stall_ms = 0;    // time in them
    double longest_turn_us = 0;
    double p50_us = 0, p99_us = 0, p999_us = 0, max_us = 0;
};

struct scenario_result {
    scenario which = scenario::plain;
    uint32_t workers = 1;
    uint32_t misroute_pct = 0;
    std::vector<unsigned> cpus;  // lane i's CPU
    uint32_t calls = 0;
    bool one_way = false;
    setup_stats setup;
    double generate_seconds = 0;  // building (and SRTP-protecting) the frames, untimed
    std::vector<run_figures> runs;
    std::vector<paced_figures> paced;
    uint64_t injected = 0;
    uint64_t delivered = 0;
    uint64_t drops = 0;
    verdict check;
    std::string srtp_arch;  // the worker's intel-ipsec-mb code path ("" = no burst SRTP)
};

struct cpu_gaps {
    double seconds = 0;  // 0: not measured
    uint64_t over_10us = 0, over_30us = 0, over_100us = 0;
    double longest_us = 0;
};

struct machine_info {
    std::string cpu;  // /proc/cpuinfo model name
    double tsc_hz = 0;
    unsigned lcore_cpu = 0;
    bool hugepages = false;
    uint32_t srtp_batch_min = 0;
    std::string suite;                    // SDES name of the SRTP legs' suite
    ip_mode ip = ip_mode::v4;             // the sides' IP versions (--ip)
    bool realtime = false;                // paced runs at SCHED_FIFO
    uint32_t drain_us = drain_as_worker;  // drain_as_worker: worker::end_turn()
    cpu_gaps gaps;                        // worker 0's CPU alone, measured after the paced runs
};
machine_info describe_machine(unsigned cpu, bool hugepages);

// floor.ns_per_direction == 0: not measured.
void print_table(const machine_info& m, const floor_figures& floor, const std::vector<scenario_result>& results);
void print_json(const machine_info& m, const floor_figures& floor, const std::vector<scenario_result>& results);

}  // namespace rtprelay::pipeline
