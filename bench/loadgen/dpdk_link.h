#pragma once
// The DPDK mode's transport (--dpdk): the generator's own EAL, mbuf pool and ports, started
// and with their link up. Side A's address lives on --dpdk-port-a, B's on --dpdk-port-b (one
// port may carry both). Transports: a net_memif client of the relay's memif server (same
// host or namespace; copy mode works without hugepages), net_af_packet or net_af_xdp on a
// veth. NG stays on a kernel socket (main.cc).
//
// Threads: built on the main thread before streaming, then used only by the streaming loop
// (dpdk_stream.h), which runs on the same thread.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <rte_ether.h>

#include "bench/loadgen/call_table.h"
#include "bench/loadgen/options.h"
#include "bench/loadgen/side_sockets.h"
#include "bench/loadgen/tx_lane.h"

struct rte_mbuf;
struct rte_mempool;

namespace rtprelay::loadgen {

class dpdk_link {
 public:
    // Frames waiting for room on one TX queue of a port, at most this many (a power of two).
    static constexpr uint32_t tx_queue_size = 8192;

    // EAL (from opt.eal), the pool and the ports (opt.dpdk_queues queue pairs each); waits
    // up to 5 s for every link (a memif client needs its server). Throws std::runtime_error
    // naming the step. Once per process: the EAL cannot be initialised twice.
    explicit dpdk_link(const options& opt);
    ~dpdk_link();
    dpdk_link(const dpdk_link&) = delete;
    dpdk_link& operator=(const dpdk_link&) = delete;

    struct port_state {
        uint16_t id = 0;
        rte_ether_addr mac{};
        std::optional<rte_ether_addr> relay_mac;
        std::vector<uint32_t> our_ips;  // network order: the sides on this port
        // One per TX queue (--dpdk-queues; RX polls the same number of queues): the frames
        // built for it and not yet taken by the port, oldest first.
        std::vector<tx_lane> lanes;
    };

    rte_mempool* pool() const { return pool_; }
    std::vector<port_state>& ports() { return ports_; }
    port_state& port_of(side s) { return ports_[s == side::a ? index_a_ : index_b_]; }
    uint32_t ip_of(side s) const { return s == side::a ? ip_a_ : ip_b_; }
    uint16_t n_queues() const { return n_queues_; }
    // Frames TX queue q took, summed over the ports: with a relay whose worker q polls
    // queue q (--dpdk-queues), the packets worker q received.
    std::vector<uint64_t> taken_per_queue() const;

 private:
    rte_mempool* pool_ = nullptr;
    std::vector<port_state> ports_;
    size_t index_a_ = 0;
    size_t index_b_ = 0;
    uint32_t ip_a_ = 0;
    uint32_t ip_b_ = 0;
    uint16_t n_queues_ = 1;
    bool eal_up_ = false;
};

// An IPv4 address in network order; throws std::runtime_error for anything else.
uint32_t ipv4_be(const std::string& s);

// The UDP ports each side uses in --dpdk mode, in side_sockets form for the SDP writer
// (call_setup.h); no file descriptors.
side_sockets dpdk_side_ports(uint32_t count, uint16_t first_port);

}  // namespace rtprelay::loadgen
