#pragma once
// SRTP key derivation (RFC 3711 4.3) with key derivation rate 0: the AES-CM PRF keyed with
// the master key (AES-128, or AES-256 for the 256-bit suites: RFC 6188 7.1, RFC 7714 11),
// its counter block being (master salt XOR label << 48) << 16. A 12-byte master salt (the
// AEAD suites) is zero-padded to 14 bytes first, as libsrtp2 does. Control plane only (it
// keys an AES context per call).

#include <cstddef>
#include <cstdint>

#include "dataplane/srtp/suite.h"

namespace rtprelay::dp::srtp {

// RFC 3711 4.3.2 labels.
enum class kdf_label : uint8_t {
    rtp_encryption = 0x00,
    rtp_auth = 0x01,
    rtp_salt = 0x02,
    rtcp_encryption = 0x03,
    rtcp_auth = 0x04,
    rtcp_salt = 0x05,
};

// One protocol's session keys; lengths as the suite's table row says (bytes).
struct session_keys {
    uint8_t enc[max_session_key_len];
    uint8_t auth[20];  // HMAC-SHA1 suites only
    uint8_t salt[max_session_salt_len];
};

// The session keys of one protocol (RTP labels 0..2, or RTCP 3..5 when `rtcp`) of suite `s`
// with one AES key expansion of the master key for all of them (AES-NI when the CPU has it;
// OpenSSL EVP otherwise), the PRF's blocks in one pass. Nothing secret is left behind but
// the outputs (the caller wipes *out). Throws std::runtime_error if OpenSSL fails.
void derive_session_keys(suite s, const master_key& key, bool rtcp, session_keys* out);

// Writes the first `len` bytes of PRF(master_key, x) for label `label` to `out`;
// `master_key_len` 16 or 32, `master_salt_len` 12 or 14 (bytes). Throws std::runtime_error
// if OpenSSL fails.
void derive_session_key(const uint8_t* master_key, size_t master_key_len, const uint8_t* master_salt,
                        size_t master_salt_len, kdf_label label, uint8_t* out, size_t len);

}  // namespace rtprelay::dp::srtp
