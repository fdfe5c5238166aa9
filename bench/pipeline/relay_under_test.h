#pragma once
// rtprelay's data and control plane objects, wired as relay/main.cc wires them, on the two
// ring ports: n workers (worker i polls queue i of both ports and is RCU reader i; with
// more than one, a handoff ring each, as relay/main.cc creates them), polled by threads
// the benchmark starts. Calls are set up through session_manager::offer/answer and
// published by the real publisher, which picks each stream's owner; neighbours are learnt
// as the control plane learns them from ARP.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "bench/pipeline/eal_env.h"
#include "bench/pipeline/options.h"
#include "bench/pipeline/topology.h"
#include "dataplane/worker.h"

struct rte_ring;

namespace rtprelay {
class interface_set;
class publisher;
class session_manager;
}  // namespace rtprelay

namespace rtprelay::pipeline {

struct setup_stats {
    double seconds = 0;              // offer + answer of every call, and publishing
    size_t flows = 0;                // live flow entries afterwards
    uint64_t heap_bytes = 0;         // malloc'd by the relay's objects (sessions, entries, contexts)
    uint64_t dpdk_bytes = 0;         // rte_malloc'd (flow hash sized for the calls, rings, neighbours)
};

class relay_under_test {
 public:
    relay_under_test(eal_env& env, scenario s, uint32_t calls, uint32_t srtp_batch_min, uint32_t workers = 1);
    ~relay_under_test();
    relay_under_test(const relay_under_test&) = delete;
    relay_under_test& operator=(const relay_under_test&) = delete;

    // Offer and answer for every call, with SDES keys on SRTP legs; learns the peers'
    // MACs; lets the offers' replaced entries go (RCU). Throws on any refusal.
    std::vector<call_info> set_up_calls();
    const setup_stats& stats() const { return stats_; }

    uint32_t n_workers() const { return static_cast<uint32_t>(workers_.size()); }
    dp::worker& worker(uint32_t i = 0) { return *workers_[i]; }
    // The worker that owns the stream the peer on `side` sends (its flow entry's owner).
    uint32_t owner(const call_info& c, int side) const;
    // What worker::run() reports after each loop turn (RCU reader = worker index).
    void quiescent(uint32_t worker_index);
    // Packets waiting on worker i's handoff ring (0 with one worker).
    unsigned handoff_backlog(uint32_t worker_index) const;
    // The workers' counters added up.
    dp::worker_counters totals() const;

 private:
    eal_env& env_;
    scenario scenario_;
    uint32_t calls_;
    setup_stats stats_;
    uint64_t heap_before_ = 0;
    uint64_t dpdk_before_ = 0;
    bool rcu_online_ = false;

    std::unique_ptr<interface_set> interfaces_;
    std::unique_ptr<dp::local_addresses> locals_;
    std::unique_ptr<dp::flow_table> flows_;
    std::unique_ptr<dp::neighbour_table> neighbours_;
    rte_ring* to_control_ = nullptr;
    rte_ring* control_tx_ = nullptr;
    std::unique_ptr<dp::dataplane_shared> shared_;
    rte_ring* handoff_[dp::max_workers] = {};
    std::vector<std::unique_ptr<dp::worker>> workers_;
    std::unique_ptr<publisher> pub_;
    std::unique_ptr<session_manager> sessions_;
};

}  // namespace rtprelay::pipeline
