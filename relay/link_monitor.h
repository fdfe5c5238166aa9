#pragma once
// Link state of the DPDK ports, polled from the control loop.
//
// Polling rte_eth_link_get_nowait() every 100 ms works whether or not the PMD has a
// link-state interrupt (net_tap answers with one SIOCGIFFLAGS ioctl, a NIC reads a register;
// net_af_packet always says up while started), costs a few µs per port per poll, and keeps
// link handling on the control thread: no interrupt thread, no callback racing the loop. A flap shorter than the poll
// period can go unseen; DPDK's own link counters do not exist to catch it either.
// The workers need nothing from here: a port whose link is down simply receives nothing,
// and what it fails to send is counted as `tx_full` by the worker.

#include <chrono>
#include <cstdint>
#include <vector>

namespace rtprelay {

class link_monitor {
 public:
    using clock = std::chrono::steady_clock;

    struct port_link {
        uint16_t port_id = 0;
        bool up = false;
        uint32_t speed_mbps = 0;
        uint64_t changes = 0;  // transitions seen (down -> up and up -> down), since start
    };

    // Reads every port's state once (start-up: not counted as a change).
    explicit link_monitor(std::vector<uint16_t> port_ids,
                          std::chrono::milliseconds period = std::chrono::milliseconds(100));

    // Control thread, every loop turn: when `period` has passed, reads each port's link,
    // logs and counts each change. Returns the ports whose link came up in this call
    // (their addresses should be announced again); empty most of the time, no allocation
    // then.
    const std::vector<uint16_t>& poll(clock::time_point now);

    const std::vector<port_link>& ports() const { return ports_; }
    // The port's entry, or null if it is not monitored.
    const port_link* find(uint16_t port_id) const;

 private:
    std::vector<port_link> ports_;
    std::vector<uint16_t> came_up_;
    std::chrono::milliseconds period_;
    clock::time_point last_{};
};

}  // namespace rtprelay
