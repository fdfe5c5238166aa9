#pragma once
// SDP (RFC 4566) as the relay needs it: parse an offer/answer into the facts that decide
// what to relay, then rewrite it with the relay's own addresses and ports while keeping
// every line the relay does not own byte for byte (line endings included).
//
// Parsing is of untrusted text: every error is a returned message, never an exception
// escaping, an out-of-bounds read or unbounded work. Limits: 64 KiB of text, 64 m= lines.
// Lines may end in CRLF or LF (mixed is accepted); blank lines are skipped.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rtprelay::sdp {

enum class direction : uint8_t { sendrecv, sendonly, recvonly, inactive };

inline constexpr size_t max_text_bytes = 64 * 1024;
inline constexpr size_t max_medias = 64;

struct connection {
    std::string addrtype;  // "IP4" or "IP6"
    std::string address;   // as written, without a "/ttl[/count]" suffix (0.0.0.0 = hold)
};

// 0.0.0.0 (RFC 3264 hold) or "::" (its IPv6 spelling in the wild).
bool is_hold_address(std::string_view address);

struct crypto_line {    // a=crypto, kept raw here; control/sdes parses it
    std::string value;  // everything after "a=crypto:" (trailing blanks trimmed)
};

struct media {
    std::string type;                     // audio, video, image, application, ...
    uint16_t port = 0;                    // 0 = stream disabled
    uint16_t port_count = 1;              // from "m=audio 1000/2 ..."; 1 when absent
    std::string proto;                    // RTP/AVP, RTP/SAVP, RTP/SAVPF, udptl, ...
    std::vector<std::string> formats;     // payload types / fmt list as written (RTP: 0-127 checked)
    std::optional<connection> conn;       // media-level c=, if any
    std::optional<uint16_t> rtcp_port;    // a=rtcp:<port>
    std::optional<connection> rtcp_conn;  // a=rtcp:<port> IN IP4 <addr>, if the address is given
    bool rtcp_mux = false;                // a=rtcp-mux
    bool has_ice = false;                 // any media-level a=candidate / a=ice-* /
                                          // a=end-of-candidates / a=remote-candidates line
    std::optional<direction> dir;         // media-level direction attribute, if any
    std::vector<crypto_line> crypto;      // a=crypto lines in order
};

struct session_description {
    std::optional<connection> conn;  // session-level c=
    std::optional<direction> dir;    // session-level direction attribute, if any
    bool has_ice = false;            // session-level a=ice-* (ice-lite, ice-options, ...)
    std::string origin_address;      // address field of o= (o= is required)
    // Session-level a=crypto lines (RFC 4568 defines a=crypto for media only). They carry
    // the sender's key, so rewrite() never copies them; counted here for the caller's log.
    size_t session_crypto_lines = 0;
    std::vector<media> medias;  // in m= order
};

// Parses `text`. On failure returns std::nullopt and sets *error (if not null) to a short
// reason that can go into an NG error-reason ("SDP: line 7: m= port not a number").
// Unknown line types and attributes are accepted and ignored.
std::optional<session_description> parse(std::string_view text, std::string* error);

// True if an m= line with this proto lists RTP payload types (RTP/AVP, RTP/SAVPF,
// UDP/TLS/RTP/SAVP, ...): parse() then requires its formats to be numbers from 0 to 127.
bool is_rtp_proto(std::string_view proto);

// The connection address a stream's media is sent to: media-level c= if present, else the
// session-level one. Null if neither exists.
const connection* effective_connection(const session_description& sd, size_t media_index);

// How to rewrite one m= section. `relay == false` leaves the section untouched, and so does
// an input port of 0 (a disabled stream has nothing to relay). One exception keeps the
// meaning of an untouched section: if it has a non-zero port, relies on the session-level
// c= and that c= is rewritten, the original session c= line is copied into the section.
struct media_plan {
    bool relay = true;
    // Refuse the stream (RFC 3264 6): m= port 0 and nothing of the sender's (a=rtcp,
    // a=rtcp-mux, ICE and a=crypto lines dropped; c= gets `address`). Needs relay and port 0.
    bool reject = false;
    std::string address;  // the relay's address for this stream (c= and a=rtcp)
    std::string addrtype = "IP4";
    // RTP port written into m=. A "/count" in the input is dropped: the relay allocates one
    // RTP port (and one RTCP port) per m= line, so it cannot promise more (as rtpengine).
    uint16_t port = 0;
    uint16_t rtcp_port = 0;            // written into a=rtcp; must be set when the input has it
    bool remove_ice = false;           // drop a=candidate, a=ice-*, a=end-of-candidates, a=remote-candidates
    std::optional<std::string> proto;  // replace the m= proto (RTP/AVP <-> RTP/SAVP bridging)
    // Drop every a=crypto line and write `crypto` instead: where the first old line was, or,
    // if there was none, before the section's first a= line (so after m=, i=, c=, b=, k=).
    bool replace_crypto = false;
    std::vector<std::string> crypto;  // values for new a=crypto: lines (without "a=crypto:")
    // Set: the section says a=rtcp-mux exactly when true (an existing line stays where it
    // was, a missing one goes at the end of the section). Unset: a=rtcp-mux lines are copied.
    std::optional<bool> rtcp_mux;
};

struct rewrite_plan {
    std::vector<media_plan> medias;  // one per m= line, same order as parse()
    // NG "replace": origin → o= address becomes `origin_address` too.
    bool replace_origin = false;
    std::string origin_address;
    std::string origin_addrtype = "IP4";
    // Replace the session-level c= with a relay address: that of the first relayed stream
    // that relies on the session c= (no media-level c=), else of the first relayed stream.
    // Relayed streams whose relay address differs get a media-level c=. When false the
    // session c= is kept and every relayed stream relying on it gets a media-level c=.
    bool replace_session_connection = true;
};

// Rewrites `text` (which parse() accepted into `sd`) according to `plan`:
// - session-level c= gets the relay's address when the plan says so (streams that need a
//   different address get a media-level c=);
// - a relayed m= gets the new port (and proto if asked); its media-level c= is rewritten;
// - a=rtcp:<port> [IN IP4 addr] is rewritten to the relay's RTCP port (and address);
// - ICE lines are dropped when asked; session-level ones (a=ice-lite, a=ice-options, ...)
//   when at least one stream is relayed and every relayed stream asks for remove_ice;
// - a=crypto lines replaced when asked; session-level a=crypto lines always dropped;
// - a=rtcp-mux kept, dropped or added when the plan says (media_plan::rtcp_mux);
// - c=... 0.0.0.0 (hold) is kept as 0.0.0.0 (also in a=rtcp), the m= port still changes;
// - every other line is copied unchanged, with its original line ending. Inserted lines
//   take the line ending of their section's m= line.
// Returns std::nullopt (with *error) if the plan does not fit the SDP: wrong number of
// streams, an empty address, an address type other than IP4/IP6, a token with blanks or
// control characters (they would inject lines), a=rtcp in the input but rtcp_port 0, a
// proto that would make RTP payload types of formats that are none.
std::optional<std::string> rewrite(std::string_view text, const session_description& sd, const rewrite_plan& plan,
                                   std::string* error);

}  // namespace rtprelay::sdp
