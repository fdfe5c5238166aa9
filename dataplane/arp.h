#pragma once
// ARP and ICMP echo frames: answers built in place, requests and gratuitous ARP built into
// fresh mbufs. Used by the control plane (ARP) and by workers (ICMP echo, in place).

#include <cstdint>

#include <rte_ether.h>

struct rte_mbuf;
struct rte_mempool;

namespace rtprelay::dp {

struct arp_info {
    uint16_t op = 0;  // 1 request, 2 reply (host order)
    rte_ether_addr sender_mac;
    uint32_t sender_ip = 0;  // network order
    uint32_t target_ip = 0;  // network order
    uint16_t vlan = 0;       // VLAN the frame came on, 0 = untagged
};

// Parses an Ethernet/ARP (IPv4 over Ethernet) frame. False if it is not a well-formed one.
bool parse_arp(const rte_mbuf* m, arp_info* out);

// Turns the request in `m` into the reply "target_ip is at our_mac", in place.
void make_arp_reply(rte_mbuf* m, const rte_ether_addr& our_mac);

// A new frame from `pool`: who-has `target_ip` tell `our_ip` (broadcast). With
// target_ip == our_ip it is a gratuitous ARP announcing our_ip. nullptr if the pool is empty.
rte_mbuf* make_arp_request(rte_mempool* pool, uint16_t port_id, const rte_ether_addr& our_mac, uint32_t our_ip,
                           uint32_t target_ip, uint16_t vlan);

// Turns the ICMP echo request in `m` (l2_len/l3_len set) into its reply, in place.
void make_icmp_echo_reply(rte_mbuf* m, const rte_ether_addr& our_mac);

// The ICMP or ICMPv6 message at `icmp` (an echo request) becomes type `reply_type`, its
// checksum updated for that change alone (make_icmp_echo_reply, make_icmp6_echo_reply: the
// IPv6 pseudo-header's sum does not change when the addresses swap).
void echo_to_reply(uint8_t* icmp, uint8_t reply_type);

}  // namespace rtprelay::dp
