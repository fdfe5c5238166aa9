// rtprelay-loadgen: sets up --calls calls on a relay over NG, streams RTP (or SRTP) both
// ways for --duration, asks the relay what it counted, deletes the calls and prints the
// result. With --ramp it repeats that with growing call counts and reports the largest one
// whose loss stayed under --loss-threshold.
// Exit status 0 when every call was set up (a ramp: when some step was good), 1 otherwise
// (loss is reported, not judged).

#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <exception>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "bench/loadgen/call_setup.h"
#include "bench/loadgen/call_table.h"
#include "bench/loadgen/call_teardown.h"
#include "bench/loadgen/clock.h"
#include "bench/loadgen/dpdk_calls.h"
#include "bench/loadgen/dpdk_link.h"
#include "bench/loadgen/dpdk_stream.h"
#include "bench/loadgen/mark_signal.h"
#include "bench/loadgen/options.h"
#include "bench/loadgen/progress_line.h"
#include "bench/loadgen/ramp.h"
#include "bench/loadgen/ramp_report.h"
#include "bench/loadgen/side_sockets.h"
#include "bench/loadgen/stop_signal.h"
#include "bench/loadgen/stream_phase.h"
#include "bench/loadgen/summary.h"
#include "control/ng/client.h"

namespace lg = rtprelay::loadgen;

namespace {

// User + system time of this process, all threads.
double own_cpu_seconds() {
    rusage ru{};
    ::getrusage(RUSAGE_SELF, &ru);
    return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

int fail(const std::string& what) {
    std::fprintf(stderr, "rtprelay-loadgen: %s\n", what.c_str());
    return 1;
}

// The DPDK mode's transport and precomputed packets, made once per process.
struct dpdk_media {
    lg::dpdk_link* link = nullptr;
    const lg::packet_store* store = nullptr;
};

// The NG clients of --ng: the first sets calls up; with a list, the end of the run talks to
// the first one that answers a ping then (a node of a group may have died meanwhile).
struct ng_clients {
    std::unique_ptr<rtprelay::ng::ng_client> first;
    std::vector<std::unique_ptr<rtprelay::ng::ng_client>> more;

    rtprelay::ng::ng_client* live(const lg::options& opt) {
        if (more.empty()) {
            return first.get();
        }
        rtprelay::ng::value ping = rtprelay::ng::value::dict();
        ping.set("command", rtprelay::ng::value::str("ping"));
        const auto timeout = std::chrono::milliseconds(opt.ng_timeout_ms);
        if (first->request(ping, timeout, 1, nullptr)) {
            return first.get();
        }
        for (auto& c : more) {
            if (c->request(ping, timeout, 1, nullptr)) {
                return c.get();
            }
        }
        return first.get();  // none answers: the queries and deletes say so
    }
};

// One run of `n` calls: setup, streaming, the relay's counters, teardown. `dpdk` is set in
// --dpdk mode (media over the generator's own ports), empty with sockets; `clients.first` is
// null with --dpdk-wire (no relay).
lg::run_summary run_once(const lg::options& opt, uint32_t n, uint32_t run_no, uint32_t sockets,
                         const lg::side_sockets& side_a, const lg::side_sockets& side_b, ng_clients& clients,
                         lg::progress_line& progress, const dpdk_media& dpdk) {
    lg::options step = opt;
    step.calls = n;
    rtprelay::ng::ng_client* client = clients.first.get();
    std::vector<lg::call_record> calls = lg::make_calls(n, sockets, ::getpid(), run_no, opt.legs());
    if (dpdk.store != nullptr) {
        lg::use_identity_keys(*dpdk.store, &calls);
    }
    lg::setup_result setup;
    if (client != nullptr) {
        setup = lg::set_up_calls(*client, step, side_a, side_b, &calls, &progress);
    } else {
        lg::set_up_wire_calls(&calls);
        setup.ok = n;
    }

    lg::run_summary summary;
    summary.ng = opt.ng;
    summary.calls_requested = n;
    summary.calls_set_up = setup.ok;
    summary.calls_failed = setup.failed;
    summary.first_error = setup.first_error;
    summary.failures = setup.by_reason;
    summary.setup_seconds = setup.seconds;

    if (setup.ok > 0) {
        std::mt19937_64 rng(std::random_device{}());
        lg::stream_set streams = lg::plan_streams(calls, rng);
        std::string error;
        const double cpu_before = own_cpu_seconds();
        bool streamed = false;
        if (dpdk.link != nullptr) {
            lg::use_identities(*dpdk.store, &streams);
            streamed =
                lg::run_dpdk_stream_phase(*dpdk.link, *dpdk.store, streams, step, client, &progress, &summary, &error);
        } else {
            streamed = lg::run_stream_phase(streams, side_a, side_b, step, client, &progress, &summary, &error);
        }
        summary.generator_cpu_seconds = own_cpu_seconds() - cpu_before;
        if (!streamed) {
            progress.finish();
            std::fprintf(stderr, "rtprelay-loadgen: streaming: %s\n", error.c_str());
        }
        lg::name_rows(calls, &summary.call_rows);
        summary.per_call_rows = opt.per_call;
        if (client != nullptr) {
            client = clients.live(opt);
            summary.teardown_ng = client->server_name();
            summary.relay = lg::query_calls(*client, step, calls);
        }
    }
    if (!opt.keep && client != nullptr) {
        summary.deleted = lg::delete_calls(*client, step, calls);
    }
    progress.finish();
    summary.interrupted = lg::stop_requested();
    return summary;
}

int run_ramp(const lg::options& opt, uint32_t sockets, const lg::side_sockets& side_a, const lg::side_sockets& side_b,
             ng_clients& clients, lg::progress_line& progress, const dpdk_media& dpdk) {
    lg::ramp_search search(opt.calls, opt.ramp_max, opt.ramp_factor, opt.ramp_refine);
    std::vector<lg::ramp_step> steps;
    uint32_t run_no = 0;
    while (std::optional<uint32_t> n = search.next()) {
        if (run_no > 0 && opt.ramp_pause_s > 0) {
            lg::sleep_until_ns(lg::mono_ns() + static_cast<int64_t>(opt.ramp_pause_s * 1e9));
        }
        ++run_no;
        lg::run_summary s = run_once(opt, *n, run_no, sockets, side_a, side_b, clients, progress, dpdk);
        const lg::step_verdict v = lg::judge_step(s, opt.loss_threshold_percent, opt.skip_tolerance_percent);
        // One line per step on stderr: the ramp takes minutes, stdout gets the result.
        std::fprintf(stderr,
                     "rtprelay-loadgen: ramp step %u: %u calls, %u set up, loss %.4f %%, "
                     "p99 %.1f us: %s\n",
                     run_no, *n, s.calls_set_up, s.loss_percent(), static_cast<double>(s.latency_p99_ns) / 1e3,
                     lg::verdict_name(v));
        search.record(*n, v);
        steps.push_back({std::move(s), v});
    }
    if (opt.json) {
        lg::print_ramp_json(opt, steps, search, stdout);
    } else {
        lg::print_ramp_table(opt, steps, search, stdout);
    }
    if (!opt.plot.empty()) {
        std::string error;
        if (lg::write_ramp_plot(opt.plot, opt.plot_title.empty() ? opt.ng : opt.plot_title, steps, &error)) {
            std::fprintf(stderr, "rtprelay-loadgen: plot written to %s\n", opt.plot.c_str());
        } else {
            std::fprintf(stderr, "rtprelay-loadgen: --plot %s: %s\n", opt.plot.c_str(), error.c_str());
        }
    }
    return search.best() > 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
    lg::options opt;
    switch (lg::parse_options(argc, argv, &opt)) {
        case lg::parse_outcome::run:
            break;
        case lg::parse_outcome::exit_ok:
            return 0;
        case lg::parse_outcome::exit_error:
            return 2;
    }

    const uint32_t sockets = opt.effective_sockets();
    lg::side_sockets side_a;
    lg::side_sockets side_b;
    std::string error;
    std::unique_ptr<lg::dpdk_link> link;
    std::optional<lg::packet_store> store;
    dpdk_media dpdk;
    if (opt.dpdk) {
        try {
            link = std::make_unique<lg::dpdk_link>(opt);
            std::mt19937_64 rng(std::random_device{}());
            store.emplace(lg::make_packet_store(opt, rng));
        } catch (const std::exception& e) {
            return fail(std::string("--dpdk: ") + e.what());
        }
        dpdk.link = link.get();
        dpdk.store = &*store;
        side_a = lg::dpdk_side_ports(sockets, static_cast<uint16_t>(opt.dpdk_udp_port));
        side_b = lg::dpdk_side_ports(sockets, static_cast<uint16_t>(opt.dpdk_udp_port));
    } else {
        if (!lg::open_side_sockets(opt.ns_a, opt.addr_a, sockets, opt.rtcp, &side_a, &error)) {
            return fail("side A sockets: " + error);
        }
        if (!lg::open_side_sockets(opt.ns_b, opt.addr_b, sockets, opt.rtcp, &side_b, &error)) {
            return fail("side B sockets: " + error);
        }
    }

    ng_clients clients;
    if (!opt.dpdk_wire) {
        std::string at = opt.ng;
        try {
            clients.first = std::make_unique<rtprelay::ng::ng_client>(opt.ng);
            for (const std::string& a : opt.ng_more) {
                at = a;
                clients.more.push_back(std::make_unique<rtprelay::ng::ng_client>(a));
            }
        } catch (const std::exception& e) {
            return fail("--ng " + at + ": " + e.what());
        }
    }

    lg::install_stop_handler();
    lg::install_mark_handler();
    lg::progress_line progress;
    if (opt.ramp) {
        return run_ramp(opt, sockets, side_a, side_b, clients, progress, dpdk);
    }
    const lg::run_summary summary = run_once(opt, opt.calls, 0, sockets, side_a, side_b, clients, progress, dpdk);
    if (opt.json) {
        lg::print_json(summary, stdout);
    } else {
        lg::print_table(summary, stdout);
    }
    return summary.calls_failed == 0 && summary.calls_set_up == opt.calls ? 0 : 1;
}
