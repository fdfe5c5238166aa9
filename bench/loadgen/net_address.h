#pragma once
// Socket addresses for IPv4 and IPv6 literals (no name resolution: every address the load
// generator handles is written in an SDP or on the command line as a literal).

#include <sys/socket.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace rtprelay::loadgen {

struct net_address {
    sockaddr_storage storage{};
    socklen_t len = 0;  // 0 = unset

    bool valid() const { return len != 0; }
    const sockaddr* sa() const { return reinterpret_cast<const sockaddr*>(&storage); }
    sockaddr* sa() { return reinterpret_cast<sockaddr*>(&storage); }
    bool is_ipv6() const { return storage.ss_family == AF_INET6; }
    uint16_t port() const;
    // "192.0.2.1:4000" or "[2001:db8::1]:4000".
    std::string to_string() const;
};

// Parses an IPv4 or IPv6 literal. Returns false if `ip` is neither.
bool make_address(std::string_view ip, uint16_t port, net_address* out);

// SDP's address type for a literal: "IP6" if it contains ':', else "IP4".
const char* sdp_addrtype(std::string_view ip);

}  // namespace rtprelay::loadgen
