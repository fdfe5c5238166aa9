#pragma once
// Call recording in the worker: the clear copy of every packet a recorded flow relays goes
// into the worker's record ring (record_ring.h), taken where the packet is clear, around the
// round's SRTP (worker::forward_burst):
//
//   plain in, plain out    before the crypto (there is none)
//   plain in, SRTP out     before the crypto: the packet is still clear
//   SRTP in, plain out     after the crypto, if it authenticated
//   SRTP in, SRTP out      the round's crypto only unprotects it (and every other SRTP-to-
//                          SRTP packet of the round); after the copy a second pass
//                          (batched like the first) protects them for the other leg
//
// A copied packet that is not relayed after all (protect failed, no headroom) is marked
// record_discard; the round's copies are handed over with one commit. A full ring costs the
// recording that packet (worker_counters::recording_dropped), never the relay.
//
// Cost: a flow that is not recorded pays one compare of flow_entry::record_id per packet;
// a recorded one a copy of its clear bytes and its share of the round's commit (70-80 ns
// per G.711 packet on the bench's VM, bench/RESULTS.md) and, for SRTP to SRTP, the protect
// pass's own batch call. No lock, allocation, system call or virtual call.

#include <cstdint>

#include "dataplane/flow_entry.h"
#include "dataplane/record_ring.h"
#include "dataplane/srtp/batch.h"

struct rte_mbuf;

namespace rtprelay::dp {

// One recorded packet of a round. Plain data, filled by record_join (so that a burst's
// record_round costs nothing to set up when no flow is recorded).
struct record_pending {
    uint16_t pkt;              // index in the burst
    int16_t item;              // its crypto item in the round, -1 = none
    srtp::context* out;        // the protect step held back for after the copy, or null
    record_slot* slot;         // its copy; null when the ring was full or it failed
};

// The round's recorded packets, in round order. Lives on the worker's stack per burst.
struct record_round {
    record_pending p[32];
    uint16_t n = 0;
    // A recorded SRTP-to-SRTP packet's protect waits for its copy. Then every SRTP-to-SRTP
    // item of the round waits with it, so that the second pass is as full a batch as the
    // first: intel-ipsec-mb's multi-buffer burst costs about as much for 3 packets as for 16,
    // and with 10% of the calls recorded a pass of their 3 alone cost 45 ns per relayed packet
    // (bench/RESULTS.md). Valid for the round's items while `held`.
    bool held = false;
    srtp::context* held_out[32];  // the item's protect context, null = not held
    uint32_t held_len[32];        // the item's length before the crypto (with the tag)
};

// Packet `pkt` of a recorded flow joined the round (its crypto item, if any, is items[item]):
// holds back the protect step of an SRTP-to-SRTP item.
void record_join(record_round& r, uint16_t pkt, int16_t item, srtp::batch_item* items);

// Before the round's crypto: copies the packets that are clear now (no inbound SRTP).
// Returns how many copies the ring refused.
// Holds back the protect step of every SRTP-to-SRTP item of the round (`n_items` of them)
// when a recorded one's is held.
uint32_t record_before_crypto(record_round& r, record_ring& ring, rte_mbuf* const* pkts,
                              const flow_entry* const* entries, srtp::batch_item* items, uint16_t n_items,
                              uint64_t tsc);

// After the round's crypto: copies the packets that authenticated, then runs the held-back
// protect steps in item order (batched with `crypto` when it is set and enough of them) and
// puts their results into their items, as if the round's crypto had done both. Returns how
// many copies the ring refused.
uint32_t record_after_crypto(record_round& r, record_ring& ring, rte_mbuf* const* pkts,
                             const flow_entry* const* entries, srtp::batch_item* items, uint16_t n_items,
                             srtp::burst_crypto* crypto, uint64_t tsc);

// Packet `pkt` was not relayed after all: its copy, if any, is skipped by the recorder.
inline void record_not_relayed(record_round& r, uint16_t pkt) {
    for (uint16_t k = 0; k < r.n; ++k) {
        if (r.p[k].pkt == pkt && r.p[k].slot != nullptr) {
            r.p[k].slot->flags |= record_discard;
        }
    }
}

}  // namespace rtprelay::dp
