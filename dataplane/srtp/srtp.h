#pragma once
// SRTP and SRTCP (RFC 3711) for the fast path, every suite of suites.def (AES-CM with
// HMAC-SHA1, RFC 3711 and RFC 6188; AES-GCM, RFC 7714), with an optional MKI: in place on a
// packet buffer, one direction of one stream per context.
//
// Two engines behind one API:
//  - native: ours, on OpenSSL libcrypto (HMAC-SHA1 from precomputed pad states), our own
//    AES-NI counter mode and intel-ipsec-mb's AES-GCM when the CPU has AES-NI (OpenSSL EVP
//    otherwise). No allocation, exception, lock, log or virtual call per packet. The one
//    used on the fast path.
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
// as they were. Unprotect authenticates before it records anything (AES-CM: before it
// decrypts; AES-GCM decrypts and authenticates in one pass and puts a forged packet's bytes
// back), so a forged or replayed packet costs one tag check and changes nothing.
//
// MKI (RFC 3711 3.1): when the master key has one (master_key::mki_len), protect writes it
// into every packet and unprotect requires it, byte for byte, before any crypto (bad_mki). It
// sits before the tag for AES-CM (RTP: payload, MKI, tag; SRTCP: E/index, MKI, tag) and
// after everything for AES-GCM (RFC 7714 9: RTP: cipher text and tag, MKI; SRTCP: cipher
// text and tag, E/index, MKI). It is not authenticated, as the RFCs say.

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <new>
#include <optional>
#include <string_view>
#include <utility>

#include "dataplane/srtp/aes_ctr.h"
#include "dataplane/srtp/hmac_sha1.h"
#include "dataplane/srtp/index_window.h"
#include "dataplane/srtp/ssrc_pool.h"
#include "dataplane/srtp/suite.h"

struct srtp_ctx_t_;  // libsrtp2's session (srtp_t)

namespace rtprelay::dp::srtp {

enum class engine : uint8_t { native, libsrtp2 };

enum class result : uint8_t {
    ok,
    auth_failed,   // tag mismatch (wrong key, forged or corrupted packet, SRTCP E bit flipped)
    replay,        // unprotect: index already received, or older than the replay window
    too_short,     // shorter than the smallest header (+ tag / SRTCP trailer when unprotecting)
    bad_header,    // RTP/RTCP version not 2, CSRCs or extension past the end, or a context
                   // made for the other protocol (RTP vs RTCP)
    ssrc_limit,    // a new SSRC and the context already holds max_ssrcs of them, or it needs
                   // its overflow chunk and the pool has none free (ssrc_pool.h)
    index_reuse,   // protect: index already sent or older than the sent window, or indices
                   // exhausted (2^48 SRTP, 2^31 SRTCP): re-key
    no_room,       // protect: fewer than context::overhead() bytes writable after the packet
    engine_error,  // burst path (batch.h): the crypto library did not complete a job; cannot
                   // happen with the jobs we build, counted if it ever does
    bad_mki,       // unprotect: the packet's MKI is not the key's (checked before any crypto)
};
const char* result_name(result r) noexcept;

// SSRCs one context keeps state for: the first inline, the others in a chunk from the
// shared pool (ssrc_pool.h). Never evicted: forgetting an SSRC's sent indices would allow
// keystream reuse, forgetting its received ones would re-open replays.
inline constexpr uint32_t max_ssrcs = 8;
// The most that protect appends to a packet: SRTCP's E/index word, a 16-byte tag, an MKI.
inline constexpr uint32_t max_overhead = 4 + max_tag_len + max_mki_len;

class burst_crypto;
class gcm_evp;

namespace detail {
struct native;
struct libsrtp2;
}  // namespace detail

// Layout (native engine, AES-NI; all lengths in bytes), sizeof(context) = 128:
//   line 0: what to do (engine, suite, transform, tag, MKI and AES key lengths, slots in
//           use, packed into 6 bytes), session salt, the overflow chunk's id (ssrc_pool.h),
//           HMAC pad states (40; unused by AES-GCM);
//   line 1: the first SSRC's slot (40), the overflow chunk pointer, and 16 bytes that an
//           AES-128 SRTCP context uses for its raw session key (the OpenSSL fallback: its
//           cipher pointer);
//   after the object (allocated with it), what a suite needs beyond AES_CM_128: AES-CM RTP,
//           the AES round keys (176 for AES-128: 304 bytes in all, so a one-SSRC AES_CM_128
//           RTP stream's packet touches 5 lines; 240 for AES-256); AES-256 SRTCP, the raw
//           session key (32); AES-GCM, the precomputed key data (aes_gcm.h, ~1 KB, of which a
//           packet reads the round keys and the hash key powers its length needs); then, for
//           a key with an MKI, the MKI (4).
// An AES_CM_128 context without an MKI is as large as before the other suites: 304 bytes
// (RTP) and 128 (SRTCP, which expands its key per packet: ~30 ns; SRTCP is a few percent of
// packets). Sized per suite because the contexts are most of the relay's memory per call
// and their spread over the heap is what a packet waits for at 10k+ calls. The OpenSSL
// fallback (CPUs without AES-NI) and the libsrtp2 engine keep what they need behind a
// pointer / after the object instead. Destroying a context wipes its keys.
class alignas(64) context {
 public:
    ~context();
    context(const context&) = delete;
    context& operator=(const context&) = delete;
    // Allocated by make_context with room for the engine's keys after the object, from the
    // contexts' own blocks (context_pool.h).
    static void operator delete(void* p) noexcept;
    static void operator delete(void* p, std::align_val_t) noexcept;

    engine which_engine() const noexcept { return engine_; }
    suite cipher_suite() const noexcept { return suite_; }
    transform kind() const noexcept { return kind_; }
    bool rtcp() const noexcept { return (shape_.load(std::memory_order_relaxed) & shape_rtcp) != 0; }
    // Bytes of the authentication tag (4, 10 or 16).
    uint32_t tag_len() const noexcept { return tag_len_; }
    // Bytes of the MKI each packet carries (0: none), and the MKI.
    uint32_t mki_len() const noexcept { return (shape_.load(std::memory_order_relaxed) & shape_mki) >> 4; }
    const uint8_t* mki() const noexcept { return tail() + key_tail_len(which_engine(), suite_, aes_, rtcp()); }
    // Bytes protect appends (and unprotect removes): the tag, the MKI, and 4 for SRTCP's
    // E/index word.
    uint32_t overhead() const noexcept { return tag_len_ + mki_len() + (rtcp() ? 4u : 0u); }
    // Bytes of the AES session key (16 or 32).
    uint32_t key_len() const noexcept { return key256_ ? 32u : 16u; }
    // Native engine: the AES implementation in use (aesni: our AES-NI counter mode, or
    // intel-ipsec-mb's GCM; openssl: EVP).
    aes_impl aes() const noexcept { return aes_; }
    // Bytes this context occupies (the object and what was allocated with it; not the
    // shared SSRC overflow chunk, nor libsrtp2's own allocations).
    size_t footprint() const noexcept;

    // Owner thread only (not synchronised). SSRCs holding state, and the highest index
    // received/sent for one of them (SRTP: ROC << 16 | SEQ; SRTCP: the 31-bit index).
    // The libsrtp2 engine keeps indices inside libsrtp2: highest_index is nullopt there.
    uint32_t ssrc_count() const noexcept { return n_slots(); }
    std::optional<uint64_t> highest_index(uint32_t ssrc) const noexcept;

    // Any thread (the control plane writes a group's call records from it, control/ha):
    // the SSRCs this context keeps state for, each with the highest index it received or
    // sent, up to `max` of them; returns how many. Reads what the owner publishes: the slot
    // count with release/acquire, the indices relaxed (a slightly old index is fine there).
    // Native engine only; 0 with libsrtp2.
    struct ssrc_index {
        uint32_t ssrc;
        uint64_t index;
    };
    size_t indices(ssrc_index* out, size_t max) const noexcept;
    // Control plane, before the context is published: state for `ssrc` as if `index` and
    // every index below it had been received (or sent), so that a context made again from
    // the same key on another node of a group goes on from where the record left it: the
    // same ROC, nothing at or below `index` accepted (received) or used (sent) again. False
    // with the libsrtp2 engine, for an SSRC it holds already, or when it has no room.
    bool seed(uint32_t ssrc, uint64_t index) noexcept;

    // Starts loading what a packet of the first SSRC needs (keys, pad states, first slot: 5
    // cache lines for AES_CM_128 RTP, 2 for SRTCP; prefetching past the end of the smaller
    // one is harmless; AES-256 and GCM keys beyond the fifth line load on demand). At 10k+
    // calls contexts are not in cache: without it each packet waits for them one miss after
    // another. Reads nothing from the context itself.
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
    // A context with everything but the keys set (make_context's first half).
    static std::unique_ptr<context> create(engine e, suite s, bool rtcp, aes_impl aes, const master_key& key);

    using slot = ssrc_slot;

    // shape_'s fields (see there).
    static constexpr uint8_t shape_slots = 0x0f;
    static constexpr uint8_t shape_mki = 0x70;
    static constexpr uint8_t shape_rtcp = 0x80;
    uint32_t n_slots(std::memory_order o = std::memory_order_relaxed) const noexcept {
        return shape_.load(o) & shape_slots;
    }
    // Owner only: the count goes up once the new slot is written.
    void set_n_slots(uint32_t n) noexcept {
        const uint8_t keep = shape_.load(std::memory_order_relaxed) & static_cast<uint8_t>(~shape_slots);
        shape_.store(static_cast<uint8_t>(keep | n), std::memory_order_release);
    }

    // The slot of the i-th SSRC (i < n_slots(), or the next one once reserved).
    slot* slot_at(uint32_t i) noexcept { return i == 0 ? &first_ : &more_[i - 1]; }
    const slot* slot_at(uint32_t i) const noexcept { return i == 0 ? &first_ : &more_[i - 1]; }
    // What follows the object: the native AES-NI keys or libsrtp2's sessions, then the MKI
    // (see above).
    uint8_t* tail() noexcept { return reinterpret_cast<uint8_t*>(this) + sizeof(context); }
    const uint8_t* tail() const noexcept { return reinterpret_cast<const uint8_t*>(this) + sizeof(context); }
    // The keys' part of the tail, and the whole tail (with the MKI when mki_len > 0).
    static size_t key_tail_len(engine e, suite s, aes_impl aes, bool rtcp) noexcept;
    static size_t tail_len(engine e, suite s, aes_impl aes, bool rtcp, uint32_t mki_len) noexcept {
        return key_tail_len(e, s, aes, rtcp) + (mki_len != 0 ? max_mki_len : 0);
    }
    // Native AES-NI SRTCP: the raw session key, inline for AES-128, after the object for AES-256.
    uint8_t* srtcp_key() noexcept { return key256_ ? tail() : key_.rtcp_key; }
    const uint8_t* srtcp_key() const noexcept { return key256_ ? tail() : key_.rtcp_key; }
    uint8_t* mki_bytes() noexcept { return const_cast<uint8_t*>(std::as_const(*this).mki()); }

    // Line 0, read per packet: what to do and with which keys. The lengths and flags share
    // two bytes so that the chunk id fits on this line and line 1 keeps AES-128 SRTCP's key,
    // as before the other suites (reading a bit-field costs a mask on a line already loaded).
    engine engine_ = engine::native;
    suite suite_ = suite::aes_cm_128_hmac_sha1_80;
    transform kind_ = transform::aes_cm_hmac_sha1;
    aes_impl aes_ = aes_impl::aesni;  // native: aesni (keys after the object) or openssl (key_)
    // Bits 0-3: SSRCs with state (<= max_ssrcs): first_, then more_[0, n - 1); bits 4-6: MKI
    // bytes in each packet, 0..max_mki_len (the bytes: mki()); bit 7: RTCP. One atomic byte
    // so that a group's control plane can read the count while the owner adds SSRCs
    // (indices(), control/ha) and the object keeps its two lines. The count: dp: wo (owner;
    // release, after the slot is written), ctl: ro (acquire). The MKI length and RTCP are
    // written once by make_context, before the context is published. A relaxed load is the
    // plain byte load the bit-fields were.
    std::atomic<uint8_t> shape_{0};
    uint8_t tag_len_ : 5 = 0;                           // 4, 10 or 16
    bool key256_ : 1 = false;                           // AES session key of 32 bytes (else 16)
    bool cm128_ : 1 = false;                            // native AES-NI AES-CM-128 HMAC-SHA1, no MKI: the burst path's
                                                        // common case, on its own steps (batch_cm.cc)
    std::array<uint8_t, max_session_salt_len> salt_{};  // session salt (AES-GCM: its first 12)
    uint32_t chunk_id_ = 0;                             // more_'s id in the pool (when more_ is set)
    hmac_sha1 auth_;                                    // AES-CM: session auth key, as pad states
    // Line 1.
    slot first_{};          // a one-SSRC stream's state
    slot* more_ = nullptr;  // SSRCs 2..max_ssrcs: a pool chunk's slots, on demand
                            // (owner worker writes it; read by ~context after RCU)
    union {
        uint8_t rtcp_key[16];  // native AES-NI AES-128 SRTCP: the session encryption key
        aes_ctr* ctr;          // native OpenSSL AES-CM: keyed once, owned
        gcm_evp* gcm;          // native OpenSSL AES-GCM: keyed once, owned
    } key_{};
};

// Derives the session keys (RTP labels 0..2, or RTCP labels 3..5 when `rtcp`). Control plane
// only: throws std::runtime_error for an MKI longer than max_mki_len or if the crypto library
// fails. `aes` chooses the native engine's AES implementation (tests and benchmarks force
// one; leave it automatic).
std::unique_ptr<context> make_context(engine e, suite s, const master_key& key, bool rtcp,
                                      aes_impl aes = aes_impl::automatic);

// In place on a buffer holding the packet from the RTP/RTCP header on; *len in/out.
// Unprotect removes the tag, MKI and SRTCP trailer; protect appends context::overhead()
// bytes, which must fit in `room` (bytes writable after *len).
result unprotect_rtp(context& c, uint8_t* pkt, uint32_t* len) noexcept;
result protect_rtp(context& c, uint8_t* pkt, uint32_t* len, uint32_t room) noexcept;
result unprotect_rtcp(context& c, uint8_t* pkt, uint32_t* len) noexcept;
result protect_rtcp(context& c, uint8_t* pkt, uint32_t* len, uint32_t room) noexcept;

// What a packet's clear-text fields say before any tag is checked; changes nothing.
// Lets the worker keep its crypto work for an established stream's packets when it is
// flooded with forged ones (dataplane/latch.h).
enum class precheck : uint8_t {
    plausible,  // a known SSRC with a fresh index at most plausible_jump ahead of its
                // highest, or the first SSRC of a context that has none yet
    doubtful,   // a new SSRC beside known ones, or an index further ahead: only the tag can tell
    free_drop,  // unprotect refuses it before any tag check (replay, too old, malformed, wrong
                // MKI, SSRC table full): costs nothing, needs no budget
};
// Indices ahead of the highest received that are still taken as a stream's next packets:
// 4096 RTP packets is 82 s of lost 20-ms audio. Only the budget (not the answer) depends on it.
inline constexpr uint64_t plausible_jump = 4096;
// libsrtp2 engine: the indices are inside libsrtp2, so every packet is plausible there.
precheck precheck_rtp(const context& c, const uint8_t* pkt, uint32_t len) noexcept;
precheck precheck_rtcp(const context& c, const uint8_t* pkt, uint32_t len) noexcept;

}  // namespace rtprelay::dp::srtp
