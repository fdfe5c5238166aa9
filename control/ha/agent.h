#pragma once
// The HA agent: one thread that does everything a node of a group asks of Redis, so that
// neither the control thread (NG) nor a worker ever waits for it.
//
//  - Writes: the control thread writes a call's state (put) or deletion as plain data
//    into a slot of the record ring (record_ring.h: no lock, no allocation; a call still
//    queued there is rewritten in place). What does not fit a slot (flat_record.h), what
//    finds the ring full, and clean-ups of another node's set go through the write queue
//    as before (write_queue.h: a mutex, a call's state made of heap strings; bounded, a full
//    queue refuses and the caller marks the call to write later). A call is queued in at
//    most one of the two. Each turn the agent drains the ring, then takes the whole queue
//    (in that order: group.cc relies on it), at most `write_gather` after it woke, encodes
//    and seals each put as it takes it (a flat record straight from its slot, without a
//    call_record; one cipher context, a fresh nonce per record; agent_writes.cc) and sends
//    them in pipelined batches. If the connection drops, the batch in flight is lost and
//    counted; the control thread rewrites every call when it is back (`connected`).
//  - Leases: one per media address this node serves, renewed every lease/4. The address
//    may be served until the last renewal *sent* plus 3/4 of the lease (serve_until_ns),
//    so the node stops before Redis can let the lease go to a peer, whatever the clocks.
//  - Takeover: every lease/6 it reads every address's lease and last holder. An address
//    without a lease whose holder's heartbeat is gone is an orphan; the live nodes rank
//    themselves by calls held (then name) and the first takes the orphans of that node
//    (SET NX, so two never do), the next a lease/2 later if it did not, and so on. The
//    taker loads the dead node's records and hands them to the control thread to adopt.
//    Its own home addresses (and addresses whose last holder was this node: a restart)
//    it takes whenever they are free. Orphans of others are taken only after this node
//    has been connected for two lease times, so that after a Redis failover every live
//    holder has re-asserted its leases first.
//  - Redis down, not this node: with Sentinels, when renewals fail for a quarter lease the
//    agent asks every Sentinel about the master (SENTINEL master NAME). If a majority answer
//    and each sees it down (s_down/o_down, or a PING unanswered for lease/8), no peer can
//    take a lease either, so serving goes on for another 3/4 lease from the question, and
//    so on until the master (or the one Sentinel promotes) answers again. A node that
//    cannot reach a majority of Sentinels, or whose Sentinels see the master well, is the
//    one cut off: it stops when its lease time runs out (partition). With a single Redis
//    and no Sentinel there is no such witness: losing Redis stops serving.
//
// Threads: start()/stop() and the `control thread` methods from the control thread; stats
// from any thread (relaxed atomics).

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <iterator>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "control/ha/config.h"
#include "control/ha/record.h"
#include "control/ha/record_ring.h"
#include "control/ha/redis_link.h"
#include "control/ha/seal.h"
#include "control/ha/write_queue.h"

namespace rtprelay::ha {

using steady = std::chrono::steady_clock;

struct agent_event {
    enum class kind : uint8_t {
        connected,    // a (re)connection to the master: rewrite every call
        acquired,     // leases taken for `addresses`; `records`: their last holder `node`'s calls
        lost,         // `addresses` are held by `node` now: let their calls go
        written,      // Redis acknowledged these (call-id, token) puts
        handed_over,  // every address released for a handover is held by `node` now
    };
    kind what = kind::connected;
    bool first = false;             // connected: the first connection since start
    std::vector<size_t> addresses;  // indexes into the agent's address list
    std::string node;
    std::vector<call_record> records;
    // written: (length of its call-id in ack_ids, token) per put; the call-ids one after the
    // other in one string, so that a batch's acknowledgements are two allocations the
    // control thread frees, not one per call.
    std::vector<std::pair<uint32_t, uint64_t>> acks;
    std::string ack_ids;
};

// Upper bounds (ms) of the write latency histogram's buckets (queued -> acknowledged).
inline constexpr uint32_t write_latency_bounds_ms[] = {1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 10000};
inline constexpr size_t write_latency_buckets = std::size(write_latency_bounds_ms) + 1;  // + the rest

// agent: wo, everyone else: ro.
struct agent_stats {
    std::atomic<uint8_t> redis_up{0};
    std::atomic<uint64_t> connects{0};
    std::atomic<uint64_t> connect_failures{0};
    std::atomic<uint64_t> writes{0};           // operations acknowledged by Redis
    std::atomic<uint64_t> write_turns{0};      // agent turns that took at least one operation
    std::atomic<uint64_t> gathers_cut{0};      // gather windows ended early: the ring half full
    std::atomic<uint64_t> write_failures{0};   // operations lost with a connection
    std::atomic<uint64_t> queue_full{0};       // operations refused at submit
    std::atomic<uint64_t> coalesced{0};        // puts/deletes that replaced a queued one of their call
    std::atomic<uint64_t> encode_failures{0};  // records not written: sealing failed (OpenSSL)
    std::atomic<uint64_t> bytes_written{0};    // record bytes acknowledged
    std::atomic<uint64_t> write_latency_us_sum{0};
    std::atomic<uint64_t> write_latency_count{0};
    std::atomic<uint64_t> write_latency_us_max{0};
    std::atomic<uint64_t> write_latency_count_in[write_latency_buckets] = {};  // not cumulative
    std::atomic<uint32_t> queue_depth{0};
    std::atomic<uint32_t> leases_held{0};
    std::atomic<uint64_t> leases_lost{0};  // renewals that found another holder
    std::atomic<uint64_t> takeovers{0};    // orphaned nodes whose addresses we took
    std::atomic<uint64_t> records_loaded{0};
    std::atomic<uint64_t> records_refused[7] = {};  // by decode_error
    std::atomic<uint64_t> master_switches{0};
};

class agent {
 public:
    // `addresses`: every media address this node can serve (dotted IPv4), in the order the
    // control thread indexes them.
    agent(const group_config& cfg, std::vector<std::string> addresses);
    ~agent();
    agent(const agent&) = delete;
    agent& operator=(const agent&) = delete;

    void start();
    // Stops the thread; with `release`, gives every lease back and removes the heartbeat,
    // so that peers take this node's calls at once (a clean exit).
    void stop(bool release);

    // --- control thread ---
    // False when the queue is full (counted): the caller keeps the call to write later. A
    // put or delete of a call already queued replaces that one (write_queue.h) and never
    // fails.
    bool submit(write_op op);

    // A call's puts and deletes, each call in the ring or in the write queue and never in
    // both, so that neither can hold an older state of it than the other. `where`, kept by
    // the caller per call (0 at first), says where its last record went: a ring position
    // (record_ring.h), or in_write_queue | the number of queue takes at the time.
    static constexpr uint64_t in_write_queue = uint64_t{1} << 63;
    // Into the ring: `fill(flat_record&)` writes the record (what, token, call_id, ...; not
    // `queued`), false when it does not fit. False when the record must take the slow way
    // (put_slow): it did not fit (the call's queued slot, if any, is dropped: the newer
    // state replaces it), the ring is full, or the call's last record may still be in the
    // write queue.
    template <class F>
    bool put_flat(uint64_t& where, F&& fill);
    // Into the write queue (submit), dropping the call's record still in the ring; false
    // when full: nothing of the call is queued then.
    bool put_slow(uint64_t& where, write_op op);
    // Whether the record that went to `where` may not have been taken yet.
    bool still_queued(uint64_t where) const {
        return (where & in_write_queue) != 0 ? takes_.load(std::memory_order_acquire) <= (where & ~in_write_queue)
                                             : where > ring_.taken_up_to();
    }
    std::vector<agent_event> take_events();
    // Steady-clock nanoseconds until which address `i` may be served; 0: not held.
    int64_t serve_until_ns(size_t i) const { return serve_until_[i].load(std::memory_order_acquire); }
    // Calls this node holds, for its heartbeat (peers rank takers by it).
    void set_call_count(uint64_t n) { calls_.store(n, std::memory_order_relaxed); }
    // Write operations submitted and not yet acknowledged or lost.
    uint64_t pending_writes() const {
        return submitted_.load(std::memory_order_acquire) - finished_.load(std::memory_order_acquire);
    }
    // Planned handover: marks this node as handing everything to `to` (rtprelay:G:handover:
    // NODE), gives back every lease (the control thread has stopped serving them already)
    // and takes nothing any more; `lost` events follow as `to` takes each address, then
    // `handed_over`. `to` takes them at once, without waiting for ranks or grace.
    void hand_over(const std::string& to);
    const agent_stats& stats() const { return stats_; }
    const std::vector<std::string>& addresses() const { return addresses_; }

 private:
    void run();
    void on_connected(steady::time_point now);
    void renew(steady::time_point now);
    void flush_writes();
    void watch(steady::time_point now);
    // Takes the free leases among `idx` (SET NX); returns those now held.
    std::vector<size_t> take(const std::vector<size_t>& idx, steady::time_point now);
    void load_and_post(std::vector<size_t> taken, const std::string& from);
    void post(agent_event e);
    void set_serving(size_t i, steady::time_point sent);
    void lose(size_t i, const std::string& holder);
    void release_all();
    void start_handover(const std::string& to, steady::time_point now);
    // Sentinel deployments: while renewals fail, whether a majority of the Sentinels cannot
    // reach the master either (then no peer can take a lease: serving goes on).
    bool master_down_for_sentinels();
    void witness(steady::time_point now);
    void published(bool replaced);
    bool submit(write_op op, uint64_t* takes);  // *takes: takes_ as it was queued

    const group_config& cfg_;
    const std::vector<std::string> addresses_;
    std::set<std::string> home_;
    redis_link link_;
    agent_stats stats_;
    std::unique_ptr<std::atomic<int64_t>[]> serve_until_;
    std::atomic<uint64_t> calls_{0};

    std::thread thread_;
    std::atomic<bool> stop_{false};
    std::atomic<uint64_t> submitted_{0};
    std::atomic<uint64_t> finished_{0};
    std::mutex handover_mu_;
    std::string handover_to_;  // requested by the control thread (under handover_mu_)
    std::mutex mu_;            // guards queue_, events_
    std::condition_variable wake_;
    write_queue queue_;
    std::atomic<uint64_t> takes_{0};          // agent wo (under mu_), control thread ro
    std::atomic<bool> events_posted_{false};  // under mu_: agent sets, control thread clears; read without it
    record_ring ring_;
    // The agent waits for work (agent wo, control thread ro): a record put in the empty ring
    // must wake it. Read with a fence on both sides, so a wake-up is never lost; while the
    // agent is busy, putting a record costs the control thread this one load.
    std::atomic<bool> sleeping_{false};
    // The agent waits out a gather window (agent.cc: write_gather, busy_gather) with records
    // coming in (agent sets, either clears). The control thread ends the window early, once,
    // when the ring passes half full (published()), so that a long window never sends
    // records the slow way for want of slots: a futex wake at most once a window, and only
    // at more than ~64k records/s (half the ring in 16 ms).
    std::atomic<bool> gathering_{false};
    std::vector<agent_event> events_;

    // Agent thread only.
    std::unique_ptr<sealer> sealer_;  // made at the first write (the key is checked there)
    // The record writer (flush_writes, agent_writes.cc): one turn's writes, encoded as they
    // are taken, and the buffers it reuses every turn, so that a record costs no allocation
    // here once they have grown (hiredis still makes one per command and reply).
    struct pending_write {
        write_op::kind what = write_op::kind::put;
        uint32_t id_at = 0, id_len = 0;        // the call-id in ids_
        uint32_t value_at = 0, value_len = 0;  // put: the sealed value in values_
        const write_op* slow = nullptr;        // forget: the operation taken from the queue
        uint64_t token = 0;
        steady::time_point queued{};
    };
    bool encode_put(pending_write& p, const flat_record* f, const write_op* op);
    std::vector<pending_write> pending_;
    std::string ids_, values_;
    encode_buffers enc_;
    std::string keys_;  // one batch's keys, one after the other
    std::vector<std::string_view> args_;
    std::vector<uint32_t> reply_of_;  // per operation of a batch: the reply that answers it
    std::vector<reply_brief> replies_;
    bool busy_ = false;  // the last turn had writes: poll, do not wait to be woken
    std::set<size_t> held_;
    std::optional<steady::time_point> connected_since_;
    steady::time_point next_connect_{};
    std::chrono::milliseconds backoff_{100};
    steady::time_point next_renew_{};
    steady::time_point next_watch_{};
    std::map<std::string, steady::time_point> orphan_seen_;  // node -> when its addresses were first seen orphaned
    steady::time_point last_renew_ok_{};
    steady::time_point next_witness_{};
    bool witnessed_ = false;  // serving on the Sentinels' word (logged once per outage)
    uint64_t connects_seen_ = 0;
    std::string handing_to_;     // agent thread: the handover in progress
    std::set<size_t> released_;  // addresses given back for it, not yet taken
    steady::time_point last_log_{};
};

template <class F>
bool agent::put_flat(uint64_t& where, F&& fill) {
    const bool in_queue = (where & in_write_queue) != 0;
    if (in_queue && still_queued(where)) {
        return false;
    }
    uint64_t pos = in_queue ? 0 : where;
    bool replaced = false;
    flat_record* f = ring_.claim(&pos, &replaced);
    if (f == nullptr) {
        where = 0;  // full; the call's last record, if any, was taken (else it came back)
        return false;
    }
    if (!fill(*f)) {
        ring_.cancel(pos);
        where = 0;
        return false;
    }
    if (!replaced) {
        f->queued = steady::now();
    }
    ring_.publish(pos);
    where = pos;
    published(replaced);
    return true;
}

}  // namespace rtprelay::ha
