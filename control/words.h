#pragma once
// Words of the text formats the control plane reads (SDP lines and their a=crypto values,
// option strings such as --eal): splitting a line into blank-separated words, and telling
// a word of digits.

#include <string_view>
#include <vector>

namespace rtprelay {

// Space or tab: the separators SDP (RFC 8866) allows between fields.
constexpr bool is_blank(char c) { return c == ' ' || c == '\t'; }

// Words separated by runs of spaces or tabs; views into `s`, which must outlive them.
std::vector<std::string_view> split_words(std::string_view s);

// Non-empty and only '0'-'9' (no sign, no blanks).
constexpr bool is_digits(std::string_view s) {
    if (s.empty()) {
        return false;
    }
    for (const char c : s) {
        if (c < '0' || c > '9') {
            return false;
        }
    }
    return true;
}

}  // namespace rtprelay
