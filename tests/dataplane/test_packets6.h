#pragma once
// IPv6 frames for data plane tests, as test_packets.h is for IPv4: built and checked byte by
// byte without the code under test (checksums with test::ones_sum over the pseudo-header of
// RFC 8200 section 8.1, written out here). Addresses are 16 bytes in network order, ports in
// host order.

#include <array>
#include <cstdint>
#include <optional>

#include <rte_ether.h>

#include "tests/dataplane/test_packets.h"

namespace rtprelay::dp::test {

using addr6 = std::array<uint8_t, 16>;

// "2001:2::1" -> bytes (the test fails on a typo).
addr6 ip6(const char* text);

struct frame_spec6 {
    rte_ether_addr src_mac = mac(0x11);
    rte_ether_addr dst_mac = mac(0x22);
    uint16_t vlan = 0;  // 0 = untagged
    addr6 src_ip{};
    addr6 dst_ip{};
    uint16_t src_port = 0;  // host order
    uint16_t dst_port = 0;
    uint8_t hop_limit = 61;
    uint8_t traffic_class = 0;
    uint32_t flow_label = 0;
    bool udp_checksum = true;  // false: UDP checksum 0 (forbidden over IPv6)
    // Bytes of one extension header put between the IPv6 header and the L4 one: its type
    // (the IPv6 header's next header) and its body (whose first byte is set to the L4
    // protocol). Empty = none.
    uint8_t ext_type = 0;
    bytes ext;
    bytes payload;
};

// Ethernet [+ 802.1Q] + IPv6 [+ extension] + UDP, checksum valid (unless udp_checksum off).
bytes udp6_frame(const frame_spec6& s);
// Ethernet [+ 802.1Q] + IPv6 + ICMPv6 of `type`/`code` with `body` after the 4-byte header,
// checksum valid.
bytes icmp6_frame(const frame_spec6& s, uint8_t type, uint8_t code, const bytes& body);
// Ethernet + IPv6 with an arbitrary next header and the payload as L4.
bytes ip6_frame(const frame_spec6& s, uint8_t next_header);
// A neighbour solicitation for `target` from s.src_ip (with a source link-layer address
// option of s.src_mac unless `with_option` is false), to s.dst_ip, hop limit s.hop_limit.
bytes ns_frame(const frame_spec6& s, const addr6& target, bool with_option = true);
// A neighbour advertisement of `target` at `lladdr` (target link-layer address option),
// flags S (solicited) and O (override).
bytes na_frame(const frame_spec6& s, const addr6& target, const rte_ether_addr& lladdr, bool solicited);
// The solicited-node group of `a` (ff02::1:ffXX:XXXX) and the MAC of a group (33:33:..).
addr6 solicited_node(const addr6& a);
rte_ether_addr group_mac(const addr6& g);

// Offset of the IPv6 header in a frame built above.
inline size_t l2_len6(const frame_spec6& s) { return s.vlan != 0 ? 18 : 14; }
// Recomputes the UDP (or ICMPv6) checksum of a frame built above after a test changed it.
void fix_l4_checksum6(bytes& f, size_t l2);

// A transmitted IPv6/UDP frame taken apart; nullopt if it is not Ethernet/IPv6/UDP (no
// extension headers).
struct udp6_view {
    rte_ether_addr dst_mac;
    rte_ether_addr src_mac;
    uint16_t vlan = 0;
    uint8_t traffic_class = 0;
    uint32_t flow_label = 0;
    uint8_t hop_limit = 0;
    uint16_t payload_len = 0;  // IPv6 payload length field
    addr6 src_ip{};
    addr6 dst_ip{};
    uint16_t src_port = 0;  // host order
    uint16_t dst_port = 0;
    uint16_t udp_len = 0;
    uint16_t udp_checksum = 0;     // as on the wire
    bool udp_checksum_ok = false;  // non-zero and right over the IPv6 pseudo-header
    bytes payload;
};
std::optional<udp6_view> parse_udp6(const bytes& f);

// One's-complement sum of the IPv6 pseudo-header for upper-layer `length` and `next_header`.
uint32_t pseudo_sum6(const addr6& src, const addr6& dst, uint32_t length, uint8_t next_header);

}  // namespace rtprelay::dp::test
