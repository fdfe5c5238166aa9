#include "dataplane/record_stage.h"

#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_udp.h>

#include "dataplane/rewrite.h"
#include "dataplane/route.h"

namespace rtprelay::dp {

namespace {
// A copy of the clear bytes of packet `m` (RTP/RTCP from its header on, `len` long) into the
// ring.
record_slot* record(record_ring& ring, const rte_mbuf* m, const flow_entry& e, const uint8_t* clear, uint32_t len,
                    uint64_t tsc) {
    const auto* uh = rte_pktmbuf_mtod_offset(m, const rte_udp_hdr*, m->l2_len + m->l3_len);
    const bool rtcp = record_is_rtcp(e, clear, len);
    const uint8_t channel = record_channel(e);
    // The headers are still the ones it arrived with (the rewrite comes after): its family is
    // the inbound side's, whichever family it leaves by.
    if (e.v6 != nullptr && e.v6->in6) {
        const auto* ip6 = rte_pktmbuf_mtod_offset(m, const rte_ipv6_hdr*, m->l2_len);
        return record_copy6(ring, tsc, e.record_id, channel, rtcp, ip6->src_addr, uh->src_port, ip6->dst_addr,
                            uh->dst_port, clear, len);
    }
    const auto* ip = rte_pktmbuf_mtod_offset(m, const rte_ipv4_hdr*, m->l2_len);
    return record_copy(ring, tsc, e.record_id, channel, rtcp, ip->src_addr, uh->src_port, ip->dst_addr, uh->dst_port,
                       clear, len);
}

// `n` items' crypto as the worker's stage 5 runs it: batched when there are enough.
void run_items(srtp::burst_crypto* crypto, srtp::batch_item* items, uint16_t n) {
    if (crypto != nullptr && n >= crypto->min_batch()) {
        crypto->run(items, n);
    } else {
        for (uint16_t k = 0; k < n; ++k) {
            srtp::run_item(items[k]);
        }
    }
}

const uint8_t* payload_of(const rte_mbuf* m, uint32_t* len) {
    const auto* uh = rte_pktmbuf_mtod_offset(m, const rte_udp_hdr*, m->l2_len + m->l3_len);
    *len = rte_be_to_cpu_16(uh->dgram_len) - static_cast<uint32_t>(sizeof(rte_udp_hdr));
    return reinterpret_cast<const uint8_t*>(uh + 1);
}
}  // namespace

bool record_plain(record_stage* s, const rte_mbuf* m, const flow_entry& e, const route& r, uint64_t tsc) {
    if (s == nullptr) {
        return false;  // stamped, but this plane has no record rings
    }
    // The finish drops a packet it cannot rewrite (and nothing else, without crypto): such a
    // packet is not relayed, so not recorded either.
    if (!rewrite_has_room(m, e.vlan)) {
        return false;
    }
    return record(*s->ring, m, e, r.payload, r.received_len, tsc) != nullptr;
}

bool record_join(record_stage* s, uint16_t pkt, int16_t item, srtp::batch_item* items) {
    if (s == nullptr) {
        return false;  // stamped, but this plane has no record rings
    }
    record_round& r = s->round;
    record_pending& p = r.p[r.n++];
    p.pkt = pkt;
    p.item = item;
    p.slot = nullptr;
    if (item >= 0 && items[item].in != nullptr && items[item].out != nullptr) {
        r.held = true;
    }
    return true;
}

namespace {
// Before the round's crypto: copies the packets that are clear now (no inbound SRTP), and
// holds back the protect step of every SRTP-to-SRTP item of the round when a recorded one's
// is held.
void before_crypto(record_round& r, record_ring& ring, rte_mbuf* const* pkts, const flow_entry* const* entries,
                   srtp::batch_item* items, uint16_t n_items, uint64_t tsc) {
    if (r.held) {
        for (uint16_t k = 0; k < n_items; ++k) {
            srtp::batch_item& it = items[k];
            const bool both = it.in != nullptr && it.out != nullptr;
            r.held_out[k] = both ? it.out : nullptr;
            r.held_len[k] = it.len;
            if (both) {
                it.out = nullptr;
            }
        }
    }
    for (uint16_t k = 0; k < r.n; ++k) {
        record_pending& p = r.p[k];
        if (p.item >= 0 && items[p.item].in != nullptr) {
            continue;  // clear only after the crypto
        }
        uint32_t len = 0;
        const uint8_t* clear = p.item >= 0 ? items[p.item].pkt : payload_of(pkts[p.pkt], &len);
        if (p.item >= 0) {
            len = items[p.item].len;
        }
        // Plain in, plain out: no crypto item; plain in, SRTP out: protected in place next.
        p.slot = record(ring, pkts[p.pkt], *entries[p.pkt], clear, len, tsc);
    }
}

// After the round's crypto: copies the packets that authenticated, then runs the held-back
// protect steps in item order (batched like stage 5) and puts their results into their
// items, as if the round's crypto had done both.
void after_crypto(record_round& r, record_ring& ring, rte_mbuf* const* pkts, const flow_entry* const* entries,
                  srtp::batch_item* items, uint16_t n_items, srtp::burst_crypto* crypto, uint64_t tsc) {
    for (uint16_t k = 0; k < r.n; ++k) {
        record_pending& p = r.p[k];
        if (p.item < 0 || items[p.item].in == nullptr) {
            continue;  // copied before the crypto
        }
        const srtp::batch_item& it = items[p.item];
        if (!it.unprotected) {
            continue;  // not authentic: neither recorded nor relayed
        }
        p.slot = record(ring, pkts[p.pkt], *entries[p.pkt], it.pkt, it.len, tsc);
    }
    if (!r.held) {
        return;
    }
    r.held = false;
    srtp::batch_item protect[32];
    uint16_t of[32];
    uint16_t np = 0;
    for (uint16_t k = 0; k < n_items; ++k) {
        srtp::batch_item& it = items[k];
        if (r.held_out[k] == nullptr) {
            continue;
        }
        it.out = r.held_out[k];  // as the round's crypto left it, whatever happens next
        if (!it.unprotected) {
            continue;  // the unprotect failed: nothing to protect (its result says why)
        }
        srtp::batch_item& q = protect[np];
        q = srtp::batch_item{};
        q.out = it.out;
        q.pkt = it.pkt;
        q.len = it.len;
        // The unprotect gave back the inbound tag's bytes: they are writable again.
        q.room = it.room + (r.held_len[k] - it.len);
        q.rtcp = it.rtcp;
        of[np++] = k;
    }
    run_items(crypto, protect, np);
    for (uint16_t k = 0; k < np; ++k) {
        srtp::batch_item& it = items[of[k]];
        it.res = protect[k].res;
        it.len = protect[k].len;
    }
}
}  // namespace

void record_crypto(record_stage& s, rte_mbuf* const* pkts, const flow_entry* const* entries, srtp::batch_item* items,
                   uint16_t n_items, srtp::burst_crypto* crypto, uint64_t tsc) {
    record_round& r = s.round;
    before_crypto(r, *s.ring, pkts, entries, items, n_items, tsc);
    run_items(crypto, items, n_items);
    after_crypto(r, *s.ring, pkts, entries, items, n_items, crypto, tsc);
    // What worker::forward_finish will drop, decided now from the crypto's results and the
    // rewrite's room check, so that the finish itself stays as it is without recording.
    for (uint16_t k = 0; k < r.n; ++k) {
        const record_pending& p = r.p[k];
        if (p.slot == nullptr) {
            continue;
        }
        bool relayed = rewrite_has_room(pkts[p.pkt], entries[p.pkt]->vlan);
        if (p.item >= 0) {
            const srtp::batch_item& it = items[p.item];
            relayed = relayed && (it.in == nullptr || it.unprotected) && it.res == srtp::result::ok;
        }
        if (!relayed) {
            p.slot->flags |= record_discard;
        }
    }
    s.ring->commit();
    r.n = 0;
}

}  // namespace rtprelay::dp
