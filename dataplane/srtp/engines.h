#pragma once
// The two engines behind srtp.h; srtp.cc dispatches to them. Internal to dataplane/srtp.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>

#include "dataplane/srtp/kdf.h"
#include "dataplane/srtp/srtp.h"

namespace rtprelay::dp::srtp::detail {

struct packet_plan;  // checks.h

struct native {
    // Derives the session keys from `key` (kdf.h) and installs them.
    static void init(context& c, const master_key& key);
    static void install(context& c, const session_keys& k);
    // A native context keyed with session keys given directly, for known-answer tests whose
    // vectors start there (RFC 7714 16-17). No MKI.
    static std::unique_ptr<context> make_with_session_keys(suite s, const session_keys& k, bool rtcp,
                                                           aes_impl aes = aes_impl::automatic);
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
    // context::indices and context::seed (srtp.h).
    static size_t indices(const context& c, context::ssrc_index* out, size_t max) noexcept;
    static bool seed(context& c, uint32_t ssrc, uint64_t index) noexcept;
    // AES-CM: the AES round keys for a cipher pass: the RTP context's own, or (SRTCP) expanded
    // into `scratch` (max_aes_round_keys_len bytes, 16-aligned), which the caller wipes after
    // use. AES-NI only.
    static const uint8_t* round_keys(const context& c, uint8_t* scratch) noexcept;
    // AES-GCM with the context's key (aes_gcm.h: intel-ipsec-mb or EVP), in place.
    static void seal(const context& c, const uint8_t iv[12], const uint8_t* aad, size_t aad_len, uint8_t* data,
                     size_t len, uint8_t* tag) noexcept;
    static bool open(const context& c, const uint8_t iv[12], const uint8_t* aad, size_t aad_len, uint8_t* data,
                     size_t len, const uint8_t* tag) noexcept;
    // SRTCP AES-GCM unprotect: the AAD of the packet `p` describes (its length; *at its start),
    // the received tag saved to `tag` first. E = 1: header || E/index copied to `aad`; E = 0:
    // the clear packet || E/index, made contiguous in place by moving the E/index word over
    // the tag's first bytes (put the tag back from `tag` to restore the packet).
    static uint32_t srtcp_gcm_aad(uint8_t* pkt, const packet_plan& p, uint8_t aad[12], uint8_t tag[16],
                                  const uint8_t** at) noexcept;

 private:
    static void cipher(const context& c, const uint8_t iv[16], uint8_t* data, size_t len) noexcept;
    static result unprotect_gcm(context& c, bool rtcp, uint8_t* pkt, uint32_t* len, const packet_plan& p) noexcept;
    static void protect_gcm(context& c, bool rtcp, uint8_t* pkt, uint32_t* len, const packet_plan& p) noexcept;
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
    static result unprotect(context& c, bool rtcp, uint8_t* pkt, uint32_t* len) noexcept;
    static result protect(context& c, bool rtcp, uint8_t* pkt, uint32_t* len, uint32_t room) noexcept;
    // The same max_ssrcs rule as the native engine (libsrtp2 itself has no limit).
    static bool ssrc_allowed(const context& c, uint32_t ssrc) noexcept;
    static void note_ssrc(context& c, uint32_t ssrc) noexcept;
};

}  // namespace rtprelay::dp::srtp::detail
