#pragma once
// Splits SDP text into lines without copying, keeping each line's own ending so that a
// rewrite can copy the lines it does not own byte for byte. Internal to control/sdp.

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace rtprelay::sdp::detail {

struct line {
    std::string_view text;    // without the line ending
    std::string_view ending;  // "\r\n", "\n", or "" for a last line without one
    uint32_t number = 0;      // 1-based, for error messages

    // 'v', 'o', 'm', ... for a "<letter>=<value>" line, 0 otherwise (blank or malformed).
    char type() const;
    // What follows "<letter>="; only meaningful when type() != 0.
    std::string_view value() const { return text.size() >= 2 ? text.substr(2) : text; }
};

// Hands out one line per next() call. A lone '\r' is not a line ending: it stays in the
// text, where parse() rejects it as a control character.
class line_reader {
 public:
    explicit line_reader(std::string_view text) : text_(text) {}
    bool next(line& out);

 private:
    std::string_view text_;
    size_t pos_ = 0;
    uint32_t number_ = 0;
};

// The ending of the first line that has one; CRLF (what RFC 4566 asks for) if none does.
std::string_view first_line_ending(std::string_view text);

}  // namespace rtprelay::sdp::detail
