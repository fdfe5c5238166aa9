#include "bench/loadgen/srtp_streams.h"

#include <cstring>

namespace rtprelay::loadgen {

namespace {

namespace srtp = dp::srtp;

constexpr size_t max_packet = 2048;  // bytes: the largest RTP packet the generator handles

// Streams 2k and 2k+1 are the k-th call's: the first 2 * `check_calls` SRTP streams are
// checked (with --srtp, both streams of the first `check_calls` calls).
bool checked(size_t srtp_streams_before, uint32_t check_calls) { return srtp_streams_before / 2 < check_calls; }

}  // namespace

srtp_sender::srtp_sender(const stream_set& streams, uint32_t check_calls)
    : ctx_(streams.streams.size()), check_(streams.streams.size()), plain_(max_packet), copy_(max_packet) {
    size_t srtp_streams = 0;
    for (size_t i = 0; i < streams.streams.size(); ++i) {
        const stream_plan& s = streams.streams[i];
        if (!s.send_srtp) {
            continue;  // a plain leg (--srtp-mix): sent as it is
        }
        // What this endpoint offered: AES_CM_128_HMAC_SHA1_80 (endpoint_sdp.cc).
        ctx_[i] = srtp::make_context(srtp::engine::native, srtp::suite::aes_cm_128_hmac_sha1_80, s.send_key, false);
        if (checked(srtp_streams++, check_calls)) {
            check_[i] =
                srtp::make_context(srtp::engine::libsrtp2, srtp::suite::aes_cm_128_hmac_sha1_80, s.send_key, false);
        }
    }
}

bool srtp_sender::protect(uint32_t stream, uint8_t* pkt, uint32_t* len, uint32_t room) {
    if (ctx_[stream] == nullptr) {
        return true;  // a plain leg
    }
    srtp::context* check = check_[stream].get();
    const uint32_t plain_len = *len;
    if (check != nullptr && plain_len <= max_packet) {
        std::memcpy(plain_.data(), pkt, plain_len);
    }
    if (srtp::protect_rtp(*ctx_[stream], pkt, len, room) != srtp::result::ok) {
        ++errors_;
        return false;
    }
    if (check != nullptr && *len <= max_packet && plain_len <= max_packet) {
        std::memcpy(copy_.data(), pkt, *len);
        uint32_t copy_len = *len;
        const srtp::result r = srtp::unprotect_rtp(*check, copy_.data(), &copy_len);
        ++checks_.checked;
        if (r != srtp::result::ok || copy_len != plain_len ||
            std::memcmp(copy_.data(), plain_.data(), plain_len) != 0) {
            ++checks_.mismatched;
        }
    }
    return true;
}

srtp_receiver::srtp_receiver(const stream_set& streams, uint32_t check_calls)
    : ctx_(streams.streams.size()), check_(streams.streams.size()), copy_(max_packet) {
    size_t srtp_streams = 0;
    for (size_t i = 0; i < streams.streams.size(); ++i) {
        const stream_plan& s = streams.streams[i];
        if (!s.recv_srtp) {
            continue;  // a plain leg (--srtp-mix): measured as it arrives
        }
        ctx_[i] = srtp::make_context(srtp::engine::native, s.recv_suite, s.recv_key, false);
        if (checked(srtp_streams++, check_calls)) {
            check_[i] = srtp::make_context(srtp::engine::libsrtp2, s.recv_suite, s.recv_key, false);
        }
    }
}

srtp::result srtp_receiver::unprotect(uint32_t stream, uint8_t* pkt, uint32_t* len) {
    if (ctx_[stream] == nullptr) {
        return srtp::result::ok;  // a plain leg
    }
    srtp::context* check = check_[stream].get();
    const uint32_t in_len = *len;
    const bool checking = check != nullptr && in_len <= max_packet;
    if (checking) {
        std::memcpy(copy_.data(), pkt, in_len);
    }
    const srtp::result r = srtp::unprotect_rtp(*ctx_[stream], pkt, len);
    if (r != srtp::result::ok) {
        ++failures_;
    }
    if (checking) {
        uint32_t copy_len = in_len;
        const srtp::result lr = srtp::unprotect_rtp(*check, copy_.data(), &copy_len);
        ++checks_.checked;
        if (lr != srtp::result::ok) {
            ++checks_.refused;
        }
        // Both accept with the same plaintext, or both refuse (a replay, a damaged packet).
        const bool agree = (r == srtp::result::ok) == (lr == srtp::result::ok) &&
                           (r != srtp::result::ok || (copy_len == *len && std::memcmp(copy_.data(), pkt, *len) == 0));
        if (!agree) {
            ++checks_.mismatched;
        }
    }
    return r;
}

}  // namespace rtprelay::loadgen
