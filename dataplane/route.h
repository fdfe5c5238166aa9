#pragma once
// Stage 4 of the packet path (1 rx_burst, 2 classify, 3 lookup, 4 source check, 5 SRTP,
// 6 rewrite, 7 TX): whether a packet that reached its flow's owner may go on, and where to.
// A free function of the flow entry, the packet and the clock, as classify() and
// rewrite_udp() are: the forwarding mode, the source policy (latch.h), the destination (the
// other leg's latch, else its SDP address), the next hop and its MAC, and on SRTP legs the
// pre-HMAC precheck and the authentication budget. It returns a route for the crypto
// (stage 5) and the rewrite (stage 6), or the reason to drop the packet; the caller counts
// and frees a dropped packet.
//
// What it changes: on plain legs the source policy's own state (when the current source was
// heard, a new source's probation), on SRTP legs a token of the stream's authentication
// budget (doubtful packets), the mbuf's Ethernet padding (cut before SRTP), a next hop's
// `wanted` flag or a request for an unknown one. It never stores a latch: the worker does,
// after stage 5 (on SRTP legs only for an authentic packet). ~20-40 ns per packet at 10k
// calls, most of it the stream state's and the sibling's cache lines.
//
// `next_hops` is the worker's neighbour_table; anything with the same lookup/request calls
// will do (the unit tests' fixed list), so the stage runs without DPDK's EAL.

#include <cstdint>
#include <cstring>
#include <optional>

#include <rte_byteorder.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_udp.h>

#include "dataplane/counters.h"
#include "dataplane/flow_entry.h"
#include "dataplane/latch.h"
#include "dataplane/srtp/srtp.h"

namespace rtprelay::dp {

// A packet between its checks and its crypto: what route_packet learnt that the stages after
// it need. Lengths in bytes.
struct route {
    uint8_t* payload;
    uint64_t src;             // packed source endpoint
    uint64_t latched;         // the stream's latch when the packet was checked
    uint64_t dest;            // packed destination endpoint
    uint64_t mac;             // next hop's MAC, as neighbour::mac
    uint32_t received_len;    // UDP payload as received
    uint32_t received_frame;  // Ethernet frame as received, padding excluded
    uint32_t ssrc;            // moving: the SSRC whose highest index decides the move
    std::optional<uint64_t> top;  // moving: that SSRC's highest index before the crypto
    uint8_t kind;             // packet_kind
    bool crypto;              // stage 5 has work: an inbound or outbound SRTP context
    bool latch;               // the source policy's verdict (latch.h); SRTP: once authenticated
    bool moving;              // SRTP latch away from a latched source: only with a new highest index
    bool budgeted;            // took an authentication token, returned when the packet is authentic
};

// RFC 5761 section 4: on a port that carries both, RTCP packet types 200..204 sit where
// RTP's marker bit and payload type are; with the marker masked they read 72..76, inside
// the 64..95 range RTP must not use when muxing.
inline bool looks_like_rtcp(const uint8_t* p, uint32_t len) {
    if (len < 2) {
        return false;
    }
    const uint8_t pt = p[1] & 0x7f;
    return pt >= 64 && pt <= 95;
}

// A packet's RTP/RTCP kind on its flow (packet_kind): the flow's, or per packet on an
// rtcp-mux port. m->l2_len / m->l3_len from classify().
inline uint8_t kind_on_flow(const rte_mbuf* m, const flow_entry& e) {
    if (e.kind == flow_kind::rtcp) {
        return kind_rtcp;
    }
    if ((e.flags & flow_rtcp_mux) == 0) {
        return kind_rtp;
    }
    const auto* uh = rte_pktmbuf_mtod_offset(m, const rte_udp_hdr*, m->l2_len + m->l3_len);
    const uint32_t plen = rte_be_to_cpu_16(uh->dgram_len) - static_cast<uint32_t>(sizeof(rte_udp_hdr));
    return looks_like_rtcp(reinterpret_cast<const uint8_t*>(uh + 1), plen) ? kind_rtcp : kind_rtp;
}

// The next hop toward `dest` on the flow's egress: its SDP next hop when dest is the SDP
// address (resolved when published), else the on-link peer or the gateway from the table,
// asked for when unknown. nullptr = no_neighbour.
template <typename next_hops>
inline const neighbour* next_hop_for(const flow_entry& e, uint64_t dest, const next_hops& hops) {
    if (dest == e.sdp_dest && e.sdp_next_hop != nullptr) {
        return e.sdp_next_hop;
    }
    const uint32_t dst_ip = endpoint_addr(dest);
    const bool onlink = e.gateway == 0 || (dst_ip & e.onlink_mask) == e.onlink_net;
    const uint32_t hop = onlink ? dst_ip : e.gateway;
    const neighbour* nh = hops.lookup(e.out_port_id, hop);
    if (nh == nullptr) {
        hops.request(e.out_port_id, hop);
    }
    return nh;
}

// Stage 4 for packet m (of kind `kind`, kind_on_flow) on flow e, on `clock` (latch.h).
// drop_reason::count = go on with *r filled. Inlined into the worker's burst loop: as a call
// it measured ~2% slower on plain RTP.
template <typename next_hops>
[[gnu::always_inline]] inline drop_reason route_packet(const flow_entry& e, rte_mbuf* m, uint8_t kind,
                                                       const latch_clock& clock, const next_hops& hops,
                                                       route* r) {
    stream_state& self = *e.self;
    auto* ip = rte_pktmbuf_mtod_offset(m, rte_ipv4_hdr*, m->l2_len);
    auto* uh = rte_pktmbuf_mtod_offset(m, rte_udp_hdr*, m->l2_len + m->l3_len);
    auto* payload = reinterpret_cast<uint8_t*>(uh + 1);
    const uint64_t src = pack_endpoint(ip->src_addr, uh->src_port);
    const uint32_t plen = rte_be_to_cpu_16(uh->dgram_len) - static_cast<uint32_t>(sizeof(rte_udp_hdr));
    const uint32_t received_frame = m->l2_len + rte_be_to_cpu_16(ip->total_length);

    if (e.forward != forward_on) {
        return e.forward == forward_no_key ? drop_reason::srtp_no_key : drop_reason::stream_disabled;
    }
    const uint64_t latched = self.latched.load(std::memory_order_relaxed);
    srtp::context* const in = e.srtp_in[kind];
    const source_verdict sv = in != nullptr ? check_srtp_source(e, latched, src)
                                            : check_plain_source(e, self, latched, src, payload, plen, kind, clock);
    if (sv.why != drop_reason::count) {
        return sv.why;
    }
    uint64_t dest = e.sibling != nullptr ? e.sibling->latched.load(std::memory_order_relaxed) : 0;
    if (dest == 0) {
        dest = e.sdp_dest;
    }
    if (dest == 0) {
        return drop_reason::no_destination;
    }
    const neighbour* nh = next_hop_for(e, dest, hops);
    if (nh == nullptr) {
        return drop_reason::no_neighbour;
    }
    const uint64_t mac = nh->mac.load(std::memory_order_acquire);
    if ((mac & neighbour_valid) == 0) {
        if (nh->wanted.load(std::memory_order_relaxed) == 0) {
            const_cast<neighbour*>(nh)->wanted.store(1, std::memory_order_relaxed);
        }
        return drop_reason::no_neighbour;
    }
    const bool crypto = in != nullptr || e.srtp_out[kind] != nullptr;
    bool moving = false;
    bool budgeted = false;
    uint32_t ssrc = 0;
    std::optional<uint64_t> top;
    if (crypto) {
        // Ethernet padding would sit between the payload and the tag: cut the frame to the
        // IP datagram first.
        if (rte_pktmbuf_pkt_len(m) > received_frame) {
            rte_pktmbuf_trim(m, static_cast<uint16_t>(rte_pktmbuf_pkt_len(m) - received_frame));
        }
        if (in != nullptr) {
            // The authentication budget (latch.h): doubtful packets, and plausible ones from
            // anyone but the stream's known peer, spend a token before their HMAC.
            const srtp::precheck pre =
                kind == kind_rtp ? srtp::precheck_rtp(*in, payload, plen) : srtp::precheck_rtcp(*in, payload, plen);
            budgeted = pre == srtp::precheck::doubtful || (pre == srtp::precheck::plausible && !sv.trusted);
            if (budgeted && !take_auth_token(self, clock.now_tsc, clock.auth_token_cycles)) {
                return drop_reason::srtp_auth_capped;
            }
            // A move away from a latched source needs an index that raises its SSRC's
            // highest (a late packet from the address the stream left does not pull it
            // back): that highest before the crypto, an SSRC scan, only then. No packet of
            // the round before this one uses the context.
            moving = sv.latch && latched != 0 && src != latched;
            if (moving) {
                // Past the precheck the header is whole: the SSRC is there.
                rte_be32_t ssrc_be = 0;
                if (pre != srtp::precheck::free_drop) {
                    std::memcpy(&ssrc_be, payload + (kind == kind_rtp ? 8 : 4), sizeof(ssrc_be));
                }
                ssrc = rte_be_to_cpu_32(ssrc_be);
                top = in->highest_index(ssrc);
            }
        }
    }
    *r = route{payload, src,    latched, dest,   mac,    plen,   received_frame,
               ssrc,    top,    kind,    crypto, sv.latch, moving, budgeted};
    return drop_reason::count;
}

}  // namespace rtprelay::dp
