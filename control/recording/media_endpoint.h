#pragma once
// An address and UDP port of a recorded packet, IPv4 or IPv6: the sender or the relay's
// address it arrived at. The recorder's streams, the pcap writer and the WAV's leg map
// compare and print them, whichever family a leg's media uses (a bridged call has both).
// Recorder and finisher threads; plain data.

#include <arpa/inet.h>

#include <cstdint>
#include <cstring>
#include <string>

#include "dataplane/record_ring.h"

namespace rtprelay::recording {

struct media_endpoint {
    bool v6 = false;
    uint8_t addr[16] = {};  // network order; IPv4 in the first 4 bytes, the rest 0
    uint16_t port = 0;      // network order

    // Word by word, one branch: the recorder compares a packet's endpoints with its
    // recording's streams' for every packet (a byte loop here was ~10% of its time).
    bool operator==(const media_endpoint& o) const {
        uint64_t a[2], b[2];
        std::memcpy(a, addr, 16);
        std::memcpy(b, o.addr, 16);
        return ((a[0] ^ b[0]) | (a[1] ^ b[1]) | static_cast<uint64_t>(v6 != o.v6) |
                static_cast<uint64_t>(port ^ o.port)) == 0;
    }

    static media_endpoint v4(uint32_t addr_be, uint16_t port_be) {
        media_endpoint e;
        std::memcpy(e.addr, &addr_be, 4);
        e.port = port_be;
        return e;
    }
    static media_endpoint v6_of(const uint8_t* addr16, uint16_t port_be) {
        media_endpoint e;
        e.v6 = true;
        std::memcpy(e.addr, addr16, 16);
        e.port = port_be;
        return e;
    }
    // The sender and the relay's address of record `s`.
    static media_endpoint source_of(const dp::record_slot& s) {
        return s.ipv6() ? v6_of(s.src6(), s.src_port) : v4(s.src_addr, s.src_port);
    }
    static media_endpoint destination_of(const dp::record_slot& s) {
        return s.ipv6() ? v6_of(s.dst6(), s.dst_port) : v4(s.dst_addr, s.dst_port);
    }

    // "198.18.0.1:4000" or "[2001:2::1]:4000", as the call's metadata writes endpoints.
    std::string to_string() const {
        char text[INET6_ADDRSTRLEN] = {};
        inet_ntop(v6 ? AF_INET6 : AF_INET, addr, text, sizeof text);
        const std::string p = std::to_string(ntohs(port));
        return v6 ? "[" + std::string(text) + "]:" + p : std::string(text) + ":" + p;
    }
};

}  // namespace rtprelay::recording
