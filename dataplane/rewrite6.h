#pragma once
// Stage 6 for flows with an IPv6 side (flow_entry::v6 set): what rewrite.h does for IPv4,
// when the packet arrived over IPv6, leaves over IPv6, or both (v4 <-> v6 bridging).
//
// IPv6 -> IPv6 changes the addresses, hop limit and ports in place (traffic class and flow
// label kept). From one family to the other the IP header changes size (IPv4: 20 bytes plus
// options; IPv6: 40): the UDP datagram stays where it is in the mbuf, the frame's start
// moves (rte_pktmbuf_prepend / _adj: 20 bytes of headroom more for v4 -> v6, of 128) and
// the L2 and IP headers in front of it are written afresh; the IPv4 TOS and the IPv6
// traffic class carry the same DSCP/ECN byte, an IPv4 header leaves with DF set, ID 0
// (RFC 6864) and TTL 64, an IPv6 one with hop limit 64 and, from IPv4, flow label 0.
//
// The UDP checksum is mandatory over IPv6 and covers a pseudo-header of the addresses, the
// length and the protocol. The length and protocol words sum to the same value in the
// IPv4 and the IPv6 pseudo-header, so going from one to the other is an incremental update
// of the addresses (and ports) as within IPv4 (RFC 1624): a packet that arrived corrupt
// leaves corrupt, and the receiving host drops it as it would have without the relay. Only
// two cases sum the datagram afresh: SRTP changed the payload (as for IPv4), and an IPv4
// packet without a checksum (0, allowed there) leaves over IPv6, where one is required.
// ~25 ns/pkt for v6 -> v6, ~30 ns across families (bench/RESULTS.md).

#include <cstdint>

#include <rte_ether.h>

struct rte_mbuf;

namespace rtprelay::dp {

struct rewrite_target6 {
    bool out6 = false;      // the packet leaves over IPv6
    uint8_t src[16] = {};   // out6: IPv6 source; else bytes 0..3: IPv4 source (network order)
    uint8_t dst[16] = {};   // the same for the destination
    uint16_t src_port = 0;  // network order
    uint16_t dst_port = 0;  // network order
    uint16_t vlan = 0;      // 0 = untagged
    rte_ether_addr src_mac{};
    rte_ether_addr dst_mac{};
    bool payload_changed = false;  // SRTP changed the payload: UDP checksum computed afresh
};

// Whether the packet's IP header (at m->l2_len) is IPv6.
inline bool arrived_v6(const uint8_t* frame, uint32_t l2_len) { return (frame[l2_len] >> 4) == 6; }

// m->l2_len and m->l3_len must be set (classify()); the packet's own family is read from
// its IP header. Returns false, with the packet unchanged, if the mbuf has no headroom for
// the new headers (the caller drops and counts it).
bool rewrite_udp6(rte_mbuf* m, const rewrite_target6& t);

// set_udp_payload_len (rewrite.h) for a packet that arrived over IPv6: the IPv6 payload
// length and the UDP length for a UDP payload of `payload_len` bytes.
void set_udp6_payload_len(rte_mbuf* m, uint32_t payload_len);

}  // namespace rtprelay::dp
