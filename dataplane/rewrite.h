#pragma once
// Stage 6 of the packet path (after 5, SRTP; worker.h numbers them): turn a received media
// packet into the packet the other leg sends — new L2 header (next-hop MAC, our MAC, optional
// VLAN), IPv4 source/destination and TTL, UDP ports — with checksums updated incrementally
// (RFC 1624), ~15 ns/pkt.

#include <cstdint>

#include <rte_ether.h>

struct rte_mbuf;

namespace rtprelay::dp {

struct rewrite_target {
    uint32_t src_addr;  // network order
    uint16_t src_port;  // network order
    uint32_t dst_addr;  // network order
    uint16_t dst_port;  // network order
    uint16_t vlan;      // 0 = untagged
    rte_ether_addr src_mac;
    rte_ether_addr dst_mac;
    bool payload_changed = false;  // SRTP changed the payload: UDP checksum computed afresh
};

// m->l2_len and m->l3_len must be set (classify()). Returns false if the mbuf has no room
// for the new L2 header (the caller drops and counts it).
bool rewrite_udp(rte_mbuf* m, const rewrite_target& t);
// Whether rewrite_udp(m, t) has that room for a target with VLAN `vlan`: the same test, for
// the call recording's stage, which must know before the rewrite whether a packet is relayed.
bool rewrite_has_room(const rte_mbuf* m, uint16_t vlan);

// Sets the IPv4 total length and UDP length for a UDP payload of `payload_len` bytes (SRTP
// added or removed its tag), keeping the IPv4 header checksum exact (rewrite_udp updates it
// incrementally). The UDP checksum is left to rewrite_udp (payload_changed).
void set_udp_payload_len(rte_mbuf* m, uint32_t payload_len);

// MAC packed as in neighbour::mac (byte 0 in bits 0..7) to rte_ether_addr and back.
inline rte_ether_addr unpack_mac(uint64_t v) {
    rte_ether_addr a;
    for (int i = 0; i < 6; ++i) {
        a.addr_bytes[i] = static_cast<uint8_t>(v >> (8 * i));
    }
    return a;
}
inline uint64_t pack_mac(const rte_ether_addr& a) {
    uint64_t v = 0;
    for (int i = 0; i < 6; ++i) {
        v |= static_cast<uint64_t>(a.addr_bytes[i]) << (8 * i);
    }
    return v;
}

}  // namespace rtprelay::dp
