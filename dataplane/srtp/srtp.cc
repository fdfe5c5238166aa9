#include "dataplane/srtp/srtp.h"

#include <openssl/crypto.h>

#include <cstring>
#include <stdexcept>
#include <string>

#include "dataplane/srtp/aes_gcm.h"
#include "dataplane/srtp/context_pool.h"
#include "dataplane/srtp/engines.h"

namespace rtprelay::dp::srtp {

const char* result_name(result r) noexcept {
    switch (r) {
        case result::ok:
            return "ok";
        case result::auth_failed:
            return "auth_failed";
        case result::replay:
            return "replay";
        case result::too_short:
            return "too_short";
        case result::bad_header:
            return "bad_header";
        case result::ssrc_limit:
            return "ssrc_limit";
        case result::index_reuse:
            return "index_reuse";
        case result::no_room:
            return "no_room";
        case result::engine_error:
            return "engine_error";
        case result::bad_mki:
            return "bad_mki";
    }
    return "unknown";
}

static_assert(max_ssrcs == detail::ssrc_pool::chunk_slots + 1);
static_assert(sizeof(context) == 128, "context layout: two cache lines, see srtp.h");
static_assert(alignof(context) == detail::context_pool::align);

// The bit-fields of line 0 hold every value (srtp.h).
static_assert(max_ssrcs < 16 && max_mki_len < 8 && max_tag_len < 32);

size_t context::key_tail_len(engine e, suite s, aes_impl aes, bool rtcp) noexcept {
    if (e == engine::libsrtp2) {
        return detail::libsrtp2::tail_len;
    }
    if (aes != aes_impl::aesni) {
        return 0;
    }
    const suite_info& si = info(s);
    if (si.kind == transform::aes_gcm) {
        return (gcm_key_data_len() + 63) / 64 * 64;
    }
    if (rtcp) {
        return si.session_key_len == 16 ? 0 : si.session_key_len;  // AES-128: inline (key_)
    }
    return aes_round_keys_len(si.session_key_len);
}

size_t context::footprint() const noexcept {
    return sizeof(context) + tail_len(engine_, suite_, aes_, rtcp(), mki_len());
}

void context::operator delete(void* p) noexcept { detail::context_pool::instance().release(p); }
void context::operator delete(void* p, std::align_val_t) noexcept { detail::context_pool::instance().release(p); }

context::~context() {
    if (engine_ == engine::libsrtp2) {
        detail::libsrtp2::release(*this);
    } else {
        if (aes_ == aes_impl::openssl) {
            // Each wipes its key schedule.
            if (kind_ == transform::aes_gcm) {
                delete key_.gcm;
            } else {
                delete key_.ctr;
            }
        }
        if (more_ != nullptr) {
            detail::ssrc_pool::instance().release(chunk_id_);
        }
        detail::ssrc_pool::instance().context_destroyed();
    }
    // Keys: what follows the object (round keys, the SRTCP session key, GCM key data), the
    // salt (the HMAC pad states wipe themselves).
    OPENSSL_cleanse(tail(), tail_len(engine_, suite_, aes_, rtcp(), mki_len()));
    OPENSSL_cleanse(&key_, sizeof(key_));
    OPENSSL_cleanse(salt_.data(), salt_.size());
}

size_t context::indices(ssrc_index* out, size_t max) const noexcept {
    return engine_ == engine::native ? detail::native::indices(*this, out, max) : 0;
}

bool context::seed(uint32_t ssrc, uint64_t index) noexcept {
    return engine_ == engine::native && detail::native::seed(*this, ssrc, index);
}

std::optional<uint64_t> context::highest_index(uint32_t ssrc) const noexcept {
    if (engine_ != engine::native) {
        return std::nullopt;
    }
    return detail::native::highest_index(*this, ssrc);
}

std::unique_ptr<context> context::create(engine e, suite s, bool rtcp, aes_impl aes, const master_key& key) {
    if (static_cast<size_t>(s) >= suite_count) {
        throw std::runtime_error("unknown SRTP suite");
    }
    if (e != engine::native && e != engine::libsrtp2) {
        throw std::runtime_error("unknown SRTP engine");
    }
    if (aes == aes_impl::automatic) {
        aes = cpu_has_aesni() ? aes_impl::aesni : aes_impl::openssl;
    }
    if (aes == aes_impl::aesni && !cpu_has_aesni()) {
        throw std::runtime_error("AES-NI requested but this CPU lacks it");
    }
    if (key.mki_len > max_mki_len) {
        throw std::runtime_error("SRTP MKI of " + std::to_string(key.mki_len) + " bytes (at most " +
                                 std::to_string(max_mki_len) + ")");
    }
    const suite_info& si = info(s);
    const size_t tail = tail_len(e, s, aes, rtcp, key.mki_len);
    void* mem = detail::context_pool::instance().allocate(sizeof(context) + tail);
    std::memset(static_cast<uint8_t*>(mem) + sizeof(context), 0, tail);
    std::unique_ptr<context> c(new (mem) context());
    c->engine_ = e;
    c->suite_ = s;
    c->kind_ = si.kind;
    c->tag_len_ = rtcp ? si.rtcp_tag_len : si.rtp_tag_len;
    c->key256_ = si.session_key_len == 32;
    c->shape_.store(static_cast<uint8_t>((rtcp ? shape_rtcp : 0) | (key.mki_len << 4)), std::memory_order_relaxed);
    if (key.mki_len != 0) {
        std::memcpy(c->mki_bytes(), key.mki.data(), max_mki_len);
    }
    c->aes_ = aes;
    c->cm128_ = e == engine::native && aes == aes_impl::aesni && si.kind == transform::aes_cm_hmac_sha1 &&
                si.session_key_len == 16 && key.mki_len == 0;
    if (e == engine::native) {
        // Counted before the keys go in, which can throw: ~context uncounts every native one.
        detail::ssrc_pool::instance().context_created();
    }
    return c;
}

std::unique_ptr<context> make_context(engine e, suite s, const master_key& key, bool rtcp, aes_impl aes) {
    std::unique_ptr<context> c = context::create(e, s, rtcp, aes, key);
    if (e == engine::native) {
        detail::native::init(*c, key);
    } else {
        detail::libsrtp2::init(*c, key);
    }
    return c;
}

namespace detail {
std::unique_ptr<context> native::make_with_session_keys(suite s, const session_keys& k, bool rtcp, aes_impl aes) {
    std::unique_ptr<context> c = context::create(engine::native, s, rtcp, aes, master_key{});
    install(*c, k);
    return c;
}
}  // namespace detail

// One predictable branch per packet picks the engine; a context made for RTCP refuses RTP
// calls and the reverse (its keys would not match anyway).

result unprotect_rtp(context& c, uint8_t* pkt, uint32_t* len) noexcept {
    if (c.rtcp()) [[unlikely]] {
        return result::bad_header;
    }
    if (c.which_engine() == engine::native) [[likely]] {
        return detail::native::unprotect_rtp(c, pkt, len);
    }
    return detail::libsrtp2::unprotect_rtp(c, pkt, len);
}

result protect_rtp(context& c, uint8_t* pkt, uint32_t* len, uint32_t room) noexcept {
    if (c.rtcp()) [[unlikely]] {
        return result::bad_header;
    }
    if (c.which_engine() == engine::native) [[likely]] {
        return detail::native::protect_rtp(c, pkt, len, room);
    }
    return detail::libsrtp2::protect_rtp(c, pkt, len, room);
}

result unprotect_rtcp(context& c, uint8_t* pkt, uint32_t* len) noexcept {
    if (!c.rtcp()) [[unlikely]] {
        return result::bad_header;
    }
    if (c.which_engine() == engine::native) [[likely]] {
        return detail::native::unprotect_rtcp(c, pkt, len);
    }
    return detail::libsrtp2::unprotect_rtcp(c, pkt, len);
}

result protect_rtcp(context& c, uint8_t* pkt, uint32_t* len, uint32_t room) noexcept {
    if (!c.rtcp()) [[unlikely]] {
        return result::bad_header;
    }
    if (c.which_engine() == engine::native) [[likely]] {
        return detail::native::protect_rtcp(c, pkt, len, room);
    }
    return detail::libsrtp2::protect_rtcp(c, pkt, len, room);
}

precheck precheck_rtp(const context& c, const uint8_t* pkt, uint32_t len) noexcept {
    if (c.rtcp()) [[unlikely]] {
        return precheck::free_drop;
    }
    if (c.which_engine() == engine::native) [[likely]] {
        return detail::native::precheck_rtp(c, pkt, len);
    }
    return precheck::plausible;
}

precheck precheck_rtcp(const context& c, const uint8_t* pkt, uint32_t len) noexcept {
    if (!c.rtcp()) [[unlikely]] {
        return precheck::free_drop;
    }
    if (c.which_engine() == engine::native) [[likely]] {
        return detail::native::precheck_rtcp(c, pkt, len);
    }
    return precheck::plausible;
}

}  // namespace rtprelay::dp::srtp
