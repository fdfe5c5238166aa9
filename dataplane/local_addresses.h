#pragma once
// The media addresses this relay owns, per DPDK port. The list is fixed at start-up (the
// control plane fills it before the workers launch) and read by every worker: answering
// ICMP echo, and telling "not for us" from "unknown port" when a lookup misses; the control
// plane reads it to answer ARP.
//
// In a group (control/ha) a node serves an address only while it holds its lease: the
// control plane clears `active` when the lease lapses (and sets it when one is taken), so
// that from then on the address is "not for us" everywhere (no ARP or ICMP answer, dropped
// as not_for_us) while a peer takes it. Media packets never read it: they are found by
// flow lookup, and the control plane withdraws the flows of an address it stops serving.

#include <atomic>
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
    // ctl: wo, dp: ro. 1 = this node answers for items[i] now (always, outside a group).
    std::atomic<uint8_t> active[max] = {};

    // A handful of addresses: a linear scan over one or two cache lines beats hashing.
    // Only addresses being served.
    const local_address* find(uint16_t port_id, uint32_t addr) const {
        const local_address* a = find_any(port_id, addr);
        return a != nullptr && active[a - items].load(std::memory_order_relaxed) != 0 ? a : nullptr;
    }
    // Served or not (control plane: what to announce when a lease is taken).
    const local_address* find_any(uint16_t port_id, uint32_t addr) const {
        for (uint32_t i = 0; i < n; ++i) {
            if (items[i].addr == addr && items[i].port_id == port_id) {
                return &items[i];
            }
        }
        return nullptr;
    }
    bool add(uint32_t addr, uint16_t port_id, uint16_t vlan) {
        if (n == max || find_any(port_id, addr) != nullptr) {
            return n != max;
        }
        active[n].store(1, std::memory_order_relaxed);
        items[n++] = {addr, port_id, vlan};
        return true;
    }
    // Control plane: serve (or stop serving) `addr` on every port it is on.
    void set_active(uint32_t addr, bool on) {
        for (uint32_t i = 0; i < n; ++i) {
            if (items[i].addr == addr) {
                active[i].store(on ? 1 : 0, std::memory_order_relaxed);
            }
        }
    }
    bool is_active(uint32_t i) const { return active[i].load(std::memory_order_relaxed) != 0; }
};

}  // namespace rtprelay::dp
