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
    uint16_t n_queues = 1;
    uint16_t rx_desc = 1024;
    uint16_t tx_desc = 1024;
    bool promiscuous = true;  // virtual devices and shared segments deliver others' frames too
};

rte_mempool* create_mbuf_pool(const std::string& name, uint32_t n_mbufs, int socket_id);

// Configures and starts `port_id`; returns its MAC address.
rte_ether_addr setup_port(uint16_t port_id, const port_params& p, rte_mempool* pool);

void stop_port(uint16_t port_id);

// "up 10000 Mbps full-duplex" / "down", without waiting.
std::string link_status(uint16_t port_id);

}  // namespace rtprelay::dp
