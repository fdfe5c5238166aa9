#include "dataplane/rewrite6.h"

#include <rte_byteorder.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_udp.h>

#include <cstring>

#include "dataplane/checksum.h"
#include "dataplane/ether.h"

namespace rtprelay::dp {

namespace {
constexpr uint8_t out_hop_limit = 64;  // we originate the packet on the other leg
}  // namespace

void set_udp6_payload_len(rte_mbuf* m, uint32_t payload_len) {
    auto* ip = rte_pktmbuf_mtod_offset(m, rte_ipv6_hdr*, m->l2_len);
    auto* udp = rte_pktmbuf_mtod_offset(m, rte_udp_hdr*, m->l2_len + m->l3_len);
    const auto ulen = rte_cpu_to_be_16(static_cast<uint16_t>(sizeof(rte_udp_hdr) + payload_len));
    ip->payload_len = ulen;  // no extension headers (classify() dropped them)
    udp->dgram_len = ulen;
}

bool rewrite_udp6(rte_mbuf* m, const rewrite_target6& t) {
    auto* frame = rte_pktmbuf_mtod(m, uint8_t*);
    const bool in6 = arrived_v6(frame, m->l2_len);
    auto* udp = reinterpret_cast<rte_udp_hdr*>(frame + m->l2_len + m->l3_len);
    // The new L2 and IP headers end where the old ones did: checked before anything changes.
    const uint16_t new_l2 = ether_len(t.vlan);
    const uint16_t new_l3 = t.out6 ? sizeof(rte_ipv6_hdr) : sizeof(rte_ipv4_hdr);
    const int grow = static_cast<int>(new_l2 + new_l3) - static_cast<int>(m->l2_len + m->l3_len);
    if (grow > 0 && rte_pktmbuf_headroom(m) < static_cast<uint16_t>(grow)) {
        return false;
    }

    // What the new headers need from the old IP header, read before they overwrite it.
    uint64_t old_addrs = 0;
    uint8_t traffic_class = 0;
    uint32_t flow_label = 0;
    if (in6) {
        const auto* ip6 = reinterpret_cast<const rte_ipv6_hdr*>(frame + m->l2_len);
        old_addrs = csum::neg128(ip6->src_addr) + csum::neg128(ip6->dst_addr);
        const uint32_t vtc = rte_be_to_cpu_32(ip6->vtc_flow);
        traffic_class = static_cast<uint8_t>(vtc >> 20);
        flow_label = vtc & 0xfffff;
    } else {
        const auto* ip4 = reinterpret_cast<const rte_ipv4_hdr*>(frame + m->l2_len);
        old_addrs = csum::neg32(ip4->src_addr) + csum::neg32(ip4->dst_addr);
        traffic_class = ip4->type_of_service;
    }
    uint32_t src4 = 0;
    uint32_t dst4 = 0;
    std::memcpy(&src4, t.src, 4);
    std::memcpy(&dst4, t.dst, 4);
    const uint64_t new_addrs =
        t.out6 ? csum::pos128(t.src) + csum::pos128(t.dst) : csum::pos32(src4) + csum::pos32(dst4);

    // The UDP datagram does not move: its checksum is settled first (see rewrite6.h).
    const uint32_t ulen = rte_be_to_cpu_16(udp->dgram_len);
    csum::readdress_udp(udp, old_addrs, new_addrs, t.src_port, t.dst_port,
                        t.payload_changed || (!in6 && udp->dgram_cksum == 0 && t.out6));

    // New L2 and IP headers in front of the datagram.
    if (grow > 0) {
        rte_pktmbuf_prepend(m, static_cast<uint16_t>(grow));
    } else if (grow < 0) {
        rte_pktmbuf_adj(m, static_cast<uint16_t>(-grow));
    }
    m->l2_len = new_l2;
    m->l3_len = new_l3;
    frame = rte_pktmbuf_mtod(m, uint8_t*);
    write_ether(frame, t.dst_mac, t.src_mac, t.vlan, t.out6 ? RTE_ETHER_TYPE_IPV6 : RTE_ETHER_TYPE_IPV4);
    if (t.out6) {
        auto* ip6 = reinterpret_cast<rte_ipv6_hdr*>(frame + new_l2);
        ip6->vtc_flow = rte_cpu_to_be_32((6u << 28) | (static_cast<uint32_t>(traffic_class) << 20) | flow_label);
        ip6->payload_len = rte_cpu_to_be_16(static_cast<uint16_t>(ulen));
        ip6->proto = IPPROTO_UDP;
        ip6->hop_limits = out_hop_limit;
        std::memcpy(ip6->src_addr, t.src, 16);
        std::memcpy(ip6->dst_addr, t.dst, 16);
    } else {
        auto* ip4 = reinterpret_cast<rte_ipv4_hdr*>(frame + new_l2);
        ip4->version_ihl = 0x45;
        ip4->type_of_service = traffic_class;
        ip4->total_length = rte_cpu_to_be_16(static_cast<uint16_t>(sizeof(rte_ipv4_hdr) + ulen));
        ip4->packet_id = 0;
        ip4->fragment_offset = rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG);
        ip4->time_to_live = out_hop_limit;
        ip4->next_proto_id = IPPROTO_UDP;
        ip4->hdr_checksum = 0;
        ip4->src_addr = src4;
        ip4->dst_addr = dst4;
        ip4->hdr_checksum = static_cast<uint16_t>(~csum::fold64(csum::sum_bytes(frame + new_l2, sizeof(rte_ipv4_hdr))));
    }
    return true;
}

}  // namespace rtprelay::dp
