#include "dataplane/classify.h"

#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_udp.h>

namespace rtprelay::dp {

namespace {
constexpr classified drop(drop_reason r) { return {packet_class::drop, r}; }

constexpr uint8_t icmp6_echo_request = 128;
constexpr uint8_t nd_neighbour_solicitation = 135;
constexpr uint8_t nd_neighbour_advertisement = 136;

// IPv6 next-header values that are extension headers (RFC 8200 section 4, IANA): media has
// none; each is dropped and counted, fragments under their own reason.
bool is_extension_header(uint8_t nh) {
    switch (nh) {
        case 0:    // hop-by-hop options
        case 43:   // routing
        case 60:   // destination options
        case 51:   // authentication header
        case 135:  // mobility
        case 139:  // HIP
        case 140:  // shim6
        case 253:  // experimental
        case 254:
            return true;
        default:
            return false;
    }
}

classified classify6(rte_mbuf* m, const uint8_t* data, uint32_t len, uint32_t l2, const local_addresses& locals,
                     flow_key* key) {
    if (len < l2 + sizeof(rte_ipv6_hdr)) {
        return drop(drop_reason::malformed_ip);
    }
    const auto* ip = reinterpret_cast<const rte_ipv6_hdr*>(data + l2);
    const uint32_t plen = rte_be_to_cpu_16(ip->payload_len);
    if ((data[l2] >> 4) != 6 || l2 + sizeof(rte_ipv6_hdr) + plen > len) {
        return drop(drop_reason::malformed_ip);
    }
    m->l3_len = sizeof(rte_ipv6_hdr);
    const uint8_t* l4 = data + l2 + sizeof(rte_ipv6_hdr);
    // Neighbour discovery comes to multicast groups (solicited-node, all-nodes) as well as
    // to our addresses: the control plane checks the rest (RFC 4861 section 7.1).
    if (ip->proto == IPPROTO_ICMPV6 && plen >= 4 &&
        (l4[0] == nd_neighbour_solicitation || l4[0] == nd_neighbour_advertisement)) {
        if (ip->hop_limits != 255) {
            return drop(drop_reason::nd_not_on_link);
        }
        return {packet_class::nd, drop_reason::count};
    }
    const uint16_t slot = locals.slot6(m->port, ip->dst_addr);
    if (slot == 0) {
        return drop(not_ours(data));
    }
    if (ip->proto == IPPROTO_UDP) {
        if (plen < sizeof(rte_udp_hdr)) {
            return drop(drop_reason::malformed_udp);
        }
        const auto* udp = reinterpret_cast<const rte_udp_hdr*>(l4);
        const uint32_t ulen = rte_be_to_cpu_16(udp->dgram_len);
        if (ulen < sizeof(rte_udp_hdr) || ulen > plen) {
            return drop(drop_reason::malformed_udp);
        }
        if (udp->dgram_cksum == 0) {
            return drop(drop_reason::udp6_no_checksum);
        }
        key->local_addr = 0;
        key->local_port = udp->dst_port;
        key->v6_slot = slot;
        return {packet_class::udp, drop_reason::count};
    }
    if (ip->proto == IPPROTO_ICMPV6) {
        if (!locals.is_active(slot - 1)) {
            return drop(drop_reason::not_for_us);  // a group's address this node does not serve now
        }
        if (plen >= 8 && l4[0] == icmp6_echo_request && l4[1] == 0) {
            return {packet_class::icmp6_echo, drop_reason::count};
        }
        return drop(drop_reason::unsupported_l4);
    }
    if (ip->proto == IPPROTO_FRAGMENT) {
        return drop(drop_reason::ip_fragment);
    }
    if (is_extension_header(ip->proto)) {
        return drop(drop_reason::ipv6_extension);
    }
    return drop(drop_reason::unsupported_l4);
}
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
        if (ether_type == rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV6)) {
            return classify6(m, data, len, l2, locals, key);
        }
        return drop(drop_reason::unsupported_l3);
    }
    if (len < l2 + sizeof(rte_ipv4_hdr)) {
        return drop(drop_reason::malformed_ip);
    }
    const auto* ip = reinterpret_cast<const rte_ipv4_hdr*>(data + l2);
    const uint32_t ihl = (ip->version_ihl & 0x0f) * 4u;
    const uint32_t total = rte_be_to_cpu_16(ip->total_length);
    if ((ip->version_ihl >> 4) != 4 || ihl < sizeof(rte_ipv4_hdr) || total < ihl || l2 + total > len) {
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
        key->v6_slot = 0;
        return {packet_class::udp, drop_reason::count};
    }
    if (locals.find(m->port, ip->dst_addr) == nullptr) {
        return drop(not_ours(data));
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
