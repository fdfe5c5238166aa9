#include "bench/loadgen/dpdk_link.h"

#include <arpa/inet.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include <cstdio>
#include <sstream>
#include <stdexcept>
#include <utility>

#include "bench/loadgen/clock.h"
#include "dataplane/port_setup.h"

namespace rtprelay::loadgen {

namespace {

std::string mac_text(const rte_ether_addr& m) {
    char buf[RTE_ETHER_ADDR_FMT_SIZE];
    rte_ether_format_addr(buf, sizeof buf, &m);
    return buf;
}

}  // namespace

uint32_t ipv4_be(const std::string& s) {
    in_addr a{};
    if (inet_pton(AF_INET, s.c_str(), &a) != 1) {
        throw std::runtime_error("not an IPv4 address: " + s);
    }
    return a.s_addr;
}

dpdk_link::dpdk_link(const options& opt) {
    ip_a_ = ipv4_be(opt.addr_a);
    ip_b_ = ipv4_be(opt.addr_b);
    n_queues_ = static_cast<uint16_t>(opt.dpdk_queues);
    std::vector<std::string> args{"rtprelay-loadgen"};
    std::istringstream words(opt.eal);
    for (std::string w; words >> w;) {
        args.push_back(w);
    }
    std::vector<char*> argv;
    for (std::string& a : args) {
        argv.push_back(a.data());
    }
    if (rte_eal_init(static_cast<int>(argv.size()), argv.data()) < 0) {
        throw std::runtime_error(std::string("EAL initialisation failed: ") + rte_strerror(rte_errno) +
                                 " (check --eal)");
    }
    eal_up_ = true;
    pool_ = dp::create_mbuf_pool("lg_mbufs", opt.dpdk_mbufs, static_cast<int>(rte_socket_id()));
    const auto port_a = static_cast<uint16_t>(opt.dpdk_port_a);
    const auto port_b = static_cast<uint16_t>(opt.dpdk_port_b);
    for (uint16_t id : {port_a, port_b}) {
        if (!ports_.empty() && ports_.front().id == id) {
            continue;
        }
        dp::port_params params;
        params.n_queues = n_queues_;
        params.promiscuous = false;  // our own frames only; ARP broadcasts still arrive
        port_state p;
        p.id = id;
        p.mac = dp::setup_port(id, params, pool_);
        for (uint16_t q = 0; q < n_queues_; ++q) {
            p.lanes.emplace_back(q, tx_queue_size);
        }
        ports_.push_back(std::move(p));
    }
    index_a_ = 0;
    index_b_ = ports_.size() - 1;
    ports_[index_a_].our_ips.push_back(ip_a_);
    ports_[index_b_].our_ips.push_back(ip_b_);
    // A memif client's link comes up once it has connected to the server.
    const int64_t give_up = mono_ns() + 5'000'000'000;
    for (const port_state& p : ports_) {
        for (;;) {
            rte_eth_link link{};
            if (rte_eth_link_get_nowait(p.id, &link) == 0 && link.link_status == RTE_ETH_LINK_UP) {
                break;
            }
            if (mono_ns() > give_up) {
                throw std::runtime_error("DPDK port " + std::to_string(p.id) +
                                         ": link still down after 5 s (is the relay's memif "
                                         "server up, with the same socket?)");
            }
            sleep_until_ns(mono_ns() + 10'000'000);
        }
        std::fprintf(stderr, "rtprelay-loadgen: DPDK port %u up, MAC %s\n", p.id, mac_text(p.mac).c_str());
    }
}

dpdk_link::~dpdk_link() {
    for (port_state& p : ports_) {
        p.lanes.clear();  // their frames back to the pool
        dp::stop_port(p.id);
    }
    if (pool_ != nullptr) {
        rte_mempool_free(pool_);
    }
    if (eal_up_) {
        rte_eal_cleanup();
    }
}

std::vector<uint64_t> dpdk_link::taken_per_queue() const {
    std::vector<uint64_t> out(n_queues_);
    for (const port_state& p : ports_) {
        for (const tx_lane& l : p.lanes) {
            out[l.queue()] += l.taken();
        }
    }
    return out;
}

side_sockets dpdk_side_ports(uint32_t count, uint16_t first_port) {
    side_sockets s;
    for (uint32_t i = 0; i < count; ++i) {
        s.rtp_port.push_back(static_cast<uint16_t>(first_port + 2 * i));
    }
    return s;
}

}  // namespace rtprelay::loadgen
