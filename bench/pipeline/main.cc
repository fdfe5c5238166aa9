// rtprelay-pipeline-bench: the relay's own worker loop on ring ports, fed by an in-process
// generator, per scenario: set up the calls, generate, run, verify, report. Steps in order;
// everything substantial is in the files beside this one.
//
//   taskset -c 1 rtprelay-pipeline-bench --mode all --calls 10000 --packets 4000000 --runs 5
//   rtprelay-pipeline-bench --mode srtp-srtp --workers 2 --load 0.8 --runs 3

#include <sched.h>
#include <srtp2/srtp.h>

#include <cstdio>
#include <exception>
#include <stdexcept>
#include <string>
#include <vector>

#include "bench/pipeline/crypto_floor.h"
#include "bench/pipeline/eal_env.h"
#include "bench/pipeline/options.h"
#include "bench/pipeline/perf_control.h"
#include "bench/pipeline/report.h"
#include "bench/pipeline/run_once.h"

namespace rtprelay::pipeline {
namespace {

int run(const options& opt) {
    if (srtp_init() != srtp_err_status_ok) {
        std::fprintf(stderr, "rtprelay-pipeline-bench: srtp_init failed\n");
        return 1;
    }
    std::vector<scenario_result> results;
    machine_info machine;
    floor_figures floor;
    if (opt.record_pct > 0 && opt.recorder_cpu >= 0) {
        // The lanes (workers) take the CPUs this process may use but the reader's: with
        // taskset -c 0,1 and --recorder-cpu 0 the worker runs on 1, the reader on 0.
        cpu_set_t set;
        CPU_ZERO(&set);
        if (sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_ISSET(opt.recorder_cpu, &set) && CPU_COUNT(&set) > 1) {
            CPU_CLR(opt.recorder_cpu, &set);
            sched_setaffinity(0, sizeof(set), &set);
        }
    }
    {
        eal_env env(opt.mem_mb, opt.no_huge, opt.workers);
        for (unsigned w = 1; opt.realtime && w < env.lanes(); ++w) {
            if (env.cpu(w) == env.cpu(0)) {
                throw std::runtime_error(
                    "--realtime needs a CPU per worker (busy-polling FIFO threads on one CPU "
                    "starve each other)");
            }
        }
        machine = describe_machine(env.cpu(), env.hugepages());
        machine.srtp_batch_min = opt.srtp_batch_min;
        machine.suite = dp::srtp::info(opt.suite).name;
        machine.ip = opt.ip;
        machine.realtime = opt.realtime;
        machine.drain_us = opt.drain_us;
        // 1 worker, and N if asked, interleaved run by run: the ratio is a same-run figure.
        perf_control perf(opt.perf_ctl);
        std::vector<uint32_t> configs{1};
        if (opt.workers > 1) {
            configs.push_back(opt.workers);
        }
        for (scenario sc : opt.scenarios) {
            std::vector<scenario_result> per_config(configs.size());
            for (size_t k = 0; k < configs.size(); ++k) {
                per_config[k].which = sc;
                per_config[k].workers = configs[k];
                per_config[k].misroute_pct = configs[k] > 1 ? opt.misroute_pct : 0;
                per_config[k].calls = opt.calls;
                per_config[k].one_way = opt.one_way;
            }
            for (uint32_t run = 0; run < opt.runs; ++run) {
                for (size_t k = 0; k < configs.size(); ++k) {
                    run_once(env, opt, sc, configs[k], &per_config[k], &perf);
                }
            }
            results.insert(results.end(), per_config.begin(), per_config.end());
        }
        if (opt.paced()) {
            machine.gaps = probe_cpu_gaps(0.7, opt.realtime);
        }
        // Right after the pipeline runs, on the same CPU: the ratio to it is what counts.
        // The floor is AES_CM_128_HMAC_SHA1_80's (a cipher burst and an HMAC burst).
        if (opt.floor_keys != 0 && opt.suite == dp::srtp::suite::aes_cm_128_hmac_sha1_80) {
            // The worker's code path (burst_crypto picks one by timing at start).
            const std::string arch = results.empty() ? "" : results.back().srtp_arch;
            floor = measure_crypto_floor(opt.floor_keys, 20000, 5, arch);
        }
    }
    srtp_shutdown();
    if (opt.json) {
        print_json(machine, floor, results);
    } else {
        print_table(machine, floor, results);
    }
    for (const scenario_result& r : results) {
        if (!r.check.failures.empty()) {
            return 1;
        }
    }
    return 0;
}

}  // namespace
}  // namespace rtprelay::pipeline

int main(int argc, char** argv) {
    rtprelay::pipeline::options opt;
    switch (rtprelay::pipeline::parse_options(argc, argv, &opt)) {
        case rtprelay::pipeline::parse_outcome::exit_ok:
            return 0;
        case rtprelay::pipeline::parse_outcome::exit_error:
            return 2;
        case rtprelay::pipeline::parse_outcome::run:
            break;
    }
    try {
        return rtprelay::pipeline::run(opt);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "rtprelay-pipeline-bench: %s\n", e.what());
        return 1;
    }
}
