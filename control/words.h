#pragma once
// Splitting a line into blank-separated words, for the text formats the control plane reads
// (SDP lines and their a=crypto values, option strings such as --eal).

#include <string_view>
#include <vector>

namespace rtprelay {

// Space or tab: the separators SDP (RFC 8866) allows between fields.
constexpr bool is_blank(char c) { return c == ' ' || c == '\t'; }

// Words separated by runs of spaces or tabs; views into `s`, which must outlive them.
std::vector<std::string_view> split_words(std::string_view s);

}  // namespace rtprelay
