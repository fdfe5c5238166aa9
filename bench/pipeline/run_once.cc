#include "bench/pipeline/run_once.h"

#include <pthread.h>
#include <sched.h>
#include <unistd.h>

#include <rte_cycles.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "bench/pipeline/perf_control.h"
#include "bench/pipeline/relay_under_test.h"
#include "bench/pipeline/timed_loop.h"
#include "bench/pipeline/traffic.h"
#include "bench/pipeline/verify.h"
#include "dataplane/srtp/batch.h"

namespace rtprelay::pipeline {
namespace {

double seconds_since(std::chrono::steady_clock::time_point t) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

// What one lane (worker thread) brings back from a run.
struct lane_result {
    loop_totals timed;
    loop_totals paced;
    uint64_t generator_ns = 0;  // thread CPU time of generator_pass()
    double generate_seconds = 0;
    uint64_t max_per_stream = 0;
    uint64_t handed_off = 0;  // by this lane's worker in the timed run
    double paced_rate = 0;
    double ceiling = 0;
};

double percentile(const std::vector<uint32_t>& sorted, double p) {
    if (sorted.empty()) {
        return 0;
    }
    const auto i = static_cast<size_t>(p * static_cast<double>(sorted.size() - 1) + 0.5);
    return sorted[i < sorted.size() ? i : sorted.size() - 1];
}

// Steal time (ticks of /proc/stat, USER_HZ) of the given CPUs so far: time the hypervisor
// ran something else on them, which no context switch in the guest shows.
uint64_t steal_ticks(const std::vector<unsigned>& cpus) {
    std::ifstream in("/proc/stat");
    std::string line;
    uint64_t sum = 0;
    while (std::getline(in, line)) {
        unsigned cpu = 0;
        unsigned long long f[8] = {};
        if (std::sscanf(line.c_str(), "cpu%u %llu %llu %llu %llu %llu %llu %llu %llu", &cpu, &f[0], &f[1], &f[2], &f[3],
                        &f[4], &f[5], &f[6], &f[7]) == 9 &&
            std::find(cpus.begin(), cpus.end(), cpu) != cpus.end()) {
            sum += f[7];
        }
    }
    return sum;
}

// The calling thread at SCHED_FIFO 1, or back to SCHED_OTHER.
void set_realtime(bool on) {
    sched_param sp{};
    sp.sched_priority = on ? 1 : 0;
    const int rc = pthread_setschedparam(pthread_self(), on ? SCHED_FIFO : SCHED_OTHER, &sp);
    if (rc != 0 && on) {
        throw std::runtime_error(std::string("--realtime: pthread_setschedparam: ") + std::strerror(rc));
    }
}

}  // namespace

cpu_gaps probe_cpu_gaps(double seconds, bool realtime) {
    if (realtime) {
        set_realtime(true);
    }
    const double per_us = static_cast<double>(rte_get_tsc_hz()) / 1e6;
    const uint64_t t0 = rte_rdtsc();
    const uint64_t end = t0 + static_cast<uint64_t>(seconds * 1e6 * per_us);
    const auto at10 = static_cast<uint64_t>(10 * per_us), at30 = static_cast<uint64_t>(30 * per_us),
               at100 = static_cast<uint64_t>(100 * per_us);
    cpu_gaps g;
    uint64_t prev = t0, longest = 0;
    for (uint64_t now = t0; now < end; now = rte_rdtsc()) {
        const uint64_t gap = now - prev;
        prev = now;
        g.over_10us += gap > at10;
        g.over_30us += gap > at30;
        g.over_100us += gap > at100;
        longest = gap > longest ? gap : longest;
    }
    if (realtime) {
        set_realtime(false);
    }
    g.seconds = seconds;
    g.longest_us = static_cast<double>(longest) / per_us;
    return g;
}

namespace {

// Which lane (RX queue) each stream arrives on: its owner's, as RSS steered to the owner
// would deliver it; with --misroute, that share of the streams on the next worker's queue.
std::vector<traffic_generator::stream_lists> spread_streams(const relay_under_test& relay,
                                                            const std::vector<call_info>& calls, uint32_t workers,
                                                            uint32_t misroute_pct, bool one_way) {
    std::vector<traffic_generator::stream_lists> lists(workers);
    for (uint32_t c = 0; c < calls.size(); ++c) {
        for (int side = 0; side < (one_way ? 1 : 2); ++side) {
            uint32_t q = relay.owner(calls[c], side);
            const uint32_t h = (c * 2 + static_cast<uint32_t>(side)) * 2654435761u >> 7;
            if (workers > 1 && h % 100 < misroute_pct) {
                q = (q + 1) % workers;
            }
            lists[q][side].push_back(c);
        }
    }
    for (uint32_t w = 0; w < workers; ++w) {
        if (lists[w][0].empty() && lists[w][1].empty()) {
            throw std::runtime_error("no stream arrives at worker " + std::to_string(w) + " of " +
                                     std::to_string(workers) + ": too few calls");
        }
    }
    return lists;
}

}  // namespace

void run_once(eal_env& env, const options& opt, scenario sc, uint32_t workers, scenario_result* r, perf_control* perf) {
    relay_under_test relay(env, sc, opt.calls, opt.srtp_batch_min, workers, opt.suite, opt.ip, opt.record_pct,
                           opt.record_hot);
    const std::vector<call_info> calls = relay.set_up_calls();
    if (opt.record_pct > 0 && opt.recorder_cpu >= 0) {
        relay.start_recorder(opt.recorder_cpu);
    }
    if (relay.worker().crypto != nullptr) {
        r->srtp_arch = dp::srtp::imb_arch_name(relay.worker().crypto->arch());
    }
    r->setup = relay.stats();
    r->cpus.clear();
    for (uint32_t w = 0; w < workers; ++w) {
        r->cpus.push_back(env.cpu(w));
    }

    const rte_ether_addr macs[2] = {env.port(0).mac, env.port(1).mac};
    const auto lists = spread_streams(relay, calls, workers, workers > 1 ? opt.misroute_pct : 0, opt.one_way);
    std::vector<std::unique_ptr<traffic_generator>> gens;
    for (uint32_t w = 0; w < workers; ++w) {
        gens.push_back(std::make_unique<traffic_generator>(sc, calls, macs, opt.one_way, lists[w]));
        gens.back()->set_stream_run(opt.stream_run);
        gens.back()->set_ip(opt.ip);
    }
    const uint32_t chunk = opt.chunk / burst * burst;
    // Each lane sends its share of the packets (whole bursts).
    const uint64_t per_lane = (opt.packets / workers + burst - 1) / burst * burst;
    const uint64_t paced_per_lane = (opt.paced_packets / workers + burst - 1) / burst * burst;
    const double tsc_hz = static_cast<double>(rte_get_tsc_hz());

    lane_sync sync(workers);
    std::vector<lane_result> out(workers);
    std::unique_ptr<departure_stamps> stamps;
    uint64_t steal = 0;
    env.run_on_lanes(workers, [&](unsigned i) {
        lane_result& res = out[i];
        lane L(env, relay, i, opt.sample_every, sync, opt.drain_us);
        frame_chunk frames;
        auto fill = [&](uint64_t left) {
            const auto n = static_cast<uint32_t>(left < chunk ? left : chunk);
            const auto g = std::chrono::steady_clock::now();
            gens[i]->fill(frames, n);
            res.generate_seconds += seconds_since(g);
            return n;
        };
        auto must = [&](bool ok) {
            if (!ok) {
                throw std::runtime_error("lane " + std::to_string(i) +
                                         ": packets stopped coming out (or another lane failed)");
            }
        };
        try {
            for (uint64_t done = 0; done < per_lane;) {
                const uint32_t n = fill(per_lane - done);
                must(L.barrier(false));  // all lanes start the chunk together
                if (perf != nullptr && i == 0) {
                    perf->enable();
                }
                L.timed_pass(frames);
                must(L.barrier(true));
                if (perf != nullptr && i == 0) {
                    perf->disable();
                }
                res.generator_ns += L.generator_pass(frames);
                done += n;
            }
            res.timed = std::exchange(L.totals, loop_totals{});
            res.max_per_stream = gens[i]->max_per_stream();
            res.handed_off = relay.worker(i).counters.handed_off;
            if (!opt.paced()) {
                return;
            }
            sync.loop_pps[i] = res.timed.loop_cpu_ns == 0
                                   ? 0
                                   : 1e9 * static_cast<double>(res.timed.injected[0] + res.timed.injected[1]) /
                                         static_cast<double>(res.timed.loop_cpu_ns);
            if (i == 0) {
                steal = steal_ticks(r->cpus);
                register_stamp_field();
                stamps = std::make_unique<departure_stamps>(env);
            }
            must(L.barrier(true));
            double ceiling = 0;
            for (uint32_t w = 0; w < workers; ++w) {
                ceiling += sync.loop_pps[w];
            }
            res.ceiling = opt.rate_pps != 0 ? 0 : ceiling;
            res.paced_rate = opt.rate_pps != 0 ? static_cast<double>(opt.rate_pps) : opt.load * ceiling;
            const double interval = tsc_hz * workers / res.paced_rate;  // this lane's share
            // At SCHED_FIFO, a paced chunk lasts at most 0.8 s: the kernel throttles real-time
            // threads that run more than 0.95 s of a second (generation runs at normal priority).
            const uint64_t most = opt.realtime
                                      ? static_cast<uint64_t>(0.8 * res.paced_rate / workers) / burst * burst + burst
                                      : paced_per_lane;
            for (uint64_t done = 0; done < paced_per_lane;) {
                const uint32_t n = fill(std::min(paced_per_lane - done, most));
                if (opt.realtime) {
                    set_realtime(true);
                }
                must(L.barrier(true));
                L.paced_pass(frames, interval);
                must(L.barrier(true));
                if (opt.realtime) {
                    set_realtime(false);
                }
                done += n;
            }
            res.paced = std::exchange(L.totals, loop_totals{});
            if (i == 0) {
                steal = steal_ticks(r->cpus) - steal;
            }
        } catch (...) {
            if (opt.realtime) {
                set_realtime(false);
            }
            sync.abort.store(true);
            throw;
        }
        res.max_per_stream = gens[i]->max_per_stream();
    });
    stamps.reset();         // every lane has stopped: the TX callbacks can go
    relay.stop_recorder();  // its last pass reads what the lanes recorded last

    // Figures of the timed run.
    const double tsc_ns = 1e9 / tsc_hz;
    const dp::worker_counters c = relay.totals();
    run_figures f;
    loop_totals all;
    uint64_t relayed_all = 0;
    for (uint32_t w = 0; w < workers; ++w) {
        relayed_all += relay.worker(w).counters.relayed_rtp;
    }
    auto ratio = [](double a, double b) { return b == 0 ? 0 : a / b; };
    for (uint32_t w = 0; w < workers; ++w) {
        const loop_totals& t = out[w].timed;
        const auto lane_packets = static_cast<double>(t.injected[0] + t.injected[1]);
        const double ns = ratio(static_cast<double>(t.clean_cycles) * tsc_ns, static_cast<double>(t.clean_packets));
        const double loop_ns = ratio(static_cast<double>(t.loop_cpu_ns), lane_packets);
        f.lane_ns.push_back(ns);
        f.lane_clean.push_back(ratio(static_cast<double>(t.clean_packets), lane_packets));
        f.lane_share.push_back(
            ratio(static_cast<double>(relay.worker(w).counters.relayed_rtp), static_cast<double>(relayed_all)));
        f.mpps += ratio(1e3, ns);
        f.loop_mpps += ratio(1e3, loop_ns);
        // Per packet figures: the mean over the workers.
        f.worker_ns += ns / workers;
        f.clean_share += f.lane_clean.back() / workers;
        f.worker_raw_ns += ratio(static_cast<double>(t.worker_cycles) * tsc_ns, lane_packets) / workers;
        f.loop_ns += loop_ns / workers;
        f.generator_ns += ratio(static_cast<double>(out[w].generator_ns), lane_packets) / workers;
        f.packets += t.injected[0] + t.injected[1];
        r->generate_seconds += out[w].generate_seconds;
        all.add(t);
    }
    for (const lane_result& l : out) {
        f.handed_off += l.handed_off;
    }
    r->runs.push_back(f);

    if (opt.paced()) {
        paced_figures p;
        loop_totals paced;
        for (uint32_t w = 0; w < workers; ++w) {
            paced.add(out[w].paced);
            all.add(out[w].paced);
        }
        p.rate_pps = out[0].paced_rate;
        p.ceiling_pps = out[0].ceiling;
        p.offered = paced.offered;
        p.rx_lost = paced.rx_lost;
        p.delivered = paced.delivered[0] + paced.delivered[1];
        p.switches = paced.switches;
        p.stalls = paced.stalls;
        p.stall_ms = static_cast<double>(paced.stall_cycles) * 1e3 / static_cast<double>(rte_get_tsc_hz());
        p.longest_turn_us = static_cast<double>(paced.longest_turn) * 1e6 / static_cast<double>(rte_get_tsc_hz());
        p.steal_ms = static_cast<double>(steal) * 1000.0 / static_cast<double>(sysconf(_SC_CLK_TCK));
        if (paced.latency.size() != p.delivered) {
            r->check.failures.push_back("paced: " + std::to_string(paced.latency.size()) + " latency stamps for " +
                                        std::to_string(p.delivered) + " packets delivered");
        }
        if (p.offered != paced_per_lane * workers) {
            r->check.failures.push_back("paced: " + std::to_string(p.offered) + " packets offered, " +
                                        std::to_string(paced_per_lane * workers) + " scheduled");
        }
        std::sort(paced.latency.begin(), paced.latency.end());
        const double us = 1e6 / tsc_hz;
        p.p50_us = percentile(paced.latency, 0.5) * us;
        p.p99_us = percentile(paced.latency, 0.99) * us;
        p.p999_us = percentile(paced.latency, 0.999) * us;
        p.max_us = paced.latency.empty() ? 0 : paced.latency.back() * us;
        r->paced.push_back(p);
    }

    r->injected += all.injected[0] + all.injected[1];
    r->delivered += all.delivered[0] + all.delivered[1];
    r->drops += c.total_drops();
    check_delivery(all, c, workers > 1 && opt.misroute_pct > 0, &r->check);
    uint64_t per_stream = 0;
    for (const lane_result& l : out) {
        per_stream = std::max(per_stream, l.max_per_stream);
    }
    check_samples(sc, opt.ip, calls, macs, all.samples, per_stream + 1, &r->check);
    if (opt.record_pct > 0) {
        // The loop empties the record rings every turn: none may have been full, and about
        // the recorded share of what was relayed went through them.
        const uint64_t relayed = c.relayed_rtp + c.relayed_rtcp;
        const double share =
            relayed == 0 ? 0 : 100.0 * static_cast<double>(relay.recorded()) / static_cast<double>(relayed);
        if (relay.record_refused() != 0) {
            r->check.failures.push_back("record ring full: " + std::to_string(relay.record_refused()) +
                                        " copies dropped");
        }
        if (relay.record_wrong() != 0) {
            r->check.failures.push_back(std::to_string(relay.record_wrong()) +
                                        " records not as their packet was sent (family, addresses)");
        }
        if (share < opt.record_pct * 0.9 || share > opt.record_pct * 1.1 + 0.5) {
            r->check.failures.push_back("recorded " + std::to_string(relay.recorded()) + " of " +
                                        std::to_string(relayed) + " relayed packets, not ~" +
                                        std::to_string(opt.record_pct) + "%");
        }
    }
    if (all.samples.empty()) {
        r->check.failures.push_back("no output packet was sampled (fewer packets than --sample-every?)");
    }
}

}  // namespace rtprelay::pipeline
