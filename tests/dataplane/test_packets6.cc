#include "tests/dataplane/test_packets6.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>

#include <cstring>

namespace rtprelay::dp::test {

namespace {

uint16_t get16(const bytes& f, size_t at) { return static_cast<uint16_t>(f[at] << 8 | f[at + 1]); }

uint16_t fold(uint32_t sum) {
    while (sum > 0xffff) {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    return static_cast<uint16_t>(sum);
}

// The checksum of upper-layer bytes `l4` (checksum field zeroed by the caller).
uint16_t l4_checksum(const addr6& src, const addr6& dst, const bytes& l4, uint8_t next_header) {
    uint32_t sum = pseudo_sum6(src, dst, static_cast<uint32_t>(l4.size()), next_header);
    sum += ones_sum(l4.data(), l4.size());
    return static_cast<uint16_t>(~fold(sum));
}

bytes ipv6_packet(const frame_spec6& s, uint8_t next_header, const bytes& l4) {
    bytes f = l2_header(s.dst_mac, s.src_mac, s.vlan, RTE_ETHER_TYPE_IPV6);
    const size_t ip = f.size();
    f.resize(ip + 40, 0);
    const uint32_t vtc = (6u << 28) | (static_cast<uint32_t>(s.traffic_class) << 20) | (s.flow_label & 0xfffff);
    f[ip] = static_cast<uint8_t>(vtc >> 24);
    f[ip + 1] = static_cast<uint8_t>(vtc >> 16);
    f[ip + 2] = static_cast<uint8_t>(vtc >> 8);
    f[ip + 3] = static_cast<uint8_t>(vtc);
    bytes ext = s.ext;
    if (!ext.empty()) {
        ext[0] = next_header;
    }
    put16(f, ip + 4, static_cast<uint16_t>(ext.size() + l4.size()));
    f[ip + 6] = ext.empty() ? next_header : s.ext_type;
    f[ip + 7] = s.hop_limit;
    std::memcpy(&f[ip + 8], s.src_ip.data(), 16);
    std::memcpy(&f[ip + 24], s.dst_ip.data(), 16);
    f.insert(f.end(), ext.begin(), ext.end());
    f.insert(f.end(), l4.begin(), l4.end());
    return f;
}

bytes nd_message(uint8_t type, uint32_t flags, const addr6& target, uint8_t option, const rte_ether_addr* lladdr) {
    bytes m(24, 0);
    m[0] = type;
    m[4] = static_cast<uint8_t>(flags >> 24);
    std::memcpy(&m[8], target.data(), 16);
    if (lladdr != nullptr) {
        m.push_back(option);
        m.push_back(1);
        m.insert(m.end(), lladdr->addr_bytes, lladdr->addr_bytes + 6);
    }
    return m;
}

}  // namespace

addr6 ip6(const char* text) {
    addr6 a{};
    EXPECT_EQ(inet_pton(AF_INET6, text, a.data()), 1) << text;
    return a;
}

uint32_t pseudo_sum6(const addr6& src, const addr6& dst, uint32_t length, uint8_t next_header) {
    uint32_t sum = ones_sum(src.data(), 16);
    sum += ones_sum(dst.data(), 16);
    sum += length >> 16;
    sum += length & 0xffff;
    sum += next_header;
    return fold(sum);
}

bytes udp6_frame(const frame_spec6& s) {
    bytes udp = udp_datagram(s.src_port, s.dst_port, s.payload);
    if (s.udp_checksum) {
        const uint16_t c = l4_checksum(s.src_ip, s.dst_ip, udp, IPPROTO_UDP);
        put16(udp, 6, c == 0 ? 0xffff : c);
    }
    return ipv6_packet(s, IPPROTO_UDP, udp);
}

bytes icmp6_frame(const frame_spec6& s, uint8_t type, uint8_t code, const bytes& body) {
    bytes icmp(4, 0);
    icmp[0] = type;
    icmp[1] = code;
    icmp.insert(icmp.end(), body.begin(), body.end());
    put16(icmp, 2, l4_checksum(s.src_ip, s.dst_ip, icmp, IPPROTO_ICMPV6));
    return ipv6_packet(s, IPPROTO_ICMPV6, icmp);
}

bytes ip6_frame(const frame_spec6& s, uint8_t next_header) { return ipv6_packet(s, next_header, s.payload); }

bytes ns_frame(const frame_spec6& s, const addr6& target, bool with_option) {
    bytes m = nd_message(135, 0, target, 1, with_option ? &s.src_mac : nullptr);
    put16(m, 2, l4_checksum(s.src_ip, s.dst_ip, m, IPPROTO_ICMPV6));
    return ipv6_packet(s, IPPROTO_ICMPV6, m);
}

bytes na_frame(const frame_spec6& s, const addr6& target, const rte_ether_addr& lladdr, bool solicited) {
    bytes m = nd_message(136, (solicited ? 0x40000000u : 0) | 0x20000000u, target, 2, &lladdr);
    put16(m, 2, l4_checksum(s.src_ip, s.dst_ip, m, IPPROTO_ICMPV6));
    return ipv6_packet(s, IPPROTO_ICMPV6, m);
}

addr6 solicited_node(const addr6& a) {
    addr6 g = ip6("ff02::1:ff00:0");
    std::memcpy(&g[13], &a[13], 3);
    return g;
}

rte_ether_addr group_mac(const addr6& g) { return rte_ether_addr{{0x33, 0x33, g[12], g[13], g[14], g[15]}}; }

void fix_l4_checksum6(bytes& f, size_t l2) {
    addr6 src;
    addr6 dst;
    std::memcpy(src.data(), &f[l2 + 8], 16);
    std::memcpy(dst.data(), &f[l2 + 24], 16);
    const uint8_t nh = f[l2 + 6];
    const size_t l4 = l2 + 40;
    bytes body(f.begin() + static_cast<ptrdiff_t>(l4), f.end());
    const size_t at = nh == IPPROTO_UDP ? 6 : 2;
    put16(body, at, 0);
    uint16_t c = l4_checksum(src, dst, body, nh);
    if (nh == IPPROTO_UDP && c == 0) {
        c = 0xffff;
    }
    put16(f, l4 + at, c);
}

std::optional<udp6_view> parse_udp6(const bytes& f) {
    udp6_view v{};
    if (f.size() < 14) {
        return std::nullopt;
    }
    std::memcpy(v.dst_mac.addr_bytes, &f[0], 6);
    std::memcpy(v.src_mac.addr_bytes, &f[6], 6);
    size_t l2 = 14;
    uint16_t type = get16(f, 12);
    if (type == RTE_ETHER_TYPE_VLAN) {
        if (f.size() < 18) {
            return std::nullopt;
        }
        v.vlan = get16(f, 14) & 0x0fff;
        type = get16(f, 16);
        l2 = 18;
    }
    if (type != RTE_ETHER_TYPE_IPV6 || f.size() < l2 + 48 || (f[l2] >> 4) != 6 || f[l2 + 6] != IPPROTO_UDP) {
        return std::nullopt;
    }
    const uint32_t vtc = static_cast<uint32_t>(f[l2]) << 24 | static_cast<uint32_t>(f[l2 + 1]) << 16 |
                         static_cast<uint32_t>(f[l2 + 2]) << 8 | f[l2 + 3];
    v.traffic_class = static_cast<uint8_t>(vtc >> 20);
    v.flow_label = vtc & 0xfffff;
    v.payload_len = get16(f, l2 + 4);
    v.hop_limit = f[l2 + 7];
    std::memcpy(v.src_ip.data(), &f[l2 + 8], 16);
    std::memcpy(v.dst_ip.data(), &f[l2 + 24], 16);
    const size_t u = l2 + 40;
    if (f.size() < u + v.payload_len || v.payload_len < 8) {
        return std::nullopt;
    }
    v.src_port = get16(f, u);
    v.dst_port = get16(f, u + 2);
    v.udp_len = get16(f, u + 4);
    v.udp_checksum = get16(f, u + 6);
    if (v.udp_len < 8 || v.udp_len > v.payload_len) {
        return std::nullopt;
    }
    v.payload.assign(f.begin() + static_cast<ptrdiff_t>(u + 8), f.begin() + static_cast<ptrdiff_t>(u + v.udp_len));
    // Right when the sum over pseudo-header and datagram, checksum included, is 0xffff.
    const uint32_t sum = pseudo_sum6(v.src_ip, v.dst_ip, v.udp_len, IPPROTO_UDP) + ones_sum(&f[u], v.udp_len);
    v.udp_checksum_ok = v.udp_checksum != 0 && fold(sum) == 0xffff;
    return v;
}

}  // namespace rtprelay::dp::test
