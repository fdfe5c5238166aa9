#include "dataplane/srtp/srtp.h"

#include <stdexcept>

#include "dataplane/srtp/engines.h"

namespace rtprelay::dp::srtp {

namespace {

// All lengths are in bytes. Indexed by `suite`.
constexpr suite_info suites[] = {
    {.name = "AES_CM_128_HMAC_SHA1_80", .key_len = 16, .salt_len = 14, .rtp_tag_len = 10, .rtcp_tag_len = 10},
    {.name = "AES_CM_128_HMAC_SHA1_32", .key_len = 16, .salt_len = 14, .rtp_tag_len = 4, .rtcp_tag_len = 10},
};
constexpr size_t suite_count = sizeof(suites) / sizeof(suites[0]);

}  // namespace

const suite_info& info(suite s) noexcept { return suites[static_cast<size_t>(s)]; }

std::optional<suite> suite_from_name(std::string_view name) noexcept {
    for (size_t i = 0; i < suite_count; ++i) {
        if (name == suites[i].name) {
            return static_cast<suite>(i);
        }
    }
    return std::nullopt;
}

const char* result_name(result r) noexcept {
    switch (r) {
        case result::ok: return "ok";
        case result::auth_failed: return "auth_failed";
        case result::replay: return "replay";
        case result::too_short: return "too_short";
        case result::bad_header: return "bad_header";
        case result::ssrc_limit: return "ssrc_limit";
        case result::index_reuse: return "index_reuse";
        case result::no_room: return "no_room";
        case result::engine_error: return "engine_error";
    }
    return "unknown";
}

context::~context() { detail::libsrtp2::release(*this); }

std::optional<uint64_t> context::highest_index(uint32_t ssrc) const noexcept {
    if (engine_ != engine::native) {
        return std::nullopt;
    }
    return detail::native::highest_index(*this, ssrc);
}

std::unique_ptr<context> make_context(engine e, suite s, const master_key& key, bool rtcp, aes_impl aes) {
    if (static_cast<size_t>(s) >= suite_count) {
        throw std::runtime_error("unknown SRTP suite");
    }
    std::unique_ptr<context> c(new context());
    c->engine_ = e;
    c->suite_ = s;
    c->rtcp_ = rtcp;
    c->tag_len_ = rtcp ? info(s).rtcp_tag_len : info(s).rtp_tag_len;
    c->overhead_ = static_cast<uint8_t>(c->tag_len_ + (rtcp ? 4 : 0));
    switch (e) {
        case engine::native: detail::native::init(*c, key, aes); break;
        case engine::libsrtp2: detail::libsrtp2::init(*c, key); break;
        default: throw std::runtime_error("unknown SRTP engine");
    }
    return c;
}

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
