#pragma once
// NG replies as JSON for `rtprelay-ctl --json`: bencode strings become JSON strings
// (control/json_string.h: valid JSON whatever bytes the daemon sent), integers numbers,
// lists arrays, dicts objects (keys in bencode's sorted order).

#include <string>
#include <string_view>

#include "control/json_string.h"
#include "control/ng/bencode.h"

namespace rtprelay::ctl {

// indent 0: one line; otherwise that many spaces per level, one member per line.
std::string to_json(const ng::value& v, int indent = 2);

}  // namespace rtprelay::ctl
