#pragma once
// Who is where in the benchmark: side 0 is interface "a" (the callers), side 1 interface
// "b" (the callees). Each side has enough relay media addresses for the calls (5,000 port
// pairs each in 10000-20000) and up to 250 peer hosts, each peer a distinct UDP port.
// Every call is one caller and one callee; stream (call, side) is what the peer on `side`
// sends, and the relay forwards it out of the other side. All addresses network order.
// A side on IPv6 (--ip) uses 2001:2:0:<1+side>::<1+i> for the relay and
// 2001:2:0:<1+side>::100:<1+host> for the peers (one /64 per side: on-link).

#include <arpa/inet.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>

#include <rte_ether.h>

#include "bench/pipeline/options.h"
#include "dataplane/srtp/srtp.h"

namespace rtprelay::pipeline {

inline constexpr uint32_t pairs_per_address = 5'000;  // even ports 10000..19998
inline constexpr uint32_t peer_hosts = 250;
inline constexpr uint32_t rtp_bytes = 172;  // 12-byte header + 160 bytes G.711 20 ms
inline constexpr uint32_t ssrc_base = 0x5000'0000;

// Relay addresses per side: one more than the calls need, as a real deployment would have.
inline uint32_t addresses_per_side(uint32_t calls) { return (calls + pairs_per_address - 1) / pairs_per_address + 1; }

// 10.<1+side>.0.<1+i>/16 for the relay, 10.<1+side>.100.<1+host> for the peers: on-link.
inline uint32_t relay_address(int side, uint32_t i) { return htonl((10u << 24) | ((1u + side) << 16) | (1u + i)); }
inline std::string relay_address_text(int side, uint32_t i) {
    return "10." + std::to_string(1 + side) + ".0." + std::to_string(1 + i);
}
inline uint32_t peer_host(uint32_t call) { return call % peer_hosts; }
inline uint32_t peer_address(int side, uint32_t call) {
    return htonl((10u << 24) | ((1u + side) << 16) | (100u << 8) | (1u + peer_host(call)));
}
inline std::string peer_address_text(int side, uint32_t call) {
    return "10." + std::to_string(1 + side) + ".100." + std::to_string(1 + peer_host(call));
}
inline uint16_t peer_port(uint32_t call) { return static_cast<uint16_t>(20'000 + 2 * (call / peer_hosts)); }
inline rte_ether_addr peer_mac(int side, uint32_t call) {
    return rte_ether_addr{
        {0x02, 0x00, static_cast<uint8_t>(0x10 + side), 0x00, 0x00, static_cast<uint8_t>(peer_host(call))}};
}

inline bool side_v6(ip_mode m, int side) { return m == ip_mode::v6 || (m == ip_mode::v4_v6 && side == 1); }

// The IPv6 forms: 16 bytes network order, and text. Both in 2001:2:0:<1+side>::<hi>:<lo>.
inline void side_address6(int side, uint16_t hi, uint16_t lo, uint8_t* out) {
    const auto s = static_cast<uint16_t>(1 + side);
    const uint16_t words[8] = {htons(0x2001), htons(2), 0, htons(s), 0, 0, htons(hi), htons(lo)};
    std::memcpy(out, words, 16);
}
inline void relay_address6(int side, uint32_t i, uint8_t* out) {
    side_address6(side, 0, static_cast<uint16_t>(1 + i), out);
}
inline std::string relay_address6_text(int side, uint32_t i) {
    char b[64];
    std::snprintf(b, sizeof(b), "2001:2:0:%d::%x", 1 + side, 1 + i);
    return b;
}
inline void peer_address6(int side, uint32_t call, uint8_t* out) {
    side_address6(side, 0x100, static_cast<uint16_t>(1 + peer_host(call)), out);
}
inline std::string peer_address6_text(int side, uint32_t call) {
    char b[64];
    std::snprintf(b, sizeof(b), "2001:2:0:%d::100:%x", 1 + side, 1 + peer_host(call));
    return b;
}

inline uint32_t stream_ssrc(uint32_t call, int side) { return ssrc_base + (call << 1) + static_cast<uint32_t>(side); }

// Whether the leg on `side` speaks SRTP.
inline bool srtp_leg(scenario s, int side) {
    return s == scenario::srtp_srtp || (s == scenario::rtp_srtp && side == 1);
}

// What signalling established for one call: the relay's port and address facing each side,
// and the keys from the SDP (meaningful on SRTP legs only).
struct call_info {
    uint32_t relay_addr[2] = {0, 0};      // network order (IPv4 sides)
    uint8_t relay_addr6[2][16] = {};      // network order (IPv6 sides)
    uint16_t relay_port[2] = {0, 0};      // RTP port, host order
    dp::srtp::master_key peer_key[2]{};   // the peer on side s sends with it (its SDP line)
    dp::srtp::master_key relay_key[2]{};  // the relay sends to side s's peer with it (relay's SDP)
    dp::srtp::suite suite = dp::srtp::suite::aes_cm_128_hmac_sha1_80;  // of both SRTP legs
};

// The RTP payload a stream carries at `seq`: checked byte for byte on sampled output.
inline uint8_t payload_byte(uint32_t ssrc, uint16_t seq, uint32_t k) {
    return static_cast<uint8_t>(ssrc * 13u + seq * 31u + k * 7u);
}

}  // namespace rtprelay::pipeline
