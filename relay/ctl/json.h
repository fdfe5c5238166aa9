#pragma once
// NG replies as JSON for `rtprelay-ctl --json`: bencode strings become JSON strings,
// integers numbers, lists arrays, dicts objects (keys in bencode's sorted order).
// Bencode strings are bytes: valid UTF-8 passes through, quotes, backslashes and control
// characters are escaped, and each byte of an invalid UTF-8 sequence becomes \u00XX (its
// Latin-1 reading), so the output is always valid JSON whatever the daemon sent.

#include <string>
#include <string_view>

#include "control/ng/bencode.h"

namespace rtprelay::ctl {

// indent 0: one line; otherwise that many spaces per level, one member per line.
std::string to_json(const ng::value& v, int indent = 2);

// The JSON string literal for `bytes`, quotes included.
std::string json_string(std::string_view bytes);

}  // namespace rtprelay::ctl
