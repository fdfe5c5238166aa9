// The libsrtp2 engine: the same API on the system libsrtp2, one session per direction with a
// wildcard SSRC (any_inbound for unprotect, any_outbound for protect), so libsrtp2 keeps the
// rollover counters and windows. Every suite of the table, with its MKI when the key has one
// (libsrtp2's *_mki calls). Length and header checks are ours (parse_unprotect /
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

constexpr unsigned long replay_window = 128;          // packets; as index_window::size
constexpr uint32_t max_len = INT_MAX - max_overhead;  // libsrtp2 takes lengths as int

// libsrtp2 decrypts AES-GCM in place before it knows whether the tag is right: an AEAD
// packet is copied to the caller's stack first and put back when it fails, as the API
// promises. On the stack (~2 KB), not in a thread_local: static TLS is carved out of every
// thread's stack, and a 64 KB one overflowed the 100 KB stacks of the metrics server's
// civetweb threads. No received packet is longer than an mbuf's data room (2048 bytes,
// RTE_MBUF_DEFAULT_DATAROOM); max_overhead on top lets a packet of that size that we
// protected be unprotected again. A longer AEAD packet is refused.
constexpr uint32_t max_aead_len = 2048 + max_overhead;

std::once_flag library_once;

void init_library() {
    std::call_once(library_once, [] {
        if (const srtp_err_status_t st = srtp_init(); st != srtp_err_status_ok) {
            throw std::runtime_error("srtp_init failed: " + std::to_string(st));
        }
    });
}

// The libsrtp2 policies of each suite, from the suite table (called, not named: some of
// libsrtp2's setters are function-like macros).
struct suite_policies {
    void (*rtp)(srtp_crypto_policy_t*);
    void (*rtcp)(srtp_crypto_policy_t*);
};
constexpr suite_policies policies[] = {
#define SRTP_SUITE(id, name, kind, mk, ms, sk, ss, sa, rtp_tag, rtcp_tag, rtp_policy, rtcp_policy) \
    {[](srtp_crypto_policy_t* p) { rtp_policy(p); }, [](srtp_crypto_policy_t* p) { rtcp_policy(p); }},
#include "dataplane/srtp/suites.def"
#undef SRTP_SUITE
};
static_assert(sizeof(policies) / sizeof(policies[0]) == suite_count);

// A session for one of our contexts: an SRTP one uses its RTP half, an SRTCP one its RTCP
// half. The SRTCP context's session gets the suite's SRTCP policy for both halves: libsrtp2
// 2.5 looks for an SRTCP packet's MKI at the SRTP tag's distance from the end, so with the
// _32 suites (4-byte SRTP tag, 10-byte SRTCP tag) it would refuse every MKI, its own too.
srtp_t create_session(const master_key& key, suite s, bool rtcp, srtp_ssrc_type_t type) {
    const suite_info& si = info(s);
    srtp_policy_t policy;
    std::memset(&policy, 0, sizeof(policy));
    const suite_policies& p = policies[static_cast<size_t>(s)];
    (rtcp ? p.rtcp : p.rtp)(&policy.rtp);
    p.rtcp(&policy.rtcp);
    policy.ssrc.type = type;
    uint8_t material[max_master_key_len + max_master_salt_len];
    std::memcpy(material, key.key.data(), si.master_key_len);
    std::memcpy(material + si.master_key_len, key.salt.data(), si.master_salt_len);
    // With an MKI libsrtp2 takes the key through its master key list.
    uint8_t mki[max_mki_len];
    std::memcpy(mki, key.mki.data(), sizeof(mki));
    srtp_master_key_t with_mki{material, mki, key.mki_len};
    srtp_master_key_t* keys[1] = {&with_mki};
    if (key.mki_len != 0) {
        policy.keys = keys;
        policy.num_master_keys = 1;
    } else {
        policy.key = material;
    }
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
        case srtp_err_status_ok:
            return result::ok;
        case srtp_err_status_auth_fail:
        case srtp_err_status_cant_check:  // SRTCP E bit differs from the policy
            return result::auth_failed;
        case srtp_err_status_replay_fail:
        case srtp_err_status_replay_old:
            return result::replay;
        case srtp_err_status_bad_mki:
            return result::bad_mki;
        default:
            return result::bad_header;
    }
}

result from_protect(srtp_err_status_t st) noexcept {
    switch (st) {
        case srtp_err_status_ok:
            return result::ok;
        case srtp_err_status_replay_fail:
        case srtp_err_status_replay_old:
        case srtp_err_status_key_expired:
            return result::index_reuse;
        default:
            return result::bad_header;
    }
}

}  // namespace

libsrtp2::state& libsrtp2::st(context& c) noexcept { return *std::launder(reinterpret_cast<state*>(c.tail())); }
const libsrtp2::state& libsrtp2::st(const context& c) noexcept {
    return *std::launder(reinterpret_cast<const state*>(c.tail()));
}

bool libsrtp2::ssrc_allowed(const context& c, uint32_t ssrc) noexcept {
    for (uint32_t i = 0, n = c.n_slots(); i < n; ++i) {
        if (st(c).ssrcs[i] == ssrc) {
            return true;
        }
    }
    return c.n_slots() < max_ssrcs;
}

void libsrtp2::note_ssrc(context& c, uint32_t ssrc) noexcept {
    for (uint32_t i = 0, n = c.n_slots(); i < n; ++i) {
        if (st(c).ssrcs[i] == ssrc) {
            return;
        }
    }
    const uint32_t n = c.n_slots();
    st(c).ssrcs[n] = ssrc;  // ssrc_allowed() said there is room
    c.set_n_slots(n + 1);
}

void libsrtp2::init(context& c, const master_key& key) {
    init_library();
    new (c.tail()) state();
    st(c).in = create_session(key, c.suite_, c.rtcp(), ssrc_any_inbound);
    st(c).out = create_session(key, c.suite_, c.rtcp(), ssrc_any_outbound);
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

// RTP and RTCP differ only in which libsrtp2 call runs (same arguments, same results).
result libsrtp2::unprotect(context& c, bool rtcp, uint8_t* pkt, uint32_t* len) noexcept {
    const uint32_t n = *len;
    packet_plan p;
    if (const result r = parse_unprotect(c, rtcp, pkt, n, &p); r != result::ok) {
        return r;
    }
    if (n > max_len) {
        return result::bad_header;
    }
    if (!ssrc_allowed(c, p.ssrc)) {
        return result::ssrc_limit;
    }
    const bool aead = c.kind_ == transform::aes_gcm;
    if (aead && n > max_aead_len) {
        return result::bad_header;
    }
    uint8_t aead_saved[max_aead_len];
    if (aead) {
        std::memcpy(aead_saved, pkt, n);
    }
    int l = static_cast<int>(n);
    const unsigned use_mki = c.mki_len() != 0;
    const result r = from_unprotect(rtcp ? srtp_unprotect_rtcp_mki(st(c).in, pkt, &l, use_mki)
                                         : srtp_unprotect_mki(st(c).in, pkt, &l, use_mki));
    if (r == result::ok) {
        *len = static_cast<uint32_t>(l);
        note_ssrc(c, p.ssrc);
    } else if (aead) {
        std::memcpy(pkt, aead_saved, n);
    }
    return r;
}

result libsrtp2::protect(context& c, bool rtcp, uint8_t* pkt, uint32_t* len, uint32_t room) noexcept {
    const uint32_t n = *len;
    packet_plan p;
    if (const result r = parse_protect(c, rtcp, pkt, n, room, &p); r != result::ok) {
        return r;
    }
    if (n > max_len) {
        return result::bad_header;
    }
    if (!ssrc_allowed(c, p.ssrc)) {
        return result::ssrc_limit;
    }
    // libsrtp2 writes the MKI before its replay check: the room is put back on failure.
    uint8_t room_bytes[max_overhead];
    std::memcpy(room_bytes, pkt + n, c.overhead());
    int l = static_cast<int>(n);
    const unsigned use_mki = c.mki_len() != 0;
    const result r = from_protect(rtcp ? srtp_protect_rtcp_mki(st(c).out, pkt, &l, use_mki, 0)
                                       : srtp_protect_mki(st(c).out, pkt, &l, use_mki, 0));
    if (r == result::ok) {
        *len = static_cast<uint32_t>(l);
        note_ssrc(c, p.ssrc);
    } else {
        std::memcpy(pkt + n, room_bytes, c.overhead());
    }
    return r;
}

result libsrtp2::unprotect_rtp(context& c, uint8_t* pkt, uint32_t* len) noexcept {
    return unprotect(c, false, pkt, len);
}

result libsrtp2::protect_rtp(context& c, uint8_t* pkt, uint32_t* len, uint32_t room) noexcept {
    return protect(c, false, pkt, len, room);
}

result libsrtp2::unprotect_rtcp(context& c, uint8_t* pkt, uint32_t* len) noexcept {
    return unprotect(c, true, pkt, len);
}

result libsrtp2::protect_rtcp(context& c, uint8_t* pkt, uint32_t* len, uint32_t room) noexcept {
    return protect(c, true, pkt, len, room);
}

}  // namespace rtprelay::dp::srtp::detail

namespace rtprelay::dp::srtp {

void set_libsrtp2_policies(suite s, srtp_crypto_policy_t* rtp, srtp_crypto_policy_t* rtcp) {
    detail::policies[static_cast<size_t>(s)].rtp(rtp);
    detail::policies[static_cast<size_t>(s)].rtcp(rtcp);
}

}  // namespace rtprelay::dp::srtp
