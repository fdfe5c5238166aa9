#pragma once
// Where a recording's files go, relative to --recording-dir: the NG keys rtpengine defines
// (`recording-file`, `recording-dir`, `recording-pattern`), confined to that directory, or
// the default pattern. A recording is three files sharing one base path: BASE.pcap,
// BASE.json and (G.711 calls) BASE.wav; while open they live under the recording
// directory, once complete under its done/ (same relative path).
//
// A name from NG is refused, with an error that says why, when it is absolute, holds a
// `..` or `.` component, an empty component, a NUL or control byte, starts with `done/`
// (the finished area), or is longer than max_name_bytes. Patterns accept %c (the call-id,
// with every byte outside [A-Za-z0-9._+@-] made `_`, never starting with `.`), %r (a
// random tag), %Y %m %d %H %M %S (UTC) and %%; any other % sequence is refused.

#include <ctime>
#include <string>
#include <string_view>

namespace rtprelay::recording {

constexpr size_t max_name_bytes = 200;
constexpr std::string_view default_pattern = "%Y%m%d-%H%M%S-%c-%r";

// What an NG request asked for; empty = not given.
struct name_request {
    std::string file;     // recording-file: the base path itself (wins over the others)
    std::string dir;      // recording-dir: a sub-directory
    std::string pattern;  // recording-pattern: instead of default_pattern
};

// The base path for a new recording of `call_id`, or an error (then *error is set and the
// result empty). `random_tag` fills %r; `now` the time fields.
std::string base_path(const name_request& r, std::string_view call_id, std::string_view random_tag, std::time_t now,
                      std::string* error);

// Empty when `path` is an acceptable relative path for `what` ("recording-file"), else the
// reason it is not.
std::string check_relative(std::string_view path, std::string_view what);

// The call-id as it appears in file names (see the header comment).
std::string file_safe(std::string_view call_id);

}  // namespace rtprelay::recording
