#pragma once
// The lock-free map the control plane publishes flows into and workers read from:
// rte_hash with RW_CONCURRENCY_LF keyed by flow_key, data = const flow_entry*.
//
// Reclamation: removing or replacing an entry does not free it (nor, for removal, its key
// slot) until every worker has passed a quiescent state (rte_rcu_qsbr, workers report once
// per loop turn). The control plane calls reclaim() periodically to free what is due.
// All methods except lookup_bulk()/lookup() are for the control plane thread only.

#include <cstdint>
#include <deque>
#include <memory>

#include "dataplane/flow_entry.h"
#include "dataplane/srtp/srtp.h"

struct rte_hash;
struct rte_rcu_qsbr;

namespace rtprelay::dp {

class flow_table {
 public:
    // capacity: flows (2 per RTP port pair and leg); n_readers: worker threads that read it.
    flow_table(uint32_t capacity, uint32_t n_readers, int socket_id);
    ~flow_table();
    flow_table(const flow_table&) = delete;
    flow_table& operator=(const flow_table&) = delete;

    // Publishes `e` (ownership passes to the table) under `key`, atomically replacing any
    // previous entry, which is retired. Returns false (and deletes e) if the table is full.
    bool publish(const flow_key& key, std::unique_ptr<flow_entry> e);
    // Removes the entry; it is freed after the grace period.
    void remove(const flow_key& key);
    // Frees a stream's state after the grace period. Call it only after every entry that
    // points at it (its own and its sibling's) has been removed or replaced.
    void retire(std::unique_ptr<stream_state> state);
    // Frees an SRTP context after the grace period; same rule as for stream states.
    void retire(std::unique_ptr<srtp::context> ctx);
    // Frees an IPv6 stream's latched-address slot after the grace period; same rule.
    void retire(std::unique_ptr<stream_addr6> addr6);
    // Frees retired entries whose grace period has passed. Cheap when nothing is due.
    void reclaim();
    // Blocks until every retired entry is freed (shutdown, tests). Workers must be running
    // (or offline) for this to return.
    void reclaim_all();

    // Live entries (removed ones waiting for their grace period are not counted).
    size_t size() const { return live_; }
    size_t pending() const { return retired_.size(); }

    // Readers (workers). `keys` and `out` have n elements, n <= 64. Misses give nullptr.
    void lookup_bulk(const flow_key* const* keys, uint32_t n, const flow_entry** out) const;
    const flow_entry* lookup(const flow_key& key) const;

    rte_rcu_qsbr* rcu() const { return rcu_; }
    rte_hash* hash() const { return hash_; }

 private:
    struct retired {
        uint64_t token;
        int32_t key_position;  // -1 when the key stays (replace)
        std::unique_ptr<flow_entry> entry;
        std::unique_ptr<stream_state> state;
        std::unique_ptr<srtp::context> ctx;
        std::unique_ptr<stream_addr6> addr6;
    };
    rte_hash* hash_ = nullptr;
    rte_rcu_qsbr* rcu_ = nullptr;
    std::deque<retired> retired_;
    size_t live_ = 0;
};

}  // namespace rtprelay::dp
