// rtprelay: start-up steps in order, clean-up in reverse (run()). Everything substantial
// lives in control/, dataplane/ (dataplane/plane.h owns the data plane) and
// relay/control_loop.

#include <csignal>
#include <cstdio>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include <rte_cpuflags.h>
#include <rte_lcore.h>

#include "control/admission/admission.h"
#include "control/ha/group.h"
#include "control/interfaces.h"
#include "control/log.h"
#include "control/ng/commands.h"
#include "control/ng/server.h"
#include "control/publish/publisher.h"
#include "control/recording/controller.h"
#include "control/recording/record_files.h"
#include "control/recording/recorder.h"
#include "control/recording/time_text.h"
#include "control/session/manager.h"
#include "dataplane/plane.h"
#include "dataplane/port_setup.h"
#include "dataplane/steering.h"
#include "relay/control_loop.h"
#include "relay/counter_report.h"
#include "relay/link_monitor.h"
#include "relay/metrics.h"
#include "relay/metrics_group.h"
#include "relay/ng_float.h"
#include "relay/ng_log.h"
#include "relay/options.h"
#include "relay/startup.h"

namespace {

// The first SIGTERM/SIGINT sets g_stop (drain, then exit); a second one sets g_stop_now.
// Lock-free atomics only: async-signal-safe.
std::atomic<bool> g_stop{false};
std::atomic<bool> g_stop_now{false};
std::atomic<int> g_signals{0};

void on_signal(int) {
    if (g_signals.fetch_add(1) > 0) {
        g_stop_now.store(true);
    }
    g_stop.store(true);
}

void install_signals() {
    struct sigaction sa {};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, nullptr);
    sigaction(SIGTERM, &sa, nullptr);
    signal(SIGPIPE, SIG_IGN);
}

// After the first signal: refuses new calls (admission's drain: `load limit` or "Parallel
// session limit reached", which make Kamailio try its next node) while the open calls keep
// relaying, until the last one ends, `seconds` pass, or a second signal arrives.
void drain(rtprelay::control_loop& loop, const rtprelay::session_manager& sessions, rtprelay::admission& adm,
           unsigned seconds) {
    using clock = std::chrono::steady_clock;
    if (seconds == 0 || sessions.size() == 0 || g_stop_now.load()) {
        return;
    }
    adm.stop();
    RLOG_INFO("draining: new calls refused, %zu call(s) keep relaying for up to %u s (signal again to exit now)",
              sessions.size(), seconds);
    const auto start = clock::now();
    const auto deadline = start + std::chrono::seconds(seconds);
    bool timed_out = false;
    loop.run(g_stop_now, [&](clock::time_point now) {
        timed_out = now >= deadline;
        return sessions.size() == 0 || timed_out;
    });
    const double took = std::chrono::duration<double>(clock::now() - start).count();
    if (g_stop_now.load()) {
        RLOG_INFO("drain cut short by a second signal after %.1f s", took);
    } else if (timed_out) {
        RLOG_INFO("drain time (%u s) over", seconds);
    } else {
        RLOG_INFO("drain done: the last call ended after %.1f s", took);
    }
}

// The calls still open when the relay stops, closed in the books: each gets its `call
// closed` line with reason `drain` and counts in sessions_closed_total{reason="drain"}, so the
// closes add up to the calls created. One line with the totals follows, for whoever counts.
void close_remaining(rtprelay::session_manager& sessions) {
    namespace log = rtprelay::log;
    using rtprelay::close_reason;
    const size_t n = sessions.close_all(close_reason::drain);
    const rtprelay::session_totals& t = sessions.totals();
    log::event e(log::level::info, "final calls");
    e.field("created", t.calls_created).field("closed", t.calls_deleted).field("closed_now", n);
    for (size_t r = 0; r < static_cast<size_t>(close_reason::count); ++r) {
        e.field(rtprelay::close_reason_label(static_cast<close_reason>(r)), t.closed[r]);
    }
}

// Start-up steps in order; each object's destructor is its clean-up, so leaving by return
// or by exception undoes them in reverse: workers stopped and joined, control plane, data
// plane, EAL.
int run(const rtprelay::relay_options& opt) {
    using namespace rtprelay;
    namespace dpl = rtprelay::dp;

    // 1. Interfaces: a typo in one must be reported before EAL says anything.
    interface_set interfaces;
    std::random_device rd;
    for (const auto& spec : opt.interfaces) {
        interfaces.add(parse_interface(spec, (static_cast<uint64_t>(rd()) << 32) | rd()));
    }
    const recording::policy node_recording = recording_policy_for(opt, interfaces);
    std::optional<ha::group_config> group;
    if (!opt.group.group.empty()) {
        group = ha::make_group_config(opt.group, interfaces);
    }
    if (opt.ng_float_release) {
        if (!group || group->ng_float.empty()) {
            std::printf("no floating NG addresses: nothing to remove\n");
            return 0;
        }
        return ng_float::remove_all(group->ng_float_interface, group->ng_float) ? 0 : 1;
    }
    if (opt.check_config) {
        check_config(opt, interfaces);
        if (group) {
            std::printf("group %s: node %s, %zu home address(es), Redis %s\n", group->group.c_str(),
                        group->node.c_str(), group->home_addresses.size(),
                        group->sentinels.empty() ? group->redis.to_string().c_str() : "through Sentinel");
            if (!group->ng_float.empty()) {
                std::printf("NG address %s floating on %s (%zu in the group)\n", group->ng_float_home.c_str(),
                            group->ng_float_interface.c_str(), group->ng_float.size());
            }
        }
        return 0;
    }
    const test_fault fault = read_test_fault();

    // 2. EAL.
    eal_session eal(opt);
    if (rte_cpu_get_flag_enabled(RTE_CPUFLAG_SSE4_2) <= 0) {
        throw std::runtime_error("this CPU lacks SSE4.2, which rtprelay is built for");
    }
    if (rte_lcore_count() < opt.workers + 1) {
        throw std::invalid_argument("option '--workers': " + std::to_string(opt.workers) + " workers need " +
                                    std::to_string(opt.workers + 1) + " lcores (one more for control), EAL has " +
                                    std::to_string(rte_lcore_count()));
    }
    const auto fault_ring = make_fault_ring(fault);

    // 3. The data plane: pool, ports, addresses, tables, rings, workers, steering.
    dpl::plane plane(plane_config_for(opt, interfaces));
    for (uint16_t p : plane.port_ids()) {
        RLOG_INFO("DPDK port %u: link %s", p, dpl::link_status(p).c_str());
    }
    // sender: no rules; the peer puts each stream on the queue steered_queue() names (a
    // generator on memif, which has neither RSS nor flow rules), so the owners must be those.
    const bool sender_steered = opt.flow_steering == "sender" && dpl::steerable(static_cast<uint16_t>(opt.workers));
    if (opt.workers > 1 && opt.flow_steering == "auto") {
        if (plane.steered()) {
            RLOG_INFO("flow steering: each stream's packets go to its worker's RX queue");
        } else {
            RLOG_INFO("flow steering off (%s): RSS spreads packets, workers hand others' to their owner",
                      plane.steering_refused().c_str());
        }
    } else if (opt.workers > 1 && opt.flow_steering == "sender") {
        if (sender_steered) {
            RLOG_INFO(
                "flow steering by the sender: a stream's worker is the RX queue its local port maps to; "
                "workers hand packets that arrive elsewhere to their owner");
        } else {
            RLOG_INFO(
                "flow steering by the sender needs 2, 4, 8 or 16 workers: workers hand others' packets to "
                "their owner");
        }
    }

    // Call recording: the recorder thread reads the workers' record rings and writes the
    // files. It runs beside the control plane (it inherits the main lcore's CPUs), never on a
    // worker core; stopped after the workers, so it reads their last packets.
    std::unique_ptr<recording::recorder> recorder;
    if (!opt.recording_dir.empty()) {
        recording::recorder_config rc;
        rc.dir = opt.recording_dir;
        rc.command = opt.recording_command;
        // The rest of the process (NG, metrics and Redis sockets, DPDK, the finisher's and file
        // thread's files) gets at least this many beside the recorder's pcap files.
        constexpr size_t other_files = 1024;
        std::string cut;
        rc.max_open_files = recording::fit_open_files(opt.recording_open_files, other_files, &cut);
        if (!cut.empty()) {
            RLOG_WARN("--recording-open-files=%u: %s", opt.recording_open_files, cut.c_str());
        }
        rc.flush_every = std::chrono::milliseconds(opt.recording_flush_ms);
        rc.tsc_hz = rte_get_tsc_hz();
        rc.tsc0 = rte_rdtsc();
        rc.unix_ns0 = recording::unix_now_ns();
        std::vector<dpl::record_ring*> rings;
        for (uint16_t w = 0; w < plane.n_workers(); ++w) {
            rings.push_back(plane.record(w));
        }
        recorder = std::make_unique<recording::recorder>(rc, std::move(rings), plane.flows().rcu());
        recorder->start();
        RLOG_INFO("call recording into %s (%s, %s), %u MiB ring per worker", opt.recording_dir.c_str(),
                  opt.recording.c_str(), opt.recording_channels.c_str(), opt.recording_ring_mb);
    }

    // 4. Control plane (before launching: a bad NG address must fail while nothing runs).
    publisher pub(plane.flows(), plane.neighbours(), static_cast<uint16_t>(opt.workers),
                  opt.srtp_engine == "libsrtp2" ? dpl::srtp::engine::libsrtp2 : dpl::srtp::engine::native);
    pub.set_steered(plane.steered() || sender_steered);
    pub.set_local_addresses(&plane.locals());
    session_timeouts timeouts;
    timeouts.media = std::chrono::seconds(opt.timeout);
    timeouts.silent = std::chrono::seconds(opt.silent_timeout);
    timeouts.offer = std::chrono::seconds(opt.offer_timeout);
    timeouts.final = std::chrono::seconds(opt.final_timeout);
    timeouts.delete_delay = std::chrono::seconds(opt.delete_delay);
    const bool wire = opt.call_bandwidth == "wire";
    admission adm(*parse_bandwidth(opt.capacity), wire ? wire_bps(false, 0) : *parse_bandwidth(opt.call_bandwidth),
                  opt.max_cps, interfaces.all().size());
    adm.set_wire(wire);
    for (const auto& i : interfaces.all()) {
        adm.set_interface(i.index, i.capacity_bps, i.cps);
    }
    session_manager sessions(interfaces, pub, timeouts, &adm);
    recording::controller recordings(sessions, pub, node_recording, recorder.get(), plane.flows().rcu());
    // A node of a group serves no media address until it holds its lease (control/ha).
    std::unique_ptr<ha::group> grp;
    if (group) {
        grp = std::make_unique<ha::group>(*group, sessions, interfaces, plane.locals());
        grp->set_recording_hook(&recordings);  // records carry recordings; adopted ones go on here
    }
    const std::vector<uint16_t> ports = plane.port_ids();
    link_monitor links(ports);  // before /metrics, which reads it
    // /metrics, when asked for: before the NG server, whose handler reports to it.
    std::unique_ptr<metrics::exporter> prom;
    if (!opt.metrics_listen.empty()) {
        prom = std::make_unique<metrics::exporter>(opt.metrics_listen, metrics::sources{.interfaces = &interfaces,
                                                                                        .sessions = &sessions,
                                                                                        .adm = &adm,
                                                                                        .flows = &plane.flows(),
                                                                                        .workers = plane.workers(),
                                                                                        .dpdk_ports = ports,
                                                                                        .pool = plane.pool(),
                                                                                        .links = &links,
                                                                                        .recorder = recorder.get()});
    }
    control_loop* loop_ptr = nullptr;
    ng::commands cmds(sessions, [&]() { return dataplane_stats(*loop_ptr, plane.flows(), links, interfaces); });
    ng::ng_server_config ngc;
    // Floating NG addresses: no socket until this node holds its address's lease.
    const bool floating = group && !group->ng_float.empty();
    ngc.listen = floating ? std::string() : opt.ng_listen;
    ngc.allow = opt.ng_allow;
    ngc.cache_entries = opt.ng_cache_entries;
    ngc.cache_age = std::chrono::seconds(opt.ng_cache_age);
    ngc.is_command = ng::commands::knows;
    ng_log ng_logger;
    ng::ng_server server(ngc, [&](const ng::value& req, const ng::peer_info& from) {
        const auto now = std::chrono::steady_clock::now();
        ng::reply reply;
        // A node of a group first looks for a call it does not hold in Redis (control/ha).
        auto handle = [&]() -> ng::reply {
            if (grp) {
                if (auto r = grp->control_request(req, now)) {
                    return std::move(*r);
                }
                if (auto r = grp->foreign_request(req, now)) {
                    return std::move(*r);
                }
            }
            return cmds.reply_to(req, now, &from);
        };
        try {
            reply = prom ? prom->observe(req, handle) : handle();
        } catch (const std::exception& e) {
            ng_logger.failed(req, e.what(), from, now);
            throw;
        }
        ng_logger.done(req, reply, from, now);
        return reply;
    });
    cmds.set_server(&server);
    std::unique_ptr<ng_float> floater;
    if (floating) {
        floater = std::make_unique<ng_float>(server, group->ng_float_interface, group->ng_float, group->ng_port);
        grp->set_ng_float([&floater](const std::string& address, bool on) { floater->set(address, on); });
    }
    cmds.set_recordings(&recordings);
    if (prom && grp) {
        prom->add(metrics::group_collector(*grp));
    }
    if (prom) {
        prom->set_ng_server(&server);
        RLOG_INFO("metrics on http://%s/metrics", opt.metrics_listen.c_str());
    }
    control_context ctx;
    ctx.ng = &server;
    ctx.flows = &plane.flows();
    ctx.neighbours = &plane.neighbours();
    ctx.shared = &plane.shared();
    for (uint16_t w = 0; w < plane.n_workers(); ++w) {
        ctx.workers.push_back(&plane.worker_at(w));
    }
    ctx.pool = plane.pool();
    ctx.to_control = plane.to_control();
    ctx.control_tx = plane.control_tx();
    ctx.latch_events = plane.latch_events();
    ctx.sessions = &sessions;
    ctx.stats_interval = opt.stats_interval;
    ctx.metrics = prom.get();
    ctx.links = &links;
    ctx.group = grp.get();
    control_loop loop(ctx);
    loop_ptr = &loop;

    // 5. Launch the workers.
    running_workers workers(plane);
    RLOG_INFO("%u worker(s) polling %zu port(s)", plane.n_workers(), ports.size());
    if (fault.after_launch) {
        throw std::runtime_error("RTPRELAY_TEST_FAULT: thrown after the workers started");
    }
    loop.announce();
    if (floating) {
        RLOG_INFO("NG control on %s once its lease is held (floating on %s)", opt.ng_listen.c_str(),
                  group->ng_float_interface.c_str());
    } else {
        RLOG_INFO("NG control listening on %s", server.local_address().to_string().c_str());
    }
    if (grp) {
        grp->start();
        RLOG_INFO("group %s: node %s, %zu home address(es), lease %lld ms", group->group.c_str(), group->node.c_str(),
                  group->home_addresses.size(), static_cast<long long>(group->lease.count()));
    }

    // 6. Run until SIGTERM/SIGINT, then 7. drain (--drain-time); what is still open then
    // ends with reason `drain`.
    loop.run(g_stop);
    drain(loop, sessions, adm, opt.drain_time);
    RLOG_INFO("stopping: %zu call(s) open", sessions.size());
    if (grp) {
        // A group keeps the calls still open: they stay in Redis, and once the workers have
        // stopped the leases go back, so that a peer takes the calls over at once. Their
        // parts of their recordings end here; the records still say "recording", so the peer
        // that takes a call records its next part.
        recordings.close_all("node stopped");
        workers.stop();
        if (floater) {
            floater->release_all();  // nothing answers NG here once a peer may take the addresses
        }
        grp->stop(true);
    } else {
        close_remaining(sessions);
    }

    // 8. Stop: the workers first, so the counters are final; then the recorder reads what they
    // left in its rings and finishes every recording (the calls closed above closed theirs).
    workers.stop();
    if (recorder) {
        recorder->stop();
    }
    print_summary(loop.totals());
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    std::optional<rtprelay::relay_options> opt;
    try {
        opt = rtprelay::parse_options(argc, argv);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "rtprelay: %s\n", e.what());
        return 2;
    }
    if (!opt) {
        return 0;
    }
    install_signals();
    try {
        return run(*opt);
    } catch (const std::exception& e) {
        // run() has undone its steps by now: workers joined, DPDK released.
        RLOG_ERROR("%s", e.what());
        return 1;
    }
}
