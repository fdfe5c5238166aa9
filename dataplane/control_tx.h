#pragma once
// The control plane's frames (ARP and neighbour discovery answers and requests, gratuitous
// ARP, unsolicited neighbour advertisements), sent by worker 0 from the control_tx ring.
//
// A TX queue may refuse them for a while, and most often at the moment they matter: a
// memif server's queue cannot send at all after its client connects until the client has
// polled its RX queue once (that poll hands the ring's slots to the server), and a client
// busy setting up calls first can take a second to do so while the link is up all along;
// a NIC's queue can be full of a burst. So a refused frame is kept and offered again every
// turn, for up to `hold_ms` after the worker took it from the ring, and only then freed and
// counted as control_tx_failed. Each offer is one rte_eth_tx_burst of one frame (they are
// a handful a second; a refused one costs the PMD a few loads); a turn with no control
// frame costs what it did before: one ring dequeue that finds nothing, and a compare.
// They leave directly, not through the worker's TX buffers, so that a refusal leaves the
// frame with the worker instead of in the buffer's error callback.

#include <cstdint>

#include <rte_ring.h>

#include "dataplane/counters.h"

struct rte_mbuf;

namespace rtprelay::dp {

struct control_tx {
    // Frames held at once (a start announces two per media address); the rest wait in the
    // ring until there is room.
    static constexpr uint32_t capacity = 32;
    // How long a refused frame is offered again: well past a memif peer's call set-up
    // before its first poll (~0.3 s for 200 calls on this project's shared 2-vCPU host, the
    // e2e tests' generator), short enough that the held frames (at most `capacity`) do not
    // pile up behind a peer that never reads. A late gratuitous ARP still corrects a cache.
    static constexpr uint32_t hold_ms = 5000;

    rte_mbuf* held[capacity] = {};
    uint64_t taken_tsc[capacity] = {};  // when each held frame left the ring
    uint32_t n = 0;
    uint64_t hold_tsc = 0;

    void init(uint64_t tsc_hz) { hold_tsc = tsc_hz / 1000 * hold_ms; }

    // Once per turn: takes what the control plane queued (counted as control_tx) and offers
    // every held frame to queue `queue` of its port (mbuf->port).
    void poll(rte_ring* from_control, uint16_t queue, uint64_t now_tsc, worker_counters& c) {
        if (n < capacity) {
            const unsigned got =
                rte_ring_dequeue_burst(from_control, reinterpret_cast<void**>(held + n), capacity - n, nullptr);
            for (unsigned i = 0; i < got; ++i) {
                taken_tsc[n + i] = now_tsc;
            }
            n += got;
            c.control_tx += got;
        }
        if (n != 0) {
            send_held(queue, now_tsc, c);
        }
    }

    // Frees every held frame, counted as control_tx_failed (the worker stops).
    void drop_all(worker_counters& c);

 private:
    void send_held(uint16_t queue, uint64_t now_tsc, worker_counters& c);
};

}  // namespace rtprelay::dp
