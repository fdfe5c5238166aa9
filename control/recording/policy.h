#pragma once
// When calls are recorded and how their audio is laid out, as configured: per node
// (--recording, --recording-channels) and per logical interface (recording=...,
// recording-channels=... on its line), the interface's word winning for its legs.
//
//   off           calls are recorded only when NG asks (record-call, start recording)
//   from-answer   from the answer on
//   from-ringing  from the first media after the offer (early media included)
//
//   mixed         the WAV has one channel, both legs summed
//   dual          the WAV has one channel per leg: 1 = the offerer (from-tag), 2 = the answerer

#include <optional>
#include <string_view>

namespace rtprelay::recording {

enum class mode : uint8_t { off, from_answer, from_ringing };
enum class channels : uint8_t { mixed, dual };

const char* mode_name(mode m);          // "off", "from-answer", "from-ringing"
const char* channels_name(channels c);  // "mixed", "dual"
std::optional<mode> parse_mode(std::string_view s);
std::optional<channels> parse_channels(std::string_view s);

// What one scope (node or interface) says; an interface leaves unset what the node decides.
struct policy {
    std::optional<mode> when;
    std::optional<channels> layout;
};

// The policy of a call whose legs sit on interfaces saying `a` and `b`, under the node's
// `node`: each leg takes its interface's word or the node's, and the call is recorded from
// the earliest moment either leg asks for (from-ringing before from-answer before off).
// The layout is what the legs' interfaces say (dual if they disagree), else the node's.
struct call_policy {
    mode when = mode::off;
    channels layout = channels::dual;
};
call_policy resolve(const policy& node, const policy& a, const policy& b);

}  // namespace rtprelay::recording
