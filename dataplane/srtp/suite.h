#pragma once
// The SRTP suites, as the table in suites.def lists them: the `suite` enum, each suite's
// lengths and transform, its SDES name, and the master key type sized for the largest.
// Both planes use it: SDES (control/sdes/) parses and writes keys by these lengths, the
// data plane's transforms (srtp.h) run by them.

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace rtprelay::dp::srtp {

enum class suite : uint8_t {
#define SRTP_SUITE(id, ...) id,
#include "dataplane/srtp/suites.def"
#undef SRTP_SUITE
};

// The transforms (suites.def's third column). Each has its code in native.cc and batch.cc.
enum class transform : uint8_t {
    aes_cm_hmac_sha1,  // RFC 3711: AES counter mode, HMAC-SHA1 tag over header || payload || ROC
    aes_gcm,           // RFC 7714: AES-GCM, the RTP header (SRTCP: header, E, index) as AAD
};

// All lengths are in bytes.
struct suite_info {
    const char* name;  // as in SDES a=crypto
    transform kind;
    uint8_t master_key_len;  // also the AES key size of the key derivation and the cipher
    uint8_t master_salt_len;
    uint8_t session_key_len;
    uint8_t session_salt_len;
    uint8_t session_auth_key_len;  // HMAC-SHA1 key; 0 for AEAD suites
    uint8_t rtp_tag_len;
    uint8_t rtcp_tag_len;
};

inline constexpr suite_info suite_table[] = {
#define SRTP_SUITE(id, sdes_name, kind_, mk, ms, sk, ss, sa, rtp_tag, rtcp_tag, ...) \
    {.name = sdes_name,                                                              \
     .kind = transform::kind_,                                                       \
     .master_key_len = mk,                                                           \
     .master_salt_len = ms,                                                          \
     .session_key_len = sk,                                                          \
     .session_salt_len = ss,                                                         \
     .session_auth_key_len = sa,                                                     \
     .rtp_tag_len = rtp_tag,                                                         \
     .rtcp_tag_len = rtcp_tag},
#include "dataplane/srtp/suites.def"
#undef SRTP_SUITE
};
inline constexpr size_t suite_count = sizeof(suite_table) / sizeof(suite_table[0]);

// Every suite, in table order (the order of "known:" lists and of the default accept list).
inline constexpr suite all_suites[] = {
#define SRTP_SUITE(id, ...) suite::id,
#include "dataplane/srtp/suites.def"
#undef SRTP_SUITE
};

// Largest lengths over the table, in bytes.
inline constexpr size_t max_master_key_len = 32;
inline constexpr size_t max_master_salt_len = 14;
inline constexpr size_t max_session_key_len = 32;
inline constexpr size_t max_session_salt_len = 14;
inline constexpr size_t max_tag_len = 16;
// An MKI (RFC 3711 3.1) of 1..4 bytes: what peers that use one send (RFC 4568 allows up to
// 128); a 4-byte compare per packet.
inline constexpr size_t max_mki_len = 4;

constexpr const suite_info& info(suite s) noexcept { return suite_table[static_cast<size_t>(s)]; }

// Exact, case-sensitive match of an SDES suite name, e.g. "AES_CM_128_HMAC_SHA1_80".
constexpr std::optional<suite> suite_from_name(std::string_view name) noexcept {
    for (size_t i = 0; i < suite_count; ++i) {
        if (name == suite_table[i].name) {
            return static_cast<suite>(i);
        }
    }
    return std::nullopt;
}

// A master key and salt (RFC 3711 8.2) with its master key identifier. Only the suite's
// lengths count: the first master_key_len / master_salt_len bytes; the rest stays zero.
struct master_key {
    std::array<uint8_t, max_master_key_len> key{};
    std::array<uint8_t, max_master_salt_len> salt{};
    // The MKI every packet under this key carries (RFC 3711 3.1), as sent: the first mki_len
    // bytes of `mki`, big-endian. 0 = none (the default; SDES lines with one are refused
    // unless the interface says mki=accept).
    uint8_t mki_len = 0;
    std::array<uint8_t, max_mki_len> mki{};
};

namespace detail {
constexpr bool table_fits() {
    for (const suite_info& s : suite_table) {
        if (s.master_key_len > max_master_key_len || s.master_salt_len > max_master_salt_len ||
            s.session_key_len > max_session_key_len || s.session_salt_len > max_session_salt_len ||
            s.rtp_tag_len > max_tag_len || s.rtcp_tag_len > max_tag_len || s.rtp_tag_len < 4 ||
            (s.session_key_len != 16 && s.session_key_len != 32) ||
            (s.kind == transform::aes_cm_hmac_sha1 && (s.session_salt_len != 14 || s.session_auth_key_len != 20)) ||
            (s.kind == transform::aes_gcm &&
             (s.session_salt_len != 12 || s.rtp_tag_len != 16 || s.rtcp_tag_len != 16))) {
            return false;
        }
    }
    return true;
}
}  // namespace detail
static_assert(detail::table_fits(), "suites.def: a length outside what the transforms and master_key hold");

}  // namespace rtprelay::dp::srtp
