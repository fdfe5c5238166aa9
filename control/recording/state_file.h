#pragma once
// A recording's state file, BASE.state beside its open pcap: what finishing it needs that
// is not in the pcap (the call's metadata, which WAV channel each relay address feeds, the
// layout, when it started), so that a recording left open by a node that died can still be
// finished when the node starts again (recovery.h). The recorder thread writes it when the
// recording opens and again when the control plane's description of the call differs from
// what it holds (a new SDP, a pause), at most once per pass over its commands; the finisher
// removes it once the recording's final metadata is committed (completion.h).
//
// Text, one item per line, so that a torn or hostile file is refused line by line and a
// person can read it:
//
//   rtprelay-recording-state 1
//   id <16 hex digits, the recording's id shared by its parts>
//   layout mixed|dual
//   wav 0|1                   the SDP offered G.711
//   from-first-packet 0|1     the recording's time starts at its first packet
//   start-ns <Unix ns>
//   leg <channel 0|1> <address> <port>     one per relay address (IPv6 without brackets)
//   call <the call's metadata: one JSON object on one line>
//
// Replaced whole (written to BASE.state.tmp, then renamed over): a reader sees the old file
// or the new one, never half of each. Created 0600, never through a symlink.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "control/recording/policy.h"
#include "control/recording/wav_render.h"

namespace rtprelay::recording {

constexpr size_t max_state_file_bytes = 1024 * 1024;  // 16 SDPs of ~8 KB fit many times over

struct recording_state {
    std::string rec_id;
    channels layout = channels::dual;
    bool wav = false;
    bool from_first_packet = false;
    int64_t start_ns = 0;
    std::vector<wav_channel_map> legs;
    std::string call_json;  // empty: not described yet
};

std::string format_state(const recording_state& s);
// Nullopt when `text` is not a state file this version wrote (the reason in *why).
std::optional<recording_state> parse_state(const std::string& text, std::string* why);

// Writes `s` as `path` (replacing it), through path.tmp. Empty on success, else the error.
std::string write_state(const std::string& path, const recording_state& s);
// Reads `path` (a regular file, not a symlink, at most max_state_file_bytes).
std::optional<recording_state> read_state(const std::string& path, std::string* why);

}  // namespace rtprelay::recording
