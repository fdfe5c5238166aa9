#pragma once
// Prometheus /metrics (prometheus-cpp pull exposer on --metrics-listen).
//
// Two sources, read on two threads:
//  - data plane counters: each worker's plain uint64 block, read by the exposer thread at
//    scrape time and summed there. Nothing on the fast path changes for metrics.
//  - control plane state (sessions, admission, port pools, NG, DPDK port stats, mempool):
//    owned by the control thread, which copies the numbers into a snapshot under a mutex
//    every 250 ms and right after each NG request. A scrape reads only the snapshot and
//    never touches a session.
// Cost on the control thread: a refresh is a few hundred stores (~1 µs; DPDK port stats,
// and one getsockopt per net_af_packet queue for its ring drops, only on the 250 ms timer). A scrape holds the lock only to copy the snapshot (a few µs),
// so the control thread waits at most that long.

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "control/ng/bencode.h"
#include "control/ng/reply.h"
#include "relay/af_packet_drops.h"
#include "relay/metrics_snapshot.h"

struct rte_mempool;

namespace prometheus {
class Exposer;
class Collectable;
}  // namespace prometheus

namespace rtprelay {

class admission;
class interface_set;
class link_monitor;
class session_manager;
namespace recording {
class recorder;
}
namespace dp {
struct worker;
class flow_table;
}  // namespace dp

namespace metrics {

// What the exporter reads. Everything but `workers` is read on the control thread only;
// workers' counter blocks are read by the exposer thread. All must outlive the exporter.
struct sources {
    const interface_set* interfaces = nullptr;  // fixed after start-up
    const session_manager* sessions = nullptr;
    const admission* adm = nullptr;  // may be null
    const dp::flow_table* flows = nullptr;
    std::vector<const dp::worker*> workers;
    std::vector<uint16_t> dpdk_ports;
    rte_mempool* pool = nullptr;
    const link_monitor* links = nullptr;            // link state and changes; null = read here
    const recording::recorder* recorder = nullptr;  // call recording's counters; null = not configured
};

class collector;

class exporter {
 public:
    // Serves /metrics on `listen` ("127.0.0.1:9100", "[::1]:9100"). Throws
    // std::invalid_argument naming --metrics-listen when it cannot listen there.
    exporter(const std::string& listen, sources src);
    ~exporter();  // stops the HTTP server before anything it reads goes away

    exporter(const exporter&) = delete;
    exporter& operator=(const exporter&) = delete;

    // The NG server is built after its handler (which calls observe()), so it comes later.
    void set_ng_server(const ng::ng_server* s) { ng_server_ = s; }
    // More families on the same /metrics, collected at scrape time on the exposer's threads
    // (a group's: relay/metrics_group.h). Kept until the exporter goes.
    void add(std::shared_ptr<prometheus::Collectable> c);
    // Control thread: runs one NG request through handle(), counts it by command and
    // result, times it, and refreshes the snapshot before the reply goes out, so a scrape
    // after the reply sees the request's effect. handle() may throw (the NG server turns
    // that into an error reply): counted as an error and rethrown.
    template <typename Handle>
    ng::reply observe(const ng::value& request, Handle&& handle) {
        const auto start = std::chrono::steady_clock::now();
        const ng_command cmd = command_of(request);
        try {
            ng::reply reply = handle();
            finish(cmd, result_of(reply), start);
            return reply;
        } catch (...) {
            finish(cmd, ng_result::error, start);
            throw;
        }
    }

    // Control thread, every loop turn: refreshes the snapshot, DPDK port and mempool stats
    // included, when 250 ms have passed.
    void tick(std::chrono::steady_clock::time_point now);

 private:
    static ng_command command_of(const ng::value& request);
    static ng_result result_of(const ng::reply& reply);
    void finish(ng_command cmd, ng_result result, std::chrono::steady_clock::time_point start);
    void refresh(std::chrono::steady_clock::time_point now, bool with_ports);
    void read_ports();

    sources src_;
    const ng::ng_server* ng_server_ = nullptr;
    ng_request_stats ng_;               // control thread only
    std::vector<port_snapshot> ports_;  // control thread only: last DPDK port stats
    af_packet_drops ring_drops_;        // control thread only: net_af_packet's kernel ring drops
    uint64_t mbufs_in_use_ = 0;
    std::chrono::steady_clock::time_point last_full_{};

    std::shared_ptr<collector> collector_;  // holds the snapshot and its mutex
    std::vector<std::shared_ptr<prometheus::Collectable>> more_;
    std::unique_ptr<prometheus::Exposer> exposer_;
};

}  // namespace metrics
}  // namespace rtprelay
