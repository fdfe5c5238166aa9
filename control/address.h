#pragma once
// Addresses in the control plane are family-agnostic (IPv4 today on the data plane, IPv6
// media to follow); conversion to the data plane's packed IPv4 form happens in publish/.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace rtprelay {

struct ip_address {
    enum class family : uint8_t { v4, v6 };
    family fam = family::v4;
    std::array<uint8_t, 16> bytes{};  // v4 uses the first 4, network order

    static std::optional<ip_address> parse(std::string_view text);
    static ip_address from_v4_be(uint32_t be);
    static ip_address from_v6(const uint8_t* bytes16);  // 16 bytes, network order
    std::string to_string() const;
    bool is_v4() const { return fam == family::v4; }
    uint32_t v4_be() const;       // precondition: is_v4()
    bool is_unspecified() const;  // 0.0.0.0 or ::
    // "IP4"/"IP6" as SDP writes it.
    const char* sdp_addrtype() const { return is_v4() ? "IP4" : "IP6"; }
    bool operator==(const ip_address&) const = default;
};

struct endpoint {
    ip_address addr;
    uint16_t port = 0;
    bool operator==(const endpoint&) const = default;
    std::string to_string() const;
};

// "198.18.0.0/15", "2001:db8::/32", or a plain address (full-length prefix).
struct cidr {
    ip_address base;
    uint8_t prefix = 32;
    static std::optional<cidr> parse(std::string_view text);
    bool contains(const ip_address& a) const;
    std::string to_string() const;
};

}  // namespace rtprelay
