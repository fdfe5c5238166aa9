#include "bench/loadgen/udp_frame.h"

#include <rte_byteorder.h>
#include <rte_ip.h>
#include <rte_udp.h>

#include <cstring>

namespace rtprelay::loadgen {

size_t write_udp_headers(uint8_t* frame, const udp_frame_addresses& a, size_t payload_len) {
    auto* eth = reinterpret_cast<rte_ether_hdr*>(frame);
    eth->dst_addr = a.dst_mac;
    eth->src_addr = a.src_mac;
    eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
    auto* ip = reinterpret_cast<rte_ipv4_hdr*>(eth + 1);
    const auto udp_len = static_cast<uint16_t>(sizeof(rte_udp_hdr) + payload_len);
    ip->version_ihl = RTE_IPV4_VHL_DEF;
    ip->type_of_service = 0xb8;  // DSCP EF, as phones mark voice
    ip->total_length = rte_cpu_to_be_16(static_cast<uint16_t>(sizeof(rte_ipv4_hdr) + udp_len));
    ip->packet_id = 0;
    ip->fragment_offset = rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG);
    ip->time_to_live = 64;
    ip->next_proto_id = IPPROTO_UDP;
    ip->src_addr = a.src_ip;
    ip->dst_addr = a.dst_ip;
    ip->hdr_checksum = 0;
    ip->hdr_checksum = rte_ipv4_cksum(ip);
    auto* udp = reinterpret_cast<rte_udp_hdr*>(ip + 1);
    udp->src_port = rte_cpu_to_be_16(a.src_port);
    udp->dst_port = rte_cpu_to_be_16(a.dst_port);
    udp->dgram_len = rte_cpu_to_be_16(udp_len);
    udp->dgram_cksum = 0;
    const uint16_t c = rte_ipv4_udptcp_cksum(ip, udp);
    udp->dgram_cksum = c == 0 ? 0xffff : c;
    return udp_frame_header_bytes + payload_len;
}

bool parse_udp_frame(const uint8_t* frame, size_t len, udp_frame_view* out) {
    if (len < udp_frame_header_bytes) {
        return false;
    }
    const auto* eth = reinterpret_cast<const rte_ether_hdr*>(frame);
    if (eth->ether_type != rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4)) {
        return false;
    }
    const auto* ip = reinterpret_cast<const rte_ipv4_hdr*>(eth + 1);
    const size_t ihl = static_cast<size_t>(ip->version_ihl & 0x0f) * 4;
    if ((ip->version_ihl >> 4) != 4 || ihl < sizeof(rte_ipv4_hdr) || ip->next_proto_id != IPPROTO_UDP) {
        return false;
    }
    const size_t ip_len = rte_be_to_cpu_16(ip->total_length);
    if (ip_len < ihl + sizeof(rte_udp_hdr) || sizeof(rte_ether_hdr) + ip_len > len) {
        return false;
    }
    // Fragments: MF set or a non-zero offset.
    if ((rte_be_to_cpu_16(ip->fragment_offset) & (RTE_IPV4_HDR_MF_FLAG | RTE_IPV4_HDR_OFFSET_MASK)) != 0) {
        return false;
    }
    if (rte_raw_cksum(ip, ihl) != 0xffff) {
        return false;
    }
    const auto* udp = reinterpret_cast<const rte_udp_hdr*>(reinterpret_cast<const uint8_t*>(ip) + ihl);
    const size_t udp_len = rte_be_to_cpu_16(udp->dgram_len);
    if (udp_len < sizeof(rte_udp_hdr) || udp_len > ip_len - ihl) {
        return false;
    }
    out->src_ip = ip->src_addr;
    out->dst_ip = ip->dst_addr;
    out->src_port = rte_be_to_cpu_16(udp->src_port);
    out->dst_port = rte_be_to_cpu_16(udp->dst_port);
    out->payload_offset = sizeof(rte_ether_hdr) + ihl + sizeof(rte_udp_hdr);
    out->payload_len = udp_len - sizeof(rte_udp_hdr);
    return true;
}

}  // namespace rtprelay::loadgen
