#pragma once
// Ethernet/IPv4/UDP framing for the DPDK mode (--dpdk): the load generator owns its ports
// there, so it writes and checks the headers the kernel writes for the socket mode. No
// VLAN, no IP options, no fragments: the relay under test sends none of them back.
// Addresses are in network byte order, ports in host order.

#include <cstddef>
#include <cstdint>

#include <rte_ether.h>

namespace rtprelay::loadgen {

inline constexpr size_t udp_frame_header_bytes = sizeof(rte_ether_hdr) + 20 /* IPv4, no options */ + 8 /* UDP */;

struct udp_frame_addresses {
    rte_ether_addr src_mac{};
    rte_ether_addr dst_mac{};
    uint32_t src_ip = 0;
    uint32_t dst_ip = 0;
    uint16_t src_port = 0;
    uint16_t dst_port = 0;
};

// Writes the 42 header bytes in front of the `payload_len` bytes already at
// frame + udp_frame_header_bytes, with the IPv4 header checksum and the UDP checksum over
// the payload. Returns the frame length.
size_t write_udp_headers(uint8_t* frame, const udp_frame_addresses& a, size_t payload_len);

struct udp_frame_view {
    uint32_t src_ip = 0;
    uint32_t dst_ip = 0;
    uint16_t src_port = 0;
    uint16_t dst_port = 0;
    size_t payload_offset = 0;
    size_t payload_len = 0;
};

// Parses an untagged Ethernet/IPv4/UDP frame: false for anything else (other ether types,
// other protocols, fragments, a bad IPv4 header checksum, lengths that do not fit).
bool parse_udp_frame(const uint8_t* frame, size_t len, udp_frame_view* out);

}  // namespace rtprelay::loadgen
