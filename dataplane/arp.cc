#include "dataplane/arp.h"

#include <rte_arp.h>
#include <rte_byteorder.h>
#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_mbuf.h>

#include <cstring>

namespace rtprelay::dp {

namespace {
rte_arp_hdr* arp_header(rte_mbuf* m, uint16_t* vlan) {
    auto* eth = rte_pktmbuf_mtod(m, rte_ether_hdr*);
    uint32_t l2 = sizeof(rte_ether_hdr);
    *vlan = 0;
    if (eth->ether_type == rte_cpu_to_be_16(RTE_ETHER_TYPE_VLAN)) {
        if (rte_pktmbuf_data_len(m) < l2 + sizeof(rte_vlan_hdr)) {
            return nullptr;
        }
        *vlan = rte_be_to_cpu_16(rte_pktmbuf_mtod_offset(m, rte_vlan_hdr*, l2)->vlan_tci) & 0xfff;
        l2 += sizeof(rte_vlan_hdr);
    }
    if (rte_pktmbuf_data_len(m) < l2 + sizeof(rte_arp_hdr)) {
        return nullptr;
    }
    return rte_pktmbuf_mtod_offset(m, rte_arp_hdr*, l2);
}
}  // namespace

bool parse_arp(const rte_mbuf* m, arp_info* out) {
    uint16_t vlan = 0;
    const rte_arp_hdr* a = arp_header(const_cast<rte_mbuf*>(m), &vlan);
    if (a == nullptr || a->arp_hardware != rte_cpu_to_be_16(RTE_ARP_HRD_ETHER) ||
        a->arp_protocol != rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4) || a->arp_hlen != 6 || a->arp_plen != 4) {
        return false;
    }
    out->op = rte_be_to_cpu_16(a->arp_opcode);
    if (out->op != RTE_ARP_OP_REQUEST && out->op != RTE_ARP_OP_REPLY) {
        return false;
    }
    out->sender_mac = a->arp_data.arp_sha;
    out->sender_ip = a->arp_data.arp_sip;
    out->target_ip = a->arp_data.arp_tip;
    out->vlan = vlan;
    return true;
}

void make_arp_reply(rte_mbuf* m, const rte_ether_addr& our_mac) {
    uint16_t vlan = 0;
    rte_arp_hdr* a = arp_header(m, &vlan);
    auto* eth = rte_pktmbuf_mtod(m, rte_ether_hdr*);
    eth->dst_addr = a->arp_data.arp_sha;
    eth->src_addr = our_mac;
    a->arp_opcode = rte_cpu_to_be_16(RTE_ARP_OP_REPLY);
    const uint32_t asked = a->arp_data.arp_tip;
    a->arp_data.arp_tha = a->arp_data.arp_sha;
    a->arp_data.arp_tip = a->arp_data.arp_sip;
    a->arp_data.arp_sha = our_mac;
    a->arp_data.arp_sip = asked;
}

rte_mbuf* make_arp_request(rte_mempool* pool, uint16_t port_id, const rte_ether_addr& our_mac, uint32_t our_ip,
                           uint32_t target_ip, uint16_t vlan) {
    rte_mbuf* m = rte_pktmbuf_alloc(pool);
    if (m == nullptr) {
        return nullptr;
    }
    const uint16_t l2 = vlan != 0 ? sizeof(rte_ether_hdr) + sizeof(rte_vlan_hdr) : sizeof(rte_ether_hdr);
    auto* p = reinterpret_cast<uint8_t*>(rte_pktmbuf_append(m, l2 + sizeof(rte_arp_hdr)));
    auto* eth = reinterpret_cast<rte_ether_hdr*>(p);
    memset(&eth->dst_addr, 0xff, sizeof(eth->dst_addr));
    eth->src_addr = our_mac;
    if (vlan != 0) {
        eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_VLAN);
        auto* vh = reinterpret_cast<rte_vlan_hdr*>(eth + 1);
        vh->vlan_tci = rte_cpu_to_be_16(vlan);
        vh->eth_proto = rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP);
    } else {
        eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP);
    }
    auto* a = reinterpret_cast<rte_arp_hdr*>(p + l2);
    a->arp_hardware = rte_cpu_to_be_16(RTE_ARP_HRD_ETHER);
    a->arp_protocol = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
    a->arp_hlen = 6;
    a->arp_plen = 4;
    a->arp_opcode = rte_cpu_to_be_16(RTE_ARP_OP_REQUEST);
    a->arp_data.arp_sha = our_mac;
    a->arp_data.arp_sip = our_ip;
    memset(&a->arp_data.arp_tha, 0, sizeof(a->arp_data.arp_tha));
    a->arp_data.arp_tip = target_ip;
    m->port = port_id;
    return m;
}

void make_icmp_echo_reply(rte_mbuf* m, const rte_ether_addr& our_mac) {
    auto* eth = rte_pktmbuf_mtod(m, rte_ether_hdr*);
    eth->dst_addr = eth->src_addr;
    eth->src_addr = our_mac;
    auto* ip = rte_pktmbuf_mtod_offset(m, rte_ipv4_hdr*, m->l2_len);
    const uint32_t a = ip->src_addr;
    ip->src_addr = ip->dst_addr;
    ip->dst_addr = a;
    ip->time_to_live = 64;
    ip->hdr_checksum = 0;
    ip->hdr_checksum = rte_ipv4_cksum(ip);
    auto* icmp = rte_pktmbuf_mtod_offset(m, rte_icmp_hdr*, m->l2_len + m->l3_len);
    // Type 8 -> 0 changes one 16-bit word of the ICMP checksum by 0x0800.
    icmp->icmp_type = RTE_IP_ICMP_ECHO_REPLY;
    uint32_t sum = static_cast<uint16_t>(~icmp->icmp_cksum);
    sum += static_cast<uint16_t>(~rte_cpu_to_be_16(0x0800));
    sum = (sum & 0xffff) + (sum >> 16);
    sum = (sum & 0xffff) + (sum >> 16);
    icmp->icmp_cksum = static_cast<uint16_t>(~sum);
}

}  // namespace rtprelay::dp
