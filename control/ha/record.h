#pragma once
// The call record kept in Redis: what another node of the group needs to rebuild a call
// (its legs, streams, ports, peers, latched sources, SDES keys and SRTP indices) and to
// publish its flows. Plain data here; control/ha/snapshot turns a session's call into one
// and back.
//
// On the wire (all integers little-endian, lengths in bytes):
//
//   header (8): "rtpR", format version (1), key id (1, 0 today), 2 zero bytes
//   sealed body: AES-256-GCM (seal.h) of the fields below, with header || group || 0 ||
//                call-id as associated data
//
// The header stays clear so that a node can tell "written by a newer version" (refused,
// counted) from "corrupt" (refused, counted) before it spends a decryption. Every count
// and length in the body is bounded (limits below); decode refuses anything past them,
// short or with bytes left over. An SRTP<->SRTP call with one audio stream is ~600 bytes.
//
// Versions: 1 had no recording; 2 adds the call's recording after the legs; 3 adds the SDPs
// an open recording carries to its next part after it. Each record is written in the oldest
// version that holds it: a call never recorded as version 1, a recorded one carrying no SDP
// as version 2 (so nodes of an older version keep reading what they can during a rolling
// upgrade); a version 1 record reads as a call without a recording, as does a version 2 or
// 3 one whose recording is off.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "control/ha/seal.h"
#include "dataplane/srtp/suite.h"

namespace rtprelay::ha {

inline constexpr uint8_t record_version = 3;
inline constexpr size_t record_header_bytes = 8;
inline constexpr size_t max_record_legs = 16;
inline constexpr size_t max_record_streams = 32;  // per leg
inline constexpr size_t max_record_offered = 8;   // a=crypto lines offered per stream
inline constexpr size_t max_record_ssrcs = 8;     // per SRTP context (srtp::max_ssrcs)
inline constexpr size_t max_record_bytes = 64 * 1024;

struct endpoint_record {
    uint8_t family = 4;  // 4 or 6
    uint8_t addr[16] = {};
    uint16_t port = 0;
};

// On the wire: tag, suite, flags (bit 0 UNENCRYPTED_SRTCP, bit 1 lifetime, bit 2 MKI), the
// suite's master key and salt (their lengths from the suite table: 30 to 46 bytes), then
// the MKI (length 1..max_mki_len, bytes) and the lifetime when their flags say so.
struct crypto_line_record {
    uint32_t tag = 1;
    uint8_t suite = 0;  // dp::srtp::suite (suites.def: ids keep their position)
    bool unencrypted_srtcp = false;
    // Master key || salt, each at its largest size; the suite's lengths count, the rest is 0.
    uint8_t key[dp::srtp::max_master_key_len + dp::srtp::max_master_salt_len] = {};
    uint8_t mki_len = 0;  // 0: none
    uint8_t mki[dp::srtp::max_mki_len] = {};
    std::optional<uint64_t> lifetime;
};

// SRTP indices of one context, per SSRC: received (in) or sent (out), as srtp::context
// reports them (SRTP: ROC << 16 | SEQ; SRTCP: the 31-bit index).
struct ssrc_index_record {
    uint32_t ssrc = 0;
    uint64_t index = 0;
};

struct stream_record {
    enum flag : uint16_t {
        allocated = 1 << 0,
        rtcp_mux = 1 << 1,
        disabled = 1 << 2,
        hold = 1 << 3,
        is_rtp = 1 << 4,
        published = 1 << 5,
        forked = 1 << 6,
        has_peer_rtp = 1 << 7,
        has_peer_rtcp = 1 << 8,
        has_crypto = 1 << 9,
        srtp = 1 << 10,
        has_from_peer = 1 << 11,
        has_to_peer = 1 << 12,
    };
    uint16_t flags = 0;
    uint8_t address_index = 0;  // into the leg's interface's addresses
    uint16_t rtp_port = 0;
    endpoint_record local;  // the address at address_index (checked on load)
    endpoint_record peer_rtp;
    endpoint_record peer_rtcp;
    std::string media_type;
    std::string proto;
    // The latched sources in the data plane's word form (dp::pack_endpoint, 0 = none). An
    // IPv6 word (bit 63, dp::endpoint_v6) only folds its address: the whole address follows
    // it on the wire (16 bytes, network order) and lands in latched_*6. Words with any of
    // bits 48..62 set are malformed.
    uint64_t latched_rtp = 0;
    uint64_t latched_rtcp = 0;
    uint8_t latched_rtp6[16] = {};
    uint8_t latched_rtcp6[16] = {};
    crypto_line_record from_peer;
    crypto_line_record to_peer;
    std::vector<crypto_line_record> offered;
    // [0] RTP, [1] RTCP; in = from the peer, out = to the peer.
    std::vector<ssrc_index_record> srtp_in[2];
    std::vector<ssrc_index_record> srtp_out[2];

    bool has(flag f) const { return (flags & f) != 0; }
};

struct leg_record {
    std::string tag;
    std::string iface;
    bool strict_source = false;
    bool parked = false;
    int8_t offerer = -1;  // index of the leg whose offer this branch answered
    int64_t created_unix_ms = 0;
    std::vector<stream_record> streams;
};

// An SDP a recording open or pending carries to the next node (version 3): the latest answer's
// (else the latest offer's) as the relay received it, SDES keys removed (the metadata never
// holds a media key), so that the part a taker writes has the SDP in effect and its codecs.
// On the wire: time (8, Unix ns), flags (bit 0: offer), from-tag, to-tag, the SDP (strings).
//
// What it costs in Redis, measured (an answered SRTP<->SRTP call): 429 bytes unrecorded, 485
// recorded (version 2), 703 with a 198-byte answer carried; an SRTP trunk's answer of ~300
// bytes makes it ~800. The offer as well would take it past the 1 KB a call may use in Redis:
// it stays in the metadata of the part it was received in, which the later part names.
inline constexpr size_t max_record_sdps = 1;
inline constexpr size_t max_record_sdp_bytes = 4096;  // larger ones are not carried

struct recording_sdp_record {
    int64_t unix_ns = 0;  // when the relay received it (the metadata's time, to the ns)
    bool offer = false;
    std::string from_tag, to_tag;
    std::string sdp;

    bool operator==(const recording_sdp_record&) const = default;
};

// The call's recording (control/recording/controller.h), so that the node that takes the call
// over records it on: a new part of the same recording in its own directory. On the wire
// after the legs: the state (1 byte); unless off, when, layout, flags (bit 0 refused, bit 1
// from the first packet), file, dir, pattern, id, base (strings), part (2), started (8);
// version 3 then the count of SDPs (1) and the SDPs.
struct recording_record {
    enum class state : uint8_t { off, pending, recording, paused, stopped };
    state st = state::off;           // off: never recorded, nothing else follows
    uint8_t when = 0;                // recording::mode: the policy for the call (off, from-answer, from-ringing)
    uint8_t layout = 1;              // recording::channels (mixed, dual)
    bool refused = false;            // record-call no/off: the policy stays off for the call
    bool from_first_packet = false;  // the open part's time starts at its first packet
    // The names NG gave (recording-file, recording-dir, recording-pattern), checked again on load.
    std::string file, dir, pattern;
    std::string id;               // the recording's identifier, shared by all its parts (16 hex digits)
    std::string base;             // the first part's base path (relative to a node's recording directory)
    uint16_t part = 0;            // the part open now (1 = where it started); 0 = none open
    int64_t started_unix_ms = 0;  // when the open part started
    // Pending, recording or paused: the SDPs in effect (at most max_record_sdps, oldest first).
    std::vector<recording_sdp_record> sdps;

    bool operator==(const recording_record&) const = default;
};

struct call_record {
    std::string call_id;
    std::string owner;  // the node that wrote it
    int64_t created_unix_ms = 0;
    int64_t last_signal_unix_ms = 0;
    int64_t answered_unix_ms = 0;   // 0: not answered
    int64_t delete_at_unix_ms = 0;  // 0: no delete pending
    bool admitted = false;
    std::string admitted_ifs[2];  // interface names holding the reservation
    std::vector<leg_record> legs;
    recording_record recording;  // version 2 on
};

enum class decode_error : uint8_t { none, too_short, bad_magic, newer_version, seal, malformed, wrong_call };
const char* decode_error_name(decode_error e);

// The Redis value for `r`, sealed under `key`; `group` is bound into the seal. Throws
// std::runtime_error when sealing fails (seal.h).
std::string encode_record(const call_record& r, const group_key& key, std::string_view group);
// The same with a sealer kept by the caller (the HA agent: one per thread, key set once).
std::string encode_record(const call_record& r, sealer& s, std::string_view group);

// Buffers one thread reuses for every record it encodes (the HA agent), so that encoding
// allocates nothing once they have grown. `plain` holds a record's clear body between
// writing and sealing and is wiped after each.
struct encode_buffers {
    std::string plain, aad;
};
// The same, appended to `out`.
void encode_record(const call_record& r, sealer& s, std::string_view group, encode_buffers& b, std::string& out);

// Decodes a Redis value stored under `call_id`. On failure returns nullopt and sets *why.
std::optional<call_record> decode_record(std::string_view bytes, const group_key& key, std::string_view group,
                                         std::string_view call_id, decode_error* why);

// The format version of a value without opening it (0 when it has no valid header).
uint8_t record_version_of(std::string_view bytes);

}  // namespace rtprelay::ha
