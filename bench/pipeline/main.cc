// rtprelay-pipeline-bench: the relay's own worker loop on ring ports, fed by an in-process
// generator, per scenario: set up the calls, generate, run, verify, report. Steps in order;
// everything substantial is in the files beside this one.
//
//   taskset -c 1 rtprelay-pipeline-bench --mode all --calls 10000 --packets 4000000 --runs 5

#include <srtp2/srtp.h>

#include <rte_cycles.h>

#include <chrono>
#include <cstdio>
#include <exception>
#include <memory>
#include <vector>

#include "bench/pipeline/crypto_floor.h"
#include "bench/pipeline/eal_env.h"
#include "bench/pipeline/options.h"
#include "bench/pipeline/relay_under_test.h"
#include "bench/pipeline/report.h"
#include "bench/pipeline/timed_loop.h"
#include "bench/pipeline/traffic.h"
#include "bench/pipeline/verify.h"
#include "dataplane/srtp/batch.h"

namespace rtprelay::pipeline {
namespace {

double seconds_since(std::chrono::steady_clock::time_point t) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

scenario_result run_scenario(eal_env& env, const options& opt, scenario sc) {
    scenario_result r;
    r.which = sc;
    r.calls = opt.calls;
    r.one_way = opt.one_way;

    relay_under_test relay(env, sc, opt.calls, opt.srtp_batch_min);
    const std::vector<call_info> calls = relay.set_up_calls();
    if (relay.worker().crypto != nullptr) {
        r.srtp_arch = dp::srtp::imb_arch_name(relay.worker().crypto->arch());
    }
    r.setup = relay.stats();

    const rte_ether_addr macs[2] = {env.port(0).mac, env.port(1).mac};
    traffic_generator gen(sc, calls, macs, opt.one_way, opt.stream_run);
    const uint32_t chunk = opt.chunk / burst * burst;
    const uint64_t per_run = (opt.packets + burst - 1) / burst * burst;
    frame_chunk frames;
    loop_totals all;
    for (uint32_t run = 0; run < opt.runs; ++run) {
        loop_totals t;
        uint64_t generator_ns = 0;
        for (uint64_t done = 0; done < per_run;) {
            const auto n = static_cast<uint32_t>(per_run - done < chunk ? per_run - done : chunk);
            const auto g = std::chrono::steady_clock::now();
            gen.fill(frames, n);
            r.generate_seconds += seconds_since(g);
            generator_ns += generator_pass(env, frames);
            worker_pass(env, relay, frames, opt.sample_every, &t);
            done += n;
        }
        const double tsc_ns = 1e9 / static_cast<double>(rte_get_tsc_hz());
        run_figures f;
        f.packets = per_run;
        f.clean_share = static_cast<double>(t.clean_packets) / static_cast<double>(per_run);
        f.worker_ns = t.clean_packets == 0 ? 0
                                           : static_cast<double>(t.clean_cycles) * tsc_ns /
                                                 static_cast<double>(t.clean_packets);
        f.worker_raw_ns = static_cast<double>(t.worker_cycles) * tsc_ns / static_cast<double>(per_run);
        f.loop_ns = static_cast<double>(t.loop_cpu_ns) / static_cast<double>(per_run);
        f.generator_ns = static_cast<double>(generator_ns) / static_cast<double>(per_run);
        r.runs.push_back(f);
        for (int s = 0; s < 2; ++s) {
            all.injected[s] += t.injected[s];
            all.delivered[s] += t.delivered[s];
        }
        all.samples.insert(all.samples.end(), t.samples.begin(), t.samples.end());
    }

    const dp::worker_counters& c = relay.worker().counters;
    r.injected = all.injected[0] + all.injected[1];
    r.delivered = all.delivered[0] + all.delivered[1];
    r.drops = c.total_drops();
    check_delivery(all, c, &r.check);
    // Bursts alternate sides, so one side's streams see at most half the packets plus a burst.
    const uint64_t per_stream = (opt.one_way ? r.injected : r.injected / 2 + burst) / opt.calls + 1 + opt.stream_run;
    check_samples(sc, calls, macs, all.samples, per_stream, &r.check);
    if (r.check.samples == 0) {
        r.check.failures.push_back("no output packet was sampled (fewer packets than --sample-every?)");
    }
    return r;
}

int run(const options& opt) {
    if (srtp_init() != srtp_err_status_ok) {
        std::fprintf(stderr, "rtprelay-pipeline-bench: srtp_init failed\n");
        return 1;
    }
    std::vector<scenario_result> results;
    machine_info machine;
    floor_figures floor;
    {
        eal_env env(opt.mem_mb, opt.no_huge);
        machine = describe_machine(env.cpu(), env.hugepages());
        machine.srtp_batch_min = opt.srtp_batch_min;
        for (scenario sc : opt.scenarios) {
            results.push_back(run_scenario(env, opt, sc));
        }
        // Right after the pipeline runs, on the same CPU: the ratio to it is what counts.
        if (opt.floor_keys != 0) {
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
