#include "relay/link_monitor.h"

#include <rte_ethdev.h>

#include "control/log.h"

namespace rtprelay {

namespace {
// False when the PMD cannot say (then the last known state stays).
bool read_link(uint16_t port_id, bool* up, uint32_t* speed_mbps) {
    rte_eth_link link{};
    if (rte_eth_link_get_nowait(port_id, &link) != 0) {
        return false;
    }
    *up = link.link_status == RTE_ETH_LINK_UP;
    *speed_mbps = link.link_speed;
    return true;
}
}  // namespace

link_monitor::link_monitor(std::vector<uint16_t> port_ids, std::chrono::milliseconds period) : period_(period) {
    ports_.reserve(port_ids.size());
    came_up_.reserve(port_ids.size());
    for (uint16_t id : port_ids) {
        port_link p;
        p.port_id = id;
        read_link(id, &p.up, &p.speed_mbps);
        ports_.push_back(p);
    }
}

const link_monitor::port_link* link_monitor::find(uint16_t port_id) const {
    for (const port_link& p : ports_) {
        if (p.port_id == port_id) {
            return &p;
        }
    }
    return nullptr;
}

const std::vector<uint16_t>& link_monitor::poll(clock::time_point now) {
    came_up_.clear();
    if (now - last_ < period_) {
        return came_up_;
    }
    last_ = now;
    for (port_link& p : ports_) {
        bool up = false;
        uint32_t speed = 0;
        if (!read_link(p.port_id, &up, &speed) || up == p.up) {
            continue;
        }
        p.up = up;
        p.speed_mbps = speed;
        ++p.changes;
        if (up) {
            RLOG_INFO("DPDK port %u: link up (%u Mbps); relaying resumes", p.port_id, speed);
            came_up_.push_back(p.port_id);
        } else {
            RLOG_WARN("DPDK port %u: link down; its calls lose media until it returns", p.port_id);
        }
    }
    return came_up_;
}

}  // namespace rtprelay
