#pragma once
// An NG reply on its way from the commands to the proxy: a value tree, which is what most
// replies are (replies.h), or a dict already written as bencode, which is what the reply to
// every delete and query is (call_stats.h writes it straight from the call report: building,
// encoding and freeing its tree of ~35 dicts and lists was more than half of a delete's time
// on the control thread). The server writes either to the wire the same way (encode_to);
// only a JSON request's reply and tests need a bencoded reply as a tree, and decode it.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "control/ng/bencode.h"

namespace rtprelay::ng {

// A reply's `result`, as the statistics reply and the metrics count it (`pong` is ok).
enum class result : uint8_t { ok, error, load_limit };
inline constexpr std::array<const char*, 3> result_names = {"ok", "error", "load limit"};
result result_kind(const value& reply);

class reply {
 public:
    reply() = default;  // none yet (result error): to be assigned
    // Implicit: every reply_<shape>() that builds a tree is a reply as it is.
    reply(value tree);  // NOLINT(google-explicit-constructor)
    // `dict`: one bencoded dict whose "result" is "ok" and whose keys all sort below
    // "warning" (call_stats.cc's; the caller's promise, not checked: that would cost a decode).
    static reply ok_bencoded(std::string dict);

    result kind() const { return kind_; }
    // The "result" string ("ok", "pong", "error", "load limit"; "" if there is none).
    std::string_view result_text() const;
    // rtpengine's "warning": set only on an ok reply (commands.cc), after the handler ran.
    // A bencoded reply keeps it apart and writes it last, where "warning" sorts.
    void set_warning(std::string w);
    std::optional<std::string_view> warning() const;
    // The tree; null for a bencoded reply (its fields beyond result and warning are read by
    // decoding it: take_value()).
    const value* tree() const { return bencoded_ ? nullptr : &tree_; }

    // Appends the reply's bencode (the server puts the cookie in front).
    void encode_to(std::string* out) const;
    // Appends it as one line of JSON, for a request that came as JSON (json.h).
    void to_json(std::string* out) const;
    // The reply as a tree: moved out, or decoded from the bencode (tests, tools; ~as costly
    // as the tree it saved).
    value take_value() &&;

 private:
    value tree_;           // when !bencoded_
    std::string bencode_;  // when bencoded_: the dict, without its warning
    std::string warning_;  // when bencoded_ and has_warning_
    result kind_ = result::error;
    bool bencoded_ = false;
    bool has_warning_ = false;
};

// The reply's bencode, as encode() gives a tree's.
std::string encode(const reply& r);

}  // namespace rtprelay::ng
