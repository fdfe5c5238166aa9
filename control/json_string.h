#pragma once
// A JSON string literal for any bytes: valid UTF-8 passes through, quotes, backslashes and
// control characters are escaped, and each byte of an invalid UTF-8 sequence becomes \u00XX
// (its Latin-1 reading), so the output is valid JSON whatever the input. For text that
// comes from peers or the system (NG replies in rtprelay-ctl --json, the load generator's
// and the pipeline benchmark's JSON reports).

#include <cstddef>
#include <string>
#include <string_view>

namespace rtprelay {

// The JSON string literal for `bytes`, quotes included.
std::string json_string(std::string_view bytes);
// The same, appended to *out (the NG JSON encoder builds a reply this way, without a
// string per member).
void append_json_string(std::string_view bytes, std::string* out);

// Length of the valid UTF-8 sequence starting at s[i], or 0 if there is none (overlong
// forms, surrogates and code points past U+10FFFF are invalid, as RFC 3629 says). Also what
// the NG JSON decoder accepts in strings (control/ng/json.h).
size_t utf8_sequence_length(std::string_view s, size_t i);

}  // namespace rtprelay
