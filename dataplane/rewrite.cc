#include "dataplane/rewrite.h"

#include <rte_byteorder.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_udp.h>

#include <cstring>

#include "dataplane/checksum.h"
#include "dataplane/ether.h"

namespace rtprelay::dp {

using csum::fold64;
using csum::neg32;
using csum::pos32;

void set_udp_payload_len(rte_mbuf* m, uint32_t payload_len) {
    auto* ip = rte_pktmbuf_mtod_offset(m, rte_ipv4_hdr*, m->l2_len);
    auto* udp = rte_pktmbuf_mtod_offset(m, rte_udp_hdr*, m->l2_len + m->l3_len);
    const uint16_t total = rte_cpu_to_be_16(static_cast<uint16_t>(m->l3_len + sizeof(rte_udp_hdr) + payload_len));
    const uint64_t hs = static_cast<uint16_t>(~ip->hdr_checksum) + static_cast<uint16_t>(~ip->total_length) + total;
    ip->total_length = total;
    ip->hdr_checksum = static_cast<uint16_t>(~fold64(hs));
    udp->dgram_len = rte_cpu_to_be_16(static_cast<uint16_t>(sizeof(rte_udp_hdr) + payload_len));
}

bool rewrite_has_room(const rte_mbuf* m, uint16_t vlan) {
    const uint16_t new_l2 = ether_len(vlan);
    return new_l2 <= m->l2_len || rte_pktmbuf_headroom(m) >= new_l2 - m->l2_len;
}

// Keep its room check the same as rewrite_has_room's.
bool rewrite_udp(rte_mbuf* m, const rewrite_target& t) {
    // Replace the L2 header whole: the ingress one may have had a VLAN tag the egress one
    // must not have, or the other way round.
    const uint16_t new_l2 = ether_len(t.vlan);
    if (new_l2 != m->l2_len) [[unlikely]] {
        if (new_l2 > m->l2_len && rte_pktmbuf_headroom(m) < new_l2 - m->l2_len) {
            return false;
        }
        if (new_l2 > m->l2_len) {
            rte_pktmbuf_prepend(m, new_l2 - m->l2_len);
        } else {
            rte_pktmbuf_adj(m, m->l2_len - new_l2);
        }
        m->l2_len = new_l2;
    }
    write_ether(rte_pktmbuf_mtod(m, uint8_t*), t.dst_mac, t.src_mac, t.vlan, RTE_ETHER_TYPE_IPV4);

    auto* ip = rte_pktmbuf_mtod_offset(m, rte_ipv4_hdr*, new_l2);
    auto* udp = rte_pktmbuf_mtod_offset(m, rte_udp_hdr*, new_l2 + m->l3_len);
    // The addresses change in the pseudo-header (UDP) and the IP header; both sums are
    // updated with one fold each (RFC 1624), the payload summed only when SRTP changed it.
    const uint64_t old_addrs = neg32(ip->src_addr) + neg32(ip->dst_addr);
    const uint64_t new_addrs = pos32(t.src_addr) + pos32(t.dst_addr);
    csum::readdress_udp(udp, old_addrs, new_addrs, t.src_port, t.dst_port, t.payload_changed);
    // TTL shares a 16-bit word with the protocol; classify() verified the header checksum,
    // so the incremental update stays exact.
    uint16_t ttl_word_old;
    std::memcpy(&ttl_word_old, &ip->time_to_live, sizeof(ttl_word_old));
    ip->time_to_live = 64;  // we originate the packet on the other leg
    uint16_t ttl_word_new;
    std::memcpy(&ttl_word_new, &ip->time_to_live, sizeof(ttl_word_new));
    ip->src_addr = t.src_addr;
    ip->dst_addr = t.dst_addr;
    const uint64_t hs = static_cast<uint16_t>(~ip->hdr_checksum) + old_addrs + new_addrs +
                        static_cast<uint16_t>(~ttl_word_old) + ttl_word_new;
    ip->hdr_checksum = static_cast<uint16_t>(~fold64(hs));
    return true;
}

}  // namespace rtprelay::dp
