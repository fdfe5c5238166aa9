#pragma once
// Byte access and RTP/RTCP header checks shared by both engines. Internal to dataplane/srtp.

#include <cstdint>
#include <cstring>

#include "dataplane/srtp/index_window.h"
#include "dataplane/srtp/srtp.h"

namespace rtprelay::dp::srtp::detail {

inline constexpr uint32_t rtp_fixed_header_len = 12;  // bytes, before CSRCs
inline constexpr uint32_t rtcp_header_len = 8;        // bytes left in clear: V/P/RC, PT, length, SSRC
inline constexpr uint32_t srtcp_trailer_len = 4;      // E bit + 31-bit index
inline constexpr uint64_t max_srtp_index = (uint64_t{1} << 48) - 1;
inline constexpr uint64_t max_srtcp_index = 0x7fffffff;

inline uint16_t load_be16(const uint8_t* p) noexcept { return static_cast<uint16_t>((p[0] << 8) | p[1]); }

inline uint32_t load_be32(const uint8_t* p) noexcept {
    uint32_t v;
    std::memcpy(&v, p, 4);
    return __builtin_bswap32(v);
}

inline void store_be32(uint8_t* p, uint32_t v) noexcept {
    v = __builtin_bswap32(v);
    std::memcpy(p, &v, 4);
}

// Length of the RTP header (fixed part, CSRCs, extension) of a packet of `len` bytes
// (without any SRTP tag). Never reads past `len`.
inline result rtp_header_len(const uint8_t* p, uint32_t len, uint32_t* header_len) noexcept {
    if (len < rtp_fixed_header_len) {
        return result::too_short;
    }
    if ((p[0] >> 6) != 2) {
        return result::bad_header;
    }
    uint32_t h = rtp_fixed_header_len + 4 * (p[0] & 0x0f);
    if ((p[0] & 0x10) != 0) {
        if (h + 4 > len) {
            return result::bad_header;
        }
        h += 4 + 4 * uint32_t{load_be16(p + h + 2)};
    }
    if (h > len) {
        return result::bad_header;
    }
    *header_len = h;
    return result::ok;
}

// RFC 3711 Appendix A: the index of sequence number `seq` is the one, among ROC-1, ROC and
// ROC+1 (ROC, s_l from the highest index so far), closest to the highest index. A first
// packet gets ROC 0. Where the RFC would pick ROC-1 = -1 we keep 0, as libsrtp does (it only
// guesses once the highest index exceeds 2^15).
inline uint64_t estimate_index(const index_window& w, uint16_t seq) noexcept {
    if (w.empty()) {
        return seq;
    }
    const uint64_t top = w.top();
    const uint64_t roc = top >> 16;
    const uint32_t s_l = static_cast<uint32_t>(top & 0xffff);
    uint64_t v = roc;
    if (s_l < 0x8000) {
        if (seq > s_l + 0x8000 && roc > 0) {
            v = roc - 1;
        }
    } else if (seq < s_l - 0x8000) {
        v = roc + 1;
    }
    return (v << 16) | seq;
}

inline bool rtcp_version_ok(const uint8_t* p) noexcept { return (p[0] >> 6) == 2; }

// Writes `len` (0..max_mki_len) bytes of MKI at `at`. Almost no key has one: the test keeps
// the common case free of a memcpy call (a variable length is a library call).
inline void write_mki(uint8_t* at, const uint8_t* mki, uint32_t len) noexcept {
    if (len != 0) [[unlikely]] {
        std::memcpy(at, mki, len);
    }
}

}  // namespace rtprelay::dp::srtp::detail
