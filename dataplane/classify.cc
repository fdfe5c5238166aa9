#include "dataplane/classify.h"

#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_udp.h>

namespace rtprelay::dp {

namespace {
constexpr classified drop(drop_reason r) { return {packet_class::drop, r}; }
}  // namespace

classified classify(rte_mbuf* m, const local_addresses& locals, flow_key* key) {
    // Multi-segment frames are not expected on media ports (max 1500-byte MTU, 2 KB mbufs);
    // the data length covers every header we read.
    const uint32_t len = rte_pktmbuf_data_len(m);
    const auto* data = rte_pktmbuf_mtod(m, const uint8_t*);
    if (len < sizeof(rte_ether_hdr)) {
        return drop(drop_reason::malformed_l2);
    }
    const auto* eth = reinterpret_cast<const rte_ether_hdr*>(data);
    uint16_t ether_type = eth->ether_type;
    uint32_t l2 = sizeof(rte_ether_hdr);
    if (ether_type == rte_cpu_to_be_16(RTE_ETHER_TYPE_VLAN)) {
        if (len < l2 + sizeof(rte_vlan_hdr)) {
            return drop(drop_reason::malformed_l2);
        }
        ether_type = reinterpret_cast<const rte_vlan_hdr*>(data + l2)->eth_proto;
        l2 += sizeof(rte_vlan_hdr);
    }
    m->l2_len = l2;
    if (ether_type == rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP)) {
        return {packet_class::arp, drop_reason::count};
    }
    if (ether_type != rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4)) {
        return drop(drop_reason::unsupported_l3);
    }
    if (len < l2 + sizeof(rte_ipv4_hdr)) {
        return drop(drop_reason::malformed_ip);
    }
    const auto* ip = reinterpret_cast<const rte_ipv4_hdr*>(data + l2);
    const uint32_t ihl = (ip->version_ihl & 0x0f) * 4u;
    const uint32_t total = rte_be_to_cpu_16(ip->total_length);
    if ((ip->version_ihl >> 4) != 4 || ihl < sizeof(rte_ipv4_hdr) || total < ihl ||
        l2 + total > len) {
        return drop(drop_reason::malformed_ip);
    }
    // The header checksum is verified: a corrupt header must not steer a packet.
    if (rte_raw_cksum(ip, ihl) != 0xffff) {
        return drop(drop_reason::malformed_ip);
    }
    if ((ip->fragment_offset & rte_cpu_to_be_16(RTE_IPV4_HDR_MF_FLAG | RTE_IPV4_HDR_OFFSET_MASK)) != 0) {
        return drop(drop_reason::ip_fragment);
    }
    m->l3_len = ihl;
    if (ip->next_proto_id == IPPROTO_UDP) {
        if (total < ihl + sizeof(rte_udp_hdr)) {
            return drop(drop_reason::malformed_udp);
        }
        const auto* udp = reinterpret_cast<const rte_udp_hdr*>(data + l2 + ihl);
        const uint32_t ulen = rte_be_to_cpu_16(udp->dgram_len);
        if (ulen < sizeof(rte_udp_hdr) || ulen > total - ihl) {
            return drop(drop_reason::malformed_udp);
        }
        key->local_addr = ip->dst_addr;
        key->local_port = udp->dst_port;
        key->zero = 0;
        return {packet_class::udp, drop_reason::count};
    }
    if (locals.find(m->port, ip->dst_addr) == nullptr) {
        return drop(drop_reason::not_for_us);
    }
    if (ip->next_proto_id == IPPROTO_ICMP && total >= ihl + 8) {
        const uint8_t icmp_type = data[l2 + ihl];
        if (icmp_type == 8) {  // echo request
            return {packet_class::icmp_echo, drop_reason::count};
        }
    }
    return drop(drop_reason::unsupported_l4);
}

}  // namespace rtprelay::dp
