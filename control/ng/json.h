#pragma once
// NG dictionaries as JSON, which rtpengine accepts in place of bencode (a request whose body
// starts with '{'; the reply is JSON too), and which `rtprelay-ctl --json` prints.
//
// Encoding: strings become JSON strings, integers numbers, lists arrays, dicts objects
// (keys in bencode's sorted order). Strings are bytes: valid UTF-8 passes through, quotes,
// backslashes and control characters are escaped, and each byte of an invalid UTF-8
// sequence becomes \u00XX (its Latin-1 reading), so the output is always valid JSON.
//
// Decoding is of untrusted bytes, with bencode's bounds (depth 32, 4096 values) and rules
// (a repeated key is refused): objects become dicts, arrays lists, strings strings (UTF-8,
// escapes resolved), integers integers, true and false 1 and 0, and a null member or item
// is left out. Refused: numbers with a fraction or an exponent or outside int64, invalid
// UTF-8, bad escapes and lone surrogates, anything but blanks after the value. Never throws
// (short of std::bad_alloc), never reads past the input.

#include <optional>
#include <string>
#include <string_view>

#include "control/ng/bencode.h"

namespace rtprelay::ng {

// indent 0: one line; otherwise that many spaces per level, one member per line.
std::string to_json(const value& v, int indent = 0);
void to_json(const value& v, std::string* out);  // one line, appended

// The JSON string literal for `bytes`, quotes included.
std::string json_string(std::string_view bytes);

// Null with *error ("JSON: bad escape at offset 12") when `in` is not one JSON value.
std::optional<value> from_json(std::string_view in, std::string* error);

// Length of the valid UTF-8 sequence starting at s[i], or 0 if there is none (overlong
// forms, surrogates and code points past U+10FFFF are invalid, as RFC 3629 says).
size_t utf8_sequence_length(std::string_view s, size_t i);

}  // namespace rtprelay::ng
