// libFuzzer target: the first packet stage (dataplane/classify.h) on a frame in an mbuf,
// then SRTP on the UDP payload in place, as the worker does (dataplane/worker.cc forward()),
// and, on a copy, the rewrite into the other IP family (dataplane/rewrite6.h): its output
// must be a well-formed frame whose UDP checksum is right exactly when the input's was.
// IPv4 and IPv6 (our addresses: 198.18.1.1 and 2001:2:1::1 on port 0).
//
// Input: byte 0 is options, the rest the Ethernet frame. Option bit 0 makes the target fix
// the IPv4 header checksum before classify, so the fuzzer gets past that check; without it
// a random header is dropped there.
//
// Bytes around the frame are poisoned for AddressSanitizer: the mbuf's headroom and its
// tailroom for classify (an mbuf is 2 KB whatever the frame, so a read past the frame
// would otherwise go unnoticed); for unprotect everything after the UDP payload; for
// protect, which may use the tailroom like the worker does, what follows the data room.
// SRTP uses native contexts under a fixed key; see run_srtp() for which live how long.

// rte_ipv4/ipv6_udptcp_cksum_verify are "experimental" API in DPDK 22.11: allowed here, or
// the fuzz build warns on every use.
#define ALLOW_EXPERIMENTAL_API

#include <sanitizer/asan_interface.h>

#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_udp.h>

#include <arpa/inet.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

#include "dataplane/classify.h"
#include "dataplane/local_addresses.h"
#include "dataplane/rewrite6.h"
#include "dataplane/route.h"
#include "dataplane/srtp/srtp.h"
#include "tests/fuzz/fuzz_eal.h"

namespace {

namespace dp = rtprelay::dp;
namespace srtp = rtprelay::dp::srtp;

rte_mempool* g_pool = nullptr;
dp::local_addresses g_locals;
std::unique_ptr<srtp::context> g_rtp_in;
std::unique_ptr<srtp::context> g_rtcp_in;

[[noreturn]] void fail(const char* what) {
    std::fprintf(stderr, "fuzz_classify: %s\n", what);
    std::abort();
}

const srtp::master_key& fixed_key() {
    static const srtp::master_key k = [] {
        srtp::master_key m{};
        for (size_t i = 0; i < m.key.size(); ++i) {
            m.key[i] = static_cast<uint8_t>(i);
        }
        for (size_t i = 0; i < m.salt.size(); ++i) {
            m.salt[i] = static_cast<uint8_t>(0x40 + i);
        }
        return m;
    }();
    return k;
}

// Poisons [from, to) if it is not empty.
void poison(const uint8_t* from, const uint8_t* to) {
    if (to > from) {
        ASAN_POISON_MEMORY_REGION(from, static_cast<size_t>(to - from));
    }
}
void unpoison(const uint8_t* from, const uint8_t* to) {
    if (to > from) {
        ASAN_UNPOISON_MEMORY_REGION(from, static_cast<size_t>(to - from));
    }
}

// Rewrites the IPv4 header checksum of the frame if it has a complete IPv4 header.
void fix_ip_checksum(uint8_t* frame, uint32_t len) {
    if (len < sizeof(rte_ether_hdr)) {
        return;
    }
    uint32_t l2 = sizeof(rte_ether_hdr);
    uint16_t type = static_cast<uint16_t>((frame[12] << 8) | frame[13]);
    if (type == RTE_ETHER_TYPE_VLAN && len >= l2 + sizeof(rte_vlan_hdr)) {
        type = static_cast<uint16_t>((frame[16] << 8) | frame[17]);
        l2 += sizeof(rte_vlan_hdr);
    }
    if (type != RTE_ETHER_TYPE_IPV4 || len < l2 + sizeof(rte_ipv4_hdr)) {
        return;
    }
    const uint32_t ihl = (frame[l2] & 0x0f) * 4u;
    if (ihl < sizeof(rte_ipv4_hdr) || l2 + ihl > len) {
        return;
    }
    frame[l2 + 10] = 0;
    frame[l2 + 11] = 0;
    const uint16_t sum = static_cast<uint16_t>(~rte_raw_cksum(frame + l2, ihl));
    std::memcpy(frame + l2 + 10, &sum, 2);  // rte_raw_cksum sums in memory order
}

bool same_bytes(const uint8_t* a, const std::vector<uint8_t>& b) {
    return b.empty() || std::memcmp(a, b.data(), b.size()) == 0;
}

// Whether the UDP checksum of the frame's datagram (IPv4 or IPv6, no extension headers) is
// right; an IPv4 checksum of 0 (none) counts as right.
bool udp_checksum_right(const uint8_t* frame, uint32_t l2, uint32_t l3) {
    const auto* udp = reinterpret_cast<const rte_udp_hdr*>(frame + l2 + l3);
    if ((frame[l2] >> 4) == 6) {
        return rte_ipv6_udptcp_cksum_verify(reinterpret_cast<const rte_ipv6_hdr*>(frame + l2), udp) == 0;
    }
    return udp->dgram_cksum == 0 ||
           rte_ipv4_udptcp_cksum_verify(reinterpret_cast<const rte_ipv4_hdr*>(frame + l2), udp) == 0;
}

// The rewrite into the other family on a copy of the classified frame m (len bytes).
void run_rewrite6(const rte_mbuf* m, uint32_t len) {
    rte_mbuf* c = rte_pktmbuf_alloc(g_pool);
    if (c == nullptr) {
        fail("mbuf pool empty: an mbuf was not freed");
    }
    std::memcpy(rte_pktmbuf_mtod(c, uint8_t*), rte_pktmbuf_mtod(m, const uint8_t*), len);
    c->data_len = static_cast<uint16_t>(len);
    c->pkt_len = len;
    c->l2_len = m->l2_len;
    c->l3_len = m->l3_len;
    const uint8_t* in = rte_pktmbuf_mtod(c, const uint8_t*);
    const bool in6 = (in[c->l2_len] >> 4) == 6;
    const auto* udp_in = reinterpret_cast<const rte_udp_hdr*>(in + c->l2_len + c->l3_len);
    const uint32_t ulen = rte_be_to_cpu_16(udp_in->dgram_len);
    const bool right_before = udp_checksum_right(in, c->l2_len, c->l3_len);
    dp::rewrite_target6 t;
    t.out6 = !in6;
    if (t.out6) {
        inet_pton(AF_INET6, "2001:2:2::1", t.src);
        inet_pton(AF_INET6, "2001:2:b::20", t.dst);
    } else {
        const uint32_t src = inet_addr("198.18.2.1");
        const uint32_t dst = inet_addr("198.18.20.20");
        std::memcpy(t.src, &src, 4);
        std::memcpy(t.dst, &dst, 4);
    }
    t.src_port = htons(40000);
    t.dst_port = htons(5000);
    if (!dp::rewrite_udp6(c, t)) {
        fail("rewrite6 refused a frame with the default headroom");
    }
    const uint8_t* out = rte_pktmbuf_mtod(c, const uint8_t*);
    const uint32_t l3 = t.out6 ? sizeof(rte_ipv6_hdr) : sizeof(rte_ipv4_hdr);
    if (c->l2_len != sizeof(rte_ether_hdr) || c->l3_len != l3 || rte_pktmbuf_data_len(c) < c->l2_len + l3 + ulen) {
        fail("rewrite6 output headers do not fit its frame");
    }
    const auto* udp = reinterpret_cast<const rte_udp_hdr*>(out + c->l2_len + l3);
    if (rte_be_to_cpu_16(udp->dgram_len) != ulen || (t.out6 && udp->dgram_cksum == 0)) {
        fail("rewrite6 changed the UDP length, or left IPv6 without a checksum");
    }
    if (udp_checksum_right(out, c->l2_len, l3) != right_before) {
        fail("rewrite6 made a wrong UDP checksum right, or a right one wrong");
    }
    rte_pktmbuf_free(c);
}

void run_srtp(rte_mbuf* m, uint8_t* payload, uint32_t plen, uint32_t ip_frame_len) {
    uint8_t* const buf_end = static_cast<uint8_t*>(m->buf_addr) + m->buf_len;
    const std::vector<uint8_t> before(payload, payload + plen);

    // Unprotect sees exactly the UDP payload. Receive contexts live across inputs: without
    // the key no packet authenticates, and a failed unprotect changes nothing.
    poison(payload + plen, buf_end);
    uint32_t len = plen;
    const srtp::result r1 = srtp::unprotect_rtp(*g_rtp_in, payload, &len);
    if (r1 != srtp::result::ok && (len != plen || !same_bytes(payload, before))) {
        fail("unprotect_rtp failed but changed the packet");
    }
    const srtp::result r2 = r1 == srtp::result::ok ? r1 : srtp::unprotect_rtcp(*g_rtcp_in, payload, &len);
    if (r2 != srtp::result::ok && (len != plen || !same_bytes(payload, before))) {
        fail("unprotect_rtcp failed but changed the packet");
    }
    unpoison(payload + plen, buf_end);
    if (r1 == srtp::result::ok || r2 == srtp::result::ok) {
        fail("a packet authenticated without the key");
    }

    // A plain leg bridged to an SRTP one: protect in place with the tailroom the worker
    // gives (the frame cut to the IP datagram first, as the worker does). A fresh context
    // per input, since protect records what it sent; only packets that can pass the header
    // check get one (a context costs ~8 CPUID instructions, slow under virtualisation).
    const bool rtcp = dp::looks_like_rtcp(payload, plen);  // as the worker tells them apart
    if (plen < (rtcp ? 8u : 12u) || (payload[0] >> 6) != 2) {
        return;
    }
    if (rte_pktmbuf_data_len(m) > ip_frame_len) {
        rte_pktmbuf_trim(m, static_cast<uint16_t>(rte_pktmbuf_data_len(m) - ip_frame_len));
    }
    const uint32_t room = rte_pktmbuf_tailroom(m);
    auto out = srtp::make_context(srtp::engine::native, srtp::suite::aes_cm_128_hmac_sha1_80, fixed_key(), rtcp);
    constexpr uint32_t guard = 64;
    poison(buf_end, buf_end + guard);
    len = plen;
    const srtp::result r =
        rtcp ? srtp::protect_rtcp(*out, payload, &len, room) : srtp::protect_rtp(*out, payload, &len, room);
    unpoison(buf_end, buf_end + guard);
    if (r == srtp::result::ok && len != plen + out->overhead()) {
        fail("protect returned a length other than payload + overhead");
    }
    if (r != srtp::result::ok && (len != plen || !same_bytes(payload, before))) {
        fail("protect failed but changed the packet");
    }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv) {
    rtprelay::fuzz::start_eal(*argc > 0 ? (*argv)[0] : nullptr);
    g_pool = rte_pktmbuf_pool_create("fuzz_mbufs", 63, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
    if (g_pool == nullptr) {
        fail("cannot create the mbuf pool");
    }
    g_locals.add(inet_addr("198.18.1.1"), 0, 0);
    dp::local_address v6{0, 0, 0};
    v6.v6 = true;
    inet_pton(AF_INET6, "2001:2:1::1", v6.addr6);
    g_locals.add(v6);
    g_rtp_in = srtp::make_context(srtp::engine::native, srtp::suite::aes_cm_128_hmac_sha1_80, fixed_key(), false);
    g_rtcp_in = srtp::make_context(srtp::engine::native, srtp::suite::aes_cm_128_hmac_sha1_80, fixed_key(), true);
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size == 0) {
        return 0;
    }
    const bool fix_checksum = (data[0] & 0x01) != 0;
    rte_mbuf* m = rte_pktmbuf_alloc(g_pool);
    if (m == nullptr) {
        fail("mbuf pool empty: an mbuf was not freed");
    }
    const uint32_t len = static_cast<uint32_t>(std::min<size_t>(size - 1, rte_pktmbuf_tailroom(m)));
    uint8_t* frame = rte_pktmbuf_mtod(m, uint8_t*);
    std::memcpy(frame, data + 1, len);
    if (fix_checksum) {
        fix_ip_checksum(frame, len);
    }
    m->data_len = static_cast<uint16_t>(len);
    m->pkt_len = len;
    m->port = 0;

    uint8_t* const buf_start = static_cast<uint8_t*>(m->buf_addr);
    uint8_t* const buf_end = buf_start + m->buf_len;
    poison(buf_start, frame);
    poison(frame + len, buf_end);
    dp::flow_key key;
    key.v6_slot = 0xdead;
    const dp::classified c = dp::classify(m, g_locals, &key);
    unpoison(buf_start, frame);
    unpoison(frame + len, buf_end);

    if ((c.cls == dp::packet_class::drop) != (c.why != dp::drop_reason::count)) {
        fail("a drop without a reason, or a reason without a drop");
    }
    if (c.cls == dp::packet_class::udp) {
        const uint32_t l2 = m->l2_len;
        const uint32_t l3 = m->l3_len;
        const bool v6 = (frame[l2] >> 4) == 6;
        // IPv4: the destination itself, no slot; IPv6: the slot of one of our addresses.
        const bool key_ok = v6 ? key.local_addr == 0 && key.v6_slot != 0 && key.v6_slot <= g_locals.n &&
                                     g_locals.items[key.v6_slot - 1].v6 && l3 == sizeof(rte_ipv6_hdr)
                               : key.v6_slot == 0;
        if (!key_ok || l2 + l3 + sizeof(rte_udp_hdr) > len) {
            fail("udp verdict with a bad key or headers past the frame");
        }
        const auto* udp = reinterpret_cast<const rte_udp_hdr*>(frame + l2 + l3);
        const uint32_t ulen = rte_be_to_cpu_16(udp->dgram_len);
        const uint32_t ip_frame_len =
            v6 ? l2 + l3 + rte_be_to_cpu_16(reinterpret_cast<const rte_ipv6_hdr*>(frame + l2)->payload_len)
               : l2 + rte_be_to_cpu_16(reinterpret_cast<const rte_ipv4_hdr*>(frame + l2)->total_length);
        if (v6 && udp->dgram_cksum == 0) {
            fail("IPv6 UDP without a checksum classified as udp");
        }
        if (ulen < sizeof(rte_udp_hdr) || l2 + l3 + ulen > len || ip_frame_len > len) {
            fail("udp verdict with lengths past the frame");
        }
        if (ulen == ip_frame_len - l2 - l3) {
            run_rewrite6(m, len);  // checksums are verified over the IP length: UDP must fill it
        }
        run_srtp(m, frame + l2 + l3 + sizeof(rte_udp_hdr), ulen - static_cast<uint32_t>(sizeof(rte_udp_hdr)),
                 ip_frame_len);
    }
    rte_pktmbuf_free(m);
    return 0;
}
