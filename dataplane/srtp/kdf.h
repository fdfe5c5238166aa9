#pragma once
// SRTP key derivation (RFC 3711 4.3) with key derivation rate 0: the AES-CM PRF keyed with
// the master key, its counter block being (master salt XOR label << 48) << 16. Control plane
// only (it keys an AES context per call).

#include <cstddef>
#include <cstdint>

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

// The three session keys of one protocol (RTP labels 0..2, or RTCP 3..5 when `rtcp`) with one
// AES key expansion of the master key for all three (AES-NI when the CPU has it; OpenSSL EVP
// otherwise). Nothing secret is left behind but the outputs. Throws std::runtime_error if
// OpenSSL fails.
void derive_session_keys(const uint8_t master_key[16], const uint8_t master_salt[14], bool rtcp, uint8_t enc_key[16],
                         uint8_t auth_key[20], uint8_t salt[14]);

// Writes the first `len` bytes of PRF(master_key, x) for label `label` to `out`. Throws
// std::runtime_error if OpenSSL fails.
void derive_session_key(const uint8_t master_key[16], const uint8_t master_salt[14], kdf_label label, uint8_t* out,
                        size_t len);

}  // namespace rtprelay::dp::srtp
