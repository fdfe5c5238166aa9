#pragma once
// Field-level helpers shared by parse() and rewrite() (words and digits: control/words.h):
// bounded number parsing, attribute names and connection fields. Internal to control/sdp.

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "control/sdp/sdp.h"
#include "control/words.h"

namespace rtprelay::sdp::detail {

// Drops trailing spaces and tabs, which broken user agents leave after values.
std::string_view trim_trailing(std::string_view s);

// Decimal digits only (no sign, no blanks), at most `max`. Rejects overflow of any size.
std::optional<uint32_t> parse_number(std::string_view s, uint32_t max);

// "a=<name>[:<value>]" without the "a=", trailing blanks already trimmed.
struct attribute {
    std::string_view name;
    std::string_view value;  // empty for a property attribute such as a=rtcp-mux
};
attribute split_attribute(std::string_view a_value);

// a=candidate, a=remote-candidates, a=end-of-candidates and every a=ice-*.
bool is_ice_attribute(std::string_view name);

std::optional<direction> direction_from_name(std::string_view name);

// "IN IP4 <addr>[/ttl[/count]]" given as three words; keeps the address only. Null on
// anything else (other network or address types, missing or extra words).
std::optional<connection> parse_connection(std::span<const std::string_view> words);

// Protocols whose formats are RTP payload types (RTP/AVP, RTP/SAVPF, UDP/TLS/RTP/SAVPF).
bool is_rtp_proto(std::string_view proto);

// Safe to write into a line: non-empty, no blanks, no control characters.
bool is_token(std::string_view s);

}  // namespace rtprelay::sdp::detail
