#include "dataplane/rewrite.h"

#include <rte_byteorder.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_udp.h>

#include <cstring>

#include "dataplane/checksum.h"

namespace rtprelay::dp {

namespace {
// Adds `v` into a one's-complement accumulator.
inline uint32_t add16(uint32_t sum, uint16_t v) { return sum + v; }
inline uint16_t fold(uint32_t sum) {
    sum = (sum & 0xffff) + (sum >> 16);
    sum = (sum & 0xffff) + (sum >> 16);
    return static_cast<uint16_t>(sum);
}
}  // namespace

uint16_t checksum_update16(uint16_t check, uint16_t from, uint16_t to) {
    // HC' = ~(~HC + ~m + m')
    uint32_t sum = static_cast<uint16_t>(~check);
    sum = add16(sum, static_cast<uint16_t>(~from));
    sum = add16(sum, to);
    return static_cast<uint16_t>(~fold(sum));
}

uint16_t checksum_update32(uint16_t check, uint32_t from, uint32_t to) {
    uint32_t sum = static_cast<uint16_t>(~check);
    sum = add16(sum, static_cast<uint16_t>(~(from & 0xffff)));
    sum = add16(sum, static_cast<uint16_t>(~(from >> 16)));
    sum = add16(sum, static_cast<uint16_t>(to & 0xffff));
    sum = add16(sum, static_cast<uint16_t>(to >> 16));
    return static_cast<uint16_t>(~fold(sum));
}

using csum::fold64;
using csum::neg32;
using csum::pos32;
using csum::sum_bytes;

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
    const uint16_t new_l2 = vlan != 0 ? sizeof(rte_ether_hdr) + sizeof(rte_vlan_hdr) : sizeof(rte_ether_hdr);
    return new_l2 <= m->l2_len || rte_pktmbuf_headroom(m) >= new_l2 - m->l2_len;
}

// Keep its room check the same as rewrite_has_room's.
bool rewrite_udp(rte_mbuf* m, const rewrite_target& t) {
    // Replace the L2 header whole: the ingress one may have had a VLAN tag the egress one
    // must not have, or the other way round.
    const uint16_t new_l2 = t.vlan != 0 ? sizeof(rte_ether_hdr) + sizeof(rte_vlan_hdr) : sizeof(rte_ether_hdr);
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
    auto* eth = rte_pktmbuf_mtod(m, rte_ether_hdr*);
    rte_ether_addr_copy(&t.dst_mac, &eth->dst_addr);
    rte_ether_addr_copy(&t.src_mac, &eth->src_addr);
    if (t.vlan != 0) {
        eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_VLAN);
        auto* vh = reinterpret_cast<rte_vlan_hdr*>(eth + 1);
        vh->vlan_tci = rte_cpu_to_be_16(t.vlan);
        vh->eth_proto = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
    } else {
        eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
    }

    auto* ip = rte_pktmbuf_mtod_offset(m, rte_ipv4_hdr*, new_l2);
    auto* udp = rte_pktmbuf_mtod_offset(m, rte_udp_hdr*, new_l2 + m->l3_len);
    // The addresses change in the pseudo-header (UDP) and the IP header; both sums are
    // updated with one fold each (RFC 1624), the payload summed only when SRTP changed it.
    const uint64_t addr_delta = neg32(ip->src_addr) + neg32(ip->dst_addr) + pos32(t.src_addr) + pos32(t.dst_addr);
    if (t.payload_changed) {
        udp->src_port = t.src_port;
        udp->dst_port = t.dst_port;
        udp->dgram_cksum = 0;
        const uint32_t ulen = rte_be_to_cpu_16(udp->dgram_len);
        const uint64_t s = pos32(t.src_addr) + pos32(t.dst_addr) + rte_cpu_to_be_16(IPPROTO_UDP) + udp->dgram_len +
                           sum_bytes(reinterpret_cast<const uint8_t*>(udp), ulen);
        const uint16_t c = static_cast<uint16_t>(~fold64(s));
        udp->dgram_cksum = c == 0 ? 0xffff : c;
    } else if (udp->dgram_cksum != 0) {
        // The ports are in the UDP header itself.
        const uint64_t s = static_cast<uint16_t>(~udp->dgram_cksum) + addr_delta +
                           static_cast<uint16_t>(~udp->src_port) + static_cast<uint16_t>(~udp->dst_port) + t.src_port +
                           t.dst_port;
        const uint16_t c = static_cast<uint16_t>(~fold64(s));
        udp->dgram_cksum = c == 0 ? 0xffff : c;
    }
    udp->src_port = t.src_port;
    udp->dst_port = t.dst_port;
    // TTL shares a 16-bit word with the protocol; classify() verified the header checksum,
    // so the incremental update stays exact.
    uint16_t ttl_word_old;
    std::memcpy(&ttl_word_old, &ip->time_to_live, sizeof(ttl_word_old));
    ip->time_to_live = 64;  // we originate the packet on the other leg
    uint16_t ttl_word_new;
    std::memcpy(&ttl_word_new, &ip->time_to_live, sizeof(ttl_word_new));
    ip->src_addr = t.src_addr;
    ip->dst_addr = t.dst_addr;
    const uint64_t hs =
        static_cast<uint16_t>(~ip->hdr_checksum) + addr_delta + static_cast<uint16_t>(~ttl_word_old) + ttl_word_new;
    ip->hdr_checksum = static_cast<uint16_t>(~fold64(hs));
    return true;
}

}  // namespace rtprelay::dp
