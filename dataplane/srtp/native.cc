// The native engine: RFC 3711 transforms on our AES-CTR and HMAC-SHA1 (aes_ctr.h,
// hmac_sha1.h). Order in every function: the checks of checks.h (parse, SSRC slot, index,
// replay), then (unprotect) authenticate, and only then touch the packet and the state.
// Nothing before the last step writes anything.

#include <openssl/crypto.h>

#include <cstring>

#include "dataplane/srtp/checks.h"
#include "dataplane/srtp/engines.h"
#include "dataplane/srtp/kdf.h"
#include "dataplane/srtp/packet.h"

namespace rtprelay::dp::srtp::detail {

namespace {

constexpr size_t session_auth_key_len = 20;  // bytes (RFC 3711 8.2: n_a = 160)

}  // namespace

namespace {
// What a new SSRC's checks run against: an empty window (the real slot is only taken once
// the packet has passed them, see reserve()).
const ssrc_slot empty_slot{};
}  // namespace

// The SSRC's slot, or (*is_new set) an empty stand-in when the SSRC is new and the context
// can still take it; nullptr when it cannot: all max_ssrcs slots used, or its overflow chunk
// is needed and the pool has none free. Writes nothing.
const context::slot* native::find_slot(const context& c, uint32_t ssrc, bool* is_new) noexcept {
    const uint32_t n = c.n_slots_;
    if (n != 0 && c.first_.ssrc == ssrc) [[likely]] {
        *is_new = false;
        return &c.first_;
    }
    for (uint32_t i = 1; i < n; ++i) {
        if (c.more_[i - 1].ssrc == ssrc) {
            *is_new = false;
            return &c.more_[i - 1];
        }
    }
    *is_new = true;
    if (n >= max_ssrcs || (n != 0 && c.more_ == nullptr && !ssrc_pool::instance().maybe_available())) {
        return nullptr;
    }
    return &empty_slot;
}

// Makes room for a new SSRC: takes the overflow chunk if this is the second. False when the
// pool has none left (then nothing changed).
bool native::reserve(context& c) noexcept {
    if (c.n_slots_ == 0 || c.more_ != nullptr) {
        return true;
    }
    uint32_t id = 0;
    ssrc_pool::chunk* chunk = ssrc_pool::instance().claim(&id);
    if (chunk == nullptr) {
        return false;
    }
    c.more_ = chunk->slots;
    c.chunk_id_ = id;
    return true;
}

// Records `index` for the SSRC; a new one (reserve() said yes) gets the next slot.
void native::commit(context& c, const context::slot* s, bool is_new, uint32_t ssrc, uint64_t index) noexcept {
    context::slot* w = nullptr;
    if (is_new) {
        w = c.slot_at(c.n_slots_);
        w->ssrc = ssrc;
        ++c.n_slots_;
    } else {
        w = const_cast<context::slot*>(s);  // one of c's own slots
    }
    w->seen.add(index);
}

void native::init(context& c, const master_key& key) {
    uint8_t k_e[16];
    uint8_t k_a[session_auth_key_len];
    derive_session_keys(key.key.data(), key.salt.data(), c.rtcp_, k_e, k_a, c.salt_.data());
    c.auth_.set_key(k_a, sizeof(k_a));
    if (c.aes_ == aes_impl::aesni) {
        if (c.rtcp_) {
            std::memcpy(c.key_.rtcp_key, k_e, sizeof(k_e));
        } else {
            aesni_expand_key(k_e, c.tail());
        }
    } else {
        c.key_.cipher = new aes128_ctr();
        c.key_.cipher->set_key(k_e, aes_impl::openssl);
    }
    OPENSSL_cleanse(k_e, sizeof(k_e));
    OPENSSL_cleanse(k_a, sizeof(k_a));
}

// The round keys for a cipher pass: the RTP context's own, or (SRTCP) expanded into
// `scratch` (176 bytes, 16-aligned), which the caller wipes after use. AES-NI only.
const uint8_t* native::round_keys(const context& c, uint8_t* scratch) noexcept {
    if (!c.rtcp_) [[likely]] {
        return c.tail();
    }
    aesni_expand_key(c.key_.rtcp_key, scratch);
    return scratch;
}

void native::cipher(const context& c, const uint8_t iv[16], uint8_t* data, size_t len) noexcept {
    if (c.aes_ != aes_impl::aesni) [[unlikely]] {
        c.key_.cipher->apply(iv, data, data, len);
        return;
    }
    if (!c.rtcp_) [[likely]] {
        aesni_ctr(c.tail(), iv, data, data, len);
        return;
    }
    alignas(16) uint8_t rk[aes128_round_keys_len];
    aesni_expand_key(c.key_.rtcp_key, rk);
    aesni_ctr(rk, iv, data, data, len);
    OPENSSL_cleanse(rk, sizeof(rk));
}

result native::unprotect_rtp(context& c, uint8_t* pkt, uint32_t* len) noexcept {
    packet_plan p;
    if (const result r = check_unprotect(c, false, pkt, *len, &p); r != result::ok) {
        return r;
    }
    // Tag = HMAC(header || encrypted payload || ROC), truncated (RFC 3711 4.2).
    uint8_t roc[4];
    store_be32(roc, static_cast<uint32_t>(p.index >> 16));
    uint8_t tag[hmac_sha1::digest_len];
    c.auth_.compute(pkt, p.auth_len, roc, sizeof(roc), tag);
    if (CRYPTO_memcmp(tag, pkt + p.auth_len, c.tag_len_) != 0) {
        return result::auth_failed;
    }
    if (p.is_new && !reserve(c)) {
        return result::ssrc_limit;
    }
    uint8_t iv[16];
    make_iv(c.salt_.data(), p.ssrc, p.index, iv);
    cipher(c, iv, pkt + p.header_len, p.clear_end - p.header_len);
    *len = p.clear_end;
    commit(c, p.slot, p.is_new, p.ssrc, p.index);
    return result::ok;
}

result native::protect_rtp(context& c, uint8_t* pkt, uint32_t* len, uint32_t room) noexcept {
    const uint32_t n = *len;
    packet_plan p;
    if (const result r = check_protect(c, false, pkt, n, room, &p); r != result::ok) {
        return r;
    }
    if (p.is_new && !reserve(c)) {
        return result::ssrc_limit;
    }
    uint8_t iv[16];
    make_iv(c.salt_.data(), p.ssrc, p.index, iv);
    cipher(c, iv, pkt + p.header_len, n - p.header_len);
    uint8_t roc[4];
    store_be32(roc, static_cast<uint32_t>(p.index >> 16));
    uint8_t tag[hmac_sha1::digest_len];
    c.auth_.compute(pkt, n, roc, sizeof(roc), tag);
    std::memcpy(pkt + n, tag, c.tag_len_);
    *len = n + c.tag_len_;
    commit(c, p.slot, p.is_new, p.ssrc, p.index);
    return result::ok;
}

result native::unprotect_rtcp(context& c, uint8_t* pkt, uint32_t* len) noexcept {
    packet_plan p;
    if (const result r = check_unprotect(c, true, pkt, *len, &p); r != result::ok) {
        return r;
    }
    // Tag = HMAC(header || payload || E || index) (RFC 3711 3.4).
    uint8_t tag[hmac_sha1::digest_len];
    c.auth_.compute(pkt, p.auth_len, nullptr, 0, tag);
    if (CRYPTO_memcmp(tag, pkt + p.auth_len, c.tag_len_) != 0) {
        return result::auth_failed;
    }
    if (p.is_new && !reserve(c)) {
        return result::ssrc_limit;
    }
    // E = 0: the sender chose not to encrypt this one; it authenticated, so take it as is.
    if (p.encrypted) {
        uint8_t iv[16];
        make_iv(c.salt_.data(), p.ssrc, p.index, iv);
        cipher(c, iv, pkt + p.header_len, p.clear_end - p.header_len);
    }
    *len = p.clear_end;
    commit(c, p.slot, p.is_new, p.ssrc, p.index);
    return result::ok;
}

result native::protect_rtcp(context& c, uint8_t* pkt, uint32_t* len, uint32_t room) noexcept {
    const uint32_t n = *len;
    packet_plan p;
    if (const result r = check_protect(c, true, pkt, n, room, &p); r != result::ok) {
        return r;
    }
    if (p.is_new && !reserve(c)) {
        return result::ssrc_limit;
    }
    uint8_t iv[16];
    make_iv(c.salt_.data(), p.ssrc, p.index, iv);
    cipher(c, iv, pkt + p.header_len, n - p.header_len);
    store_be32(pkt + n, 0x80000000u | static_cast<uint32_t>(p.index));
    uint8_t tag[hmac_sha1::digest_len];
    c.auth_.compute(pkt, n + srtcp_trailer_len, nullptr, 0, tag);
    std::memcpy(pkt + n + srtcp_trailer_len, tag, c.tag_len_);
    *len = n + srtcp_trailer_len + c.tag_len_;
    commit(c, p.slot, p.is_new, p.ssrc, p.index);
    return result::ok;
}

std::optional<uint64_t> native::highest_index(const context& c, uint32_t ssrc) noexcept {
    bool is_new = false;
    const context::slot* s = find_slot(c, ssrc, &is_new);
    if (s == nullptr || is_new || s->seen.empty()) {
        return std::nullopt;
    }
    return s->seen.top();
}

// The checks unprotect makes before its HMAC (the same function), without the HMAC, plus
// the distance check.
namespace {
precheck precheck_of(const context& c, bool rtcp, const uint8_t* pkt, uint32_t len) noexcept {
    packet_plan p;
    if (check_unprotect(c, rtcp, pkt, len, &p) != result::ok) {
        return precheck::free_drop;  // malformed, replayed, too old, or SSRC table full
    }
    if (p.is_new) {
        return c.ssrc_count() == 0 ? precheck::plausible : precheck::doubtful;
    }
    const index_window& w = p.slot->seen;
    return w.empty() || p.index <= w.top() + plausible_jump ? precheck::plausible : precheck::doubtful;
}
}  // namespace

precheck native::precheck_rtp(const context& c, const uint8_t* pkt, uint32_t len) noexcept {
    return precheck_of(c, false, pkt, len);
}

precheck native::precheck_rtcp(const context& c, const uint8_t* pkt, uint32_t len) noexcept {
    return precheck_of(c, true, pkt, len);
}

}  // namespace rtprelay::dp::srtp::detail
