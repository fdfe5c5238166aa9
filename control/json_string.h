#pragma once
// A JSON string literal for any bytes: valid UTF-8 passes through, quotes, backslashes and
// control characters are escaped, and each byte of an invalid UTF-8 sequence becomes \u00XX
// (its Latin-1 reading), so the output is valid JSON whatever the input. For text that
// comes from peers or the system (NG replies in rtprelay-ctl --json, the load generator's
// and the pipeline benchmark's JSON reports).

#include <string>
#include <string_view>

namespace rtprelay {

// The JSON string literal for `bytes`, quotes included.
std::string json_string(std::string_view bytes);

}  // namespace rtprelay
