#pragma once
// The media addresses this relay owns, per DPDK port. Fixed at start-up (the control plane
// fills it before the workers launch), read by every worker: answering ARP and ICMP echo,
// and telling "not for us" from "unknown port" when a lookup misses.

#include <cstdint>

namespace rtprelay::dp {

struct local_address {
    uint32_t addr = 0;     // IPv4, network order
    uint16_t port_id = 0;  // DPDK port the address lives on
    uint16_t vlan = 0;     // VLAN the address lives on, 0 = untagged
};

struct local_addresses {
    static constexpr uint32_t max = 64;
    local_address items[max];
    uint32_t n = 0;

    // A handful of addresses: a linear scan over one or two cache lines beats hashing.
    const local_address* find(uint16_t port_id, uint32_t addr) const {
        for (uint32_t i = 0; i < n; ++i) {
            if (items[i].addr == addr && items[i].port_id == port_id) {
                return &items[i];
            }
        }
        return nullptr;
    }
    bool add(uint32_t addr, uint16_t port_id, uint16_t vlan) {
        if (n == max || find(port_id, addr) != nullptr) {
            return n != max;
        }
        items[n++] = {addr, port_id, vlan};
        return true;
    }
};

}  // namespace rtprelay::dp
