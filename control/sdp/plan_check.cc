#include "control/sdp/plan_check.h"

#include "control/sdp/fields.h"

namespace rtprelay::sdp::detail {

namespace {

bool is_addrtype(std::string_view s) { return s == "IP4" || s == "IP6"; }

// a=crypto values contain blanks ("1 AES_CM_128_HMAC_SHA1_80 inline:..."), but never a
// control character: a CR or LF would end the line and start one of the caller's making.
bool is_line_value(std::string_view s) {
    if (s.empty()) {
        return false;
    }
    for (const char c : s) {
        const auto u = static_cast<unsigned char>(c);
        if ((u < 0x20 && c != '\t') || u == 0x7f) {
            return false;
        }
    }
    return true;
}

std::string stream_error(size_t index, std::string_view what) {
    return "SDP rewrite: stream " + std::to_string(index + 1) + ": " + std::string(what);
}

std::string check_media(const media& m, const media_plan& mp, size_t index) {
    if (!is_token(mp.address)) {
        return stream_error(index, "relay address empty or not a single token");
    }
    if (!is_addrtype(mp.addrtype)) {
        return stream_error(index, "address type must be IP4 or IP6");
    }
    if (mp.proto && !is_token(*mp.proto)) {
        return stream_error(index, "proto empty or not a single token");
    }
    if (mp.proto && is_rtp_proto(*mp.proto) && !is_rtp_proto(m.proto)) {
        // The formats were never checked as payload types: written under an RTP proto
        // they could make an m= line that does not parse.
        for (const std::string& f : m.formats) {
            if (!parse_number(f, 127)) {
                return stream_error(index, "proto " + *mp.proto + " over formats that are not RTP payload types");
            }
        }
    }
    if (mp.reject && (mp.port != 0 || mp.rtcp_mux.value_or(false))) {
        return stream_error(index, "a refused stream must have port 0 and no rtcp-mux");
    }
    if (m.rtcp_port && mp.rtcp_port == 0 && !mp.reject) {
        return stream_error(index, "the SDP has a=rtcp but the plan no RTCP port");
    }
    if (mp.replace_crypto) {
        for (const std::string& value : mp.crypto) {
            if (!is_line_value(value)) {
                return stream_error(index, "a=crypto value empty or with control characters");
            }
        }
    }
    return {};
}

}  // namespace

bool is_relayed(const session_description& sd, const rewrite_plan& plan, size_t index) {
    return index < sd.medias.size() && index < plan.medias.size() && plan.medias[index].relay &&
           sd.medias[index].port != 0;
}

std::string check_plan(const session_description& sd, const rewrite_plan& plan) {
    if (plan.medias.size() != sd.medias.size()) {
        return "SDP rewrite: plan has " + std::to_string(plan.medias.size()) + " streams, the SDP " +
               std::to_string(sd.medias.size());
    }
    if (plan.replace_origin && (!is_token(plan.origin_address) || !is_addrtype(plan.origin_addrtype))) {
        return "SDP rewrite: origin address or address type invalid";
    }
    for (size_t i = 0; i < sd.medias.size(); ++i) {
        if (!is_relayed(sd, plan, i)) {
            continue;
        }
        std::string error = check_media(sd.medias[i], plan.medias[i], i);
        if (!error.empty()) {
            return error;
        }
    }
    return {};
}

}  // namespace rtprelay::sdp::detail
