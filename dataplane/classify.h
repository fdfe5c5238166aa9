#pragma once
// Stage 2 of the packet path (after 1, rx_burst; worker.h numbers them): decide what a
// received frame is, from its headers alone. Fills m->l2_len / m->l3_len (used as scratch:
// we request no TX offloads) and, for UDP to one of our addresses, the flow key. ~10 ns/pkt,
// all reads within the first 64 bytes (IPv6: 96).
//
// IPv4 UDP is left to the flow lookup whatever its destination (a miss tells unknown_port
// from not_for_us). IPv6 UDP must be to one of our addresses here: its flow key names the
// address by its slot in local_addresses. IPv6 packets carry no extension header we handle
// (dropped: ip_fragment, ipv6_extension); UDP over IPv6 must have a checksum. The UDP
// checksum is not verified, on either family: the rewrite updates it incrementally, so a
// corrupt packet stays corrupt for the receiving host to drop, and SRTP packets are
// authenticated anyway (route.h, rewrite6.h).

#include <cstdint>

#include "dataplane/counters.h"
#include "dataplane/flow_entry.h"
#include "dataplane/local_addresses.h"

struct rte_mbuf;

namespace rtprelay::dp {

// nd: an IPv6 neighbour solicitation or advertisement, for the control plane as ARP is.
enum class packet_class : uint8_t { udp, arp, icmp_echo, drop, nd, icmp6_echo };

// A frame that is for none of our addresses: link_multicast when its destination MAC is a
// group address (the I/G bit: broadcast or multicast; ARP and neighbour discovery never get
// here), else not_for_us. Only on the miss paths; reads the frame's first byte.
inline drop_reason not_ours(const uint8_t* frame) {
    return (frame[0] & 1) != 0 ? drop_reason::link_multicast : drop_reason::not_for_us;
}

struct classified {
    packet_class cls = packet_class::drop;
    drop_reason why = drop_reason::count;  // set when cls == drop
};

classified classify(rte_mbuf* m, const local_addresses& locals, flow_key* key);

}  // namespace rtprelay::dp
