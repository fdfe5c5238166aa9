#pragma once
// SRTP and SRTCP (RFC 3711) for the fast path: AES_CM_128_HMAC_SHA1_80 and _32, in place on
// a packet buffer, one direction of one stream per context.
//
// Two engines behind one API:
//  - native: ours, on OpenSSL libcrypto (HMAC-SHA1 from precomputed pad states) and our own
//    AES-NI counter mode when the CPU has it. No allocation, exception, lock, log or virtual
//    call per packet. The one used on the fast path.
//  - libsrtp2: the system libsrtp2 (Debian's, built on NSS), as an independent reference for
//    tests and benchmarks. It allocates a stream the first time it meets an SSRC.
//
// Threads: the control plane creates a context (make_context, which may throw) and hands it
// to one worker; from then on only that worker touches it, until the control plane destroys
// it after the worker has let go (RCU). A context is meant for one direction: a receive
// context only unprotects, a send context only protects (the index history is shared, so a
// packet protected by a context is a replay to that same context).
//
// Failures: every result but `ok` leaves the context's state and the packet (bytes and *len)
// as they were. Unprotect authenticates before it decrypts or records anything, so a forged
// or replayed packet costs one HMAC and changes nothing.

#include <array>
#include <cstdint>
#include <memory>
#include <new>
#include <optional>
#include <string_view>

#include "dataplane/srtp/aes_ctr.h"
#include "dataplane/srtp/hmac_sha1.h"
#include "dataplane/srtp/index_window.h"
#include "dataplane/srtp/ssrc_pool.h"

struct srtp_ctx_t_;  // libsrtp2's session (srtp_t)

namespace rtprelay::dp::srtp {

enum class suite : uint8_t { aes_cm_128_hmac_sha1_80 = 0, aes_cm_128_hmac_sha1_32 = 1 };

// All lengths are in bytes. SRTCP uses an 80-bit tag with both suites (RFC 4568 6.2).
struct suite_info {
    const char* name;  // as in SDES a=crypto (RFC 4568)
    uint8_t key_len;
    uint8_t salt_len;
    uint8_t rtp_tag_len;
    uint8_t rtcp_tag_len;
};
const suite_info& info(suite s) noexcept;
// Exact, case-sensitive match of an RFC 4568 suite name, e.g. "AES_CM_128_HMAC_SHA1_80".
std::optional<suite> suite_from_name(std::string_view name) noexcept;

struct master_key {
    std::array<uint8_t, 16> key;
    std::array<uint8_t, 14> salt;
};

enum class engine : uint8_t { native, libsrtp2 };

enum class result : uint8_t {
    ok,
    auth_failed,  // tag mismatch (wrong key, forged or corrupted packet, SRTCP E bit flipped)
    replay,       // unprotect: index already received, or older than the replay window
    too_short,    // shorter than the smallest header (+ tag / SRTCP trailer when unprotecting)
    bad_header,   // RTP/RTCP version not 2, CSRCs or extension past the end, or a context
                  // made for the other protocol (RTP vs RTCP)
    ssrc_limit,   // a new SSRC and the context already holds max_ssrcs of them, or it needs
                  // its overflow chunk and the pool has none free (ssrc_pool.h)
    index_reuse,  // protect: index already sent or older than the sent window, or indices
                  // exhausted (2^48 SRTP, 2^31 SRTCP): re-key
    no_room,      // protect: fewer than context::overhead() bytes writable after the packet
    engine_error, // burst path (batch.h): the crypto library did not complete a job; cannot
                  // happen with the jobs we build, counted if it ever does
};
const char* result_name(result r) noexcept;

// SSRCs one context keeps state for: the first inline, the others in a chunk from the
// shared pool (ssrc_pool.h). Never evicted: forgetting an SSRC's sent indices would allow
// keystream reuse, forgetting its received ones would re-open replays.
inline constexpr uint32_t max_ssrcs = 8;
// The most that protect appends to a packet: SRTCP's E/index word + 10-byte tag.
inline constexpr uint32_t max_overhead = 14;

class burst_crypto;

namespace detail {
struct native;
struct libsrtp2;
}  // namespace detail

// Layout (native engine, AES-NI; all lengths in bytes), sizeof(context) = 128:
//   line 0: what to do (engine, suite, tag length, slots in use), session salt, HMAC pad
//           states (40);
//   line 1: the first SSRC's slot (40), the overflow chunk pointer (ssrc_pool.h), and 16
//           bytes that an SRTCP context uses for its raw session key;
//   RTP contexts only: the 176 bytes of AES round keys right after the object (allocated
//           with it: 304 bytes in all), so a one-SSRC RTP stream's packet touches 5 lines.
// An SRTCP context (128 bytes) keeps the 16-byte session key instead of 176 bytes of round
// keys and expands them per packet (~30 ns; SRTCP is a few percent of packets). The OpenSSL
// AES fallback (CPUs without AES-NI) and the libsrtp2 engine keep what they need behind a
// pointer / after the object instead. Destroying a context wipes its keys.
class alignas(64) context {
public:
    ~context();
    context(const context&) = delete;
    context& operator=(const context&) = delete;
    // Allocated by make_context with room for the engine's keys after the object.
    static void operator delete(void* p) noexcept;
    static void operator delete(void* p, std::align_val_t) noexcept;

    engine which_engine() const noexcept { return engine_; }
    suite cipher_suite() const noexcept { return suite_; }
    bool rtcp() const noexcept { return rtcp_; }
    // Bytes of the authentication tag (4 or 10).
    uint32_t tag_len() const noexcept { return tag_len_; }
    // Bytes protect appends (and unprotect removes): the tag, plus 4 for SRTCP's E/index word.
    uint32_t overhead() const noexcept { return tag_len_ + (rtcp_ ? 4u : 0u); }
    // Native engine: the AES implementation in use.
    aes_impl aes() const noexcept { return aes_; }
    // Bytes this context occupies (the object and what was allocated with it; not the
    // shared SSRC overflow chunk, nor libsrtp2's own allocations).
    size_t footprint() const noexcept;

    // Owner thread only (not synchronised). SSRCs holding state, and the highest index
    // received/sent for one of them (SRTP: ROC << 16 | SEQ; SRTCP: the 31-bit index).
    // The libsrtp2 engine keeps indices inside libsrtp2: highest_index is nullopt there.
    uint32_t ssrc_count() const noexcept { return n_slots_; }
    std::optional<uint64_t> highest_index(uint32_t ssrc) const noexcept;

    // Starts loading what a packet of the first SSRC needs (keys, pad states, first slot: 5
    // cache lines for RTP, 2 for SRTCP; prefetching past the end of the smaller one is
    // harmless). At 10k+ calls contexts are not in cache: without it each packet waits for
    // them one miss after another. Reads nothing from the context itself.
    void prefetch() const noexcept {
        const char* p = reinterpret_cast<const char*>(this);
        for (int line = 0; line < 5; ++line) {
            __builtin_prefetch(p + 64 * line);
        }
    }

private:
    friend struct detail::native;
    friend struct detail::libsrtp2;
    friend class burst_crypto;
    friend std::unique_ptr<context> make_context(engine, suite, const master_key&, bool, aes_impl);
    context() = default;

    using slot = ssrc_slot;

    // The slot of the i-th SSRC (i < n_slots_, or the next one once reserved).
    slot* slot_at(uint32_t i) noexcept { return i == 0 ? &first_ : &more_[i - 1]; }
    const slot* slot_at(uint32_t i) const noexcept { return i == 0 ? &first_ : &more_[i - 1]; }
    // What follows the object: RTP round keys (native, AES-NI) or libsrtp2's sessions.
    uint8_t* tail() noexcept { return reinterpret_cast<uint8_t*>(this) + sizeof(context); }
    const uint8_t* tail() const noexcept { return reinterpret_cast<const uint8_t*>(this) + sizeof(context); }
    static size_t tail_len(engine e, aes_impl aes, bool rtcp) noexcept;

    // Line 0, read per packet: what to do and with which keys.
    engine engine_ = engine::native;
    suite suite_ = suite::aes_cm_128_hmac_sha1_80;
    bool rtcp_ = false;
    uint8_t tag_len_ = 0;
    uint8_t n_slots_ = 0;                 // SSRCs with state: first_, then more_[0, n_slots_ - 1)
    aes_impl aes_ = aes_impl::aesni;      // native: aesni (keys inline) or openssl (cipher_)
    std::array<uint8_t, 14> salt_{};      // session salt
    uint32_t chunk_id_ = 0;               // more_'s id in the pool (when more_ is set)
    hmac_sha1 auth_;                      // session auth key, as pad states
    // Line 1.
    slot first_{};                        // a one-SSRC stream's state
    slot* more_ = nullptr;                // SSRCs 2..max_ssrcs: a pool chunk's slots, on demand
                                          // (owner worker writes it; read by ~context after RCU)
    union {
        uint8_t rtcp_key[16];             // native AES-NI SRTCP: the session encryption key
        aes128_ctr* cipher;               // native OpenSSL AES: keyed once, owned
    } key_{};
};

// Derives the session keys (RTP labels 0..2, or RTCP labels 3..5 when `rtcp`). Control plane
// only: throws std::runtime_error if the crypto library fails. `aes` chooses the native
// engine's AES implementation (tests and benchmarks force one; leave it automatic).
std::unique_ptr<context> make_context(engine e, suite s, const master_key& key, bool rtcp,
                                      aes_impl aes = aes_impl::automatic);

// In place on a buffer holding the packet from the RTP/RTCP header on; *len in/out.
// Unprotect removes the tag (and SRTCP trailer); protect appends context::overhead() bytes,
// which must fit in `room` (bytes writable after *len).
result unprotect_rtp(context& c, uint8_t* pkt, uint32_t* len) noexcept;
result protect_rtp(context& c, uint8_t* pkt, uint32_t* len, uint32_t room) noexcept;
result unprotect_rtcp(context& c, uint8_t* pkt, uint32_t* len) noexcept;
result protect_rtcp(context& c, uint8_t* pkt, uint32_t* len, uint32_t room) noexcept;

// What a packet's clear-text fields say before any HMAC is spent on it; changes nothing.
// Lets the worker keep its crypto work for an established stream's packets when it is
// flooded with forged ones (dataplane/latch.h).
enum class precheck : uint8_t {
    plausible,  // a known SSRC with a fresh index at most plausible_jump ahead of its
                // highest, or the first SSRC of a context that has none yet
    doubtful,   // a new SSRC beside known ones, or an index further ahead: only the tag can tell
    free_drop,  // unprotect refuses it before any HMAC (replay, too old, malformed, SSRC table
                // full): costs nothing, needs no budget
};
// Indices ahead of the highest received that are still taken as a stream's next packets:
// 4096 RTP packets is 82 s of lost 20-ms audio. Only the budget (not the answer) depends on it.
inline constexpr uint64_t plausible_jump = 4096;
// libsrtp2 engine: the indices are inside libsrtp2, so every packet is plausible there.
precheck precheck_rtp(const context& c, const uint8_t* pkt, uint32_t len) noexcept;
precheck precheck_rtcp(const context& c, const uint8_t* pkt, uint32_t len) noexcept;

}  // namespace rtprelay::dp::srtp
