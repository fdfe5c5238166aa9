#pragma once
// One decoded NG request as the commands read it: each key found by its protocol.def row
// whatever its spelling, the "flags" list split into table flags and flags that carry a
// key's value ("SDES-...", "rtcp-mux-...", "replace-..."), and everything rtprelay does not
// know collected for the reply's `warning`. Handlers add warnings of their own (a stream
// refused, a delete-delay out of range) with warn().

#include <bitset>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "control/ng/bencode.h"
#include "control/ng/names.h"

namespace rtprelay::ng {

class request {
 public:
    // `dict` must outlive the request (it keeps pointers into it). Null with *error for a
    // request that is ambiguous: one key written twice in two spellings.
    static std::optional<request> parse(const value& dict, std::string* error);

    command cmd() const { return cmd_; }
    // The value under `k` in whichever spelling the request used; null when absent.
    const value* find(key k) const { return keys_[static_cast<size_t>(k)]; }
    // The string under `k`; empty when absent or not a string.
    std::string string(key k) const;
    // A string or each string of a list under `k` (other items skipped), then the values
    // of the flags with k's prefix ("rtcp-mux-demux" -> "demux"), in request order.
    std::vector<std::string> strings(key k) const;
    // An integer, or a string of decimal digits with an optional '-' (Kamailio sends
    // "delete-delay=5" as a string). Null when absent; *bad set when present but neither.
    std::optional<int64_t> integer(key k, bool* bad) const;
    bool has(flag f) const { return flags_.test(static_cast<size_t>(f)); }
    // The SDES entries of "flags" in the spelling control/sdes parses: "SDES-<option>",
    // and "pad-crypto" for that flag in any spelling.
    const std::vector<std::string>& sdes_flags() const { return sdes_flags_; }

    void warn(std::string text) { warnings_.push_back(std::move(text)); }
    // Unknown keys, unknown and ignored flags, then the handlers' warnings, joined with
    // "; ". Empty when there is nothing to say.
    std::string warning() const;

 private:
    command cmd_ = command::other;
    const value* keys_[key_count] = {};
    std::bitset<flag_count> flags_;
    std::vector<std::string> prefixed_[key_count];  // values of prefixed flags, by key
    std::vector<std::string> sdes_flags_;
    std::vector<std::string> unknown_keys_;   // as written
    std::vector<std::string> unknown_flags_;  // as written
    std::vector<std::string> ignored_flags_;  // known, not implemented (flag_support::ignored)
    std::vector<std::string> warnings_;
};

}  // namespace rtprelay::ng
