#pragma once
// The data plane's one owner: everything the workers run on, built in order by the
// constructor and torn down in reverse by the destructor, on every exit path. The daemon
// (relay/main.cc), the pipeline benchmark and the data plane tests construct it; nothing
// else creates the rings, tables or workers.
//
// Built in this order (and undone in the reverse one):
//   1. the mbuf pool (unless the caller lends one)
//   2. the ports: one RX and one TX queue per worker (unless the caller set them up)
//   3. the local media addresses
//   4. the flow table and the neighbour table
//   5. the rings: to_control (ARP to the control plane), control_tx (frames the control
//      plane sends through worker 0), one handoff ring per worker when there are several,
//      latch_events (latch changes for the control plane to log, latch.h), one record
//      ring per worker when calls may be recorded (record_ring.h)
//   6. the block every worker shares (dataplane_shared) and the workers (TX buffers, SRTP
//      batch state)
//   7. flow steering (rte_flow rules), when asked for
// A step that fails throws std::runtime_error naming what failed (a ring by its name);
// what the earlier steps built is freed before the exception leaves the constructor.
//
// Workers run either on EAL worker lcores (launch(), the daemon and the launch tests) or in
// loops the caller drives itself (register_readers(), the benchmark and the worker tests).
// Either way the destructor stops and joins them before anything they read goes away.
//
// Control plane thread only: nothing here is called by a worker.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <rte_ether.h>

#include "dataplane/flow_table.h"
#include "dataplane/local_addresses.h"
#include "dataplane/neighbour_table.h"
#include "dataplane/record_ring.h"
#include "dataplane/worker.h"

struct rte_mempool;
struct rte_ring;

namespace rtprelay::dp {

// A DPDK port the workers poll (queue i belongs to worker i).
struct plane_port {
    uint16_t id = 0;
    // true: the plane configures and starts the port with one queue pair per worker, and
    // stops (and closes) it last. false: the caller did both and keeps the port (the
    // benchmark's and the tests' net_ring ports, which outlive one plane).
    bool set_up = true;
    // The source MAC the workers write; unset: the port's own. net_ring ports all report
    // the same address, so tests give each its own to tell them apart.
    std::optional<rte_ether_addr> mac;
    // Descriptors per RX / TX queue when the plane sets the port up; 0 = port_params'
    // default (port_setup.h).
    uint16_t rx_desc = 0;
    uint16_t tx_desc = 0;
};

struct plane_config {
    // Prefix of the DPDK names of the rings and the pool ("dp" -> "dp_to_control",
    // "dp_handoff1", "dp_mbufs"). DPDK names are per process: two planes alive at once need
    // different prefixes. At most 12 characters (a ring name has at most 29).
    std::string name = "dp";
    uint16_t workers = 1;  // 1 .. max_workers
    int socket = 0;        // NUMA socket of the tables and rings
    // The mbuf pool: borrowed when set (the caller frees it after the plane), otherwise the
    // plane's own of `mbufs` buffers plus one for every RX and TX descriptor of the ports it
    // sets up (full rings must not starve the workers of buffers).
    rte_mempool* pool = nullptr;
    uint32_t mbufs = 8191;
    std::vector<plane_port> ports;         // at most max_ports, ids below max_ports
    std::vector<local_address> addresses;  // media addresses, at most local_addresses::max
    uint32_t max_flows = 65536;
    uint32_t max_neighbours = 1024;
    uint32_t idle_sleep_us = 0;   // dataplane_shared::idle_sleep_us
    uint32_t srtp_batch_min = 2;  // dataplane_shared::srtp_batch_min
    // Bytes of each worker's record ring (a power of two, >= 64 KiB); 0 = no call recording.
    uint32_t record_bytes = 0;
    // Bytes of each record ring's hot area (record_ring.h: a power of two, written while the
    // recorder keeps up), on top of record_bytes; 0 = none.
    uint32_t record_hot = record_hot_bytes;
    // rte_flow rules that deliver each stream to its owner's RX queue (steering.h), with
    // 2+ workers on ports the plane set up; `vlans` are the tags the rules also match.
    bool steering = false;
    std::vector<uint16_t> vlans;
};

class plane {
 public:
    // Ring sizes (entries): ARP bursts to the control plane and control frames out are
    // rare; a handoff ring holds two full RX rings of misdelivered packets.
    static constexpr unsigned control_ring_size = 1024;
    static constexpr unsigned handoff_ring_size = 4096;
    // Latch changes: ~4 per call set-up; 4096 is ~10 s of 100 new calls/s between two
    // control loop turns that each drain it (they run every millisecond).
    static constexpr unsigned latch_ring_size = 4096;
    static constexpr size_t max_name = 12;

    explicit plane(const plane_config& c);
    ~plane();
    plane(const plane&) = delete;
    plane& operator=(const plane&) = delete;

    // Starts worker i on the i-th EAL worker lcore. Once per plane. Throws (with every
    // worker it started stopped again) when EAL has too few worker lcores or one refuses.
    void launch();
    // Tells the launched workers to stop and waits until each has returned from its loop
    // (TX buffers flushed, RCU reader unregistered). Returns how many it joined; 0 when
    // none run. The destructor calls it; call it earlier to read final counters.
    unsigned stop();
    bool running() const { return !lcores_.empty(); }

    // For callers that poll the workers themselves (poll_once/end_turn): registers every
    // worker as an RCU reader and puts it online, as worker::run() does before its loop;
    // the destructor takes them off. Not together with launch().
    void register_readers();
    // What worker::run() reports after each loop turn, for worker i (register_readers()).
    void quiescent(uint16_t worker_index);

    uint16_t n_workers() const { return static_cast<uint16_t>(workers_.size()); }
    worker& worker_at(uint16_t i) { return *workers_[i]; }
    const worker& worker_at(uint16_t i) const { return *workers_[i]; }
    std::vector<const worker*> workers() const;
    // The workers' counters added up.
    worker_counters totals() const;

    flow_table& flows() { return *flows_; }
    neighbour_table& neighbours() { return *neighbours_; }
    dataplane_shared& shared() { return *shared_; }
    const local_addresses& locals() const { return *locals_; }
    // The control plane switches addresses on and off (a group's leases: control/ha).
    local_addresses& locals() { return *locals_; }
    rte_mempool* pool() const { return pool_; }
    rte_ring* to_control() const { return to_control_; }
    rte_ring* control_tx() const { return control_tx_; }
    rte_ring* latch_events() const { return latch_events_; }
    rte_ring* handoff(uint16_t worker_index) const { return handoff_[worker_index]; }
    // Worker i's ring of recorded packets for the recorder; null without record_bytes.
    record_ring* record(uint16_t worker_index) const { return record_[worker_index].get(); }
    // The ports in the order of the configuration.
    std::vector<uint16_t> port_ids() const;
    // Whether the steering rules are in place; when asked for but not, why not.
    bool steered() const { return steered_; }
    const std::string& steering_refused() const { return steering_refused_; }

 private:
    void build(const plane_config& c);
    rte_ring* make_ring(const std::string& suffix, unsigned size, unsigned flags);
    // Undoes whatever build() got to, in reverse; safe on a half-built plane.
    void tear_down();

    std::string name_;
    int socket_ = 0;
    rte_mempool* pool_ = nullptr;
    bool own_pool_ = false;
    std::vector<uint16_t> ports_started_;  // by this plane, stopped by it
    std::unique_ptr<local_addresses> locals_;
    std::unique_ptr<flow_table> flows_;
    std::unique_ptr<neighbour_table> neighbours_;
    rte_ring* to_control_ = nullptr;
    rte_ring* control_tx_ = nullptr;
    rte_ring* latch_events_ = nullptr;
    rte_ring* handoff_[max_workers] = {};
    std::unique_ptr<record_ring> record_[max_workers];
    std::unique_ptr<dataplane_shared> shared_;
    std::vector<std::unique_ptr<worker>> workers_;
    std::vector<uint16_t> steered_ports_;  // rules installed on these
    bool steered_ = false;
    std::string steering_refused_;
    std::vector<unsigned> lcores_;  // lcore of launched worker i; empty when none runs
    bool launched_ = false;
    bool readers_registered_ = false;
};

}  // namespace rtprelay::dp
