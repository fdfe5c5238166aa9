#pragma once
// IPv6 Neighbour Discovery (RFC 4861) and ICMPv6 echo frames, as arp.h is for IPv4: the
// control plane parses solicitations and advertisements the workers hand it, answers
// solicitations for our addresses, resolves next hops with solicitations of its own and
// announces our addresses with unsolicited advertisements (at start and when a link comes
// back, as gratuitous ARP); workers answer echo requests in place.
//
// Only what the relay needs: no duplicate address detection, no router discovery or
// redirects (a static gateway per interface), no proxy or anycast flags.

#include <cstdint>

#include <rte_ether.h>

#include "dataplane/ether.h"

struct rte_mbuf;
struct rte_mempool;

namespace rtprelay::dp {

struct nd_info {
    uint8_t type = 0;         // 135 solicitation, 136 advertisement
    uint8_t src[16] = {};     // IPv6 source (:: for a duplicate address probe)
    uint8_t dst[16] = {};     // IPv6 destination (ours, or a multicast group)
    uint8_t target[16] = {};  // the address asked about / advertised
    bool has_lladdr = false;  // source (135) or target (136) link-layer address option
    rte_ether_addr lladdr{};
    bool solicited = false;  // advertisement flags
    bool override_flag = false;
    rte_ether_addr eth_src{};
    uint16_t vlan = 0;  // VLAN the frame came on, 0 = untagged
};

// Parses and validates (RFC 4861 sections 7.1.1 and 7.1.2: hop limit 255, ICMPv6 checksum,
// code 0, lengths, target not multicast, options of non-zero length, a probe from :: only to
// a solicited-node group and without a source address option, no solicited advertisement
// to a multicast group) an Ethernet [802.1Q] / IPv6 / ICMPv6 NS or NA. False otherwise.
bool parse_nd(const rte_mbuf* m, nd_info* out);

// The solicited-node multicast group of `addr` (ff02::1:ffXX:XXXX) and its MAC (33:33:ff:..).
void solicited_node_group(const uint8_t* addr, uint8_t* group);
rte_ether_addr multicast_mac(const uint8_t* group);

// A new frame from `pool`: the advertisement "our_ip is at our_mac" (target link-layer
// address option, override set) to dst_ip/dst_mac. solicited: the answer to a solicitation;
// otherwise unsolicited, to all nodes (ff02::1) when dst_ip is null. nullptr if the pool is
// empty.
rte_mbuf* make_neighbour_advert(rte_mempool* pool, uint16_t port_id, const rte_ether_addr& our_mac,
                                const uint8_t* our_ip, const uint8_t* dst_ip, const rte_ether_addr& dst_mac,
                                bool solicited, uint16_t vlan);

// Bytes of an ND frame as the functions here write them: Ethernet [+ VLAN], IPv6, the
// message's 24 fixed bytes and one link-layer address option.
constexpr uint32_t nd_frame_len(uint16_t vlan) { return ether_len(vlan) + 40 + 24 + 8; }

// make_neighbour_advert's unsolicited frame (untagged) written at `frame`
// (nd_frame_len(0) bytes), for a sender outside the data plane: the floating NG addresses'
// announcer (relay/kernel_address.cc). Returns the frame's length.
uint32_t write_unsolicited_advert(uint8_t* frame, const rte_ether_addr& our_mac, const uint8_t* our_ip);

// A new frame from `pool`: who has `target` (to its solicited-node group), from our_ip with
// our MAC in the source link-layer address option. nullptr if the pool is empty.
rte_mbuf* make_neighbour_solicit(rte_mempool* pool, uint16_t port_id, const rte_ether_addr& our_mac,
                                 const uint8_t* our_ip, const uint8_t* target, uint16_t vlan);

// Turns the ICMPv6 echo request in `m` (l2_len/l3_len set, to one of our addresses) into its
// reply, in place: addresses swapped (the pseudo-header sum is unchanged), type 128 -> 129.
void make_icmp6_echo_reply(rte_mbuf* m, const rte_ether_addr& our_mac);

// ICMPv6 checksum of `len` bytes at `icmp` under the pseudo-header of src/dst (16 bytes
// each); 0 over a packet whose checksum field is right.
uint16_t icmp6_checksum(const uint8_t* src, const uint8_t* dst, const uint8_t* icmp, uint32_t len);

}  // namespace rtprelay::dp
