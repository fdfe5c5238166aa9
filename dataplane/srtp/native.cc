// The native engine: RFC 3711 transforms on our AES-CTR and HMAC-SHA1 (aes_ctr.h,
// hmac_sha1.h), RFC 7714's on AES-GCM (aes_gcm.h). Order in every function: the checks of
// checks.h (parse with the MKI, SSRC slot, index, replay), then (unprotect) authenticate, and
// only then touch the packet and the state (AES-GCM authenticates and decrypts in one pass
// and puts the bytes back when the tag is wrong). Nothing before the last step writes
// anything that stays.

#include <openssl/crypto.h>

#include <cstring>

#include "dataplane/srtp/aes_gcm.h"
#include "dataplane/srtp/checks.h"
#include "dataplane/srtp/engines.h"
#include "dataplane/srtp/kdf.h"
#include "dataplane/srtp/packet.h"

namespace rtprelay::dp::srtp::detail {

namespace {
// What a new SSRC's checks run against: an empty window (the real slot is only taken once
// the packet has passed them, see reserve()).
const ssrc_slot empty_slot{};
}  // namespace

// The SSRC's slot, or (*is_new set) an empty stand-in when the SSRC is new and the context
// can still take it; nullptr when it cannot: all max_ssrcs slots used, or its overflow chunk
// is needed and the pool has none free. Writes nothing.
const context::slot* native::find_slot(const context& c, uint32_t ssrc, bool* is_new) noexcept {
    const uint32_t n = c.n_slots();
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
    if (c.n_slots() == 0 || c.more_ != nullptr) {
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
        const uint32_t n = c.n_slots();
        w = c.slot_at(n);
        w->ssrc = ssrc;
        w->seen.add(index);
        c.set_n_slots(n + 1);  // the slot is complete
        return;
    }
    w = const_cast<context::slot*>(s);  // one of c's own slots
    w->seen.add(index);
}

size_t native::indices(const context& c, context::ssrc_index* out, size_t max) noexcept {
    const uint32_t n = c.n_slots(std::memory_order_acquire);
    size_t k = 0;
    for (uint32_t i = 0; i < n && k < max; ++i) {
        const context::slot* s = c.slot_at(i);
        out[k++] = {s->ssrc, s->seen.top()};
    }
    return k;
}

bool native::seed(context& c, uint32_t ssrc, uint64_t index) noexcept {
    bool is_new = false;
    if (find_slot(c, ssrc, &is_new) == nullptr || !is_new || !reserve(c)) {
        return false;
    }
    const uint32_t n = c.n_slots();
    context::slot* w = c.slot_at(n);
    w->ssrc = ssrc;
    w->seen.seed(index);
    c.set_n_slots(n + 1);
    return true;
}

void native::init(context& c, const master_key& key) {
    session_keys k;
    derive_session_keys(c.suite_, key, c.rtcp(), &k);
    try {
        install(c, k);
    } catch (...) {
        OPENSSL_cleanse(&k, sizeof(k));
        throw;
    }
    OPENSSL_cleanse(&k, sizeof(k));
}

void native::install(context& c, const session_keys& k) {
    std::memcpy(c.salt_.data(), k.salt, info(c.suite_).session_salt_len);
    const bool gcm = c.kind_ == transform::aes_gcm;
    if (!gcm) {
        c.auth_.set_key(k.auth, sizeof(k.auth));
    }
    if (c.aes_ == aes_impl::aesni) {
        if (gcm) {
            gcm_precompute(k.enc, c.key_len(), c.tail());
        } else if (c.rtcp()) {
            std::memcpy(c.srtcp_key(), k.enc, c.key_len());
        } else {
            aesni_expand_key(k.enc, c.key_len(), c.tail());
        }
    } else if (gcm) {
        c.key_.gcm = new gcm_evp();  // owned from here on: ~context frees it if set_key throws
        c.key_.gcm->set_key(k.enc, c.key_len());
    } else {
        c.key_.ctr = new aes_ctr();
        c.key_.ctr->set_key(k.enc, c.key_len(), aes_impl::openssl);
    }
}

// The round keys for a cipher pass: the RTP context's own, or (SRTCP) expanded into
// `scratch` (max_aes_round_keys_len bytes, 16-aligned), which the caller wipes after use.
// AES-CM with AES-NI only.
const uint8_t* native::round_keys(const context& c, uint8_t* scratch) noexcept {
    if (!c.rtcp()) [[likely]] {
        return c.tail();
    }
    aesni_expand_key(c.srtcp_key(), c.key_len(), scratch);
    return scratch;
}

void native::cipher(const context& c, const uint8_t iv[16], uint8_t* data, size_t len) noexcept {
    if (c.aes_ != aes_impl::aesni) [[unlikely]] {
        c.key_.ctr->apply(iv, data, data, len);
        return;
    }
    if (!c.rtcp()) [[likely]] {
        aesni_ctr(c.tail(), c.key_len(), iv, data, data, len);
        return;
    }
    alignas(16) uint8_t rk[max_aes_round_keys_len];
    aesni_expand_key(c.srtcp_key(), c.key_len(), rk);
    aesni_ctr(rk, c.key_len(), iv, data, data, len);
    OPENSSL_cleanse(rk, sizeof(rk));
}

void native::seal(const context& c, const uint8_t iv[12], const uint8_t* aad, size_t aad_len, uint8_t* data, size_t len,
                  uint8_t* tag) noexcept {
    if (c.aes_ == aes_impl::aesni) [[likely]] {
        gcm_seal(c.tail(), c.key_len(), iv, aad, aad_len, data, len, tag);
    } else {
        c.key_.gcm->seal(iv, aad, aad_len, data, len, tag);
    }
}

bool native::open(const context& c, const uint8_t iv[12], const uint8_t* aad, size_t aad_len, uint8_t* data, size_t len,
                  const uint8_t* tag) noexcept {
    if (c.aes_ == aes_impl::aesni) [[likely]] {
        return gcm_open(c.tail(), c.key_len(), iv, aad, aad_len, data, len, tag);
    }
    return c.key_.gcm->open(iv, aad, aad_len, data, len, tag);
}

// SRTCP AES-GCM authenticates header || E/index (encrypted) or the whole clear packet ||
// E/index (E = 0, RFC 7714 9.2): one contiguous AAD, built in `aad` (12 bytes) or, for E = 0,
// by moving the E/index word up against the payload (over the tag's first bytes, which are
// saved in `tag` first). Returns the AAD's length; *at its start.
uint32_t native::srtcp_gcm_aad(uint8_t* pkt, const packet_plan& p, uint8_t aad[12], uint8_t tag[gcm_tag_len],
                               const uint8_t** at) noexcept {
    std::memcpy(tag, pkt + p.tag_at, gcm_tag_len);
    if (p.encrypted) {
        std::memcpy(aad, pkt, rtcp_header_len);
        std::memcpy(aad + rtcp_header_len, pkt + p.trailer_at, srtcp_trailer_len);
        *at = aad;
        return rtcp_header_len + srtcp_trailer_len;
    }
    std::memmove(pkt + p.clear_end, pkt + p.trailer_at, srtcp_trailer_len);
    *at = pkt;
    return p.clear_end + srtcp_trailer_len;
}

// AES-GCM unprotect after the checks: authenticate and decrypt in one pass, then the SSRC's
// room; the packet is put back as it came on any failure.
result native::unprotect_gcm(context& c, bool rtcp, uint8_t* pkt, uint32_t* len, const packet_plan& p) noexcept {
    uint8_t iv[gcm_iv_len];
    make_gcm_iv(c.salt_.data(), p.ssrc, p.index, iv);
    uint8_t* data = pkt + p.header_len;
    uint32_t data_len = p.clear_end - p.header_len;
    const uint8_t* aad = pkt;
    uint32_t aad_len = p.header_len;
    uint8_t aad_buf[rtcp_header_len + srtcp_trailer_len];
    uint8_t tag[gcm_tag_len];
    if (rtcp) {
        aad_len = srtcp_gcm_aad(pkt, p, aad_buf, tag, &aad);
        if (!p.encrypted) {
            data_len = 0;
        }
    } else {
        std::memcpy(tag, pkt + p.tag_at, gcm_tag_len);
    }
    const bool authentic = open(c, iv, aad, aad_len, data, data_len, tag);
    if (authentic && (!p.is_new || reserve(c))) [[likely]] {
        *len = p.clear_end;
        commit(c, p.slot, p.is_new, p.ssrc, p.index);
        return result::ok;
    }
    if (authentic) {
        uint8_t ignored[gcm_tag_len];
        seal(c, iv, aad, aad_len, data, data_len, ignored);  // counter mode: back as it came
    }
    std::memcpy(pkt + p.tag_at, tag, gcm_tag_len);  // E = 0 moved the E/index word over it
    return authentic ? result::ssrc_limit : result::auth_failed;
}

// AES-GCM protect after the checks and reserve(): [header][cipher text][tag][E/index][MKI].
void native::protect_gcm(context& c, bool rtcp, uint8_t* pkt, uint32_t* len, const packet_plan& p) noexcept {
    const uint32_t n = *len;
    uint8_t iv[gcm_iv_len];
    make_gcm_iv(c.salt_.data(), p.ssrc, p.index, iv);
    uint32_t end = n + gcm_tag_len;
    if (rtcp) {
        uint8_t aad[rtcp_header_len + srtcp_trailer_len];
        std::memcpy(aad, pkt, rtcp_header_len);
        store_be32(aad + rtcp_header_len, 0x80000000u | static_cast<uint32_t>(p.index));
        seal(c, iv, aad, sizeof(aad), pkt + p.header_len, n - p.header_len, pkt + n);
        std::memcpy(pkt + end, aad + rtcp_header_len, srtcp_trailer_len);
        end += srtcp_trailer_len;
    } else {
        seal(c, iv, pkt, p.header_len, pkt + p.header_len, n - p.header_len, pkt + n);
    }
    write_mki(pkt + end, c.mki(), c.mki_len());
    *len = end + c.mki_len();
    commit(c, p.slot, p.is_new, p.ssrc, p.index);
}

result native::unprotect_rtp(context& c, uint8_t* pkt, uint32_t* len) noexcept {
    packet_plan p;
    if (const result r = check_unprotect(c, false, pkt, *len, &p); r != result::ok) {
        return r;
    }
    if (c.kind_ == transform::aes_gcm) {
        return unprotect_gcm(c, false, pkt, len, p);
    }
    // Tag = HMAC(header || encrypted payload || ROC), truncated (RFC 3711 4.2).
    uint8_t roc[4];
    store_be32(roc, static_cast<uint32_t>(p.index >> 16));
    uint8_t tag[hmac_sha1::digest_len];
    c.auth_.compute(pkt, p.auth_len, roc, sizeof(roc), tag);
    if (CRYPTO_memcmp(tag, pkt + p.tag_at, c.tag_len_) != 0) {
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
    if (c.kind_ == transform::aes_gcm) {
        protect_gcm(c, false, pkt, len, p);
        return result::ok;
    }
    uint8_t iv[16];
    make_iv(c.salt_.data(), p.ssrc, p.index, iv);
    cipher(c, iv, pkt + p.header_len, n - p.header_len);
    uint8_t roc[4];
    store_be32(roc, static_cast<uint32_t>(p.index >> 16));
    uint8_t tag[hmac_sha1::digest_len];
    c.auth_.compute(pkt, n, roc, sizeof(roc), tag);
    write_mki(pkt + n, c.mki(), c.mki_len());
    std::memcpy(pkt + n + c.mki_len(), tag, c.tag_len_);
    *len = n + c.mki_len() + c.tag_len_;
    commit(c, p.slot, p.is_new, p.ssrc, p.index);
    return result::ok;
}

result native::unprotect_rtcp(context& c, uint8_t* pkt, uint32_t* len) noexcept {
    packet_plan p;
    if (const result r = check_unprotect(c, true, pkt, *len, &p); r != result::ok) {
        return r;
    }
    if (c.kind_ == transform::aes_gcm) {
        return unprotect_gcm(c, true, pkt, len, p);
    }
    // Tag = HMAC(header || payload || E || index) (RFC 3711 3.4).
    uint8_t tag[hmac_sha1::digest_len];
    c.auth_.compute(pkt, p.auth_len, nullptr, 0, tag);
    if (CRYPTO_memcmp(tag, pkt + p.tag_at, c.tag_len_) != 0) {
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
    if (c.kind_ == transform::aes_gcm) {
        protect_gcm(c, true, pkt, len, p);
        return result::ok;
    }
    uint8_t iv[16];
    make_iv(c.salt_.data(), p.ssrc, p.index, iv);
    cipher(c, iv, pkt + p.header_len, n - p.header_len);
    store_be32(pkt + n, 0x80000000u | static_cast<uint32_t>(p.index));
    uint8_t tag[hmac_sha1::digest_len];
    c.auth_.compute(pkt, n + srtcp_trailer_len, nullptr, 0, tag);
    const uint32_t mki_at = n + srtcp_trailer_len;
    write_mki(pkt + mki_at, c.mki(), c.mki_len());
    std::memcpy(pkt + mki_at + c.mki_len(), tag, c.tag_len_);
    *len = mki_at + c.mki_len() + c.tag_len_;
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
