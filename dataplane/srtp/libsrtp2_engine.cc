// The libsrtp2 engine: the same API on the system libsrtp2, one session per direction with a
// wildcard SSRC (any_inbound for unprotect, any_outbound for protect), so libsrtp2 keeps the
// rollover counters and windows. Length and header checks are ours (parse_unprotect /
// parse_protect, checks.h: the native engine's own first step), made before calling it, so
// both engines give the same result for the same malformed packet.

#include <openssl/crypto.h>
#include <srtp2/srtp.h>

#include <climits>
#include <cstring>
#include <mutex>
#include <new>
#include <stdexcept>
#include <string>

#include "dataplane/srtp/checks.h"
#include "dataplane/srtp/engines.h"
#include "dataplane/srtp/packet.h"

namespace rtprelay::dp::srtp::detail {

namespace {

constexpr unsigned long replay_window = 128;  // packets; as index_window::size
constexpr uint32_t max_len = INT_MAX - max_overhead;  // libsrtp2 takes lengths as int

std::once_flag library_once;

void init_library() {
    std::call_once(library_once, [] {
        if (const srtp_err_status_t st = srtp_init(); st != srtp_err_status_ok) {
            throw std::runtime_error("srtp_init failed: " + std::to_string(st));
        }
    });
}

srtp_t create_session(const master_key& key, suite s, srtp_ssrc_type_t type) {
    srtp_policy_t policy;
    std::memset(&policy, 0, sizeof(policy));
    if (s == suite::aes_cm_128_hmac_sha1_32) {
        srtp_crypto_policy_set_aes_cm_128_hmac_sha1_32(&policy.rtp);
    } else {
        srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&policy.rtp);
    }
    srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&policy.rtcp);  // SRTCP: 80-bit tag always
    policy.ssrc.type = type;
    uint8_t material[30];
    std::memcpy(material, key.key.data(), 16);
    std::memcpy(material + 16, key.salt.data(), 14);
    policy.key = material;
    policy.window_size = replay_window;
    policy.allow_repeat_tx = 0;
    srtp_t session = nullptr;
    const srtp_err_status_t st = srtp_create(&session, &policy);
    OPENSSL_cleanse(material, sizeof(material));
    if (st != srtp_err_status_ok) {
        throw std::runtime_error("srtp_create failed: " + std::to_string(st));
    }
    return session;
}

result from_unprotect(srtp_err_status_t st) noexcept {
    switch (st) {
        case srtp_err_status_ok: return result::ok;
        case srtp_err_status_auth_fail:
        case srtp_err_status_cant_check:  // SRTCP E bit differs from the policy
            return result::auth_failed;
        case srtp_err_status_replay_fail:
        case srtp_err_status_replay_old:
            return result::replay;
        default: return result::bad_header;
    }
}

result from_protect(srtp_err_status_t st) noexcept {
    switch (st) {
        case srtp_err_status_ok: return result::ok;
        case srtp_err_status_replay_fail:
        case srtp_err_status_replay_old:
        case srtp_err_status_key_expired:
            return result::index_reuse;
        default: return result::bad_header;
    }
}

}  // namespace

libsrtp2::state& libsrtp2::st(context& c) noexcept { return *std::launder(reinterpret_cast<state*>(c.tail())); }
const libsrtp2::state& libsrtp2::st(const context& c) noexcept {
    return *std::launder(reinterpret_cast<const state*>(c.tail()));
}

bool libsrtp2::ssrc_allowed(const context& c, uint32_t ssrc) noexcept {
    for (uint32_t i = 0; i < c.n_slots_; ++i) {
        if (st(c).ssrcs[i] == ssrc) {
            return true;
        }
    }
    return c.n_slots_ < max_ssrcs;
}

void libsrtp2::note_ssrc(context& c, uint32_t ssrc) noexcept {
    for (uint32_t i = 0; i < c.n_slots_; ++i) {
        if (st(c).ssrcs[i] == ssrc) {
            return;
        }
    }
    st(c).ssrcs[c.n_slots_++] = ssrc;  // ssrc_allowed() said there is room
}

void libsrtp2::init(context& c, const master_key& key) {
    init_library();
    new (c.tail()) state();
    st(c).in = create_session(key, c.suite_, ssrc_any_inbound);
    st(c).out = create_session(key, c.suite_, ssrc_any_outbound);
}

void libsrtp2::release(context& c) noexcept {
    if (st(c).in != nullptr) {
        srtp_dealloc(st(c).in);
        st(c).in = nullptr;
    }
    if (st(c).out != nullptr) {
        srtp_dealloc(st(c).out);
        st(c).out = nullptr;
    }
}

result libsrtp2::unprotect_rtp(context& c, uint8_t* pkt, uint32_t* len) noexcept {
    const uint32_t n = *len;
    packet_plan p;
    if (const result r = parse_unprotect(c, false, pkt, n, &p); r != result::ok) {
        return r;
    }
    if (n > max_len) {
        return result::bad_header;
    }
    if (!ssrc_allowed(c, p.ssrc)) {
        return result::ssrc_limit;
    }
    int l = static_cast<int>(n);
    const result r = from_unprotect(srtp_unprotect(st(c).in, pkt, &l));
    if (r == result::ok) {
        *len = static_cast<uint32_t>(l);
        note_ssrc(c, p.ssrc);
    }
    return r;
}

result libsrtp2::protect_rtp(context& c, uint8_t* pkt, uint32_t* len, uint32_t room) noexcept {
    const uint32_t n = *len;
    packet_plan p;
    if (const result r = parse_protect(c, false, pkt, n, room, &p); r != result::ok) {
        return r;
    }
    if (n > max_len) {
        return result::bad_header;
    }
    if (!ssrc_allowed(c, p.ssrc)) {
        return result::ssrc_limit;
    }
    int l = static_cast<int>(n);
    const result r = from_protect(srtp_protect(st(c).out, pkt, &l));
    if (r == result::ok) {
        *len = static_cast<uint32_t>(l);
        note_ssrc(c, p.ssrc);
    }
    return r;
}

result libsrtp2::unprotect_rtcp(context& c, uint8_t* pkt, uint32_t* len) noexcept {
    const uint32_t n = *len;
    packet_plan p;
    if (const result r = parse_unprotect(c, true, pkt, n, &p); r != result::ok) {
        return r;
    }
    if (n > max_len) {
        return result::bad_header;
    }
    if (!ssrc_allowed(c, p.ssrc)) {
        return result::ssrc_limit;
    }
    int l = static_cast<int>(n);
    const result r = from_unprotect(srtp_unprotect_rtcp(st(c).in, pkt, &l));
    if (r == result::ok) {
        *len = static_cast<uint32_t>(l);
        note_ssrc(c, p.ssrc);
    }
    return r;
}

result libsrtp2::protect_rtcp(context& c, uint8_t* pkt, uint32_t* len, uint32_t room) noexcept {
    const uint32_t n = *len;
    packet_plan p;
    if (const result r = parse_protect(c, true, pkt, n, room, &p); r != result::ok) {
        return r;
    }
    if (n > max_len) {
        return result::bad_header;
    }
    if (!ssrc_allowed(c, p.ssrc)) {
        return result::ssrc_limit;
    }
    int l = static_cast<int>(n);
    const result r = from_protect(srtp_protect_rtcp(st(c).out, pkt, &l));
    if (r == result::ok) {
        *len = static_cast<uint32_t>(l);
        note_ssrc(c, p.ssrc);
    }
    return r;
}

}  // namespace rtprelay::dp::srtp::detail
