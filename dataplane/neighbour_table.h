#pragma once
// Next hops: IPv4 or IPv6 address on a DPDK port -> MAC. A fixed array of entries (never
// freed while the relay runs, so flow entries can keep pointers) indexed through two
// lock-free rte_hashes, one per family (the IPv4 key stays 8 bytes). The control plane
// creates, learns (ARP, Neighbour Discovery) and ages entries; workers only read them and
// flag the ones they needed but found unresolved.

#include <chrono>
#include <cstdint>
#include <memory>
#include <vector>

#include "dataplane/flow_entry.h"

struct rte_hash;
struct rte_ring;

namespace rtprelay::dp {

class neighbour_table {
 public:
    using clock = std::chrono::steady_clock;

    // capacity: entries; resolve_ring_size: requests from workers for unknown next hops.
    neighbour_table(uint32_t capacity, int socket_id);
    ~neighbour_table();
    neighbour_table(const neighbour_table&) = delete;
    neighbour_table& operator=(const neighbour_table&) = delete;

    // --- control plane ---
    // The entry for (port, addr), created unresolved if new. nullptr when the table is full.
    neighbour* get_or_create(uint16_t port_id, uint32_t addr);
    // The same for an IPv6 next hop (addr: 16 bytes, network order).
    neighbour* get_or_create6(uint16_t port_id, const uint8_t* addr);
    // Records that addr is at mac (from an ARP request or reply). Creates the entry only if
    // `create` (the sender was talking to us); otherwise refreshes an existing one.
    void learn(uint16_t port_id, uint32_t addr, uint64_t mac, bool create, clock::time_point now);
    // The same from Neighbour Discovery (a solicitation's source or an advertisement's target).
    void learn6(uint16_t port_id, const uint8_t* addr, uint64_t mac, bool create, clock::time_point now);
    // Entries that need an ARP request (IPv6: a neighbour solicitation) now: unresolved and wanted by a worker or a flow, or
    // resolved but not confirmed for `refresh_after`. Entries not confirmed for `expire_after`
    // become unresolved. Each entry is returned at most once per `retry_every`.
    std::vector<const neighbour*> due_for_request(clock::time_point now);
    // Drains unknown next hops that workers asked for and creates their entries.
    void take_requests();

    std::chrono::seconds refresh_after{30};
    std::chrono::seconds expire_after{60};
    std::chrono::milliseconds retry_every{1000};

    size_t size() const { return used_; }
    size_t resolved() const;

    // --- workers ---
    const neighbour* lookup(uint16_t port_id, uint32_t addr) const;
    const neighbour* lookup6(uint16_t port_id, const uint8_t* addr) const;
    // Asks the control plane to resolve an address it has no entry for. Lossy when the
    // ring is full (the next packet asks again).
    void request(uint16_t port_id, uint32_t addr) const;
    void request6(uint16_t port_id, const uint8_t* addr) const;

 private:
    struct ctl_state {
        clock::time_point confirmed{};
        clock::time_point last_request{};
        bool ever_wanted = false;
    };
    // The IPv6 hash key and request: address, port, zero padding (hashed whole).
    struct key6 {
        uint8_t addr[16];
        uint16_t port_id;
        uint16_t zero;
    };
    static key6 make_key6(uint16_t port_id, const uint8_t* addr);
    neighbour* add(const void* key, rte_hash* h, uint16_t port_id, uint32_t addr, const uint8_t* addr6);
    neighbour* find(const void* key, rte_hash* h) const;
    void learned(neighbour* n, uint64_t mac, clock::time_point now);

    rte_hash* hash_ = nullptr;
    rte_hash* hash6_ = nullptr;
    rte_ring* requests_ = nullptr;
    rte_ring* requests6_ = nullptr;  // key6 elements
    neighbour* entries_ = nullptr;
    std::vector<ctl_state> ctl_;
    uint32_t capacity_ = 0;
    uint32_t used_ = 0;
};

}  // namespace rtprelay::dp
