#pragma once
// The checks an SRTP/SRTCP transform makes before any crypto, written once: the native
// engine's single-packet calls (native.cc), the burst path (batch.cc), the pre-HMAC precheck
// and, for the parse step, the libsrtp2 engine (libsrtp2_engine.cc) all call these, so
// "the same checks in the same order" (batch.h) holds by construction. Internal to
// dataplane/srtp.
//
// Order, for both directions: the context's kind (RTP or RTCP), lengths and header (parse),
// the SSRC's slot, the index (estimated from the sequence number for RTP, read from the
// SRTCP trailer or counted for SRTCP), and the replay / reuse check against that slot. The
// first failing step decides the result. Nothing here writes anything; a few compares and one
// slot search per packet (~5 ns), the crypto is ~150-300 ns.

#include <cstdint>
#include <cstring>

#include "dataplane/srtp/engines.h"
#include "dataplane/srtp/packet.h"

namespace rtprelay::dp::srtp::detail {

// What the checks found out about one packet, for the crypto and the bookkeeping after it.
// All lengths and offsets in bytes from the packet's first byte. Where the trailing fields
// sit (srtp.h): AES-CM RTP [header][payload][MKI][tag], SRTCP [header][payload][E/index]
// [MKI][tag]; AES-GCM RTP [header][payload][tag][MKI], SRTCP [header][payload][tag]
// [E/index][MKI].
struct packet_plan {
    const ssrc_slot* slot = nullptr;  // the SSRC's slot, or an empty stand-in (is_new)
    uint64_t index = 0;               // SRTP: ROC << 16 | SEQ; SRTCP: the 31-bit index
    uint32_t ssrc = 0;
    uint32_t header_len = 0;  // left in clear at the front (RTP header, SRTCP's 8)
    uint32_t auth_len = 0;    // AES-CM unprotect: bytes the HMAC covers (the ROC
                              // aside); protect: the packet as given
    uint32_t clear_end = 0;   // end of the encrypted part (unprotect: the packet's
                              // length once tag, MKI and SRTCP trailer are gone)
    uint32_t tag_at = 0;      // unprotect: where the received tag starts
    uint32_t trailer_at = 0;  // unprotect, SRTCP: where the E/index word starts
    bool is_new = false;      // the SSRC has no slot yet; reserve() before commit()
    bool encrypted = true;    // SRTCP E bit (unprotect); true otherwise
};

// Parse for unprotect: kind, length, header, MKI; fills everything but slot, is_new and (RTP)
// index. Needs nothing but the context's kind, lengths and MKI, so the libsrtp2 engine runs
// it too. `cm_no_mki`: the caller knows the context is AES-CM without an MKI (the burst
// path's common case, batch_cm.cc), so the offsets fold to constants and no MKI is compared.
template <bool cm_no_mki = false>
inline result parse_unprotect(const context& c, bool rtcp, const uint8_t* pkt, uint32_t len, packet_plan* p) noexcept {
    const uint32_t tag_len = c.tag_len();
    const uint32_t mki_len = cm_no_mki ? 0 : c.mki_len();
    const bool gcm = !cm_no_mki && c.kind() == transform::aes_gcm;
    if (c.rtcp() != rtcp) [[unlikely]] {
        return result::bad_header;
    }
    uint32_t mki_at = 0;
    if (!rtcp) {
        if (len < rtp_fixed_header_len + tag_len + mki_len) {
            return result::too_short;
        }
        p->clear_end = len - tag_len - mki_len;  // header + encrypted payload
        p->auth_len = p->clear_end;
        p->tag_at = gcm ? p->clear_end : p->clear_end + mki_len;
        mki_at = gcm ? p->clear_end + tag_len : p->clear_end;
        if (const result r = rtp_header_len(pkt, p->clear_end, &p->header_len); r != result::ok) {
            return r;
        }
        p->ssrc = load_be32(pkt + 8);
        p->encrypted = true;
    } else {
        if (len < rtcp_header_len + srtcp_trailer_len + tag_len + mki_len) {
            return result::too_short;
        }
        if (!rtcp_version_ok(pkt)) {
            return result::bad_header;
        }
        p->header_len = rtcp_header_len;
        if (gcm) {
            p->trailer_at = len - mki_len - srtcp_trailer_len;
            p->tag_at = p->trailer_at - tag_len;
            p->clear_end = p->tag_at;
        } else {
            p->trailer_at = len - tag_len - mki_len - srtcp_trailer_len;
            p->tag_at = p->trailer_at + srtcp_trailer_len + mki_len;
            p->clear_end = p->trailer_at;
        }
        p->auth_len = p->trailer_at + srtcp_trailer_len;  // AES-CM: header + payload + E/index
        mki_at = p->trailer_at + srtcp_trailer_len;
        const uint32_t trailer = load_be32(pkt + p->trailer_at);
        p->encrypted = (trailer >> 31) != 0;
        p->index = trailer & max_srtcp_index;
        p->ssrc = load_be32(pkt + 4);
    }
    // Not authenticated (RFC 3711 3.1), so checked first: a wrong one costs no crypto.
    if (!cm_no_mki && mki_len != 0 && std::memcmp(pkt + mki_at, c.mki(), mki_len) != 0) {
        return result::bad_mki;
    }
    return result::ok;
}

// Parse for protect: kind, header, room for what protect appends (`room`: bytes writable
// after the packet); fills header_len, auth_len (= len), clear_end (= len) and ssrc.
template <bool cm_no_mki = false>
inline result parse_protect(const context& c, bool rtcp, const uint8_t* pkt, uint32_t len, uint32_t room,
                            packet_plan* p) noexcept {
    const uint32_t appended = c.tag_len() + (cm_no_mki ? 0 : c.mki_len());
    if (c.rtcp() != rtcp) [[unlikely]] {
        return result::bad_header;
    }
    if (!rtcp) {
        if (const result r = rtp_header_len(pkt, len, &p->header_len); r != result::ok) {
            return r;
        }
        if (room < appended) {
            return result::no_room;
        }
        p->ssrc = load_be32(pkt + 8);
    } else {
        if (len < rtcp_header_len) {
            return result::too_short;
        }
        if (!rtcp_version_ok(pkt)) {
            return result::bad_header;
        }
        if (room < srtcp_trailer_len + appended) {
            return result::no_room;
        }
        p->header_len = rtcp_header_len;
        p->ssrc = load_be32(pkt + 4);
    }
    p->auth_len = len;
    p->clear_end = len;
    p->encrypted = true;
    return result::ok;
}

// Every check unprotect makes before its tag check (native engine): parse (with the MKI),
// SSRC slot, index, replay. ok = the packet may be authenticated; the plan says how.
template <bool cm_no_mki = false>
inline result check_unprotect(const context& c, bool rtcp, const uint8_t* pkt, uint32_t len, packet_plan* p) noexcept {
    if (const result r = parse_unprotect<cm_no_mki>(c, rtcp, pkt, len, p); r != result::ok) {
        return r;
    }
    p->slot = native::find_slot(c, p->ssrc, &p->is_new);
    if (p->slot == nullptr) {
        return result::ssrc_limit;
    }
    if (!rtcp) {
        p->index = estimate_index(p->slot->seen, load_be16(pkt + 2));
        if (p->index > max_srtp_index) {
            return result::replay;
        }
    }
    return p->slot->seen.check(p->index) == index_window::verdict::fresh ? result::ok : result::replay;
}

// Every check protect makes before its crypto (native engine): parse, SSRC slot, index
// (RTP: the receiver's estimate against the highest index sent, so a relayed stream's wraps
// become our ROC increments; SRTCP: our own counter per SSRC from 0, RFC 3711 3.4), reuse.
template <bool cm_no_mki = false>
inline result check_protect(const context& c, bool rtcp, const uint8_t* pkt, uint32_t len, uint32_t room,
                            packet_plan* p) noexcept {
    if (const result r = parse_protect<cm_no_mki>(c, rtcp, pkt, len, room, p); r != result::ok) {
        return r;
    }
    p->slot = native::find_slot(c, p->ssrc, &p->is_new);
    if (p->slot == nullptr) {
        return result::ssrc_limit;
    }
    const index_window& w = p->slot->seen;
    if (!rtcp) {
        p->index = estimate_index(w, load_be16(pkt + 2));
        if (p->index > max_srtp_index || w.check(p->index) != index_window::verdict::fresh) {
            return result::index_reuse;
        }
        return result::ok;
    }
    // After 2^31 SRTCP packets the key is spent.
    p->index = w.empty() ? 0 : w.top() + 1;
    return p->index > max_srtcp_index ? result::index_reuse : result::ok;
}

// AES-CM (RFC 3711 4.1.1): IV = (k_s * 2^16) XOR (SSRC * 2^64) XOR (i * 2^16), 16 bytes
// big-endian, from the 14-byte session salt. Two 64-bit words instead of a byte loop (~13 -> ~3 ns per
// IV in the pipeline profile; two per SRTP<->SRTP packet).
inline void make_iv(const uint8_t* salt, uint32_t ssrc, uint64_t index, uint8_t iv[16]) noexcept {
    uint64_t lo = 0;
    uint64_t hi = 0;
    std::memcpy(&lo, salt, 8);
    std::memcpy(&hi, salt + 8, 6);                               // bytes 14, 15 stay 0
    lo ^= static_cast<uint64_t>(__builtin_bswap32(ssrc)) << 32;  // bytes 4..7: SSRC, big-endian
    hi ^= __builtin_bswap64(index << 16);                        // bytes 8..13: 48-bit index, big-endian
    std::memcpy(iv, &lo, 8);
    std::memcpy(iv + 8, &hi, 8);
}

// AES-GCM (RFC 7714 8.1, 9.1): IV = (0x0000 || SSRC || i) XOR salt, 12 bytes big-endian
// from the 12-byte session salt, i the 48-bit SRTP index (ROC || SEQ) or the 31-bit SRTCP
// index (whose top 17 bits, 0, are the RFC's 0x0000 || 0 before it).
inline void make_gcm_iv(const uint8_t* salt, uint32_t ssrc, uint64_t index, uint8_t iv[12]) noexcept {
    uint32_t head = 0;
    uint64_t tail = 0;
    std::memcpy(&head, salt, 4);
    std::memcpy(&tail, salt + 4, 8);
    head ^= __builtin_bswap32(ssrc >> 16);                      // bytes 2..3: SSRC's top half
    tail ^= __builtin_bswap64((uint64_t{ssrc} << 48) | index);  // bytes 4..5: its bottom; 6..11: i
    std::memcpy(iv, &head, 4);
    std::memcpy(iv + 4, &tail, 8);
}

}  // namespace rtprelay::dp::srtp::detail
