#include "tests/dataplane/test_packets.h"

#include <gtest/gtest.h>
#include <netinet/in.h>

#include <rte_byteorder.h>
#include <rte_eth_ring.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include <cstring>
#include <stdexcept>

#include "dataplane/port_setup.h"

namespace rtprelay::dp::test {

void put16(bytes& f, size_t at, uint16_t host) {
    f[at] = static_cast<uint8_t>(host >> 8);
    f[at + 1] = static_cast<uint8_t>(host);
}

bytes l2_header(const rte_ether_addr& dst, const rte_ether_addr& src, uint16_t vlan, uint16_t ether_type) {
    bytes f;
    f.insert(f.end(), dst.addr_bytes, dst.addr_bytes + 6);
    f.insert(f.end(), src.addr_bytes, src.addr_bytes + 6);
    if (vlan != 0) {
        f.resize(f.size() + 4);
        put16(f, 12, RTE_ETHER_TYPE_VLAN);
        put16(f, 14, vlan);
    }
    f.resize(f.size() + 2);
    put16(f, f.size() - 2, ether_type);
    return f;
}

namespace {

void put32_raw(bytes& f, size_t at, uint32_t be) { std::memcpy(&f[at], &be, 4); }

// Appends an IPv4 header (options are NOPs) and `l4`; returns the frame.
bytes ipv4_packet(const frame_spec& s, uint8_t proto, const bytes& l4) {
    bytes f = l2_header(s.dst_mac, s.src_mac, s.vlan, RTE_ETHER_TYPE_IPV4);
    const size_t ip = f.size();
    const size_t ihl = 20 + 4u * s.ip_options;
    f.resize(ip + ihl, 0x01);  // NOP options
    f[ip] = static_cast<uint8_t>(0x40 | (ihl / 4));
    f[ip + 1] = 0;  // TOS
    put16(f, ip + 2, static_cast<uint16_t>(ihl + l4.size()));
    put16(f, ip + 4, s.ip_id);
    put16(f, ip + 6, 0x4000);  // DF, offset 0
    f[ip + 8] = s.ttl;
    f[ip + 9] = proto;
    put16(f, ip + 10, 0);
    put32_raw(f, ip + 12, s.src_ip);
    put32_raw(f, ip + 16, s.dst_ip);
    f.insert(f.end(), l4.begin(), l4.end());
    fix_ip_checksum(f, ip);
    return f;
}

}  // namespace

uint16_t ones_sum(const uint8_t* p, size_t len) {
    // Big-endian words; the result is compared with big-endian fields below.
    uint32_t sum = 0;
    for (size_t i = 0; i + 1 < len; i += 2) {
        sum += static_cast<uint32_t>(p[i] << 8 | p[i + 1]);
    }
    if (len % 2 != 0) {
        sum += static_cast<uint32_t>(p[len - 1] << 8);
    }
    while (sum > 0xffff) {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    return static_cast<uint16_t>(sum);
}

uint32_t ip4(uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
    return rte_cpu_to_be_32(static_cast<uint32_t>(a) << 24 | static_cast<uint32_t>(b) << 16 |
                            static_cast<uint32_t>(c) << 8 | d);
}

rte_ether_addr mac(uint8_t last) { return rte_ether_addr{{0x02, 0x00, 0x5e, 0x10, 0x00, last}}; }

rte_mempool* packet_pool() {
    static rte_mempool* pool = [] {
        rte_mempool* p = rte_pktmbuf_pool_create("ut_mbufs", 4095, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, 0);
        if (p == nullptr) {
            throw std::runtime_error("test mbuf pool: rte_pktmbuf_pool_create failed");
        }
        return p;
    }();
    return pool;
}

void fix_ip_checksum(bytes& f, size_t l2) {
    const size_t ihl = (f[l2] & 0x0f) * 4u;
    put16(f, l2 + 10, 0);
    put16(f, l2 + 10, static_cast<uint16_t>(~ones_sum(&f[l2], ihl)));
}

bytes udp_datagram(uint16_t src_port, uint16_t dst_port, const bytes& payload) {
    bytes udp(8);
    put16(udp, 0, src_port);
    put16(udp, 2, dst_port);
    put16(udp, 4, static_cast<uint16_t>(8 + payload.size()));
    put16(udp, 6, 0);
    udp.insert(udp.end(), payload.begin(), payload.end());
    return udp;
}

bytes udp_frame(const frame_spec& s) {
    bytes udp = udp_datagram(s.src_port, s.dst_port, s.payload);
    if (s.udp_checksum) {
        // Pseudo-header: source, destination, zero + protocol, UDP length.
        bytes ph(12);
        put32_raw(ph, 0, s.src_ip);
        put32_raw(ph, 4, s.dst_ip);
        ph[9] = IPPROTO_UDP;
        put16(ph, 10, static_cast<uint16_t>(udp.size()));
        ph.insert(ph.end(), udp.begin(), udp.end());
        uint16_t c = static_cast<uint16_t>(~ones_sum(ph.data(), ph.size()));
        put16(udp, 6, c == 0 ? 0xffff : c);
    }
    return ipv4_packet(s, IPPROTO_UDP, udp);
}

bytes icmp_frame(const frame_spec& s, uint8_t type, uint16_t id, uint16_t seq) {
    bytes icmp(8);
    icmp[0] = type;
    icmp[1] = 0;
    put16(icmp, 4, id);
    put16(icmp, 6, seq);
    icmp.insert(icmp.end(), s.payload.begin(), s.payload.end());
    put16(icmp, 2, static_cast<uint16_t>(~ones_sum(icmp.data(), icmp.size())));
    return ipv4_packet(s, IPPROTO_ICMP, icmp);
}

bytes ip_frame(const frame_spec& s, uint8_t proto) { return ipv4_packet(s, proto, s.payload); }

bytes arp_request_frame(const rte_ether_addr& sender_mac, uint32_t sender_ip, uint32_t target_ip, uint16_t vlan) {
    const rte_ether_addr broadcast{{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}};
    bytes f = l2_header(broadcast, sender_mac, vlan, RTE_ETHER_TYPE_ARP);
    const size_t a = f.size();
    f.resize(a + 28, 0);
    put16(f, a, 1);  // Ethernet
    put16(f, a + 2, RTE_ETHER_TYPE_IPV4);
    f[a + 4] = 6;
    f[a + 5] = 4;
    put16(f, a + 6, 1);  // request
    std::memcpy(&f[a + 8], sender_mac.addr_bytes, 6);
    put32_raw(f, a + 14, sender_ip);
    put32_raw(f, a + 24, target_ip);
    return f;
}

rte_mbuf* to_mbuf(const bytes& f, uint16_t port_id) {
    rte_mbuf* m = rte_pktmbuf_alloc(packet_pool());
    if (m == nullptr) {
        ADD_FAILURE() << "test mbuf pool is empty";
        return nullptr;
    }
    char* p = rte_pktmbuf_append(m, static_cast<uint16_t>(f.size()));
    if (p == nullptr) {
        ADD_FAILURE() << "frame of " << f.size() << " bytes does not fit an mbuf";
        rte_pktmbuf_free(m);
        return nullptr;
    }
    std::memcpy(p, f.data(), f.size());
    m->port = port_id;
    return m;
}

plain_mbuf::plain_mbuf(const bytes& f, uint16_t port_id) : header{}, buf{} {
    if (f.size() > sizeof(buf) - RTE_PKTMBUF_HEADROOM) {
        throw std::invalid_argument("plain_mbuf: frame too large");
    }
    rte_mbuf* m = get();
    m->buf_addr = buf;
    m->buf_len = sizeof(buf);
    m->data_off = RTE_PKTMBUF_HEADROOM;
    m->nb_segs = 1;
    m->port = port_id;
    m->next = nullptr;
    std::memcpy(buf + RTE_PKTMBUF_HEADROOM, f.data(), f.size());
    m->data_len = static_cast<uint16_t>(f.size());
    m->pkt_len = static_cast<uint32_t>(f.size());
}

bytes from_mbuf(const rte_mbuf* m) {
    EXPECT_EQ(m->nb_segs, 1) << "tests expect single-segment frames";
    const auto* p = rte_pktmbuf_mtod(m, const uint8_t*);
    return bytes(p, p + rte_pktmbuf_data_len(m));
}

uint16_t udp_view::src_port() const { return rte_be_to_cpu_16(udp.src_port); }
uint16_t udp_view::dst_port() const { return rte_be_to_cpu_16(udp.dst_port); }

std::optional<udp_view> parse_udp(const bytes& f) {
    udp_view v{};
    if (f.size() < 14) {
        return std::nullopt;
    }
    std::memcpy(v.dst_mac.addr_bytes, &f[0], 6);
    std::memcpy(v.src_mac.addr_bytes, &f[6], 6);
    size_t l2 = 14;
    uint16_t type = static_cast<uint16_t>(f[12] << 8 | f[13]);
    if (type == RTE_ETHER_TYPE_VLAN) {
        if (f.size() < 18) {
            return std::nullopt;
        }
        v.vlan = static_cast<uint16_t>((f[14] << 8 | f[15]) & 0x0fff);
        type = static_cast<uint16_t>(f[16] << 8 | f[17]);
        l2 = 18;
    }
    if (type != RTE_ETHER_TYPE_IPV4 || f.size() < l2 + 20) {
        return std::nullopt;
    }
    const size_t ihl = (f[l2] & 0x0f) * 4u;
    const size_t total = static_cast<size_t>(f[l2 + 2] << 8 | f[l2 + 3]);
    if (f[l2 + 9] != IPPROTO_UDP || ihl < 20 || total < ihl + 8 || f.size() < l2 + total) {
        return std::nullopt;
    }
    std::memcpy(&v.ip, &f[l2], sizeof v.ip);
    std::memcpy(&v.udp, &f[l2 + ihl], sizeof v.udp);
    v.payload.assign(f.begin() + static_cast<ptrdiff_t>(l2 + ihl + 8), f.begin() + static_cast<ptrdiff_t>(l2 + total));

    // Recompute both checksums from scratch on a copy with the fields zeroed.
    bytes copy(f.begin() + static_cast<ptrdiff_t>(l2), f.begin() + static_cast<ptrdiff_t>(l2 + total));
    auto* ip = reinterpret_cast<rte_ipv4_hdr*>(copy.data());
    auto* udp = reinterpret_cast<rte_udp_hdr*>(copy.data() + ihl);
    ip->hdr_checksum = 0;
    v.ip_checksum_ok = rte_ipv4_cksum(ip) == v.ip.hdr_checksum && ones_sum(&f[l2], ihl) == 0xffff;
    if (v.udp.dgram_cksum == 0) {
        v.udp_checksum_ok = true;
    } else {
        udp->dgram_cksum = 0;
        v.udp_checksum_ok = rte_ipv4_udptcp_cksum(ip, udp) == v.udp.dgram_cksum;
    }
    return v;
}

void free_all(rte_ring* r) {
    void* objs[64];
    unsigned n = 0;
    while ((n = rte_ring_dequeue_burst(r, objs, 64, nullptr)) != 0) {
        rte_pktmbuf_free_bulk(reinterpret_cast<rte_mbuf**>(objs), n);
    }
}

bool open_ring_port(const std::string& name, ring_port& p) {
    p.rx = rte_ring_create((name + "_rx").c_str(), 1024, 0, RING_F_SP_ENQ | RING_F_SC_DEQ);
    p.tx = rte_ring_create((name + "_tx").c_str(), 1024, 0, RING_F_SP_ENQ | RING_F_SC_DEQ);
    if (p.rx == nullptr || p.tx == nullptr) {
        return false;
    }
    const int id = rte_eth_from_rings(name.c_str(), &p.rx, 1, &p.tx, 1, 0);
    if (id < 0) {
        return false;
    }
    p.id = static_cast<uint16_t>(id);
    port_params pp;
    pp.n_queues = 1;
    setup_port(p.id, pp, packet_pool());
    return true;
}

void close_ring_port(ring_port& p) {
    if (p.rx == nullptr) {
        return;
    }
    stop_port(p.id);
    free_all(p.rx);
    free_all(p.tx);
    rte_ring_free(p.rx);
    rte_ring_free(p.tx);
    p = ring_port{};
}

}  // namespace rtprelay::dp::test
