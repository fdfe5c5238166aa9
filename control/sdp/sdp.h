#pragma once
// SDP (RFC 4566) as the relay needs it: parse an offer/answer into the facts that decide
// what to relay, then rewrite it with the relay's own addresses and ports while keeping
// every line the relay does not own byte for byte (line endings included).
//
// Parsing is of untrusted text: every error is a returned message, never an exception
// escaping, an out-of-bounds read or unbounded work. Limits: 64 KiB of text, 64 m= lines.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rtprelay::sdp {

enum class direction : uint8_t { sendrecv, sendonly, recvonly, inactive };

struct connection {
    std::string addrtype;  // "IP4" or "IP6"
    std::string address;   // as written (may be 0.0.0.0 for hold)
};

struct crypto_line {   // a=crypto, kept raw here; control/sdes parses it
    std::string value;  // everything after "a=crypto:"
};

struct media {
    std::string type;                   // audio, video, image, application, ...
    uint16_t port = 0;                  // 0 = stream disabled
    uint16_t port_count = 1;            // from "m=audio 1000/2 ..."; 1 when absent
    std::string proto;                  // RTP/AVP, RTP/SAVP, RTP/SAVPF, udptl, ...
    std::vector<std::string> formats;   // payload types / fmt list as written
    std::optional<connection> conn;     // media-level c=, if any
    std::optional<uint16_t> rtcp_port;  // a=rtcp:<port>
    std::optional<connection> rtcp_conn;  // a=rtcp:<port> IN IP4 <addr>, if the address is given
    bool rtcp_mux = false;              // a=rtcp-mux
    bool has_ice = false;               // any a=candidate / a=ice-* line
    std::optional<direction> dir;       // media-level direction attribute, if any
    std::vector<crypto_line> crypto;    // a=crypto lines in order
};

struct session_description {
    std::optional<connection> conn;     // session-level c=
    std::optional<direction> dir;       // session-level direction attribute, if any
    std::string origin_address;         // address field of o=
    std::vector<media> medias;          // in m= order
};

// Parses `text`. On failure returns std::nullopt and sets *error to a short reason that
// can go into an NG error-reason ("SDP: m= line 2: bad port").
std::optional<session_description> parse(std::string_view text, std::string* error);

// The connection address a stream's media is sent to: media-level c= if present, else the
// session-level one. Null if neither exists.
const connection* effective_connection(const session_description& sd, size_t media_index);

// How to rewrite one m= section. `relay == false` leaves the section untouched.
struct media_plan {
    bool relay = true;
    std::string address;              // the relay's address for this stream (c= and a=rtcp)
    std::string addrtype = "IP4";
    uint16_t port = 0;                // RTP port written into m=
    uint16_t rtcp_port = 0;           // written into a=rtcp when the input had a=rtcp
    bool remove_ice = false;          // drop a=candidate, a=ice-*, a=end-of-candidates, a=remote-candidates
    std::optional<std::string> proto; // replace the m= proto (RTP/AVP <-> RTP/SAVP bridging)
    bool replace_crypto = false;      // drop every a=crypto line and write `crypto` instead
    std::vector<std::string> crypto;  // values for new a=crypto: lines (without "a=crypto:")
};

struct rewrite_plan {
    std::vector<media_plan> medias;   // one per m= line, same order as parse()
    // NG "replace": origin → o= address becomes `origin_address` too.
    bool replace_origin = false;
    std::string origin_address;
    std::string origin_addrtype = "IP4";
    // Replace session-level c= with this address (when every relayed stream uses it).
    // When streams use different relay addresses, media-level c= lines are written.
    bool replace_session_connection = true;
};

// Rewrites `text` (which parse() accepted into `sd`) according to `plan`:
// - session-level c= gets the relay's address when the plan says so (streams that need a
//   different address get a media-level c=);
// - a relayed m= gets the new port (and proto if asked); its media-level c= is rewritten;
// - a=rtcp:<port> [IN IP4 addr] is rewritten to the relay's RTCP port (and address);
// - ICE lines are dropped when asked; a=crypto lines replaced when asked;
// - c=... 0.0.0.0 (hold) is kept as 0.0.0.0;
// - every other line is copied unchanged, with its original line ending.
// Returns std::nullopt (with *error) if the plan does not fit the SDP.
std::optional<std::string> rewrite(std::string_view text, const session_description& sd,
                                   const rewrite_plan& plan, std::string* error);

}  // namespace rtprelay::sdp
