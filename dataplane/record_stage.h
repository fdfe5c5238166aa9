#pragma once
// Call recording in the worker: every packet a recorded flow relays is copied into the
// worker's record ring (record_ring.h) as it is in the clear, around the round's SRTP
// (worker::forward_burst):
//
//   plain in, plain out    as it joins the round (record_plain_inline): no crypto, so clear now,
//                          and its header lines are in L1 from the route just taken
//   plain in, SRTP out     before the crypto, while it is still clear
//   SRTP in, plain out     after the crypto, if it authenticated
//   SRTP in, SRTP out      the round's crypto only unprotects it (and every other SRTP-to-
//                          SRTP packet of the round); after the copy a second pass
//                          (batched like the first) protects them for the other leg
//
// A round with a recorded packet that has crypto runs its crypto here (record_crypto)
// instead of in the worker's stage 5; a record whose packet the finish will not relay
// (unprotect or protect failed, no headroom: known once the crypto ran) is marked
// record_discard, and the round's records are handed over with one commit before the
// finish. record_plain's copies go with that commit or with the one at the burst's end.
// Records stay in order per flow; in one round a plain flow's copies come before those of
// flows with crypto (in a call both legs are plain or neither is, so a call's records keep
// the order they were received in). A full ring costs the recording that packet
// (record_ring::refused), never the relay.
//
// Cost: everything here but record_plain_inline's common case is out of line and marked
// cold, and that case sits behind the [[unlikely]] flow_recorded test, so that a flow that is
// not recorded pays the test of one bit of flow_entry::flags (flow_recorded) per packet, and a
// round and a burst one test of a local flag each (with nothing recorded the loop measures as
// before: bench/RESULTS.md). What a recorded packet costs on the bench's VM is there too (the
// stage's checks, reserving the record and writing it into ring lines the worker keeps in
// cache; for SRTP to SRTP also the protect pass's own batch call). No lock,
// allocation, system call or virtual call.

#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_udp.h>

#include <cstdint>

#include "dataplane/ether.h"
#include "dataplane/flow_entry.h"
#include "dataplane/record_ring.h"
#include "dataplane/route.h"
#include "dataplane/srtp/batch.h"

namespace rtprelay::dp {

// One recorded packet of a round. Plain data, filled by record_join (so that a burst's
// record_round costs nothing to set up when no flow is recorded).
struct record_pending {
    uint16_t pkt;       // index in the burst
    int16_t item;       // its crypto item in the round, -1 = none
    record_slot* slot;  // its copy; null when the ring was full or it failed
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

// A worker's recording state: its ring and the round being built. Allocated by the worker
// when recording is configured (worker::init); only that worker reads or writes it.
struct record_stage {
    record_ring* ring = nullptr;
    record_round round;
};

// A packet of a flow marked flow_recorded that has no crypto (plain in, plain out), copied as
// it joins the round, while the route has just read its lines; the burst's last step commits
// (worker::forward_burst). True when a record was reserved. A packet the finish will not
// relay (no headroom for the rewrite) is not copied.
[[gnu::noinline, gnu::cold]] bool record_plain(record_stage* s, const rte_mbuf* m, const flow_entry& e, const route& r,
                                               uint64_t tsc);

// What a record says of a packet of flow `e` whose clear RTP/RTCP is `clear`: RTCP by the
// flow's kind, or on a muxed RTP port by the packet (RFC 5761 payload types); its leg's
// channel. record_plain_inline and record_stage.cc's copies share them.
inline bool record_is_rtcp(const flow_entry& e, const uint8_t* clear, uint32_t len) {
    return e.kind == flow_kind::rtcp || looks_like_rtcp(clear, len);
}
inline uint8_t record_channel(const flow_entry& e) { return (e.flags & flow_record_leg_b) != 0 ? 1 : 0; }

// record_plain's common case, inlined in the burst loop (behind the flow_recorded test, so a
// flow that is not recorded runs none of it): an IPv4 packet leaving with no more L2 header
// than it arrived with (so the rewrite has room without a headroom check) into the ring's hot
// area with room. The record is the one record_plain writes; anything else goes to it. Saves
// the call, the out-of-line room check and the ring's area logic: ~3 ns of a recorded plain
// packet's ~25 (bench/RESULTS.md).
inline bool record_plain_inline(record_stage* s, const rte_mbuf* m, const flow_entry& e, const route& r, uint64_t tsc) {
    record_slot* slot = nullptr;
    if (s != nullptr && (e.v6 == nullptr || !e.v6->in6) && ether_len(e.vlan) <= m->l2_len) [[likely]] {
        slot = s->ring->reserve_hot(record_keep(r.received_len));
    }
    if (slot == nullptr) [[unlikely]] {
        return record_plain(s, m, e, r, tsc);
    }
    const auto* ip = rte_pktmbuf_mtod_offset(m, const rte_ipv4_hdr*, m->l2_len);
    const auto* uh = reinterpret_cast<const rte_udp_hdr*>(r.payload) - 1;
    record_fill(slot, tsc, e.record_id, record_channel(e), record_is_rtcp(e, r.payload, r.received_len), ip->src_addr,
                uh->src_port, ip->dst_addr, uh->dst_port, r.payload, r.received_len);
    return true;
}

// Packet `pkt` of a flow marked flow_recorded joined the round (its crypto item, if any, is
// items[item]); an SRTP-to-SRTP item makes the round hold back its protect steps
// (record_crypto). False (nothing done) when the worker has no record stage.
[[gnu::noinline, gnu::cold]] bool record_join(record_stage* s, uint16_t pkt, int16_t item, srtp::batch_item* items);

// In place of the worker's stage 5 for a round with a recorded packet: copies the packets
// that are clear before the crypto, runs the round's crypto (`n_items` items, batched with
// `crypto` as the worker would), copies the packets clear after it, protects the held-back
// SRTP-to-SRTP items, marks the copies of packets the finish will drop record_discard and
// commits. The items end as the worker's stage 5 would have left them.
[[gnu::noinline, gnu::cold]] void record_crypto(record_stage& s, rte_mbuf* const* pkts,
                                                const flow_entry* const* entries, srtp::batch_item* items,
                                                uint16_t n_items, srtp::burst_crypto* crypto, uint64_t tsc);

}  // namespace rtprelay::dp
