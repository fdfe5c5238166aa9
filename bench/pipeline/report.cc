#include "bench/pipeline/report.h"

#include <rte_cycles.h>

#include <algorithm>
#include <cstdio>
#include <fstream>

#include "control/json_string.h"

namespace rtprelay::pipeline {

namespace {

template <typename F>
double median(const std::vector<run_figures>& runs, F field) {
    std::vector<double> v;
    for (const run_figures& r : runs) {
        v.push_back(field(r));
    }
    if (v.empty()) {
        return 0;
    }
    std::sort(v.begin(), v.end());
    return v.size() % 2 == 1 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

struct summary {
    double worker_ns, worker_min, worker_max, worker_raw_ns, clean_share, loop_ns, generator_ns, mpps, loop_mpps;
};

summary summarise(const scenario_result& r) {
    summary s{};
    s.worker_ns = median(r.runs, [](const run_figures& f) { return f.worker_ns; });
    s.worker_raw_ns = median(r.runs, [](const run_figures& f) { return f.worker_raw_ns; });
    s.clean_share = median(r.runs, [](const run_figures& f) { return f.clean_share; });
    s.loop_ns = median(r.runs, [](const run_figures& f) { return f.loop_ns; });
    s.generator_ns = median(r.runs, [](const run_figures& f) { return f.generator_ns; });
    s.mpps = median(r.runs, [](const run_figures& f) { return f.mpps; });
    s.loop_mpps = median(r.runs, [](const run_figures& f) { return f.loop_mpps; });
    s.worker_min = s.worker_max = r.runs.empty() ? 0 : r.runs[0].worker_ns;
    for (const run_figures& f : r.runs) {
        s.worker_min = std::min(s.worker_min, f.worker_ns);
        s.worker_max = std::max(s.worker_max, f.worker_ns);
    }
    return s;
}

// Median over runs of worker w's figure.
template <typename F>
double lane_median(const scenario_result& r, size_t w, F field) {
    std::vector<run_figures> one;
    for (const run_figures& f : r.runs) {
        run_figures g;
        g.worker_ns = w < field(f).size() ? field(f)[w] : 0;
        one.push_back(g);
    }
    return median(one, [](const run_figures& f) { return f.worker_ns; });
}

double paced_median(const std::vector<paced_figures>& runs, double paced_figures::*field) {
    std::vector<run_figures> v;
    for (const paced_figures& p : runs) {
        run_figures g;
        g.worker_ns = p.*field;
        v.push_back(g);
    }
    return median(v, [](const run_figures& f) { return f.worker_ns; });
}

// The 1-worker result of the same mode in the same invocation, if any.
const scenario_result* single_worker(const std::vector<scenario_result>& results, const scenario_result& r) {
    for (const scenario_result& o : results) {
        if (o.which == r.which && o.workers == 1) {
            return &o;
        }
    }
    return nullptr;
}

double per_call(uint64_t bytes, uint32_t calls) { return calls == 0 ? 0 : static_cast<double>(bytes) / calls; }

}  // namespace

machine_info describe_machine(unsigned cpu, bool hugepages) {
    machine_info m;
    std::ifstream in("/proc/cpuinfo");
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind("model name", 0) == 0) {
            const size_t colon = line.find(':');
            m.cpu = colon == std::string::npos ? line : line.substr(colon + 2);
            break;
        }
    }
    m.tsc_hz = static_cast<double>(rte_get_tsc_hz());
    m.lcore_cpu = cpu;
    m.hugepages = hugepages;
    return m;
}

void print_table(const machine_info& m, const floor_figures& floor, const std::vector<scenario_result>& results) {
    std::printf("rtprelay pipeline benchmark: worker 0 on CPU %u (%s), TSC %.3f GHz, %s, SRTP legs %s\n", m.lcore_cpu,
                m.cpu.c_str(), m.tsc_hz / 1e9, m.hugepages ? "hugepages" : "no hugepages", m.suite.c_str());
    std::printf("%-10s %2s %7s %9s %4s | %6s %7s %11s %6s | %7s %5s | %7s %7s | %-6s %s\n", "mode", "wk", "calls",
                "packets", "runs", "Mpps", "ns/pkt", "(min-max)", "cyc", "raw ns", "clean", "loop ns", "gen ns",
                "check", "setup");
    for (const scenario_result& r : results) {
        const summary s = summarise(r);
        uint64_t packets = 0;
        for (const run_figures& f : r.runs) {
            packets += f.packets;
        }
        char range[32];
        std::snprintf(range, sizeof(range), "%.0f-%.0f", s.worker_min, s.worker_max);
        std::printf(
            "%-10s %2u %7u %9llu %4zu | %6.2f %7.1f %11s %6.0f | %7.1f %4.0f%% | %7.1f %7.1f | %-6s "
            "%.2f s, %.0f calls/s, %.0f+%.0f B/call\n",
            scenario_name(r.which), r.workers, r.calls, static_cast<unsigned long long>(packets), r.runs.size(), s.mpps,
            s.worker_ns, range, s.worker_ns * m.tsc_hz / 1e9, s.worker_raw_ns, s.clean_share * 100, s.loop_ns,
            s.generator_ns, r.check.failures.empty() ? "ok" : "FAILED", r.setup.seconds,
            r.setup.seconds > 0 ? r.calls / r.setup.seconds : 0, per_call(r.setup.heap_bytes, r.calls),
            per_call(r.setup.dpdk_bytes, r.calls));
    }
    std::printf(
        "Mpps, ns/pkt, cyc: the worker alone (poll_once + flush_tx, TSC) in windows of 8 bursts\n"
        "  without a context switch (clean: share of packets in those); raw ns: over all windows.\n"
        "  wk > 1: Mpps is the workers' sum, ns/pkt, cyc and the rest per worker (mean of workers).\n"
        "loop ns: generator + worker + sink per packet, thread CPU time; gen ns: the same loop\n"
        "  without the worker. Medians of runs.\n"
        "check: delivered == injected, relay drops == 0, sampled output verified (SRTP by libsrtp2).\n"
        "setup: offer+answer for every call (wall); relay memory per call (malloc + rte_malloc).\n");
    std::printf("IP: %s\n", m.ip == ip_mode::v4   ? "IPv4 both sides"
                            : m.ip == ip_mode::v6 ? "IPv6 both sides"
                                                  : "callers IPv4, callees IPv6 (bridged both ways)");
    std::printf("SRTP: batched crypto from %u SRTP packets per burst%s\n", m.srtp_batch_min,
                m.srtp_batch_min == 0 ? " (off: packet by packet)" : "");
    if (floor.ns_per_direction > 0) {
        std::printf(
            "batched crypto floor (intel-ipsec-mb %s, cipher burst + hash burst, 32 packets of 172 B, "
            "keys of %u calls): %.1f ns/pkt per direction\n",
            floor.arch.c_str(), floor.keys, floor.ns_per_direction);
        for (const scenario_result& r : results) {
            if (r.which == scenario::plain || r.workers != 1) {
                continue;
            }
            // rtp-srtp: one SRTP direction per packet; srtp-srtp: two.
            const double f = floor.ns_per_direction * (r.which == scenario::srtp_srtp ? 2 : 1);
            const summary s = summarise(r);
            std::printf("%s ratio, pipeline / floor: %.1f / %.1f ns = %.2f (worker's code path: %s)\n",
                        scenario_name(r.which), s.worker_ns, f, f > 0 ? s.worker_ns / f : 0,
                        r.srtp_arch.empty() ? "none, packet by packet" : r.srtp_arch.c_str());
        }
    }
    for (const scenario_result& r : results) {
        if (r.workers > 1) {
            std::printf("%s, %u workers", scenario_name(r.which), r.workers);
            if (r.misroute_pct != 0) {
                const double handed =
                    r.runs.empty() || r.runs.back().packets == 0
                        ? 0
                        : static_cast<double>(r.runs.back().handed_off) / static_cast<double>(r.runs.back().packets);
                std::printf(" (%u%% of streams on a wrong queue; handed off %.0f%% of packets)", r.misroute_pct,
                            handed * 100);
            }
            std::printf(":");
            for (size_t w = 0; w < r.workers; ++w) {
                const double ns = lane_median(r, w, [](const run_figures& f) { return f.lane_ns; });
                std::printf(" worker %zu (CPU %u): %.2f Mpps, %.0f cyc/pkt, %.0f%% clean, %.0f%% of packets;", w,
                            w < r.cpus.size() ? r.cpus[w] : 0, ns > 0 ? 1e3 / ns : 0, ns * m.tsc_hz / 1e9,
                            lane_median(r, w, [](const run_figures& f) { return f.lane_clean; }) * 100,
                            lane_median(r, w, [](const run_figures& f) { return f.lane_share; }) * 100);
            }
            std::printf("\n");
            bool shared_cpu = false;
            for (size_t w = 1; w < r.cpus.size(); ++w) {
                shared_cpu = shared_cpu || r.cpus[w] == r.cpus[0];
            }
            if (shared_cpu) {
                std::printf(
                    "  note: fewer CPUs allowed than workers, lanes share a CPU (figures are not a scaling "
                    "measure)\n");
            }
            if (const scenario_result* one = single_worker(results, r)) {
                const summary s1 = summarise(*one);
                const summary sn = summarise(r);
                std::printf(
                    "  %u workers / 1 worker, same run: worker Mpps %.2f / %.2f = %.2fx; cyc/pkt per worker "
                    "%.0f vs %.0f; generator+worker+sink (loop) Mpps %.2f / %.2f = %.2fx\n",
                    r.workers, sn.mpps, s1.mpps, s1.mpps > 0 ? sn.mpps / s1.mpps : 0, sn.worker_ns * m.tsc_hz / 1e9,
                    s1.worker_ns * m.tsc_hz / 1e9, sn.loop_mpps, s1.loop_mpps,
                    s1.loop_mpps > 0 ? sn.loop_mpps / s1.loop_mpps : 0);
            }
        }
    }
    for (const scenario_result& r : results) {
        if (r.paced.empty()) {
            continue;
        }
        uint64_t offered = 0, lost = 0, delivered = 0, switches = 0, stalls = 0;
        double steal_ms = 0, stall_ms = 0, longest = 0;
        for (const paced_figures& p : r.paced) {
            steal_ms += p.steal_ms;
            stalls += p.stalls;
            stall_ms += p.stall_ms;
            longest = longest > p.longest_turn_us ? longest : p.longest_turn_us;
            offered += p.offered;
            lost += p.rx_lost;
            delivered += p.delivered;
            switches += p.switches;
        }
        const double ceiling = paced_median(r.paced, &paced_figures::ceiling_pps);
        std::printf("paced %s, %u worker(s), %.3f Mpps offered", scenario_name(r.which), r.workers,
                    paced_median(r.paced, &paced_figures::rate_pps) / 1e6);
        if (ceiling > 0) {
            std::printf(" (%.2f of the loop ceiling %.3f Mpps)",
                        paced_median(r.paced, &paced_figures::rate_pps) / ceiling, ceiling / 1e6);
        }
        std::printf(
            ": latency p50 %.1f, p99 %.1f, p99.9 %.1f, max %.1f us (medians of %zu runs); offered %llu, "
            "lost at RX %llu (%.4f%%), delivered %llu; %llu context switches, %.0f ms stolen\n",
            paced_median(r.paced, &paced_figures::p50_us), paced_median(r.paced, &paced_figures::p99_us),
            paced_median(r.paced, &paced_figures::p999_us), paced_median(r.paced, &paced_figures::max_us),
            r.paced.size(), static_cast<unsigned long long>(offered), static_cast<unsigned long long>(lost),
            offered == 0 ? 0 : 100.0 * static_cast<double>(lost) / static_cast<double>(offered),
            static_cast<unsigned long long>(delivered), static_cast<unsigned long long>(switches), steal_ms);
        std::printf("  loop turns held up over %u us: %llu, %.2f ms in all, longest turn %.0f us\n",
                    loop_totals::stall_us, static_cast<unsigned long long>(stalls), stall_ms, longest);
    }
    if (m.gaps.seconds > 0) {
        const double s = m.gaps.seconds;
        std::printf(
            "worker 0's CPU alone (a bare TSC loop, %.1f s%s): gaps > 10 us %.0f/s, > 30 us %.0f/s, "
            "> 100 us %.0f/s, longest %.0f us\n",
            s, m.realtime ? ", SCHED_FIFO" : "", static_cast<double>(m.gaps.over_10us) / s,
            static_cast<double>(m.gaps.over_30us) / s, static_cast<double>(m.gaps.over_100us) / s, m.gaps.longest_us);
    }
    if (!results.empty() && !results[0].paced.empty()) {
        const std::string drain = m.drain_us == drain_as_worker
                                      ? std::string("TX drained by worker::end_turn()")
                                      : "TX drained every " + std::to_string(m.drain_us) + " us (--drain-us)";
        std::printf(
            "paced: arrivals on a fixed schedule, worker loop as worker::run() (%s);\n"
            "  latency from the scheduled arrival to rte_eth_tx_burst (TX callback). The ceiling is the\n"
            "  same run's loop Mpps (generator + worker + sink share each worker's CPU).%s\n",
            drain.c_str(), m.realtime ? "\n  Paced runs at SCHED_FIFO (--realtime)." : "");
    }
    for (const scenario_result& r : results) {
        std::printf(
            "%s x%u: injected %llu, delivered %llu, dropped %llu; %llu samples checked, %llu decrypted by "
            "libsrtp2; %s\n",
            scenario_name(r.which), r.workers, static_cast<unsigned long long>(r.injected),
            static_cast<unsigned long long>(r.delivered), static_cast<unsigned long long>(r.drops),
            static_cast<unsigned long long>(r.check.samples), static_cast<unsigned long long>(r.check.decrypted),
            r.one_way ? "one way (caller -> callee)" : "both directions");
        for (const std::string& f : r.check.failures) {
            std::printf("  FAILED: %s\n", f.c_str());
        }
    }
}

void print_json(const machine_info& m, const floor_figures& floor, const std::vector<scenario_result>& results) {
    std::printf("{\"cpu\":");
    std::fputs(json_string(m.cpu).c_str(), stdout);
    std::printf(",\"suite\":\"%s\"", m.suite.c_str());
    std::printf(",\"ip\":\"%s\"", ip_mode_name(m.ip));
    std::printf(
        ",\"tsc_hz\":%.0f,\"lcore_cpu\":%u,\"hugepages\":%s,\"srtp_batch_min\":%u,"
        "\"floor_arch\":\"%s\",\"floor_keys\":%u,\"floor_ns_per_direction\":%.2f,\"realtime\":%s,"
        "\"cpu_gaps\":{\"seconds\":%.1f,\"over_10us\":%llu,\"over_30us\":%llu,\"over_100us\":%llu,"
        "\"longest_us\":%.0f},\"results\":[",
        m.tsc_hz, m.lcore_cpu, m.hugepages ? "true" : "false", m.srtp_batch_min, floor.arch.c_str(), floor.keys,
        floor.ns_per_direction, m.realtime ? "true" : "false", m.gaps.seconds,
        static_cast<unsigned long long>(m.gaps.over_10us), static_cast<unsigned long long>(m.gaps.over_30us),
        static_cast<unsigned long long>(m.gaps.over_100us), m.gaps.longest_us);
    for (size_t i = 0; i < results.size(); ++i) {
        const scenario_result& r = results[i];
        const summary s = summarise(r);
        std::printf(
            "%s{\"mode\":\"%s\",\"workers\":%u,\"misroute_pct\":%u,\"calls\":%u,\"one_way\":%s,"
            "\"total_mpps\":%.4f,\"loop_mpps\":%.4f,\"paced\":[",
            i == 0 ? "" : ",", scenario_name(r.which), r.workers, r.misroute_pct, r.calls, r.one_way ? "true" : "false",
            s.mpps, s.loop_mpps);
        for (size_t k = 0; k < r.paced.size(); ++k) {
            const paced_figures& p = r.paced[k];
            std::printf(
                "%s{\"rate_pps\":%.0f,\"ceiling_pps\":%.0f,\"offered\":%llu,\"rx_lost\":%llu,"
                "\"delivered\":%llu,\"context_switches\":%llu,\"steal_ms\":%.0f,\"p50_us\":%.2f,\"p99_us\":%.2f,"
                "\"p999_us\":%.2f,\"max_us\":%.2f,\"stalls\":%llu,\"stall_ms\":%.2f,\"longest_turn_us\":%.0f}",
                k == 0 ? "" : ",", p.rate_pps, p.ceiling_pps, static_cast<unsigned long long>(p.offered),
                static_cast<unsigned long long>(p.rx_lost), static_cast<unsigned long long>(p.delivered),
                static_cast<unsigned long long>(p.switches), p.steal_ms, p.p50_us, p.p99_us, p.p999_us, p.max_us,
                static_cast<unsigned long long>(p.stalls), p.stall_ms, p.longest_turn_us);
        }
        std::printf("],\"runs\":[");
        for (size_t k = 0; k < r.runs.size(); ++k) {
            const run_figures& f = r.runs[k];
            std::printf(
                "%s{\"packets\":%llu,\"worker_ns_per_packet\":%.2f,\"worker_raw_ns_per_packet\":%.2f,"
                "\"clean_share\":%.3f,\"loop_ns_per_packet\":%.2f,\"generator_ns_per_packet\":%.2f,"
                "\"mpps\":%.4f,\"handed_off\":%llu,\"per_worker_ns\":[",
                k == 0 ? "" : ",", static_cast<unsigned long long>(f.packets), f.worker_ns, f.worker_raw_ns,
                f.clean_share, f.loop_ns, f.generator_ns, f.mpps, static_cast<unsigned long long>(f.handed_off));
            for (size_t w = 0; w < f.lane_ns.size(); ++w) {
                std::printf("%s%.2f", w == 0 ? "" : ",", f.lane_ns[w]);
            }
            std::printf("]}");
        }
        std::printf(
            "],\"worker_mpps\":%.4f,\"worker_ns_per_packet\":%.2f,\"worker_cycles_per_packet\":%.1f,"
            "\"worker_raw_ns_per_packet\":%.2f,\"clean_share\":%.3f,"
            "\"loop_ns_per_packet\":%.2f,\"generator_ns_per_packet\":%.2f,",
            s.worker_ns > 0 ? 1e3 / s.worker_ns : 0, s.worker_ns, s.worker_ns * m.tsc_hz / 1e9, s.worker_raw_ns,
            s.clean_share, s.loop_ns, s.generator_ns);
        std::printf(
            "\"injected\":%llu,\"delivered\":%llu,\"dropped\":%llu,\"samples\":%llu,\"decrypted\":%llu,"
            "\"setup_seconds\":%.3f,\"flows\":%zu,\"relay_heap_bytes_per_call\":%.0f,"
            "\"relay_dpdk_bytes_per_call\":%.0f,\"generate_seconds\":%.3f,\"ok\":%s,\"failures\":[",
            static_cast<unsigned long long>(r.injected), static_cast<unsigned long long>(r.delivered),
            static_cast<unsigned long long>(r.drops), static_cast<unsigned long long>(r.check.samples),
            static_cast<unsigned long long>(r.check.decrypted), r.setup.seconds, r.setup.flows,
            per_call(r.setup.heap_bytes, r.calls), per_call(r.setup.dpdk_bytes, r.calls), r.generate_seconds,
            r.check.failures.empty() ? "true" : "false");
        for (size_t k = 0; k < r.check.failures.size(); ++k) {
            if (k != 0) {
                std::putchar(',');
            }
            std::fputs(json_string(r.check.failures[k]).c_str(), stdout);
        }
        std::printf("]}");
    }
    std::printf("]}\n");
}

}  // namespace rtprelay::pipeline
