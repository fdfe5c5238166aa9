#pragma once
// The Ethernet header every frame the relay sends starts with: destination and source MAC,
// an 802.1Q tag when the interface has a VLAN, the EtherType. Written by stage 6 (rewrite.cc,
// rewrite6.cc) in front of each relayed packet and by the frames the control plane builds
// (ARP requests, Neighbour Discovery).

#include <cstdint>

#include <rte_byteorder.h>
#include <rte_ether.h>

namespace rtprelay::dp {

// Bytes of that header for VLAN `vlan` (0 = untagged).
constexpr uint16_t ether_len(uint16_t vlan) {
    return vlan != 0 ? sizeof(rte_ether_hdr) + sizeof(rte_vlan_hdr) : sizeof(rte_ether_hdr);
}

// Writes it at `p` (ether_len(vlan) bytes); ether_type in host order (RTE_ETHER_TYPE_*).
inline void write_ether(uint8_t* p, const rte_ether_addr& dst, const rte_ether_addr& src, uint16_t vlan,
                        uint16_t ether_type) {
    auto* eth = reinterpret_cast<rte_ether_hdr*>(p);
    eth->dst_addr = dst;
    eth->src_addr = src;
    if (vlan != 0) {
        eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_VLAN);
        auto* vh = reinterpret_cast<rte_vlan_hdr*>(eth + 1);
        vh->vlan_tci = rte_cpu_to_be_16(vlan);
        vh->eth_proto = rte_cpu_to_be_16(ether_type);
    } else {
        eth->ether_type = rte_cpu_to_be_16(ether_type);
    }
}

}  // namespace rtprelay::dp
