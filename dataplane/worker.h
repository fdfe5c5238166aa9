#pragma once
// One poll-mode worker per lcore: the loop and the burst handling of the packet path's
// stages, numbered as the design does: 1 rx_burst, 2 classify (classify.h), 3 lookup,
// 4 source check and route (route.h, latch.h), 5 SRTP (srtp/batch.h, srtp/srtp.h),
// 6 rewrite (rewrite.h), 7 TX, buffered and drained at least every 100 µs. Everything a
// worker mutates lives in its own cache-aligned struct; what it shares is read-only (flow
// entries, neighbours, local addresses) or single-writer (its streams' stream_state).
//
// Rings: ARP frames go to the control plane (to_control, multi-producer); the control
// plane sends frames through worker 0 (from_control); packets for a flow another worker
// owns are handed to that worker (handoff[owner], multi-producer).

#include <atomic>
#include <cstdint>

#include <rte_ether.h>

#include "dataplane/control_tx.h"
#include "dataplane/counters.h"
#include "dataplane/flow_table.h"
#include "dataplane/local_addresses.h"
#include "dataplane/neighbour_table.h"

struct rte_ring;
struct rte_mbuf;
struct rte_eth_dev_tx_buffer;

namespace rtprelay::dp {

class record_ring;    // record_ring.h
struct record_stage;  // record_stage.h

namespace srtp {
class burst_crypto;
struct batch_item;
}  // namespace srtp
struct route;  // route.h

constexpr uint16_t max_ports = 8;
static_assert(max_ports <= counted_ports, "worker_counters::traffic is indexed by DPDK port id");
constexpr uint16_t max_workers = 16;
constexpr uint16_t burst_size = 32;

// Shared by all workers: filled by dp::plane (dataplane/plane.h) before they start, read-only
// to them afterwards, except `stop`.
struct dataplane_shared {
    const flow_table* flows = nullptr;
    const neighbour_table* neighbours = nullptr;
    const local_addresses* locals = nullptr;
    uint16_t n_ports = 0;
    uint16_t port_ids[max_ports] = {};
    rte_ether_addr port_macs[max_ports] = {};  // indexed by DPDK port id (< max_ports)
    uint16_t n_workers = 1;
    rte_ring* to_control = nullptr;
    rte_ring* handoff[max_workers] = {};
    // Call recording: worker w copies its recorded flows' clear packets into record[w]
    // (record_ring.h; it is that ring's only producer). Null = recording not configured.
    record_ring* record[max_workers] = {};
    // Sleep this long after a run of empty polls (tests on shared cores); 0 = pure polling.
    uint32_t idle_sleep_us = 0;
    // SRTP packets in a burst from which the worker runs their crypto as one batch
    // (srtp/batch.h, intel-ipsec-mb); below it, packet by packet. 0 = never batch. From 2
    // packets the batch costs less per packet (bench/micro/srtp_batch_benchmark.cc).
    uint32_t srtp_batch_min = 2;
    // Latch changes for the control plane to log (latch.h's latch_event elements; every
    // worker enqueues, the control thread dequeues). Null: counted only.
    rte_ring* latch_events = nullptr;
    // Written once by plane::stop() (control thread), read by every worker each loop turn.
    std::atomic<bool> stop{false};
};

struct alignas(64) worker {
    uint16_t index = 0;  // RX/TX queue on every port, RCU thread id
    const dataplane_shared* shared = nullptr;
    rte_ring* from_control = nullptr;  // frames the control plane wants sent (may be null)
    rte_eth_dev_tx_buffer* tx[max_ports] = {};
    worker_counters counters;
    srtp::burst_crypto* crypto = nullptr;  // burst SRTP, null when shared->srtp_batch_min == 0
    uint64_t auth_token_cycles = 0;        // TSC cycles per authentication token (latch.h)
    uint64_t quiet_cycles = 0;             // latch.h's quiet_ms in TSC cycles
    uint64_t drain_every_tsc = 0;          // TX buffers flushed at least this often
    uint64_t last_drain_tsc = 0;
    // Call recording (record_stage.h): shared->record[index] and the round's recorded
    // packets; null when recording is not configured. Last, so that no hot member moves.
    record_stage* recording = nullptr;
    // Worker 0: the control plane's frames, held while their TX queue refuses them
    // (control_tx.h).
    control_tx control;

    // Allocates TX buffers; call before launch.
    void init(uint16_t worker_index, const dataplane_shared* s, rte_ring* control_tx);
    void release();
    // The lcore entry: loops until shared->stop. Returns 0. Counts the TSC cycles of the
    // turns that received packets in counters.busy_tsc (callers of poll_once() do not).
    int run();

    // One loop turn; returns packets received. Public for the pipeline benchmark and tests.
    uint32_t poll_once(uint64_t now_tsc);
    void flush_tx();
    // After a turn that received `received` packets: flushes the TX buffers unless the RX
    // queues are backlogged, and at least every 100 µs (what run() does; the benchmark too).
    void end_turn(uint32_t received, uint64_t now_tsc);

 private:
    void handle_burst(rte_mbuf** pkts, uint16_t n, uint64_t now_tsc, bool from_handoff);
    void forward_burst(rte_mbuf** pkts, const flow_entry** entries, uint16_t n, uint64_t now_tsc);
    bool may_join_run(const rte_mbuf* m, const flow_entry* e, uint8_t kind) const;
    srtp::batch_item crypto_item(rte_mbuf* m, const flow_entry* e, const route& r);
    void forward_finish(rte_mbuf* m, const flow_entry* e, const route& r, const srtp::batch_item& it, uint64_t now_tsc);
    void note_latch(const rte_mbuf* m, const flow_entry* e, const route& r, uint64_t new_src);
    [[gnu::noinline]] void latch6(const rte_mbuf* m, const flow_entry* e, const route& r);
    void drop(rte_mbuf* m, drop_reason why);
    void send(rte_mbuf* m, uint16_t port_id, uint32_t kind);
};

// Frees m after counting it as tx_full on `counters` (rte_eth_tx_buffer error callback).
void tx_error_callback(rte_mbuf** pkts, uint16_t unsent, void* userdata);

}  // namespace rtprelay::dp
