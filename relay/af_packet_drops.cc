#include "relay/af_packet_drops.h"

#include <dirent.h>
#include <linux/if_packet.h>
#include <sys/socket.h>

#include <rte_ethdev.h>
#include <rte_version.h>

#include <cstdlib>
#include <cstring>

#include "control/log.h"

namespace rtprelay {

bool af_packet_drops::needed() {
#if RTE_VERSION >= RTE_VERSION_NUM(25, 3, 0, 0)
    // The driver reads PACKET_STATISTICS into imissed itself; reading them here too would
    // take (and reset) its counts.
    return false;
#else
    return true;
#endif
}

af_packet_drops::af_packet_drops(const std::vector<uint16_t>& port_ids) {
    if (!needed()) {
        return;
    }
    for (const uint16_t id : port_ids) {
        rte_eth_dev_info info{};
        if (rte_eth_dev_info_get(id, &info) != 0 || info.driver_name == nullptr ||
            std::strcmp(info.driver_name, "net_af_packet") != 0 || info.if_index == 0) {
            continue;
        }
        ports_.push_back(port_entry{id, static_cast<int>(info.if_index), 0});
    }
    if (ports_.empty()) {
        return;
    }
    find_sockets();
    for (size_t p = 0; p < ports_.size(); ++p) {
        size_t n = 0;
        for (const socket_entry& s : sockets_) {
            n += s.port == p ? 1 : 0;
        }
        RLOG_INFO(
            "DPDK port %u (net_af_packet): kernel ring drops read from %zu socket(s) into "
            "rtprelay_port_rx_missed_total",
            ports_[p].port_id, n);
    }
}

void af_packet_drops::find_sockets() {
    sockets_.clear();
    DIR* dir = opendir("/proc/self/fd");
    if (dir == nullptr) {
        return;
    }
    const int own = dirfd(dir);
    while (const dirent* e = readdir(dir)) {
        char* end = nullptr;
        const long fd = std::strtol(e->d_name, &end, 10);
        if (end == e->d_name || *end != '\0' || fd == own) {
            continue;  // "." and "..", and the directory being read
        }
        int domain = 0;
        socklen_t len = sizeof domain;
        if (getsockopt(static_cast<int>(fd), SOL_SOCKET, SO_DOMAIN, &domain, &len) != 0 || domain != AF_PACKET) {
            continue;
        }
        sockaddr_ll sll{};
        len = sizeof sll;
        if (getsockname(static_cast<int>(fd), reinterpret_cast<sockaddr*>(&sll), &len) != 0) {
            continue;
        }
        for (size_t p = 0; p < ports_.size(); ++p) {
            if (ports_[p].ifindex == sll.sll_ifindex) {
                sockets_.push_back(socket_entry{static_cast<int>(fd), p});
                break;
            }
        }
    }
    closedir(dir);
}

void af_packet_drops::poll() {
    bool lost = false;
    for (const socket_entry& s : sockets_) {
        // TPACKET_V2 (the driver's version): tp_drops counts frames that found the ring
        // full since the last read; the read resets it.
        tpacket_stats st{};
        socklen_t len = sizeof st;
        if (getsockopt(s.fd, SOL_PACKET, PACKET_STATISTICS, &st, &len) != 0) {
            lost = true;
            continue;
        }
        ports_[s.port].dropped += st.tp_drops;
    }
    if (lost) {
        find_sockets();
    }
}

uint64_t af_packet_drops::dropped(uint16_t port_id) const {
    for (const port_entry& p : ports_) {
        if (p.port_id == port_id) {
            return p.dropped;
        }
    }
    return 0;
}

}  // namespace rtprelay
