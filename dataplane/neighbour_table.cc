#include "dataplane/neighbour_table.h"

#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_jhash.h>
#include <rte_malloc.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>

#include <atomic>
#include <cstring>
#include <new>
#include <stdexcept>
#include <string>

namespace rtprelay::dp {

namespace {
uint64_t make_key(uint16_t port_id, uint32_t addr) { return (static_cast<uint64_t>(port_id) << 32) | addr; }
uint32_t hash_key(const void* key, uint32_t /*len*/, uint32_t seed) {
    const auto* w = static_cast<const uint32_t*>(key);
    return rte_jhash_2words(w[0], w[1], seed);
}
uint32_t hash_key6(const void* key, uint32_t len, uint32_t seed) {
    return rte_jhash_32b(static_cast<const uint32_t*>(key), len / 4, seed);
}
std::atomic<uint32_t> table_seq{0};
}  // namespace

neighbour_table::key6 neighbour_table::make_key6(uint16_t port_id, const uint8_t* addr) {
    key6 key{};
    std::memcpy(key.addr, addr, sizeof(key.addr));
    key.port_id = port_id;
    return key;
}

neighbour_table::neighbour_table(uint32_t capacity, int socket_id) : capacity_(capacity) {
    static_assert(sizeof(key6) == 20);
    const std::string suffix = std::to_string(table_seq.fetch_add(1));
    const std::string name = "nbr" + suffix;
    const std::string name6 = "nbr6_" + suffix;
    rte_hash_parameters p{};
    p.name = name.c_str();
    p.entries = capacity < 64 ? 64 : capacity;
    p.key_len = sizeof(uint64_t);
    p.hash_func = hash_key;
    p.socket_id = socket_id;
    p.extra_flag = RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF | RTE_HASH_EXTRA_FLAGS_EXT_TABLE;
    hash_ = rte_hash_create(&p);
    p.name = name6.c_str();
    p.key_len = sizeof(key6);
    p.hash_func = hash_key6;
    hash6_ = rte_hash_create(&p);
    const std::string ring_name = "nbr_req" + suffix;
    const std::string ring6_name = "nbr6_req" + suffix;
    requests_ = rte_ring_create(ring_name.c_str(), 1024, socket_id, RING_F_SC_DEQ);
    requests6_ = rte_ring_create_elem(ring6_name.c_str(), sizeof(key6), 256, socket_id, RING_F_SC_DEQ);
    entries_ = static_cast<neighbour*>(
        rte_zmalloc_socket("neighbours", sizeof(neighbour) * capacity, RTE_CACHE_LINE_SIZE, socket_id));
    if (hash_ == nullptr || hash6_ == nullptr || requests_ == nullptr || requests6_ == nullptr || entries_ == nullptr) {
        const std::string why = rte_strerror(rte_errno);
        rte_hash_free(hash_);
        rte_hash_free(hash6_);
        rte_ring_free(requests_);
        rte_ring_free(requests6_);
        rte_free(entries_);
        throw std::runtime_error("neighbour table: allocation failed: " + why);
    }
    for (uint32_t i = 0; i < capacity; ++i) {
        new (&entries_[i]) neighbour();
    }
    ctl_.resize(capacity);
}

neighbour_table::~neighbour_table() {
    rte_hash_free(hash_);
    rte_hash_free(hash6_);
    rte_ring_free(requests_);
    rte_ring_free(requests6_);
    rte_free(entries_);
}

neighbour* neighbour_table::find(const void* key, rte_hash* h) const {
    void* data = nullptr;
    if (rte_hash_lookup_data(h, key, &data) < 0) {
        return nullptr;
    }
    return static_cast<neighbour*>(data);
}

// The next free entry for (port_id, addr), or (port_id, addr6) when addr6 is set, filled
// and then published under `key` in `h` (a worker that finds it through the hash must see
// whole fields). nullptr when the table is full.
neighbour* neighbour_table::add(const void* key, rte_hash* h, uint16_t port_id, uint32_t addr, const uint8_t* addr6) {
    if (used_ == capacity_) {
        return nullptr;
    }
    neighbour* n = &entries_[used_];
    n->addr = addr;
    if (addr6 != nullptr) {
        std::memcpy(n->addr6, addr6, sizeof(n->addr6));
    }
    n->port_id = port_id;
    n->v6 = addr6 != nullptr;
    n->mac.store(0, std::memory_order_relaxed);
    if (rte_hash_add_key_data(h, key, n) != 0) {
        return nullptr;
    }
    ctl_[used_] = ctl_state{};
    ++used_;
    return n;
}

neighbour* neighbour_table::get_or_create(uint16_t port_id, uint32_t addr) {
    const uint64_t key = make_key(port_id, addr);
    neighbour* n = find(&key, hash_);
    return n != nullptr ? n : add(&key, hash_, port_id, addr, nullptr);
}

neighbour* neighbour_table::get_or_create6(uint16_t port_id, const uint8_t* addr) {
    const key6 key = make_key6(port_id, addr);
    neighbour* n = find(&key, hash6_);
    return n != nullptr ? n : add(&key, hash6_, port_id, 0, addr);
}

void neighbour_table::learned(neighbour* n, uint64_t mac, clock::time_point now) {
    n->mac.store((mac & 0xffffffffffffull) | neighbour_valid, std::memory_order_release);
    n->wanted.store(0, std::memory_order_relaxed);
    ctl_[static_cast<size_t>(n - entries_)].confirmed = now;
}

void neighbour_table::learn(uint16_t port_id, uint32_t addr, uint64_t mac, bool create, clock::time_point now) {
    const uint64_t key = make_key(port_id, addr);
    neighbour* n = create ? get_or_create(port_id, addr) : find(&key, hash_);
    if (n != nullptr) {
        learned(n, mac, now);
    }
}

void neighbour_table::learn6(uint16_t port_id, const uint8_t* addr, uint64_t mac, bool create, clock::time_point now) {
    const key6 key = make_key6(port_id, addr);
    neighbour* n = create ? get_or_create6(port_id, addr) : find(&key, hash6_);
    if (n != nullptr) {
        learned(n, mac, now);
    }
}

std::vector<const neighbour*> neighbour_table::due_for_request(clock::time_point now) {
    std::vector<const neighbour*> out;
    for (uint32_t i = 0; i < used_; ++i) {
        neighbour& n = entries_[i];
        ctl_state& c = ctl_[i];
        const bool valid = (n.mac.load(std::memory_order_relaxed) & neighbour_valid) != 0;
        if (n.wanted.load(std::memory_order_relaxed) != 0) {
            c.ever_wanted = true;
        }
        if (valid && now - c.confirmed > expire_after) {
            n.mac.store(0, std::memory_order_release);
        }
        bool due = false;
        if (!valid) {
            due = c.ever_wanted;
        } else {
            due = now - c.confirmed > refresh_after;
        }
        if (due && now - c.last_request >= retry_every) {
            c.last_request = now;
            out.push_back(&n);
        }
    }
    return out;
}

void neighbour_table::take_requests() {
    void* items[64];
    unsigned n = 0;
    while ((n = rte_ring_dequeue_burst(requests_, items, 64, nullptr)) > 0) {
        for (unsigned i = 0; i < n; ++i) {
            const auto v = reinterpret_cast<uintptr_t>(items[i]);
            neighbour* nb = get_or_create(static_cast<uint16_t>(v >> 32), static_cast<uint32_t>(v));
            if (nb != nullptr) {
                ctl_[static_cast<size_t>(nb - entries_)].ever_wanted = true;
            }
        }
    }
    key6 keys[16];
    while ((n = rte_ring_dequeue_burst_elem(requests6_, keys, sizeof(key6), 16, nullptr)) > 0) {
        for (unsigned i = 0; i < n; ++i) {
            neighbour* nb = get_or_create6(keys[i].port_id, keys[i].addr);
            if (nb != nullptr) {
                ctl_[static_cast<size_t>(nb - entries_)].ever_wanted = true;
            }
        }
    }
}

size_t neighbour_table::resolved() const {
    size_t r = 0;
    for (uint32_t i = 0; i < used_; ++i) {
        if ((entries_[i].mac.load(std::memory_order_relaxed) & neighbour_valid) != 0) {
            ++r;
        }
    }
    return r;
}

const neighbour* neighbour_table::lookup(uint16_t port_id, uint32_t addr) const {
    const uint64_t key = make_key(port_id, addr);
    return find(&key, hash_);
}

const neighbour* neighbour_table::lookup6(uint16_t port_id, const uint8_t* addr) const {
    const key6 key = make_key6(port_id, addr);
    return find(&key, hash6_);
}

void neighbour_table::request(uint16_t port_id, uint32_t addr) const {
    const uintptr_t v = static_cast<uintptr_t>(make_key(port_id, addr));
    // Multi-producer: any worker may ask. Full ring: the request is lost, the next packet retries.
    rte_ring_enqueue(requests_, reinterpret_cast<void*>(v));
}

void neighbour_table::request6(uint16_t port_id, const uint8_t* addr) const {
    key6 key = make_key6(port_id, addr);  // the ring's API takes a non-const pointer
    rte_ring_enqueue_elem(requests6_, &key, sizeof(key));
}

}  // namespace rtprelay::dp
