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

struct run_figures {
    uint64_t packets = 0;
    double worker_ns = 0;      // per packet: poll_once + flush_tx, windows without a context switch
    double worker_raw_ns = 0;  // the same over all windows (includes time switched out)
    double clean_share = 0;    // packets in windows without a context switch, 0..1
    double loop_ns = 0;        // per packet: generator + worker + sink, thread CPU time
    double generator_ns = 0;   // per packet: generator + sink without the worker, thread CPU time
};

struct scenario_result {
    scenario which = scenario::plain;
    uint32_t calls = 0;
    bool one_way = false;
    setup_stats setup;
    double generate_seconds = 0;  // building (and SRTP-protecting) the frames, untimed
    std::vector<run_figures> runs;
    uint64_t injected = 0;
    uint64_t delivered = 0;
    uint64_t drops = 0;
    verdict check;
    std::string srtp_arch;  // the worker's intel-ipsec-mb code path ("" = no burst SRTP)
};

struct machine_info {
    std::string cpu;       // /proc/cpuinfo model name
    double tsc_hz = 0;
    unsigned lcore_cpu = 0;
    bool hugepages = false;
    uint32_t srtp_batch_min = 0;
};
machine_info describe_machine(unsigned cpu, bool hugepages);

// floor.ns_per_direction == 0: not measured.
void print_table(const machine_info& m, const floor_figures& floor, const std::vector<scenario_result>& results);
void print_json(const machine_info& m, const floor_figures& floor, const std::vector<scenario_result>& results);

}  // namespace rtprelay::pipeline
