#include "dataplane/arp.h"

#include <rte_arp.h>
#include <rte_byteorder.h>
#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_mbuf.h>

#include <cstring>

#include "dataplane/checksum.h"
#include "dataplane/ether.h"

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
    const uint16_t l2 = ether_len(vlan);
    auto* p = reinterpret_cast<uint8_t*>(rte_pktmbuf_append(m, l2 + sizeof(rte_arp_hdr)));
    constexpr rte_ether_addr broadcast{{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}};
    write_ether(p, broadcast, our_mac, vlan, RTE_ETHER_TYPE_ARP);
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

void echo_to_reply(uint8_t* icmp, uint8_t reply_type) {
    // The type shares its 16-bit word with the code: one RFC 1624 update of that word.
    uint16_t word_old = 0;
    uint16_t check = 0;
    std::memcpy(&word_old, icmp, 2);
    std::memcpy(&check, icmp + 2, 2);
    icmp[0] = reply_type;
    uint16_t word_new = 0;
    std::memcpy(&word_new, icmp, 2);
    check = csum::update16(check, word_old, word_new);
    std::memcpy(icmp + 2, &check, 2);
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
    echo_to_reply(rte_pktmbuf_mtod_offset(m, uint8_t*, m->l2_len + m->l3_len), RTE_IP_ICMP_ECHO_REPLY);
}

}  // namespace rtprelay::dp
