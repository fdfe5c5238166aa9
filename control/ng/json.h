#pragma once
// NG dictionaries as JSON, which rtpengine accepts in place of bencode (a request whose body
// starts with '{'; the reply is JSON too), and which `rtprelay-ctl --json` prints.
//
// Encoding: strings become JSON strings (control/json_string.h: valid JSON whatever the
// bytes), integers numbers, lists arrays, dicts objects (keys in bencode's sorted order).
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

// Null with *error ("JSON: bad escape at offset 12") when `in` is not one JSON value.
std::optional<value> from_json(std::string_view in, std::string* error);

}  // namespace rtprelay::ng
