// rtprelay: start-up steps in order, clean-up in reverse. Everything substantial lives in
// control/, dataplane/ and relay/control_loop.

#include <csignal>
#include <cstdio>
#include <memory>
#include <random>
#include <set>

#include <rte_cpuflags.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#include "control/admission/admission.h"
#include "control/interfaces.h"
#include "control/log.h"
#include "control/ng/commands.h"
#include "control/ng/server.h"
#include "control/publish/publisher.h"
#include "control/recording/controller.h"
#include "control/recording/recorder.h"
#include "control/session/manager.h"
#include "dataplane/port_setup.h"
#include "dataplane/steering.h"
#include "dataplane/worker.h"
#include "relay/control_loop.h"
#include "relay/link_monitor.h"
#include "relay/metrics.h"
#include "relay/ng_log.h"
#include "relay/options.h"
#include "control/recording/time_text.h"

namespace {

// The first SIGTERM/SIGINT sets g_stop (drain, then exit); a second one sets g_stop_now.
// Lock-free atomics only: async-signal-safe.
std::atomic<bool> g_stop{false};
std::atomic<bool> g_stop_now{false};
std::atomic<int> g_signals{0};
bool g_eal_up = false;  // whether an error path must call rte_eal_cleanup()

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

int launch_worker(void* arg) { return static_cast<rtprelay::dp::worker*>(arg)->run(); }

rtprelay::ng::value dataplane_stats(const rtprelay::control_loop& loop, const rtprelay::dp::flow_table& flows,
                                    const rtprelay::link_monitor& links) {
    using rtprelay::ng::value;
    const rtprelay::dp::worker_counters t = loop.totals();
    value d = value::dict();
    auto i = [](uint64_t v) { return value::integer(static_cast<int64_t>(v)); };
    d.set("rx packets", i(t.rx_packets));
    d.set("rx bytes", i(t.rx_bytes));
    d.set("relayed rtp", i(t.relayed_rtp));
    d.set("relayed rtcp", i(t.relayed_rtcp));
    d.set("relayed bytes", i(t.relayed_bytes));
    d.set("arp", i(t.arp_to_control));
    d.set("icmp echo replies", i(t.icmp_echo_replies));
    d.set("dropped", i(t.total_drops()));
    d.set("polls", i(t.polls));
    d.set("busy polls", i(t.busy_polls));
    d.set("flows", i(flows.size()));
    value drops = value::dict();
    for (size_t r = 0; r < rtprelay::dp::drop_reason_count; ++r) {
        drops.set(std::string(rtprelay::dp::drop_reason_name(static_cast<rtprelay::dp::drop_reason>(r))), i(t.drops[r]));
    }
    d.set("drops", std::move(drops));
    value ls = value::list();
    for (const auto& p : links.ports()) {
        value l = value::dict();
        l.set("port", i(p.port_id));
        l.set("up", i(p.up ? 1 : 0));
        l.set("changes", i(p.changes));
        ls.as_list().push_back(std::move(l));
    }
    d.set("links", std::move(ls));
    return d;
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

void print_summary(const rtprelay::dp::worker_counters& t) {
    namespace log = rtprelay::log;
    log::event(log::level::info, "final counters")
        .field("rx", t.rx_packets)
        .field("relayed_rtp", t.relayed_rtp)
        .field("relayed_rtcp", t.relayed_rtcp)
        .field("arp", t.arp_to_control)
        .field("icmp", t.icmp_echo_replies)
        .field("dropped", t.total_drops());
    for (size_t r = 0; r < rtprelay::dp::drop_reason_count; ++r) {
        if (t.drops[r] != 0) {
            log::event(log::level::info, "final drops")
                .field("reason", rtprelay::dp::drop_reason_name(static_cast<rtprelay::dp::drop_reason>(r)))
                .field("packets", t.drops[r]);
        }
    }
}

int run(const rtprelay::relay_options& opt) {
    using namespace rtprelay;
    namespace dpl = rtprelay::dp;

    // 1. Interfaces: a typo in one must be reported before EAL says anything.
    interface_set interfaces;
    std::random_device rd;
    for (const auto& spec : opt.interfaces) {
        interfaces.add(parse_interface(spec, (static_cast<uint64_t>(rd()) << 32) | rd()));
    }
    const recording::policy node_recording{recording::parse_mode(opt.recording),
                                           recording::parse_channels(opt.recording_channels)};
    for (const auto& i : interfaces.all()) {
        if (i.recording.when.value_or(recording::mode::off) != recording::mode::off && opt.recording_dir.empty()) {
            throw std::invalid_argument("interface '" + i.name + "': recording=" +
                                        recording::mode_name(*i.recording.when) + " needs --recording-dir");
        }
    }
    if (!opt.recording_dir.empty()) {
        recording::prepare_directory(opt.recording_dir);
    }
    if (opt.check_config) {
        if (!ng::parse_endpoint(opt.ng_listen, true)) {
            throw std::invalid_argument("option '--ng-listen': '" + opt.ng_listen + "' is not ADDRESS:PORT");
        }
        if (!opt.metrics_listen.empty() && !ng::parse_endpoint(opt.metrics_listen, true)) {
            throw std::invalid_argument("option '--metrics-listen': '" + opt.metrics_listen + "' is not ADDRESS:PORT");
        }
        std::printf("configuration OK: %zu interface(s)", interfaces.all().size());
        for (const auto& i : interfaces.all()) {
            std::printf(" %s(port %u, %zu address(es))", i.name.c_str(), i.dpdk_port, i.addresses.size());
        }
        std::printf(", %u worker(s), NG on %s\n", opt.workers, opt.ng_listen.c_str());
        return 0;
    }

    // 2. EAL.
    std::vector<std::string> eal_store{"rtprelay"};
    eal_store.insert(eal_store.end(), opt.eal_args.begin(), opt.eal_args.end());
    std::vector<char*> eal_argv;
    for (auto& s : eal_store) {
        eal_argv.push_back(s.data());
    }
    if (rte_eal_init(static_cast<int>(eal_argv.size()), eal_argv.data()) < 0) {
        RLOG_ERROR("EAL initialisation failed: %s (check --eal)", rte_strerror(rte_errno));
        return 1;
    }
    g_eal_up = true;
    if (rte_cpu_get_flag_enabled(RTE_CPUFLAG_SSE4_2) <= 0) {
        RLOG_ERROR("this CPU lacks SSE4.2, which rtprelay is built for");
        rte_eal_cleanup();
        return 1;
    }
    if (rte_lcore_count() < opt.workers + 1) {
        RLOG_ERROR("option '--workers': %u workers need %u lcores (one more for control), EAL has %u",
                   opt.workers, opt.workers + 1, rte_lcore_count());
        rte_eal_cleanup();
        return 1;
    }
    int rc = 0;
    {
        // 3. Ports.
        std::set<uint16_t> ports;
        for (const auto& i : interfaces.all()) {
            if (i.dpdk_port >= dpl::max_ports || !rte_eth_dev_is_valid_port(i.dpdk_port)) {
                throw std::invalid_argument("interface '" + i.name + "': dpdk-port=" + std::to_string(i.dpdk_port) +
                                            " does not exist (EAL found " +
                                            std::to_string(rte_eth_dev_count_avail()) + " ports)");
            }
            ports.insert(i.dpdk_port);
        }
        rte_mempool* pool = dpl::create_mbuf_pool("mbufs", opt.mbufs, static_cast<int>(rte_socket_id()));
        auto shared = std::make_unique<dpl::dataplane_shared>();
        auto locals = std::make_unique<dpl::local_addresses>();
        dpl::port_params pp;
        pp.n_queues = static_cast<uint16_t>(opt.workers);
        for (uint16_t p : ports) {
            shared->port_macs[p] = dpl::setup_port(p, pp, pool);
            shared->port_ids[shared->n_ports++] = p;
            RLOG_INFO("DPDK port %u: link %s", p, dpl::link_status(p).c_str());
        }
        for (const auto& i : interfaces.all()) {
            for (const auto& a : i.addresses) {
                if (!locals->add(a.net.base.v4_be(), i.dpdk_port, i.vlan)) {
                    throw std::invalid_argument("too many media addresses (at most 64)");
                }
            }
        }

        // 4. Tables and rings the planes share.
        const int socket = static_cast<int>(rte_socket_id());
        dpl::flow_table flows(opt.max_flows, opt.workers, socket);
        dpl::neighbour_table neighbours(opt.max_neighbours, socket);
        rte_ring* to_control = rte_ring_create("to_control", 1024, socket, RING_F_SC_DEQ);
        rte_ring* control_tx = rte_ring_create("control_tx", 1024, socket, RING_F_SP_ENQ | RING_F_SC_DEQ);
        shared->flows = &flows;
        shared->neighbours = &neighbours;
        shared->locals = locals.get();
        shared->n_workers = static_cast<uint16_t>(opt.workers);
        shared->to_control = to_control;
        shared->idle_sleep_us = opt.idle_sleep_us;
        for (unsigned w = 0; w < opt.workers && opt.workers > 1; ++w) {
            shared->handoff[w] = rte_ring_create(("handoff" + std::to_string(w)).c_str(), 4096, socket, RING_F_SC_DEQ);
        }
        // Call recording: a ring per worker to the recorder thread, which runs beside the
        // control plane (it inherits the main lcore's CPUs), never on a worker core.
        std::vector<std::unique_ptr<dpl::record_ring>> record_rings;
        std::unique_ptr<recording::recorder> recorder;
        if (!opt.recording_dir.empty()) {
            std::vector<dpl::record_ring*> rings;
            for (unsigned w = 0; w < opt.workers; ++w) {
                record_rings.push_back(std::make_unique<dpl::record_ring>(opt.recording_ring));
                shared->record[w] = record_rings.back().get();
                rings.push_back(record_rings.back().get());
            }
            recording::recorder_config rc;
            rc.dir = opt.recording_dir;
            rc.command = opt.recording_command;
            rc.max_open_files = opt.recording_open_files;
            rc.tsc_hz = rte_get_tsc_hz();
            rc.tsc0 = rte_rdtsc();
            rc.unix_ns0 = recording::unix_now_ns();
            recorder = std::make_unique<recording::recorder>(rc, std::move(rings), flows.rcu());
            recorder->start();
            RLOG_INFO("call recording into %s (%s, %s), %u slots per worker", opt.recording_dir.c_str(),
                      opt.recording.c_str(), opt.recording_channels.c_str(), opt.recording_ring);
        }

        // 5. Workers on every lcore but the main one.
        std::vector<std::unique_ptr<dpl::worker>> workers;
        std::vector<unsigned> lcores;
        unsigned lcore = 0;
        RTE_LCORE_FOREACH_WORKER(lcore) {
            if (workers.size() == opt.workers) {
                break;
            }
            auto w = std::make_unique<dpl::worker>();
            w->init(static_cast<uint16_t>(workers.size()), shared.get(), workers.empty() ? control_tx : nullptr);
            workers.push_back(std::move(w));
            lcores.push_back(lcore);
        }
        // 6. Control plane (before launching: a bad NG address must fail while nothing runs).
        publisher pub(flows, neighbours, static_cast<uint16_t>(opt.workers),
                      opt.srtp_engine == "libsrtp2" ? dpl::srtp::engine::libsrtp2 : dpl::srtp::engine::native);
        std::vector<uint16_t> port_list(ports.begin(), ports.end());
        if (opt.workers > 1 && opt.flow_steering == "auto") {
            std::set<uint16_t> vlan_set;
            for (const auto& i : interfaces.all()) {
                if (i.vlan != 0) {
                    vlan_set.insert(i.vlan);
                }
            }
            const std::string why = dpl::install_steering(port_list, {vlan_set.begin(), vlan_set.end()},
                                                          static_cast<uint16_t>(opt.workers));
            pub.set_steered(why.empty());
            if (why.empty()) {
                RLOG_INFO("flow steering: each stream's packets go to its worker's RX queue");
            } else {
                RLOG_INFO("flow steering off (%s): RSS spreads packets, workers hand others' to their owner",
                          why.c_str());
            }
        }
        control_context ctx;
        ctx.flows = &flows;
        ctx.neighbours = &neighbours;
        ctx.shared = shared.get();
        for (auto& w : workers) {
            ctx.workers.push_back(w.get());
        }
        ctx.pool = pool;
        ctx.to_control = to_control;
        ctx.control_tx = control_tx;
        ctx.stats_interval = opt.stats_interval;
        {
            session_timeouts timeouts;
            timeouts.media = std::chrono::seconds(opt.timeout);
            timeouts.silent = std::chrono::seconds(opt.silent_timeout);
            timeouts.offer = std::chrono::seconds(opt.offer_timeout);
            timeouts.final = std::chrono::seconds(opt.final_timeout);
            timeouts.delete_delay = std::chrono::seconds(opt.delete_delay);
            admission adm(*parse_bandwidth(opt.capacity), *parse_bandwidth(opt.call_bandwidth), opt.max_cps,
                          interfaces.all().size());
            for (const auto& i : interfaces.all()) {
                adm.set_interface(i.index, i.capacity_bps, i.cps);
            }
            session_manager sessions(interfaces, pub, timeouts, &adm);
            ctx.sessions = &sessions;
            recording::controller recordings(sessions, pub, node_recording, recorder.get(), flows.rcu());
            link_monitor links({ports.begin(), ports.end()});  // before /metrics, which reads it
            ctx.links = &links;
            // /metrics, when asked for: before the NG server, whose handler reports to it.
            std::unique_ptr<metrics::exporter> prom;
            if (!opt.metrics_listen.empty()) {
                metrics::sources src{.interfaces = &interfaces, .sessions = &sessions, .adm = &adm, .flows = &flows,
                                     .workers = {}, .dpdk_ports = {ports.begin(), ports.end()}, .pool = pool,
                                     .links = &links};
                for (auto& w : workers) {
                    src.workers.push_back(w.get());
                }
                prom = std::make_unique<metrics::exporter>(opt.metrics_listen, std::move(src));
            }
            control_loop* loop_ptr = nullptr;
            ng::commands cmds(sessions, [&]() { return dataplane_stats(*loop_ptr, flows, links); });
            ng::ng_server_config ngc;
            ngc.listen = opt.ng_listen;
            ngc.allow = opt.ng_allow;
            ngc.cache_entries = opt.ng_cache_entries;
            ngc.cache_age = std::chrono::seconds(opt.ng_cache_age);
            ng_log ng_logger;
            ng::ng_server server(ngc, [&](const ng::value& req, const ng::peer_info& from) {
                const auto now = std::chrono::steady_clock::now();
                ng::value reply;
                try {
                    reply = prom ? prom->observe(req, [&] { return cmds.handle(req, now); }) : cmds.handle(req, now);
                } catch (const std::exception& e) {
                    ng_logger.failed(req, e.what(), from, now);
                    throw;
                }
                ng_logger.done(req, reply, from, now);
                return reply;
            });
            ctx.ng = &server;
            cmds.set_server(&server);
            cmds.set_recordings(&recordings);
            if (prom) {
                prom->set_ng_server(&server);
                ctx.metrics = prom.get();
                RLOG_INFO("metrics on http://%s/metrics", opt.metrics_listen.c_str());
            }
            // 7. Launch the workers.
            for (size_t w = 0; w < workers.size(); ++w) {
                rte_eal_remote_launch(launch_worker, workers[w].get(), lcores[w]);
            }
            RLOG_INFO("%zu worker(s) polling %u port(s)", workers.size(), shared->n_ports);

            control_loop loop(ctx);
            loop_ptr = &loop;
            loop.announce();
            RLOG_INFO("NG control listening on %s", server.local_address().to_string().c_str());

            // 8. Run until SIGTERM/SIGINT, then drain (--drain-time).
            loop.run(g_stop);
            drain(loop, sessions, adm, opt.drain_time);
            RLOG_INFO("stopping: %zu call(s) open", sessions.size());
            recordings.close_all("node stop");

            // 9. Clean-up in reverse: workers stop first, then nothing reads the tables.
            shared->stop.store(true);
            rte_eal_mp_wait_lcore();
            if (recorder) {
                recorder->stop();  // what is left in the rings, then every file finished
            }
            print_summary(loop.totals());
        }
        flows.reclaim_all();
        for (auto& w : workers) {
            w->release();
        }
        for (unsigned w = 0; w < dpl::max_workers; ++w) {
            rte_ring_free(shared->handoff[w]);
        }
        rte_ring_free(control_tx);
        rte_ring_free(to_control);
        dpl::remove_steering(port_list);
        for (uint16_t i = 0; i < shared->n_ports; ++i) {
            dpl::stop_port(shared->port_ids[i]);
        }
        rte_mempool_free(pool);
    }
    rte_eal_cleanup();
    return rc;
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
        RLOG_ERROR("%s", e.what());
        g_stop.store(true);
        if (g_eal_up) {
            rte_eal_cleanup();
        }
        return 1;
    }
}
