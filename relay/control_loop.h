#pragma once
// The main lcore's loop: NG requests, ARP and IPv6 neighbour discovery (answers, learning,
// resolution, aging, gratuitous ARP and unsolicited neighbour advertisements at start),
// RCU reclamation of retired flows, periodic counter logs and the /metrics snapshot.
// Everything here may allocate and log; none of it is per relayed packet.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <vector>

#include "control/address.h"
#include "dataplane/worker.h"
#include "relay/announce_repeat.h"
#include "relay/latch_log.h"

struct rte_mempool;
struct rte_ring;

namespace rtprelay {

namespace ng {
class ng_server;
}
namespace metrics {
class exporter;
}
namespace ha {
class group;
}
class session_manager;
class link_monitor;

struct control_context {
    ng::ng_server* ng = nullptr;
    dp::flow_table* flows = nullptr;
    dp::neighbour_table* neighbours = nullptr;
    dp::dataplane_shared* shared = nullptr;
    std::vector<dp::worker*> workers;
    rte_mempool* pool = nullptr;
    rte_ring* to_control = nullptr;        // ARP and ND frames from the workers
    rte_ring* control_tx = nullptr;        // frames for worker 0 to send
    rte_ring* latch_events = nullptr;      // latch changes to log (latch_log.h); null = none
    session_manager* sessions = nullptr;   // timeouts are checked once a second
    unsigned stats_interval = 0;           // seconds, 0 = off
    metrics::exporter* metrics = nullptr;  // /metrics snapshot refreshed every 250 ms; null = off
    link_monitor* links = nullptr;         // DPDK link state, polled every 100 ms; null = off
    ha::group* group = nullptr;            // a node of a group: leases, takeover (control/ha); null = alone
};

class control_loop {
 public:
    explicit control_loop(control_context ctx) : ctx_(std::move(ctx)), latches_(ctx_.latch_events, ctx_.sessions) {}

    // Announces every media address served (gratuitous ARP; IPv6: an unsolicited neighbour
    // advertisement to all nodes), and once more `repeat_announce` later (why, and why
    // 300 ms: relay/announce_repeat.h); only those on `port_id` when given (a link that came
    // back up), or only those equal to `addr` (a lease just taken). Addresses on a port
    // whose link is down are left for the link monitor, which announces them when it comes
    // up; the second announcement is skipped for an address no longer served by then (a
    // lease given up).
    void announce(int port_id = -1, const ip_address* addr = nullptr);
    // Runs until `stop` is set (signal handler) or `done` (checked every turn, when given)
    // returns true. Each turn waits at most 1 ms for NG.
    void run(const std::atomic<bool>& stop,
             const std::function<bool(std::chrono::steady_clock::time_point)>& done = {});

    // Each worker's counters, copied: plain loads of single-writer uint64s (counters.h).
    std::vector<dp::worker_counters> blocks() const {
        std::vector<dp::worker_counters> out;
        out.reserve(ctx_.workers.size());
        for (const dp::worker* w : ctx_.workers) {
            out.push_back(w->counters);
        }
        return out;
    }
    // Sum of the workers' counters.
    dp::worker_counters totals() const;

 private:
    void handle_neighbour_frames(std::chrono::steady_clock::time_point now);
    void handle_arp(struct rte_mbuf* m, std::chrono::steady_clock::time_point now);
    void handle_nd(struct rte_mbuf* m, std::chrono::steady_clock::time_point now);
    void resolve(std::chrono::steady_clock::time_point now);
    void announce_now(int port_id, const ip_address* addr, bool again);
    void transmit(struct rte_mbuf* m);
    // False when the link monitor saw `port_id`'s link down: a frame given to it now would
    // only be refused by its TX queue (counted as control_tx_failed).
    bool link_up(uint16_t port_id) const;
    // Our address (of the neighbour's family) to ask for a neighbour on `port_id` from.
    const dp::local_address* source_for(const dp::neighbour& n) const;

    control_context ctx_;
    latch_log latches_;
    // announce()'s second announcements, due at `due`: rare (start, link up, lease taken).
    struct repeat {
        int port_id;
        bool one_address;
        ip_address addr;
        std::chrono::steady_clock::time_point due;
    };
    std::vector<repeat> repeats_;
};

}  // namespace rtprelay
