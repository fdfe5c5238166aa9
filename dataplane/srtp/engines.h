#pragma once
// The two engines behind srtp.h; srtp.cc dispatches to them. Internal to dataplane/srtp.

#include <cstddef>
#include <cstdint>
#include <optional>

#include "dataplane/srtp/srtp.h"

namespace rtprelay::dp::srtp::detail {

struct native {
    static void init(context& c, const master_key& key);
    static result unprotect_rtp(context& c, uint8_t* pkt, uint32_t* len) noexcept;
    static result protect_rtp(context& c, uint8_t* pkt, uint32_t* len, uint32_t room) noexcept;
    static result unprotect_rtcp(context& c, uint8_t* pkt, uint32_t* len) noexcept;
    static result protect_rtcp(context& c, uint8_t* pkt, uint32_t* len, uint32_t room) noexcept;
    static std::optional<uint64_t> highest_index(const context& c, uint32_t ssrc) noexcept;
    static precheck precheck_rtp(const context& c, const uint8_t* pkt, uint32_t len) noexcept;
    static precheck precheck_rtcp(const context& c, const uint8_t* pkt, uint32_t len) noexcept;

    // The SSRC state the checks (checks.h) and both native paths (native.cc, batch.cc) share.
    // The SSRC's slot, or (*is_new set) an empty stand-in when the SSRC is new and the
    // context can still take it; nullptr when it cannot. Writes nothing.
    static const context::slot* find_slot(const context& c, uint32_t ssrc, bool* is_new) noexcept;
    // Makes room for a new SSRC (the overflow chunk for the second); false = none left.
    static bool reserve(context& c) noexcept;
    // Records `index` for the SSRC; a new one (reserve() said yes) gets the next slot.
    static void commit(context& c, const context::slot* s, bool is_new, uint32_t ssrc, uint64_t index) noexcept;
    // The AES round keys for a cipher pass: the RTP context's own, or (SRTCP) expanded into
    // `scratch` (176 bytes, 16-aligned), which the caller wipes after use. AES-NI only.
    static const uint8_t* round_keys(const context& c, uint8_t* scratch) noexcept;

private:
    static void cipher(const context& c, const uint8_t iv[16], uint8_t* data, size_t len) noexcept;
};

struct libsrtp2 {
    // Kept after the context object: the two sessions and the SSRCs seen (max_ssrcs).
    struct state {
        srtp_ctx_t_* in = nullptr;   // ssrc_any_inbound session
        srtp_ctx_t_* out = nullptr;  // ssrc_any_outbound session
        uint32_t ssrcs[max_ssrcs] = {};
    };
    static constexpr size_t tail_len = sizeof(state);
    static state& st(context& c) noexcept;
    static const state& st(const context& c) noexcept;
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
