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

// Writes the first `len` bytes of PRF(master_key, x) for label `label` to `out`. Throws
// std::runtime_error if OpenSSL fails.
void derive_session_key(const uint8_t master_key[16], const uint8_t master_salt[14], kdf_label label,
                        uint8_t* out, size_t len);

}  // namespace rtprelay::dp::srtp
