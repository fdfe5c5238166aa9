#include "dataplane/flow_table.h"

#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_jhash.h>
#include <rte_malloc.h>
#include <rte_rcu_qsbr.h>

#include <atomic>
#include <cstdio>
#include <stdexcept>
#include <string>

namespace rtprelay::dp {

namespace {
uint32_t hash_key(const void* key, uint32_t /*len*/, uint32_t seed) {
    // The key is 8 bytes: two 32-bit words through jhash is ~10 ns and well spread even
    // when thousands of ports share one address.
    const auto* w = static_cast<const uint32_t*>(key);
    return rte_jhash_2words(w[0], w[1], seed);
}
std::atomic<uint32_t> table_seq{0};
}  // namespace

flow_table::flow_table(uint32_t capacity, uint32_t n_readers, int socket_id) {
    std::string name = "flows" + std::to_string(table_seq.fetch_add(1));
    rte_hash_parameters p{};
    p.name = name.c_str();
    p.entries = capacity < 64 ? 64 : capacity;
    p.key_len = sizeof(flow_key);
    p.hash_func = hash_key;
    p.hash_func_init_val = 0x7e1a7e1a;
    p.socket_id = socket_id;
    p.extra_flag = RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF | RTE_HASH_EXTRA_FLAGS_EXT_TABLE;
    hash_ = rte_hash_create(&p);
    if (hash_ == nullptr) {
        throw std::runtime_error("flow table: rte_hash_create failed: " + std::string(rte_strerror(rte_errno)));
    }
    uint32_t readers = n_readers == 0 ? 1 : n_readers;
    size_t sz = rte_rcu_qsbr_get_memsize(readers);
    rcu_ = static_cast<rte_rcu_qsbr*>(rte_zmalloc_socket("flow_rcu", sz, RTE_CACHE_LINE_SIZE, socket_id));
    if (rcu_ == nullptr || rte_rcu_qsbr_init(rcu_, readers) != 0) {
        rte_hash_free(hash_);
        rte_free(rcu_);
        throw std::runtime_error("flow table: RCU init failed");
    }
}

flow_table::~flow_table() {
    // Callers stop the workers first; nothing reads the table any more.
    rte_hash_free(hash_);
    rte_free(rcu_);
}

bool flow_table::publish(const flow_key& key, std::unique_ptr<flow_entry> e) {
    void* old = nullptr;
    bool had = rte_hash_lookup_data(hash_, &key, &old) >= 0;
    if (rte_hash_add_key_data(hash_, &key, e.get()) != 0) {
        return false;
    }
    e.release();
    if (!had) {
        ++live_;
    }
    if (had && old != nullptr) {
        retired_.push_back({rte_rcu_qsbr_start(rcu_), -1, std::unique_ptr<flow_entry>(static_cast<flow_entry*>(old)),
                            nullptr, nullptr, nullptr});
    }
    return true;
}

void flow_table::remove(const flow_key& key) {
    void* old = nullptr;
    if (rte_hash_lookup_data(hash_, &key, &old) < 0) {
        return;
    }
    int32_t pos = rte_hash_del_key(hash_, &key);
    --live_;
    retired_.push_back({rte_rcu_qsbr_start(rcu_), pos, std::unique_ptr<flow_entry>(static_cast<flow_entry*>(old)),
                        nullptr, nullptr, nullptr});
}

void flow_table::retire(std::unique_ptr<stream_state> state) {
    if (state) {
        retired_.push_back({rte_rcu_qsbr_start(rcu_), -1, nullptr, std::move(state), nullptr, nullptr});
    }
}

void flow_table::retire(std::unique_ptr<srtp::context> ctx) {
    if (ctx) {
        retired_.push_back({rte_rcu_qsbr_start(rcu_), -1, nullptr, nullptr, std::move(ctx), nullptr});
    }
}

void flow_table::retire(std::unique_ptr<stream_addr6> addr6) {
    if (addr6) {
        retired_.push_back({rte_rcu_qsbr_start(rcu_), -1, nullptr, nullptr, nullptr, std::move(addr6)});
    }
}

void flow_table::reclaim() {
    while (!retired_.empty() && rte_rcu_qsbr_check(rcu_, retired_.front().token, false) == 1) {
        if (retired_.front().key_position >= 0) {
            rte_hash_free_key_with_position(hash_, retired_.front().key_position);
        }
        retired_.pop_front();
    }
}

void flow_table::reclaim_all() {
    while (!retired_.empty()) {
        rte_rcu_qsbr_check(rcu_, retired_.back().token, true);
        reclaim();
    }
}

void flow_table::lookup_bulk(const flow_key* const* keys, uint32_t n, const flow_entry** out) const {
    void* data[RTE_HASH_LOOKUP_BULK_MAX];
    uint64_t hits = 0;
    rte_hash_lookup_bulk_data(hash_, const_cast<const void**>(reinterpret_cast<const void* const*>(keys)), n, &hits,
                              data);
    for (uint32_t i = 0; i < n; ++i) {
        out[i] = (hits >> i) & 1 ? static_cast<const flow_entry*>(data[i]) : nullptr;
    }
}

const flow_entry* flow_table::lookup(const flow_key& key) const {
    void* data = nullptr;
    if (rte_hash_lookup_data(hash_, &key, &data) < 0) {
        return nullptr;
    }
    return static_cast<const flow_entry*>(data);
}

}  // namespace rtprelay::dp
