#pragma once
// The two engines behind srtp.h; srtp.cc dispatches to them. Internal to dataplane/srtp.

#include <cstdint>
#include <optional>

#include "dataplane/srtp/srtp.h"

namespace rtprelay::dp::srtp::detail {

struct native {
    static void init(context& c, const master_key& key, aes_impl aes);
    static result unprotect_rtp(context& c, uint8_t* pkt, uint32_t* len) noexcept;
    static result protect_rtp(context& c, uint8_t* pkt, uint32_t* len, uint32_t room) noexcept;
    static result unprotect_rtcp(context& c, uint8_t* pkt, uint32_t* len) noexcept;
    static result protect_rtcp(context& c, uint8_t* pkt, uint32_t* len, uint32_t room) noexcept;
    static std::optional<uint64_t> highest_index(const context& c, uint32_t ssrc) noexcept;
    static precheck precheck_rtp(const context& c, const uint8_t* pkt, uint32_t len) noexcept;
    static precheck precheck_rtcp(const context& c, const uint8_t* pkt, uint32_t len) noexcept;

private:
    friend class srtp::burst_crypto;
    static context::slot* find_slot(context& c, uint32_t ssrc, bool* is_new) noexcept;
    static void commit(context& c, context::slot* s, bool is_new, uint32_t ssrc, uint64_t index) noexcept;
    static void make_iv(const context& c, uint32_t ssrc, uint64_t index, uint8_t iv[16]) noexcept;
};

struct libsrtp2 {
    static void init(context& c, const master_key& key);
    static void release(context& c) noexcept;
    static result unprotect_rtp(context& c, uint8_t* pkt, uint32_t* len) noexcept;
    static result protect_rtp(context& c, uint8_t* pkt, uint32_t* len, uint32_t room) noexcept;
    static result unprotect_rtcp(context& c, uint8_t* pkt, uint32_t* len) noexcept;
    static result protect_rtcp(context& c, uint8_t* pkt, uint32_t* len, uint32_t room) noexcept;

private:
    // The same max_ssrcs rule as the native engine (libsrtp2 itself has no limit).
    static bool ssrc_allowed(const context& c, uint32_t ssrc) noexcept;
    static void note_ssrc(context& c, uint32_t ssrc) noexcept;
};

}  // namespace rtprelay::dp::srtp::detail
