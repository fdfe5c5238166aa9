#include "dataplane/port_setup.h"

#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include <stdexcept>

namespace rtprelay::dp {

namespace {
[[noreturn]] void fail(uint16_t port_id, const char* what, int rc) {
    throw std::runtime_error("port " + std::to_string(port_id) + ": " + what +
                             " failed: " + rte_strerror(rc < 0 ? -rc : rc));
}
}  // namespace

rte_mempool* create_mbuf_pool(const std::string& name, uint32_t n_mbufs, int socket_id) {
    rte_mempool* mp = rte_pktmbuf_pool_create(name.c_str(), n_mbufs, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE, socket_id);
    if (mp == nullptr) {
        throw std::runtime_error("mbuf pool of " + std::to_string(n_mbufs) + " mbufs: " + rte_strerror(rte_errno) +
                                 " (too few hugepages? try fewer mbufs or --no-huge -m)");
    }
    return mp;
}

rte_ether_addr setup_port(uint16_t port_id, const port_params& p, rte_mempool* pool) {
    if (!rte_eth_dev_is_valid_port(port_id)) {
        throw std::runtime_error("port " + std::to_string(port_id) +
                                 " does not exist (check the EAL --vdev / -a arguments)");
    }
    rte_eth_dev_info info{};
    int rc = rte_eth_dev_info_get(port_id, &info);
    if (rc != 0) {
        fail(port_id, "rte_eth_dev_info_get", rc);
    }
    if (p.n_queues > info.max_rx_queues || p.n_queues > info.max_tx_queues) {
        throw std::runtime_error("port " + std::to_string(port_id) + " (" + info.driver_name + ") has " +
                                 std::to_string(info.max_rx_queues) + " RX / " + std::to_string(info.max_tx_queues) +
                                 " TX queues, " + std::to_string(p.n_queues) + " workers need one each");
    }
    rte_eth_conf conf{};
    if (p.n_queues > 1) {
        const uint64_t want = RTE_ETH_RSS_IP | RTE_ETH_RSS_UDP;
        const uint64_t have = info.flow_type_rss_offloads & want;
        if (have != 0) {
            conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
            conf.rx_adv_conf.rss_conf.rss_hf = have;
        }
    }
    rc = rte_eth_dev_configure(port_id, p.n_queues, p.n_queues, &conf);
    if (rc != 0) {
        fail(port_id, "rte_eth_dev_configure", rc);
    }
    uint16_t rx_desc = p.rx_desc;
    uint16_t tx_desc = p.tx_desc;
    rc = rte_eth_dev_adjust_nb_rx_tx_desc(port_id, &rx_desc, &tx_desc);
    if (rc != 0) {
        fail(port_id, "rte_eth_dev_adjust_nb_rx_tx_desc", rc);
    }
    const int socket = rte_eth_dev_socket_id(port_id);
    for (uint16_t q = 0; q < p.n_queues; ++q) {
        rc = rte_eth_rx_queue_setup(port_id, q, rx_desc, socket < 0 ? 0 : socket, nullptr, pool);
        if (rc != 0) {
            fail(port_id, "rte_eth_rx_queue_setup", rc);
        }
        rc = rte_eth_tx_queue_setup(port_id, q, tx_desc, socket < 0 ? 0 : socket, nullptr);
        if (rc != 0) {
            fail(port_id, "rte_eth_tx_queue_setup", rc);
        }
    }
    rc = rte_eth_dev_start(port_id);
    if (rc != 0) {
        fail(port_id, "rte_eth_dev_start", rc);
    }
    if (p.promiscuous) {
        rte_eth_promiscuous_enable(port_id);  // not every virtual device supports it; harmless
    }
    // IPv6 neighbour solicitations for our addresses come to their solicited-node multicast
    // groups (33:33:ff:xx:xx:xx); a NIC that is not promiscuous filters them out otherwise.
    rte_eth_allmulticast_enable(port_id);
    rte_ether_addr mac{};
    rc = rte_eth_macaddr_get(port_id, &mac);
    if (rc != 0) {
        fail(port_id, "rte_eth_macaddr_get", rc);
    }
    return mac;
}

void stop_port(uint16_t port_id) {
    rte_eth_dev_stop(port_id);
    rte_eth_dev_close(port_id);
}

std::string link_status(uint16_t port_id) {
    rte_eth_link link{};
    if (rte_eth_link_get_nowait(port_id, &link) != 0) {
        return "unknown";
    }
    if (link.link_status == RTE_ETH_LINK_DOWN) {
        return "down";
    }
    return "up " + std::to_string(link.link_speed) + " Mbps " +
           (link.link_duplex == RTE_ETH_LINK_FULL_DUPLEX ? "full-duplex" : "half-duplex");
}

}  // namespace rtprelay::dp
