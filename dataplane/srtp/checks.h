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
// All lengths in bytes.
struct packet_plan {
    const ssrc_slot* slot = nullptr;  // the SSRC's slot, or an empty stand-in (is_new)
    uint64_t index = 0;               // SRTP: ROC << 16 | SEQ; SRTCP: the 31-bit index
    uint32_t ssrc = 0;
    uint32_t header_len = 0;          // left in clear at the front (RTP header, SRTCP's 8)
    uint32_t auth_len = 0;            // unprotect: bytes before the tag (what the tag covers,
                                      // the ROC aside); protect: the packet as given
    uint32_t clear_end = 0;           // end of the encrypted part (unprotect: the packet's
                                      // length once the tag and SRTCP trailer are gone)
    bool is_new = false;              // the SSRC has no slot yet; reserve() before commit()
    bool encrypted = true;            // SRTCP E bit (unprotect); true otherwise
};

// Parse for unprotect: kind, length, header; fills header_len, auth_len, clear_end, ssrc
// and (SRTCP) index and encrypted. Needs nothing but the context's kind and tag length, so
// the libsrtp2 engine runs it too.
inline result parse_unprotect(const context& c, bool rtcp, const uint8_t* pkt, uint32_t len,
                              packet_plan* p) noexcept {
    const uint32_t tag_len = c.tag_len();
    if (c.rtcp() != rtcp) [[unlikely]] {
        return result::bad_header;
    }
    if (!rtcp) {
        if (len < rtp_fixed_header_len + tag_len) {
            return result::too_short;
        }
        p->auth_len = len - tag_len;  // header + encrypted payload
        if (const result r = rtp_header_len(pkt, p->auth_len, &p->header_len); r != result::ok) {
            return r;
        }
        p->clear_end = p->auth_len;
        p->ssrc = load_be32(pkt + 8);
        p->encrypted = true;
        return result::ok;
    }
    if (len < rtcp_header_len + srtcp_trailer_len + tag_len) {
        return result::too_short;
    }
    if (!rtcp_version_ok(pkt)) {
        return result::bad_header;
    }
    p->auth_len = len - tag_len;  // header + payload + E/index
    p->header_len = rtcp_header_len;
    p->clear_end = p->auth_len - srtcp_trailer_len;
    const uint32_t trailer = load_be32(pkt + p->clear_end);
    p->encrypted = (trailer >> 31) != 0;
    p->index = trailer & max_srtcp_index;
    p->ssrc = load_be32(pkt + 4);
    return result::ok;
}

// Parse for protect: kind, header, room for what protect appends (`room`: bytes writable
// after the packet); fills header_len, auth_len (= len), clear_end (= len) and ssrc.
inline result parse_protect(const context& c, bool rtcp, const uint8_t* pkt, uint32_t len, uint32_t room,
                            packet_plan* p) noexcept {
    const uint32_t tag_len = c.tag_len();
    if (c.rtcp() != rtcp) [[unlikely]] {
        return result::bad_header;
    }
    if (!rtcp) {
        if (const result r = rtp_header_len(pkt, len, &p->header_len); r != result::ok) {
            return r;
        }
        if (room < tag_len) {
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
        if (room < srtcp_trailer_len + tag_len) {
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

// Every check unprotect makes before its HMAC (native engine): parse, SSRC slot, index,
// replay. ok = the packet may be authenticated; the plan says how.
inline result check_unprotect(const context& c, bool rtcp, const uint8_t* pkt, uint32_t len,
                              packet_plan* p) noexcept {
    if (const result r = parse_unprotect(c, rtcp, pkt, len, p); r != result::ok) {
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
inline result check_protect(const context& c, bool rtcp, const uint8_t* pkt, uint32_t len, uint32_t room,
                            packet_plan* p) noexcept {
    if (const result r = parse_protect(c, rtcp, pkt, len, room, p); r != result::ok) {
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

// RFC 3711 4.1.1: IV = (k_s * 2^16) XOR (SSRC * 2^64) XOR (i * 2^16), 16 bytes big-endian,
// from the 14-byte session salt. Two 64-bit words instead of a byte loop (~13 -> ~3 ns per
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

}  // namespace rtprelay::dp::srtp::detail
