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
// (lookup6/request6 for IPv6) will do (the unit tests' fixed list), so the stage runs
// without DPDK's EAL.
//
// IPv6 (flow_entry::v6 set; IPv4 packets only test that pointer): a source is compared by
// its packed word made exact (v6_source: the full address checked against the latched and
// the SDP one), so latch.h's rules apply unchanged; a destination's full address comes from
// the other leg's stream_addr6 (sequence-counted) or the entry's SDP address, into
// route::dest6.

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
    uint64_t src;                 // packed source endpoint
    uint64_t latched;             // the stream's latch when the packet was checked
    uint64_t dest;                // packed destination endpoint
    uint64_t mac;                 // next hop's MAC, as neighbour::mac
    uint32_t received_len;        // UDP payload as received
    uint32_t received_frame;      // Ethernet frame as received, padding excluded
    uint32_t ssrc;                // moving: the SSRC whose highest index decides the move
    std::optional<uint64_t> top;  // moving: that SSRC's highest index before the crypto
    uint8_t kind;                 // packet_kind
    bool crypto;                  // stage 5 has work: an inbound or outbound SRTP context
    bool latch;                   // the source policy's verdict (latch.h); SRTP: once authenticated
    bool moving;                  // SRTP latch away from a latched source: only with a new highest index
    bool budgeted;                // took an authentication token, returned when the packet is authentic
    uint8_t dest6[16];            // IPv6 out side (flow_entry_v6::out6): the destination's address
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
    const uint32_t hop = onlink4(e, dst_ip) ? dst_ip : e.gateway;
    const neighbour* nh = hops.lookup(e.out_port_id, hop);
    if (nh == nullptr) {
        hops.request(e.out_port_id, hop);
    }
    return nh;
}

// The word an IPv6 source (addr, 16 bytes; `word` = pack_endpoint6 of it) is compared as:
// its own when the address is the latched or the SDP endpoint's, else marked
// endpoint_stranger so that it equals neither whatever its fold. On an RTCP port, whose
// policy compares a stranger's address with the one its RTP port latched (latch.h, by the
// words' address bits), a stranger whose fold matches that address's but whose address
// does not gets one fold bit flipped: anyone can pick an address in their own /64 with a
// given fold. Only the owner worker calls it: it reads its own streams' latched addresses
// (this port's and, on an RTCP port, its RTP port's: same leg, same owner) without the
// sequence counter. Out of line, as the other IPv6 helpers below: the route is inlined into
// the burst loop, and IPv4 packets should not carry their code.
[[gnu::noinline]] inline uint64_t v6_source(const flow_entry& e, uint64_t latched, uint64_t word, const uint8_t* addr) {
    const flow_entry_v6& v6 = *e.v6;
    if (word == latched && v6.self6 != nullptr && v6.self6->holds(addr)) {
        return word;
    }
    if (word == e.expected_src && std::memcmp(v6.expected_src, addr, 16) == 0) {
        return word;
    }
    if (e.rtp_of_leg != nullptr) {
        const uint64_t rtp = e.rtp_of_leg->latched.load(std::memory_order_relaxed);
        if (endpoint_addr(rtp) == endpoint_addr(word) && (v6.rtp_of_leg6 == nullptr || !v6.rtp_of_leg6->holds(addr))) {
            word ^= 1ull << 16;
        }
    }
    return word | endpoint_stranger;
}

// The packed source of packet m on flow e (IPv6: v6_source) and the length of its frame
// without Ethernet padding, in bytes.
inline uint64_t source_of(const flow_entry& e, const rte_mbuf* m, uint64_t latched, uint32_t* frame_len) {
    const auto* uh = rte_pktmbuf_mtod_offset(m, const rte_udp_hdr*, m->l2_len + m->l3_len);
    if (e.v6 == nullptr || !e.v6->in6) [[likely]] {
        const auto* ip = rte_pktmbuf_mtod_offset(m, const rte_ipv4_hdr*, m->l2_len);
        *frame_len = m->l2_len + rte_be_to_cpu_16(ip->total_length);
        return pack_endpoint(ip->src_addr, uh->src_port);
    }
    const auto* ip6 = rte_pktmbuf_mtod_offset(m, const rte_ipv6_hdr*, m->l2_len);
    *frame_len = m->l2_len + static_cast<uint32_t>(sizeof(rte_ipv6_hdr)) + rte_be_to_cpu_16(ip6->payload_len);
    return v6_source(e, latched, pack_endpoint6(ip6->src_addr, uh->src_port), ip6->src_addr);
}

// An IPv6 destination (flow_entry_v6::out6): the other leg's latched endpoint (`latched`,
// its word, when set), else its SDP one; the address into dest6. 0 = none. A latch the
// other worker keeps moving through every read attempt counts as none (the SDP's is used).
[[gnu::noinline]] inline uint64_t destination6(const flow_entry& e, uint64_t latched, uint8_t* dest6) {
    const flow_entry_v6& v6 = *e.v6;
    uint16_t port_be = 0;
    if (endpoint_is_v6(latched) && v6.sibling6 != nullptr && v6.sibling6->load(dest6, &port_be)) {
        return pack_endpoint6(dest6, port_be);
    }
    if (e.sdp_dest != 0) {
        std::memcpy(dest6, v6.sdp_dest, 16);
    }
    return e.sdp_dest;
}

// next_hop_for for an IPv6 destination (dest, its word; dest6, its address): the SDP next
// hop when it is the SDP address, else the on-link peer or the gateway.
template <typename next_hops>
[[gnu::noinline]] const neighbour* next_hop6_for(const flow_entry& e, uint64_t dest, const uint8_t* dest6,
                                                 const next_hops& hops) {
    const flow_entry_v6& v6 = *e.v6;
    if (dest == e.sdp_dest && e.sdp_next_hop != nullptr && std::memcmp(dest6, v6.sdp_dest, 16) == 0) {
        return e.sdp_next_hop;
    }
    bool onlink = true;
    unsigned bits = v6.onlink_prefix;
    for (unsigned i = 0; i < 16 && bits > 0 && onlink; ++i, bits = bits >= 8 ? bits - 8 : 0) {
        const auto mask = static_cast<uint8_t>(bits >= 8 ? 0xff : 0xff << (8 - bits));
        onlink = ((dest6[i] ^ v6.out_src_addr[i]) & mask) == 0;
    }
    const uint8_t* hop = onlink || !v6.has_gateway ? dest6 : v6.gateway;
    const neighbour* nh = hops.lookup6(e.out_port_id, hop);
    if (nh == nullptr) {
        hops.request6(e.out_port_id, hop);
    }
    return nh;
}

// Stage 4 for packet m (of kind `kind`, kind_on_flow) on flow e, on `clock` (latch.h).
// drop_reason::count = go on with *r filled. Inlined into the worker's burst loop: as a call
// it measured ~2% slower on plain RTP.
template <typename next_hops>
[[gnu::always_inline]] inline drop_reason route_packet(const flow_entry& e, rte_mbuf* m, uint8_t kind,
                                                       const latch_clock& clock, const next_hops& hops, route* r) {
    stream_state& self = *e.self;
    auto* uh = rte_pktmbuf_mtod_offset(m, rte_udp_hdr*, m->l2_len + m->l3_len);
    auto* payload = reinterpret_cast<uint8_t*>(uh + 1);
    const uint32_t plen = rte_be_to_cpu_16(uh->dgram_len) - static_cast<uint32_t>(sizeof(rte_udp_hdr));

    if (e.forward != forward_on) {
        return e.forward == forward_no_key ? drop_reason::srtp_no_key : drop_reason::stream_disabled;
    }
    const uint64_t latched = self.latched.load(std::memory_order_relaxed);
    uint32_t received_frame = 0;
    const uint64_t src = source_of(e, m, latched, &received_frame);
    srtp::context* const in = e.srtp_in[kind];
    const source_verdict sv = in != nullptr ? check_srtp_source(e, latched, src)
                                            : check_plain_source(e, self, latched, src, payload, plen, kind, clock);
    if (sv.why != drop_reason::count) {
        return sv.why;
    }
    uint64_t dest = e.sibling != nullptr ? e.sibling->latched.load(std::memory_order_relaxed) : 0;
    const bool out6 = e.v6 != nullptr && e.v6->out6;
    if (out6) [[unlikely]] {
        dest = destination6(e, dest, r->dest6);
    } else if (dest == 0) {
        dest = e.sdp_dest;
    }
    if (dest == 0) {
        return drop_reason::no_destination;
    }
    const neighbour* nh = out6 ? next_hop6_for(e, dest, r->dest6, hops) : next_hop_for(e, dest, hops);
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
    // Field by field: dest6 (out6) is already in place, and an IPv4 packet need not touch it.
    r->payload = payload;
    r->src = src;
    r->latched = latched;
    r->dest = dest;
    r->mac = mac;
    r->received_len = plen;
    r->received_frame = received_frame;
    r->ssrc = ssrc;
    r->top = top;
    r->kind = kind;
    r->crypto = crypto;
    r->latch = sv.latch;
    r->moving = moving;
    r->budgeted = budgeted;
    return drop_reason::count;
}

}  // namespace rtprelay::dp
