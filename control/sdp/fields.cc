#include "control/sdp/fields.h"

namespace rtprelay::sdp::detail {

std::string_view trim_trailing(std::string_view s) {
    while (!s.empty() && is_blank(s.back())) {
        s.remove_suffix(1);
    }
    return s;
}

std::optional<uint32_t> parse_number(std::string_view s, uint32_t max) {
    if (!is_digits(s)) {
        return std::nullopt;
    }
    uint64_t value = 0;
    for (const char c : s) {
        // Checked per digit so that "4294967296" or a thousand digits cannot wrap around.
        value = value * 10 + static_cast<uint64_t>(c - '0');
        if (value > max) {
            return std::nullopt;
        }
    }
    return static_cast<uint32_t>(value);
}

attribute split_attribute(std::string_view a_value) {
    const size_t colon = a_value.find(':');
    if (colon == std::string_view::npos) {
        return {a_value, {}};
    }
    return {a_value.substr(0, colon), a_value.substr(colon + 1)};
}

bool is_ice_attribute(std::string_view name) {
    return name == "candidate" || name == "remote-candidates" || name == "end-of-candidates" ||
           name.starts_with("ice-");
}

std::optional<direction> direction_from_name(std::string_view name) {
    if (name == "sendrecv") {
        return direction::sendrecv;
    }
    if (name == "sendonly") {
        return direction::sendonly;
    }
    if (name == "recvonly") {
        return direction::recvonly;
    }
    if (name == "inactive") {
        return direction::inactive;
    }
    return std::nullopt;
}

std::optional<connection> parse_connection(std::span<const std::string_view> words) {
    if (words.size() != 3 || words[0] != "IN" || (words[1] != "IP4" && words[1] != "IP6")) {
        return std::nullopt;
    }
    // Multicast "224.2.1.1/127" carries a TTL (and maybe a count); the relay only needs
    // the address.
    const std::string_view address = words[2].substr(0, words[2].find('/'));
    if (address.empty()) {
        return std::nullopt;
    }
    return connection{std::string(words[1]), std::string(address)};
}

bool is_rtp_proto(std::string_view proto) {
    return proto.starts_with("RTP/") || proto.find("/RTP/") != std::string_view::npos;
}

bool is_token(std::string_view s) {
    if (s.empty()) {
        return false;
    }
    for (const char c : s) {
        const auto u = static_cast<unsigned char>(c);
        if (u <= 0x20 || u == 0x7f) {
            return false;
        }
    }
    return true;
}

}  // namespace rtprelay::sdp::detail
