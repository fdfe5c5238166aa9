#include "bench/loadgen/endpoint_sdp.h"

#include "control/sdes/crypto_attr.h"
#include "control/sdp/sdp.h"

namespace rtprelay::loadgen {

std::string build_endpoint_sdp(const endpoint_sdp_params& p) {
    const std::string addrtype = sdp_addrtype(p.address);
    const std::string session = std::to_string(p.session_id);
    std::string s;
    s.reserve(320);
    s += "v=0\r\n";
    s += "o=- " + session + " " + session + " IN " + addrtype + " " + p.address + "\r\n";
    s += "s=rtprelay-loadgen\r\n";
    s += "c=IN " + addrtype + " " + p.address + "\r\n";
    s += "t=0 0\r\n";
    s += "m=audio " + std::to_string(p.rtp_port) + (p.srtp_key ? " RTP/SAVP" : " RTP/AVP") + " 0 8 101\r\n";
    s += "a=rtpmap:0 PCMU/8000\r\n";
    s += "a=rtpmap:8 PCMA/8000\r\n";
    s += "a=rtpmap:101 telephone-event/8000\r\n";
    s += "a=fmtp:101 0-16\r\n";
    s += "a=ptime:" + std::to_string(p.ptime_ms) + "\r\n";
    if (p.rtcp_port != 0) {
        s += "a=rtcp:" + std::to_string(p.rtcp_port) + "\r\n";
    }
    if (p.srtp_key) {
        sdes::crypto_attr a;
        a.tag = 1;
        a.crypto_suite = dp::srtp::suite::aes_cm_128_hmac_sha1_80;
        a.key = *p.srtp_key;
        s += "a=crypto:" + sdes::format_crypto(a) + "\r\n";
    }
    s += "a=sendrecv\r\n";
    return s;
}

std::optional<media_target> find_media_target(std::string_view text, std::string* error, bool want_srtp) {
    std::optional<sdp::session_description> sd = sdp::parse(text, error);
    if (!sd) {
        return std::nullopt;
    }
    for (size_t i = 0; i < sd->medias.size(); ++i) {
        const sdp::media& m = sd->medias[i];
        if (m.type != "audio" || m.port == 0) {
            continue;
        }
        const sdp::connection* c = sdp::effective_connection(*sd, i);
        if (c == nullptr) {
            *error = "relay SDP: audio stream without c=";
            return std::nullopt;
        }
        media_target t;
        if (!make_address(c->address, m.port, &t.rtp)) {
            *error = "relay SDP: c= address is not an IP literal: " + c->address;
            return std::nullopt;
        }
        uint16_t rtcp_port = m.rtcp_mux ? m.port : static_cast<uint16_t>(m.port + 1);
        if (m.rtcp_port) {
            rtcp_port = *m.rtcp_port;
        }
        const std::string& rtcp_addr = m.rtcp_conn ? m.rtcp_conn->address : c->address;
        if (!make_address(rtcp_addr, rtcp_port, &t.rtcp)) {
            *error = "relay SDP: a=rtcp address is not an IP literal: " + rtcp_addr;
            return std::nullopt;
        }
        std::string first_reason;
        for (const sdp::crypto_line& line : m.crypto) {
            std::string why;
            if (std::optional<sdes::crypto_attr> a = sdes::parse_crypto(line.value, {}, &why)) {
                t.srtp_key = a->key;
                t.srtp_suite = a->crypto_suite;
                break;
            }
            if (first_reason.empty()) {
                first_reason = why;
            }
        }
        if (want_srtp && !t.srtp_key) {
            *error = "relay SDP: no usable a=crypto line" +
                     (first_reason.empty() ? std::string() : " (" + first_reason + ")");
            return std::nullopt;
        }
        return t;
    }
    *error = "relay SDP: no active audio stream";
    return std::nullopt;
}

}  // namespace rtprelay::loadgen
