#pragma once
// Frames for data plane tests, built and checked byte by byte without the code under test:
// builders return plain byte vectors (easy to corrupt one field of), to_mbuf() copies them
// into an mbuf as a NIC would deliver them, and parse_udp() reads a transmitted frame back
// with its checksums recomputed from scratch by DPDK's rte_ipv4_cksum/rte_ipv4_udptcp_cksum.
// Addresses are in network order (as on the wire and in flow keys), ports in host order.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <rte_udp.h>

struct rte_mempool;

namespace rtprelay::dp::test {

using bytes = std::vector<uint8_t>;

// a.b.c.d in network order.
uint32_t ip4(uint8_t a, uint8_t b, uint8_t c, uint8_t d);
rte_ether_addr mac(uint8_t last);

// One mbuf pool per test binary, created on first use (EAL must be up).
rte_mempool* packet_pool();

struct frame_spec {
    rte_ether_addr src_mac = mac(0x11);
    rte_ether_addr dst_mac = mac(0x22);
    uint16_t vlan = 0;      // 0 = untagged
    uint32_t src_ip = 0;    // network order
    uint32_t dst_ip = 0;    // network order
    uint16_t src_port = 0;  // host order
    uint16_t dst_port = 0;  // host order
    uint8_t ttl = 61;
    uint16_t ip_id = 0x1234;
    uint8_t ip_options = 0;    // 32-bit words of IP options (NOPs), 0..10
    bool udp_checksum = true;  // false: UDP checksum 0 (none)
    bytes payload;
};

// Writes `host` at byte `at` of `f` in network order.
void put16(bytes& f, size_t at, uint16_t host);
// Ethernet [+ 802.1Q tag `vlan` when not 0] header ending in `ether_type`.
bytes l2_header(const rte_ether_addr& dst, const rte_ether_addr& src, uint16_t vlan, uint16_t ether_type);

// Ethernet [+ 802.1Q] + IPv4 + UDP, both checksums valid.
bytes udp_frame(const frame_spec& s);
// A UDP header (checksum 0, for the caller to fill) and `payload`: the part both families share.
bytes udp_datagram(uint16_t src_port, uint16_t dst_port, const bytes& payload);
// Ethernet [+ 802.1Q] + IPv4 + ICMP of `type` (8 = echo request) with id/seq and payload.
bytes icmp_frame(const frame_spec& s, uint8_t type, uint16_t id, uint16_t seq);
// Ethernet [+ 802.1Q] + IPv4 with an arbitrary protocol and payload as L4.
bytes ip_frame(const frame_spec& s, uint8_t proto);
// Ethernet [+ 802.1Q] + ARP request "who has target_ip tell sender".
bytes arp_request_frame(const rte_ether_addr& sender_mac, uint32_t sender_ip, uint32_t target_ip, uint16_t vlan);

// Offset of the IPv4 header in a frame built above.
inline size_t l2_len(const frame_spec& s) { return s.vlan != 0 ? 18 : 14; }
// Recomputes the IPv4 header checksum of `f` in place after a test corrupted a field.
void fix_ip_checksum(bytes& f, size_t l2);

// Copies `f` into a fresh single-segment mbuf from packet_pool(), received on `port_id`.
rte_mbuf* to_mbuf(const bytes& f, uint16_t port_id);
bytes from_mbuf(const rte_mbuf* m);

// An mbuf in plain memory, no mempool and no EAL: for stages that only read and edit the
// packet in place (route_test.cc). Holds frame f as a NIC delivers it, received on
// `port_id`, with RTE_PKTMBUF_HEADROOM before it and the rest of a 2 KB buffer after it.
struct plain_mbuf {
    plain_mbuf(const bytes& f, uint16_t port_id);
    plain_mbuf(const plain_mbuf&) = delete;
    plain_mbuf& operator=(const plain_mbuf&) = delete;
    rte_mbuf* get() { return reinterpret_cast<rte_mbuf*>(header); }

    // Raw storage: rte_mbuf's zero-length marker arrays make it an invalid member in ISO C++.
    alignas(64) uint8_t header[sizeof(rte_mbuf)];
    alignas(64) uint8_t buf[2048];
};

// A transmitted UDP frame taken apart; nullopt if it is not Ethernet/IPv4/UDP.
struct udp_view {
    rte_ether_addr dst_mac;
    rte_ether_addr src_mac;
    uint16_t vlan = 0;  // 0 = untagged
    rte_ipv4_hdr ip;
    rte_udp_hdr udp;
    bytes payload;
    bool ip_checksum_ok = false;   // matches rte_ipv4_cksum of the header
    bool udp_checksum_ok = false;  // matches rte_ipv4_udptcp_cksum (or is 0 = none)
    uint32_t src_ip() const { return ip.src_addr; }
    uint32_t dst_ip() const { return ip.dst_addr; }
    uint16_t src_port() const;
    uint16_t dst_port() const;
};
std::optional<udp_view> parse_udp(const bytes& f);

// One's-complement sum over `len` bytes folded to 16 bits, independent of DPDK.
uint16_t ones_sum(const uint8_t* p, size_t len);

// A net_ring port for worker tests: frames enqueued on `rx` are what the port receives,
// what the worker sends lands on `tx`.
struct ring_port {
    rte_ring* rx = nullptr;
    rte_ring* tx = nullptr;
    uint16_t id = 0;
    rte_ether_addr mac{};
};

// Frees every mbuf queued on `r`.
void free_all(rte_ring* r);

// Creates rings NAME_rx / NAME_tx and a net_ring port NAME on them, set up with one queue and
// packet_pool(); false if any step fails (what is made so far stays in `p` for close).
bool open_ring_port(const std::string& name, ring_port& p);

// Stops the port and frees its queued mbufs and rings; a port never opened is left alone.
void close_ring_port(ring_port& p);

}  // namespace rtprelay::dp::test
