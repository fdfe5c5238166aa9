#pragma once
// rtprelay's data and control plane objects on the two ring ports: the daemon's own data
// plane (dp::plane: n workers, worker i polls queue i of both ports and is RCU reader i;
// with more than one, a handoff ring each), polled by threads the benchmark starts. Calls
// are set up through session_manager::offer/answer and published by the real publisher,
// which picks each stream's owner; neighbours are learnt as the control plane learns them
// from ARP.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

#include "bench/pipeline/eal_env.h"
#include "bench/pipeline/options.h"
#include "bench/pipeline/topology.h"
#include "dataplane/plane.h"

namespace rtprelay {
class interface_set;
class publisher;
class session_manager;
}  // namespace rtprelay

namespace rtprelay::pipeline {

struct setup_stats {
    double seconds = 0;       // offer + answer of every call, and publishing
    size_t flows = 0;         // live flow entries afterwards
    uint64_t heap_bytes = 0;  // malloc'd by the relay's objects (sessions, entries, contexts)
    uint64_t dpdk_bytes = 0;  // rte_malloc'd (flow hash sized for the calls, rings, neighbours)
};

class relay_under_test {
 public:
    // `suite`: what the callers offer and the relay offers the callees on SRTP legs.
    // record_pct: that share of the calls is recorded (spread evenly over them); record_hot:
    // the record rings' hot area in bytes (0 = the daemon's).
    relay_under_test(eal_env& env, scenario s, uint32_t calls, uint32_t srtp_batch_min, uint32_t workers = 1,
                     dp::srtp::suite suite = dp::srtp::suite::aes_cm_128_hmac_sha1_80, ip_mode ip = ip_mode::v4,
                     uint32_t record_pct = 0, uint32_t record_hot = 0);
    ~relay_under_test();
    relay_under_test(const relay_under_test&) = delete;
    relay_under_test& operator=(const relay_under_test&) = delete;

    // Offer and answer for every call, with SDES keys on SRTP legs; learns the peers'
    // MACs; lets the offers' replaced entries go (RCU). Throws on any refusal.
    std::vector<call_info> set_up_calls();
    const setup_stats& stats() const { return stats_; }

    uint32_t n_workers() const { return plane_->n_workers(); }
    dp::worker& worker(uint32_t i = 0) { return plane_->worker_at(static_cast<uint16_t>(i)); }
    // The worker that owns the stream the peer on `side` sends (its flow entry's owner).
    uint32_t owner(const call_info& c, int side) const;
    // What worker::run() reports after each loop turn (RCU reader = worker index). With
    // recorded calls it also stands in for the recorder thread: what the worker recorded is
    // taken off its record ring (the recorder's own cost: bench/micro/recorder_benchmark).
    void quiescent(uint32_t worker_index);
    // From now on a thread pinned to `cpu` stands in for the recorder, reading every worker's
    // record ring concurrently with the lanes (quiescent() then leaves them alone), as the
    // daemon's recorder thread does on a core of its own. Throws if it cannot be pinned.
    void start_recorder(int cpu);
    // Stops that thread after a last pass over the rings (before recorded() is read).
    void stop_recorder();
    // Packets copied for recorded calls so far (call after the lanes stopped).
    uint64_t recorded() const;
    // Records not as their packet was sent (its side's family, from a peer of the side to the
    // relay's address there) so far.
    uint64_t record_wrong() const;
    // Copies the record rings refused (full) so far.
    uint64_t record_refused() const;
    // Packets waiting on worker i's handoff ring (0 with one worker).
    unsigned handoff_backlog(uint32_t worker_index) const;
    // The workers' counters added up.
    dp::worker_counters totals() const;

 private:
    bool record_as_sent(const dp::record_slot& s) const;
    // The recorder's part, reduced to counting: worker w's records read, the ring given back.
    void read_records(uint32_t worker_index);
    eal_env& env_;
    scenario scenario_;
    uint32_t calls_;
    dp::srtp::suite suite_;
    ip_mode ip_;
    uint32_t record_pct_;
    uint64_t recorded_[dp::max_workers] = {};      // [w] written by the thread polling worker w
    uint64_t record_wrong_[dp::max_workers] = {};  // [w] ditto: records not as sent (record_as_sent)
    // start_recorder's thread: writes recorded_ and record_wrong_ while it runs (then the
    // lanes do not); stop_ written by stop_recorder, read by the thread.
    std::thread recorder_;
    std::atomic<bool> recorder_stop_{false};
    setup_stats stats_;
    uint64_t heap_before_ = 0;
    uint64_t dpdk_before_ = 0;

    std::unique_ptr<interface_set> interfaces_;
    std::unique_ptr<dp::plane> plane_;
    std::unique_ptr<publisher> pub_;
    std::unique_ptr<session_manager> sessions_;
};

}  // namespace rtprelay::pipeline
