#pragma once
// One's-complement arithmetic for the IP and UDP checksums the rewrite stages keep exact
// (RFC 1071 sums, RFC 1624 incremental updates). Values are in the byte order they have in
// the packet: one's-complement sums do not care, as long as both sides of an update agree.

#include <netinet/in.h>

#include <rte_byteorder.h>
#include <rte_udp.h>

#include <cstdint>
#include <cstring>

namespace rtprelay::dp::csum {

// One's-complement sum of n bytes in native byte order (RFC 1071), 4 bytes per add into a
// 64-bit accumulator with two chains: ~10 ns for a 180-byte SRTP payload, where DPDK's
// 16-bit loop (rte_raw_cksum) took ~35 ns in the pipeline profile.
inline uint64_t sum_bytes(const uint8_t* p, uint32_t n) {
    uint64_t a = 0;
    uint64_t b = 0;
    while (n >= 16) {
        uint32_t w[4];
        std::memcpy(w, p, sizeof(w));
        a += static_cast<uint64_t>(w[0]) + w[1];
        b += static_cast<uint64_t>(w[2]) + w[3];
        p += 16;
        n -= 16;
    }
    while (n >= 4) {
        uint32_t w;
        std::memcpy(&w, p, sizeof(w));
        a += w;
        p += 4;
        n -= 4;
    }
    if (n >= 2) {
        uint16_t w;
        std::memcpy(&w, p, sizeof(w));
        b += w;
        p += 2;
        n -= 2;
    }
    if (n != 0) {
        b += *p;  // little-endian: the odd byte is the low half of its 16-bit word
    }
    return a + b;
}

inline uint16_t fold64(uint64_t s) {
    s = (s & 0xffffffff) + (s >> 32);
    s = (s & 0xffffffff) + (s >> 32);
    s = (s & 0xffff) + (s >> 16);
    s = (s & 0xffff) + (s >> 16);
    return static_cast<uint16_t>(s);
}

// ~x of a 32-bit field's two 16-bit halves, for RFC 1624 updates: adding ~old + new to the
// complemented checksum replaces old with new.
inline uint64_t neg32(uint32_t v) { return static_cast<uint64_t>(~v & 0xffff) + ((~v >> 16) & 0xffff); }
inline uint64_t pos32(uint32_t v) { return static_cast<uint64_t>(v & 0xffff) + (v >> 16); }

// Checksum `check` after one 16-bit (32-bit) field changed from `from` to `to`: RFC 1624
// eqn. 3, HC' = ~(~HC + ~m + m'), which never turns a right checksum into 0xffff's twin.
inline uint16_t update16(uint16_t check, uint16_t from, uint16_t to) {
    const uint64_t s = static_cast<uint16_t>(~check) + static_cast<uint64_t>(static_cast<uint16_t>(~from)) + to;
    return static_cast<uint16_t>(~fold64(s));
}
inline uint16_t update32(uint16_t check, uint32_t from, uint32_t to) {
    return static_cast<uint16_t>(~fold64(static_cast<uint16_t>(~check) + neg32(from) + pos32(to)));
}

// The same for a 16-byte IPv6 address (as 8 16-bit words): ~10 adds, no loop.
inline uint64_t pos128(const uint8_t* a) {
    uint32_t w[4];
    std::memcpy(w, a, sizeof(w));
    return pos32(w[0]) + pos32(w[1]) + pos32(w[2]) + pos32(w[3]);
}
inline uint64_t neg128(const uint8_t* a) {
    uint32_t w[4];
    std::memcpy(w, a, sizeof(w));
    return neg32(w[0]) + neg32(w[1]) + neg32(w[2]) + neg32(w[3]);
}

// Stage 6's UDP step for either family (rewrite_udp, rewrite_udp6): the datagram at `udp`
// gets new ports (network order) and its checksum follows them and the pseudo-header's
// addresses (old_addrs: the old ones' neg32/neg128 sum; new_addrs: the new ones'
// pos32/pos128 sum; the length and protocol words sum alike in both families). Summed afresh
// over the datagram when `fresh` (SRTP changed the payload, or IPv6 needs a checksum where
// IPv4 had none), else updated (RFC 1624), a zero one (IPv4: none) left zero; a computed 0
// is sent as 0xffff (RFC 768).
inline void readdress_udp(rte_udp_hdr* udp, uint64_t old_addrs, uint64_t new_addrs, uint16_t src_port,
                          uint16_t dst_port, bool fresh) {
    if (fresh) {
        udp->src_port = src_port;
        udp->dst_port = dst_port;
        udp->dgram_cksum = 0;
        const uint64_t s = new_addrs + rte_cpu_to_be_16(IPPROTO_UDP) + udp->dgram_len +
                           sum_bytes(reinterpret_cast<const uint8_t*>(udp), rte_be_to_cpu_16(udp->dgram_len));
        const uint16_t c = static_cast<uint16_t>(~fold64(s));
        udp->dgram_cksum = c == 0 ? 0xffff : c;
    } else if (udp->dgram_cksum != 0) {
        const uint64_t s = static_cast<uint16_t>(~udp->dgram_cksum) + old_addrs + new_addrs +
                           static_cast<uint16_t>(~udp->src_port) + static_cast<uint16_t>(~udp->dst_port) + src_port +
                           dst_port;
        const uint16_t c = static_cast<uint16_t>(~fold64(s));
        udp->dgram_cksum = c == 0 ? 0xffff : c;
    }
    udp->src_port = src_port;
    udp->dst_port = dst_port;
}

}  // namespace rtprelay::dp::csum
