// The native engine: RFC 3711 transforms on our AES-CTR and HMAC-SHA1 (aes_ctr.h,
// hmac_sha1.h). Order in every function: parse and bound-check, find the SSRC's slot,
// estimate and check the index, then (unprotect) authenticate, and only then touch the
// packet and the state. Nothing before the last step writes anything.

#include <openssl/crypto.h>

#include <cstring>

#include "dataplane/srtp/engines.h"
#include "dataplane/srtp/kdf.h"
#include "dataplane/srtp/packet.h"

namespace rtprelay::dp::srtp::detail {

namespace {

constexpr size_t session_auth_key_len = 20;  // bytes (RFC 3711 8.2: n_a = 160)

}  // namespace

// The SSRC's slot, or the next free one (whose window is empty: unclaimed slots are never
// written) with *is_new set; nullptr when the SSRC is new and all slots are taken.
context::slot* native::find_slot(context& c, uint32_t ssrc, bool* is_new) noexcept {
    context::slot* s = c.slots_.data();
    for (uint32_t i = 0; i < c.n_slots_; ++i) {
        if (s[i].ssrc == ssrc) {
            *is_new = false;
            return &s[i];
        }
    }
    *is_new = true;
    return c.n_slots_ < max_ssrcs ? &s[c.n_slots_] : nullptr;
}

void native::commit(context& c, context::slot* s, bool is_new, uint32_t ssrc, uint64_t index) noexcept {
    if (is_new) {
        s->ssrc = ssrc;
        ++c.n_slots_;
    }
    s->seen.add(index);
}

// RFC 3711 4.1.1: IV = (k_s * 2^16) XOR (SSRC * 2^64) XOR (i * 2^16), 16 bytes big-endian.
void native::make_iv(const context& c, uint32_t ssrc, uint64_t index, uint8_t iv[16]) noexcept {
    std::memcpy(iv, c.salt_.data(), 14);
    iv[14] = 0;
    iv[15] = 0;
    iv[4] ^= static_cast<uint8_t>(ssrc >> 24);
    iv[5] ^= static_cast<uint8_t>(ssrc >> 16);
    iv[6] ^= static_cast<uint8_t>(ssrc >> 8);
    iv[7] ^= static_cast<uint8_t>(ssrc);
    for (int i = 0; i < 6; ++i) {
        iv[13 - i] ^= static_cast<uint8_t>(index >> (8 * i));
    }
}

void native::init(context& c, const master_key& key, aes_impl aes) {
    const auto enc = c.rtcp_ ? kdf_label::rtcp_encryption : kdf_label::rtp_encryption;
    const auto auth = c.rtcp_ ? kdf_label::rtcp_auth : kdf_label::rtp_auth;
    const auto salt = c.rtcp_ ? kdf_label::rtcp_salt : kdf_label::rtp_salt;
    uint8_t k_e[16];
    uint8_t k_a[session_auth_key_len];
    derive_session_key(key.key.data(), key.salt.data(), enc, k_e, sizeof(k_e));
    derive_session_key(key.key.data(), key.salt.data(), auth, k_a, sizeof(k_a));
    derive_session_key(key.key.data(), key.salt.data(), salt, c.salt_.data(), c.salt_.size());
    c.cipher_.set_key(k_e, aes);
    c.auth_.set_key(k_a, sizeof(k_a));
    OPENSSL_cleanse(k_e, sizeof(k_e));
    OPENSSL_cleanse(k_a, sizeof(k_a));
}

result native::unprotect_rtp(context& c, uint8_t* pkt, uint32_t* len) noexcept {
    const uint32_t tag_len = c.tag_len_;
    const uint32_t n = *len;
    if (n < rtp_fixed_header_len + tag_len) {
        return result::too_short;
    }
    const uint32_t auth_len = n - tag_len;  // header + encrypted payload
    uint32_t header_len = 0;
    if (const result r = rtp_header_len(pkt, auth_len, &header_len); r != result::ok) {
        return r;
    }
    const uint32_t ssrc = load_be32(pkt + 8);
    bool is_new = false;
    context::slot* s = find_slot(c, ssrc, &is_new);
    if (s == nullptr) {
        return result::ssrc_limit;
    }
    const uint64_t index = estimate_index(s->seen, load_be16(pkt + 2));
    if (index > max_srtp_index || s->seen.check(index) != index_window::verdict::fresh) {
        return result::replay;
    }
    // Tag = HMAC(header || encrypted payload || ROC), truncated (RFC 3711 4.2).
    uint8_t roc[4];
    store_be32(roc, static_cast<uint32_t>(index >> 16));
    uint8_t tag[hmac_sha1::digest_len];
    c.auth_.compute(pkt, auth_len, roc, sizeof(roc), tag);
    if (CRYPTO_memcmp(tag, pkt + auth_len, tag_len) != 0) {
        return result::auth_failed;
    }
    uint8_t iv[16];
    make_iv(c, ssrc, index, iv);
    c.cipher_.apply(iv, pkt + header_len, pkt + header_len, auth_len - header_len);
    *len = auth_len;
    commit(c, s, is_new, ssrc, index);
    return result::ok;
}

result native::protect_rtp(context& c, uint8_t* pkt, uint32_t* len, uint32_t room) noexcept {
    const uint32_t tag_len = c.tag_len_;
    const uint32_t n = *len;
    uint32_t header_len = 0;
    if (const result r = rtp_header_len(pkt, n, &header_len); r != result::ok) {
        return r;
    }
    if (room < tag_len) {
        return result::no_room;
    }
    const uint32_t ssrc = load_be32(pkt + 8);
    bool is_new = false;
    context::slot* s = find_slot(c, ssrc, &is_new);
    if (s == nullptr) {
        return result::ssrc_limit;
    }
    // The same estimate as a receiver makes, against the highest index sent: a relayed
    // stream keeps its sequence numbers, so its wraps become our ROC increments.
    const uint64_t index = estimate_index(s->seen, load_be16(pkt + 2));
    if (index > max_srtp_index || s->seen.check(index) != index_window::verdict::fresh) {
        return result::index_reuse;
    }
    uint8_t iv[16];
    make_iv(c, ssrc, index, iv);
    c.cipher_.apply(iv, pkt + header_len, pkt + header_len, n - header_len);
    uint8_t roc[4];
    store_be32(roc, static_cast<uint32_t>(index >> 16));
    uint8_t tag[hmac_sha1::digest_len];
    c.auth_.compute(pkt, n, roc, sizeof(roc), tag);
    std::memcpy(pkt + n, tag, tag_len);
    *len = n + tag_len;
    commit(c, s, is_new, ssrc, index);
    return result::ok;
}

result native::unprotect_rtcp(context& c, uint8_t* pkt, uint32_t* len) noexcept {
    const uint32_t tag_len = c.tag_len_;
    const uint32_t n = *len;
    if (n < rtcp_header_len + srtcp_trailer_len + tag_len) {
        return result::too_short;
    }
    if (!rtcp_version_ok(pkt)) {
        return result::bad_header;
    }
    const uint32_t auth_len = n - tag_len;  // header + payload + E/index
    const uint32_t payload_end = auth_len - srtcp_trailer_len;
    const uint32_t trailer = load_be32(pkt + payload_end);
    const bool encrypted = (trailer >> 31) != 0;
    const uint64_t index = trailer & max_srtcp_index;
    const uint32_t ssrc = load_be32(pkt + 4);
    bool is_new = false;
    context::slot* s = find_slot(c, ssrc, &is_new);
    if (s == nullptr) {
        return result::ssrc_limit;
    }
    if (s->seen.check(index) != index_window::verdict::fresh) {
        return result::replay;
    }
    // Tag = HMAC(header || payload || E || index) (RFC 3711 3.4).
    uint8_t tag[hmac_sha1::digest_len];
    c.auth_.compute(pkt, auth_len, nullptr, 0, tag);
    if (CRYPTO_memcmp(tag, pkt + auth_len, tag_len) != 0) {
        return result::auth_failed;
    }
    // E = 0: the sender chose not to encrypt this one; it authenticated, so take it as is.
    if (encrypted) {
        uint8_t iv[16];
        make_iv(c, ssrc, index, iv);
        c.cipher_.apply(iv, pkt + rtcp_header_len, pkt + rtcp_header_len, payload_end - rtcp_header_len);
    }
    *len = payload_end;
    commit(c, s, is_new, ssrc, index);
    return result::ok;
}

result native::protect_rtcp(context& c, uint8_t* pkt, uint32_t* len, uint32_t room) noexcept {
    const uint32_t tag_len = c.tag_len_;
    const uint32_t n = *len;
    if (n < rtcp_header_len) {
        return result::too_short;
    }
    if (!rtcp_version_ok(pkt)) {
        return result::bad_header;
    }
    if (room < srtcp_trailer_len + tag_len) {
        return result::no_room;
    }
    const uint32_t ssrc = load_be32(pkt + 4);
    bool is_new = false;
    context::slot* s = find_slot(c, ssrc, &is_new);
    if (s == nullptr) {
        return result::ssrc_limit;
    }
    // Our own counter per SSRC, from 0 (RFC 3711 3.4); after 2^31 packets the key is spent.
    const uint64_t index = s->seen.empty() ? 0 : s->seen.top() + 1;
    if (index > max_srtcp_index) {
        return result::index_reuse;
    }
    uint8_t iv[16];
    make_iv(c, ssrc, index, iv);
    c.cipher_.apply(iv, pkt + rtcp_header_len, pkt + rtcp_header_len, n - rtcp_header_len);
    store_be32(pkt + n, 0x80000000u | static_cast<uint32_t>(index));
    uint8_t tag[hmac_sha1::digest_len];
    c.auth_.compute(pkt, n + srtcp_trailer_len, nullptr, 0, tag);
    std::memcpy(pkt + n + srtcp_trailer_len, tag, tag_len);
    *len = n + srtcp_trailer_len + tag_len;
    commit(c, s, is_new, ssrc, index);
    return result::ok;
}

std::optional<uint64_t> native::highest_index(const context& c, uint32_t ssrc) noexcept {
    for (uint32_t i = 0; i < c.n_slots_; ++i) {
        if (c.slots_[i].ssrc == ssrc && !c.slots_[i].seen.empty()) {
            return c.slots_[i].seen.top();
        }
    }
    return std::nullopt;
}

// The checks unprotect makes before its HMAC, without the HMAC, plus the distance check.
precheck native::precheck_rtp(const context& c, const uint8_t* pkt, uint32_t len) noexcept {
    uint32_t header_len = 0;
    if (len < rtp_fixed_header_len + c.tag_len_ || rtp_header_len(pkt, len - c.tag_len_, &header_len) != result::ok) {
        return precheck::free_drop;
    }
    const uint32_t ssrc = load_be32(pkt + 8);
    for (uint32_t i = 0; i < c.n_slots_; ++i) {
        const index_window& w = c.slots_[i].seen;
        if (c.slots_[i].ssrc != ssrc) {
            continue;
        }
        const uint64_t index = estimate_index(w, load_be16(pkt + 2));
        if (index > max_srtp_index || w.check(index) != index_window::verdict::fresh) {
            return precheck::free_drop;
        }
        return w.empty() || index <= w.top() + plausible_jump ? precheck::plausible : precheck::doubtful;
    }
    if (c.n_slots_ >= max_ssrcs) {
        return precheck::free_drop;
    }
    return c.n_slots_ == 0 ? precheck::plausible : precheck::doubtful;
}

precheck native::precheck_rtcp(const context& c, const uint8_t* pkt, uint32_t len) noexcept {
    if (len < rtcp_header_len + srtcp_trailer_len + c.tag_len_ || !rtcp_version_ok(pkt)) {
        return precheck::free_drop;
    }
    const uint64_t index = load_be32(pkt + len - c.tag_len_ - srtcp_trailer_len) & max_srtcp_index;
    const uint32_t ssrc = load_be32(pkt + 4);
    for (uint32_t i = 0; i < c.n_slots_; ++i) {
        const index_window& w = c.slots_[i].seen;
        if (c.slots_[i].ssrc != ssrc) {
            continue;
        }
        if (w.check(index) != index_window::verdict::fresh) {
            return precheck::free_drop;
        }
        return w.empty() || index <= w.top() + plausible_jump ? precheck::plausible : precheck::doubtful;
    }
    if (c.n_slots_ >= max_ssrcs) {
        return precheck::free_drop;
    }
    return c.n_slots_ == 0 ? precheck::plausible : precheck::doubtful;
}

}  // namespace rtprelay::dp::srtp::detail
