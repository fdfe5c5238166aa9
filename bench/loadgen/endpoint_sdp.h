#pragma once
// The SDP a load generator endpoint sends (one G.711 audio stream), and where the relay's
// rewritten SDP says that endpoint must send its RTP and RTCP.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "bench/loadgen/net_address.h"

namespace rtprelay::loadgen {

struct endpoint_sdp_params {
    std::string address;     // IPv4 or IPv6 literal, for o= and c=
    uint16_t rtp_port = 0;
    uint16_t rtcp_port = 0;  // 0 = no a=rtcp line (the peer assumes rtp_port + 1)
    uint32_t ptime_ms = 20;
    uint64_t session_id = 0; // o= sess-id, distinct per call and side
};

// m=audio <port> RTP/AVP 0 8 101 with rtpmap lines, a=sendrecv, CRLF line endings.
std::string build_endpoint_sdp(const endpoint_sdp_params& p);

struct media_target {
    net_address rtp;
    net_address rtcp;  // a=rtcp if given, the RTP port under rtcp-mux, else RTP port + 1
};

// Reads the first active audio stream of `sdp` (the relay's rewrite). Returns std::nullopt
// with *error when it has none, or no usable connection address.
std::optional<media_target> find_media_target(std::string_view sdp, std::string* error);

}  // namespace rtprelay::loadgen
