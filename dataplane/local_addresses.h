#pragma once
// The media addresses this relay owns, per DPDK port, IPv4 and IPv6. Fixed at start-up (the
// control plane fills it before the workers launch), read by every worker: answering ARP,
// Neighbour Discovery and ICMP echo, telling "not for us" from "unknown port" when a lookup
// misses, and naming an IPv6 address in the flow key (its slot).

#include <cstdint>
#include <cstring>

namespace rtprelay::dp {

struct local_address {
    uint32_t addr = 0;       // IPv4, network order (0 for IPv6)
    uint16_t port_id = 0;    // DPDK port the address lives on
    uint16_t vlan = 0;       // VLAN the address lives on, 0 = untagged
    bool v6 = false;         // IPv6: addr6
    uint8_t addr6[16] = {};  // IPv6, network order
};

struct local_addresses {
    static constexpr uint32_t max = 64;
    local_address items[max];
    uint32_t n = 0;

    // A handful of addresses: a linear scan over a few cache lines beats hashing.
    const local_address* find(uint16_t port_id, uint32_t addr) const {
        for (uint32_t i = 0; i < n; ++i) {
            if (items[i].addr == addr && items[i].port_id == port_id && !items[i].v6) {
                return &items[i];
            }
        }
        return nullptr;
    }
    // The flow key slot of IPv6 address `addr` (16 bytes) on the port: 1 + its index; 0 when
    // it is not ours.
    uint16_t slot6(uint16_t port_id, const uint8_t* addr) const {
        for (uint32_t i = 0; i < n; ++i) {
            if (items[i].v6 && items[i].port_id == port_id && std::memcmp(items[i].addr6, addr, 16) == 0) {
                return static_cast<uint16_t>(i + 1);
            }
        }
        return 0;
    }
    // The same on any port (the publisher: the key names the address, the entry its port).
    uint16_t slot6(const uint8_t* addr) const {
        for (uint32_t i = 0; i < n; ++i) {
            if (items[i].v6 && std::memcmp(items[i].addr6, addr, 16) == 0) {
                return static_cast<uint16_t>(i + 1);
            }
        }
        return 0;
    }
    const local_address* find6(uint16_t port_id, const uint8_t* addr) const {
        const uint16_t s = slot6(port_id, addr);
        return s == 0 ? nullptr : &items[s - 1];
    }
    bool add(const local_address& a) {
        const bool dup = a.v6 ? slot6(a.port_id, a.addr6) != 0 : find(a.port_id, a.addr) != nullptr;
        if (n == max || dup) {
            return n != max;
        }
        items[n++] = a;
        return true;
    }
    bool add(uint32_t addr, uint16_t port_id, uint16_t vlan) { return add(local_address{addr, port_id, vlan}); }
};

}  // namespace rtprelay::dp
