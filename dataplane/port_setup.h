#pragma once
// Bringing DPDK ports up: one mbuf pool, and on every port one RX and one TX queue per
// worker (queue i belongs to worker i), RSS over IP/UDP when there is more than one.
// Errors are start-up errors: thrown with a message naming the port and the call.

#include <cstdint>
#include <string>

#include <rte_ether.h>

struct rte_mempool;

namespace rtprelay::dp {

struct port_params {
    // Descriptors per queue. A worker's RX queue must absorb the traffic that arrives while
    // the worker is away from it: a burst from a peer, a slow control-plane call, a scheduler
    // slice on a shared host. A worker is sized for ~1 Mpps (10,000 calls at 100 packets/s
    // in, README "Sizing"), so 4096 descriptors hold ~4 ms, where DPDK's customary 1024 held
    // 1 ms; TX the same, for a peer port that stalls. Drivers round to what they support
    // (rte_eth_dev_adjust_nb_rx_tx_desc). Cost: an mbuf per descriptor (~2.2 KB), which the
    // plane adds to its pool (plane.h).
    static constexpr uint16_t default_desc = 4096;
    uint16_t n_queues = 1;
    uint16_t rx_desc = default_desc;
    uint16_t tx_desc = default_desc;
    bool promiscuous = true;  // virtual devices and shared segments deliver others' frames too
};

rte_mempool* create_mbuf_pool(const std::string& name, uint32_t n_mbufs, int socket_id);

// Configures and starts `port_id`; returns its MAC address.
rte_ether_addr setup_port(uint16_t port_id, const port_params& p, rte_mempool* pool);

void stop_port(uint16_t port_id);

// "up 10000 Mbps full-duplex" / "down", without waiting.
std::string link_status(uint16_t port_id);

}  // namespace rtprelay::dp
