#pragma once
// The codecs an SDP names per m= line, for recording metadata: payload type, encoding name
// and clock rate, from a=rtpmap or, for the static payload types, RFC 3551's table.
// Reads the text line by line; anything it does not understand is skipped.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace rtprelay::recording {

struct sdp_codec {
    int payload_type = 0;
    std::string name;   // "PCMU", "telephone-event", ... ("" when unknown)
    uint32_t rate = 0;  // Hz; 0 when unknown
};

struct sdp_media_codecs {
    std::string type;               // audio, video, image, ...
    std::string proto;              // RTP/AVP, RTP/SAVP, udptl, ...
    std::vector<sdp_codec> codecs;  // in m= line order
};

std::vector<sdp_media_codecs> codecs_of(std::string_view sdp);

// Whether the first audio m= line offers PCMU or PCMA (a WAV is wanted).
bool has_g711(const std::vector<sdp_media_codecs>& medias);

}  // namespace rtprelay::recording
