#pragma once
// The measured loops. One lane per worker: its own thread on its own lcore, its own queue
// (RX and TX) on both ports, its own generator and sink, as the one-worker benchmark always
// had them in one thread.
//
// timed_pass(), one burst per turn: take 32 mbufs from the pool and copy a chunk's frames
// into them (the generator), put them on the lane's RX queue of a port, call the worker's
// poll_once() and flush_tx() (timed with the TSC, nothing else is), report an RCU quiescent
// state as worker::run() does, then take everything off the lane's TX queues and free it
// (the sink), keeping one output frame in `sample_every` for the checks.
//
// This machine is shared: a thread that is switched out inside the timed region adds the
// time it was away. The loop counts context switches (getrusage, outside the timed region)
// around every window of 8 bursts and keeps the windows with none as the worker's figure;
// the raw TSC total is kept beside it. Per packet means per packet the worker relayed in
// its timed turns (with handoff, a packet handed over costs the worker it arrived at and is
// counted by the one that relays it).
//
// paced_pass(): packets arrive at a fixed rate. Each frame has an arrival time on a
// schedule; every turn the generator puts the frames that are due on the RX queue (frames
// that find the queue full are lost, as a NIC drops them), stamped with that arrival time in
// an mbuf dynamic field the relay does not touch; the worker runs as worker::run() does
// (poll_once every turn, then worker::end_turn as run() does, or a flush every --drain-us); a TX callback on the ports (rte_ethdev,
// paced mode only) turns the stamp into cycles from arrival to rte_eth_tx_burst, which the
// sink collects.
//
// generator_pass() is the timed loop without the worker (frames go on the RX ring and come
// straight back off it), so what the generator and sink cost can be told apart.

#include <array>
#include <atomic>
#include <cstdint>
#include <vector>

#include "bench/pipeline/eal_env.h"
#include "bench/pipeline/options.h"
#include "bench/pipeline/traffic.h"

namespace rtprelay::pipeline {

class relay_under_test;

struct output_sample {
    uint8_t side = 0;  // port it was sent from
    uint16_t len = 0;
    std::array<uint8_t, frame_chunk::stride> bytes{};
};

struct loop_totals {
    uint64_t injected[2] = {0, 0};   // per RX side
    uint64_t delivered[2] = {0, 0};  // per TX side
    uint64_t worker_cycles = 0;      // TSC cycles inside poll_once + flush_tx, all windows
    uint64_t clean_cycles = 0;       // the same in windows without a context switch
    uint64_t clean_packets = 0;      // packets relayed in those windows
    uint64_t loop_cpu_ns = 0;        // thread CPU time of the whole loop (generator, worker, sink)
    uint64_t outputs = 0;            // sampling position
    std::vector<output_sample> samples;
    // Paced mode.
    uint64_t offered = 0;   // frames due (injected + rx_lost)
    uint64_t rx_lost = 0;   // due while the RX queue was full
    uint64_t switches = 0;  // context switches of the thread during paced passes
    // Paced loop turns longer than stall_us: a turn relays at most a burst per port (~64
    // packets at ~1 us), so a longer one means the thread was held up (hypervisor, interrupts).
    uint64_t stalls = 0;
    uint64_t stall_cycles = 0;      // summed over those turns
    uint64_t longest_turn = 0;      // cycles
    double paced_seconds = 0;       // from the first arrival to the last
    std::vector<uint32_t> latency;  // TSC cycles from arrival to TX, per delivered packet

    static constexpr uint32_t stall_us = 100;

    // Adds another lane's figures (samples appended: per stream they stay in order, as a
    // stream leaves through its owner's queue only).
    void add(const loop_totals& o);
};

// What the lanes of one pass share: a barrier that keeps polling, and the in-flight count.
struct lane_sync {
    explicit lane_sync(uint32_t n) : lanes(n) {}
    const uint32_t lanes;
    std::atomic<uint64_t> arrived{0};
    std::atomic<uint64_t> injected{0};
    std::atomic<uint64_t> delivered{0};
    std::atomic<bool> abort{false};  // a lane failed: the others stop waiting
    // Written by each lane before a barrier, read by all after it.
    double loop_pps[max_lanes] = {};  // packets/s the lane's whole loop (generator, worker, sink) ran at
};

class lane {
 public:
    // `drain_us`: how often the paced loop flushes the TX buffers; drain_as_worker: as worker::run().
    lane(eal_env& env, relay_under_test& relay, uint32_t index, uint32_t sample_every, lane_sync& sync,
         uint32_t drain_us = drain_as_worker);

    void timed_pass(const frame_chunk& c);
    // `interval` TSC cycles between arrivals (this lane's share of the rate).
    void paced_pass(const frame_chunk& c, double interval);
    uint64_t generator_pass(const frame_chunk& c);
    // Waits for every lane to arrive and, if `drain`, for every injected packet to come out,
    // polling the worker (untimed) meanwhile so that handed-off packets keep moving. Returns
    // false on a timeout (nothing moved for 10 s) or if another lane failed.
    bool barrier(bool drain);

    loop_totals totals;

 private:
    void inject(const frame_chunk& c, uint32_t first, uint32_t n, int side, uint64_t stamp);
    void untimed_turn();
    void sink();
    bool handoff_backlogged() const;

    eal_env& env_;
    relay_under_test& relay_;
    uint32_t index_;
    uint32_t sample_every_;
    lane_sync& sync_;
    uint64_t barriers_ = 0;
    bool paced_ = false;
    uint64_t drain_every_ = 0;  // TX drain interval in TSC cycles (--drain-us)
    bool worker_rule_ = true;   // drain as worker::run() does (worker::end_turn)
    uint64_t last_drain_ = 0;
    double paced_interval_ = 0;
    uint64_t all_injected_ = 0;  // since the lane began (totals may be taken and reset)
    uint64_t all_delivered_ = 0;
    uint64_t reported_injected_ = 0;
    uint64_t reported_delivered_ = 0;
};

// Paced mode's TX stamping on every queue of both ports; removed by the destructor.
class departure_stamps {
 public:
    explicit departure_stamps(eal_env& env);
    ~departure_stamps();
    departure_stamps(const departure_stamps&) = delete;
    departure_stamps& operator=(const departure_stamps&) = delete;

 private:
    eal_env& env_;
    std::vector<std::pair<uint16_t, uint16_t>> where_;
    std::vector<const void*> callbacks_;
};

// Registers the mbuf dynamic field for the arrival stamp (once). Throws on failure.
void register_stamp_field();

}  // namespace rtprelay::pipeline
