#pragma once
// The SDP a load generator endpoint sends (one G.711 audio stream), and where the relay's
// rewritten SDP says that endpoint must send its RTP and RTCP.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "bench/loadgen/net_address.h"
#include "dataplane/srtp/srtp.h"

namespace rtprelay::loadgen {

struct endpoint_sdp_params {
    std::string address;  // IPv4 or IPv6 literal, for o= and c=
    uint16_t rtp_port = 0;
    uint16_t rtcp_port = 0;  // 0 = no a=rtcp line (the peer assumes rtp_port + 1)
    uint32_t ptime_ms = 20;
    uint64_t session_id = 0;  // o= sess-id, distinct per call and side
    // SDES (--srtp): the m= line says RTP/SAVP and carries one a=crypto line with this key
    // (AES_CM_128_HMAC_SHA1_80, tag 1), the key this endpoint protects its packets with.
    std::optional<dp::srtp::master_key> srtp_key;
};

// m=audio <port> RTP/AVP 0 8 101 (RTP/SAVP with a key) with rtpmap lines, a=sendrecv,
// CRLF line endings.
std::string build_endpoint_sdp(const endpoint_sdp_params& p);

struct media_target {
    net_address rtp;
    net_address rtcp;  // a=rtcp if given, the RTP port under rtcp-mux, else RTP port + 1
    // The stream's first usable a=crypto line, if any: the key the relay protects what it
    // sends to this endpoint with (SDES: each side announces the key it sends with).
    std::optional<dp::srtp::master_key> srtp_key;
    std::optional<dp::srtp::suite> srtp_suite;
};

// Reads the first active audio stream of `sdp` (the relay's rewrite). Returns std::nullopt
// with *error when it has none, or no usable connection address, or when `want_srtp` and
// the stream has no usable a=crypto line.
std::optional<media_target> find_media_target(std::string_view sdp, std::string* error, bool want_srtp = false);

}  // namespace rtprelay::loadgen
