#include "dataplane/nd.h"

#include <netinet/in.h>

#include <rte_byteorder.h>
#include <rte_ip.h>
#include <rte_mbuf.h>

#include <cstring>

#include "dataplane/arp.h"
#include "dataplane/checksum.h"
#include "dataplane/ether.h"

namespace rtprelay::dp {

namespace {
constexpr uint8_t type_ns = 135;
constexpr uint8_t type_na = 136;
constexpr uint8_t type_echo_reply = 129;
constexpr uint8_t opt_source_lladdr = 1;
constexpr uint8_t opt_target_lladdr = 2;
constexpr uint32_t nd_fixed = 24;  // type, code, checksum, flags/reserved, target
constexpr uint8_t all_nodes[16] = {0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};

bool is_unspecified(const uint8_t* a) {
    for (int i = 0; i < 16; ++i) {
        if (a[i] != 0) {
            return false;
        }
    }
    return true;
}
bool is_multicast(const uint8_t* a) { return a[0] == 0xff; }

// Ethernet [+ VLAN] + IPv6 header for an ND or echo frame of `icmp_len` bytes, into `p`.
uint32_t write_headers(uint8_t* p, const rte_ether_addr& src_mac, const rte_ether_addr& dst_mac, uint16_t vlan,
                       const uint8_t* src, const uint8_t* dst, uint32_t icmp_len) {
    write_ether(p, dst_mac, src_mac, vlan, RTE_ETHER_TYPE_IPV6);
    const uint32_t l2 = ether_len(vlan);
    auto* ip = reinterpret_cast<rte_ipv6_hdr*>(p + l2);
    ip->vtc_flow = rte_cpu_to_be_32(6u << 28);
    ip->payload_len = rte_cpu_to_be_16(static_cast<uint16_t>(icmp_len));
    ip->proto = IPPROTO_ICMPV6;
    ip->hop_limits = 255;  // RFC 4861: receivers drop ND with any other value
    std::memcpy(ip->src_addr, src, 16);
    std::memcpy(ip->dst_addr, dst, 16);
    return l2 + sizeof(rte_ipv6_hdr);
}

// An ND message (24 fixed bytes + one 8-byte link-layer address option) with its Ethernet
// and IPv6 headers, at `p` (nd_frame_len(vlan) bytes); returns that length.
uint32_t write_nd(uint8_t* p, const rte_ether_addr& our_mac, const rte_ether_addr& dst_mac, uint16_t vlan,
                  const uint8_t* src, const uint8_t* dst, uint8_t type, uint32_t flags, const uint8_t* target,
                  uint8_t option) {
    constexpr uint32_t icmp_len = nd_fixed + 8;
    const uint32_t off = write_headers(p, our_mac, dst_mac, vlan, src, dst, icmp_len);
    uint8_t* icmp = p + off;
    std::memset(icmp, 0, icmp_len);
    icmp[0] = type;
    const uint32_t flags_be = rte_cpu_to_be_32(flags);
    std::memcpy(icmp + 4, &flags_be, 4);
    std::memcpy(icmp + 8, target, 16);
    icmp[24] = option;
    icmp[25] = 1;  // length in units of 8 bytes
    std::memcpy(icmp + 26, our_mac.addr_bytes, 6);
    const uint16_t c = icmp6_checksum(src, dst, icmp, icmp_len);
    std::memcpy(icmp + 2, &c, 2);
    return off + icmp_len;
}

// write_nd into a new mbuf.
rte_mbuf* make_nd(rte_mempool* pool, uint16_t port_id, const rte_ether_addr& our_mac, const rte_ether_addr& dst_mac,
                  uint16_t vlan, const uint8_t* src, const uint8_t* dst, uint8_t type, uint32_t flags,
                  const uint8_t* target, uint8_t option) {
    rte_mbuf* m = rte_pktmbuf_alloc(pool);
    if (m == nullptr) {
        return nullptr;
    }
    auto* p = reinterpret_cast<uint8_t*>(rte_pktmbuf_append(m, static_cast<uint16_t>(nd_frame_len(vlan))));
    if (p == nullptr) {
        rte_pktmbuf_free(m);
        return nullptr;
    }
    write_nd(p, our_mac, dst_mac, vlan, src, dst, type, flags, target, option);
    m->port = port_id;
    return m;
}

constexpr uint32_t flag_solicited = 0x40000000u;
constexpr uint32_t flag_override = 0x20000000u;
}  // namespace

uint16_t icmp6_checksum(const uint8_t* src, const uint8_t* dst, const uint8_t* icmp, uint32_t len) {
    const uint64_t s = csum::pos128(src) + csum::pos128(dst) + csum::pos32(rte_cpu_to_be_32(len)) +
                       rte_cpu_to_be_16(IPPROTO_ICMPV6) + csum::sum_bytes(icmp, len);
    return static_cast<uint16_t>(~csum::fold64(s));
}

void solicited_node_group(const uint8_t* addr, uint8_t* group) {
    static constexpr uint8_t prefix[13] = {0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff};
    std::memcpy(group, prefix, sizeof(prefix));
    std::memcpy(group + 13, addr + 13, 3);
}

rte_ether_addr multicast_mac(const uint8_t* group) {
    return rte_ether_addr{{0x33, 0x33, group[12], group[13], group[14], group[15]}};
}

bool parse_nd(const rte_mbuf* m, nd_info* out) {
    const uint32_t len = rte_pktmbuf_data_len(m);
    const auto* p = rte_pktmbuf_mtod(m, const uint8_t*);
    if (len < sizeof(rte_ether_hdr)) {
        return false;
    }
    const auto* eth = reinterpret_cast<const rte_ether_hdr*>(p);
    uint32_t l2 = sizeof(rte_ether_hdr);
    uint16_t ether_type = eth->ether_type;
    out->vlan = 0;
    if (ether_type == rte_cpu_to_be_16(RTE_ETHER_TYPE_VLAN)) {
        if (len < l2 + sizeof(rte_vlan_hdr)) {
            return false;
        }
        const auto* vh = reinterpret_cast<const rte_vlan_hdr*>(p + l2);
        out->vlan = rte_be_to_cpu_16(vh->vlan_tci) & 0xfff;
        ether_type = vh->eth_proto;
        l2 += sizeof(rte_vlan_hdr);
    }
    if (ether_type != rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV6) || len < l2 + sizeof(rte_ipv6_hdr)) {
        return false;
    }
    const auto* ip = reinterpret_cast<const rte_ipv6_hdr*>(p + l2);
    const uint32_t plen = rte_be_to_cpu_16(ip->payload_len);
    if ((p[l2] >> 4) != 6 || ip->proto != IPPROTO_ICMPV6 || ip->hop_limits != 255 || plen < nd_fixed ||
        l2 + sizeof(rte_ipv6_hdr) + plen > len) {
        return false;
    }
    const uint8_t* icmp = p + l2 + sizeof(rte_ipv6_hdr);
    if ((icmp[0] != type_ns && icmp[0] != type_na) || icmp[1] != 0 ||
        icmp6_checksum(ip->src_addr, ip->dst_addr, icmp, plen) != 0) {
        return false;
    }
    out->type = icmp[0];
    std::memcpy(out->src, ip->src_addr, 16);
    std::memcpy(out->dst, ip->dst_addr, 16);
    std::memcpy(out->target, icmp + 8, 16);
    out->eth_src = eth->src_addr;
    out->solicited = (icmp[4] & 0x40) != 0;
    out->override_flag = (icmp[4] & 0x20) != 0;
    out->has_lladdr = false;
    if (is_multicast(out->target)) {
        return false;
    }
    const uint8_t want = out->type == type_ns ? opt_source_lladdr : opt_target_lladdr;
    for (uint32_t o = nd_fixed; o < plen;) {
        if (plen - o < 2 || icmp[o + 1] == 0 || plen - o < icmp[o + 1] * 8u) {
            return false;  // an option of length 0 or past the end
        }
        if (icmp[o] == want && icmp[o + 1] == 1) {
            out->has_lladdr = true;
            std::memcpy(out->lladdr.addr_bytes, icmp + o + 2, 6);
        }
        o += icmp[o + 1] * 8u;
    }
    if (out->type == type_ns && is_unspecified(out->src)) {
        // A duplicate address probe: only to a solicited-node group, never with our option.
        uint8_t group[16];
        solicited_node_group(out->target, group);
        if (out->has_lladdr || std::memcmp(out->dst, group, 16) != 0) {
            return false;
        }
    }
    if (out->type == type_na && out->solicited && is_multicast(out->dst)) {
        return false;
    }
    return true;
}

rte_mbuf* make_neighbour_advert(rte_mempool* pool, uint16_t port_id, const rte_ether_addr& our_mac,
                                const uint8_t* our_ip, const uint8_t* dst_ip, const rte_ether_addr& dst_mac,
                                bool solicited, uint16_t vlan) {
    const uint8_t* dst = dst_ip != nullptr ? dst_ip : all_nodes;
    const rte_ether_addr mac = dst_ip != nullptr ? dst_mac : multicast_mac(all_nodes);
    const uint32_t flags = (solicited ? flag_solicited : 0) | flag_override;
    return make_nd(pool, port_id, our_mac, mac, vlan, our_ip, dst, type_na, flags, our_ip, opt_target_lladdr);
}

uint32_t write_unsolicited_advert(uint8_t* frame, const rte_ether_addr& our_mac, const uint8_t* our_ip) {
    return write_nd(frame, our_mac, multicast_mac(all_nodes), 0, our_ip, all_nodes, type_na, flag_override, our_ip,
                    opt_target_lladdr);
}

rte_mbuf* make_neighbour_solicit(rte_mempool* pool, uint16_t port_id, const rte_ether_addr& our_mac,
                                 const uint8_t* our_ip, const uint8_t* target, uint16_t vlan) {
    uint8_t group[16];
    solicited_node_group(target, group);
    return make_nd(pool, port_id, our_mac, multicast_mac(group), vlan, our_ip, group, type_ns, 0, target,
                   opt_source_lladdr);
}

void make_icmp6_echo_reply(rte_mbuf* m, const rte_ether_addr& our_mac) {
    auto* eth = rte_pktmbuf_mtod(m, rte_ether_hdr*);
    eth->dst_addr = eth->src_addr;
    eth->src_addr = our_mac;
    auto* ip = rte_pktmbuf_mtod_offset(m, rte_ipv6_hdr*, m->l2_len);
    uint8_t a[16];
    std::memcpy(a, ip->src_addr, 16);
    std::memcpy(ip->src_addr, ip->dst_addr, 16);
    std::memcpy(ip->dst_addr, a, 16);
    ip->hop_limits = 64;
    echo_to_reply(rte_pktmbuf_mtod_offset(m, uint8_t*, m->l2_len + m->l3_len), type_echo_reply);
}

}  // namespace rtprelay::dp
