#include "dataplane/srtp/kdf.h"

#include <openssl/crypto.h>

#include <cstring>

#include "dataplane/srtp/aes_ctr.h"

namespace rtprelay::dp::srtp {

void derive_session_key(const uint8_t master_key[16], const uint8_t master_salt[14], kdf_label label,
                        uint8_t* out, size_t len) {
    // x = key_id XOR master_salt, key_id = label || r (r = 0: 48 zero bits), both 112 bits
    // right-aligned; so the label lands on salt byte 7. The counter block is x * 2^16.
    uint8_t iv[16] = {};
    std::memcpy(iv, master_salt, 14);
    iv[7] ^= static_cast<uint8_t>(label);
    aes128_ctr prf;
    prf.set_key(master_key);
    std::memset(out, 0, len);
    prf.apply(iv, out, out, len);
}

void derive_session_keys(const uint8_t master_key[16], const uint8_t master_salt[14], bool rtcp,
                         uint8_t enc_key[16], uint8_t auth_key[20], uint8_t salt[14]) {
    const uint8_t first = static_cast<uint8_t>(rtcp ? kdf_label::rtcp_encryption : kdf_label::rtp_encryption);
    aes128_ctr prf;  // keyed once; its destructor wipes the round keys
    prf.set_key(master_key);
    uint8_t iv[16] = {};
    const auto run = [&](uint8_t label, uint8_t* out, size_t len) {
        std::memcpy(iv, master_salt, 14);
        iv[14] = 0;
        iv[15] = 0;
        iv[7] ^= label;
        std::memset(out, 0, len);
        prf.apply(iv, out, out, len);
    };
    run(first, enc_key, 16);
    run(static_cast<uint8_t>(first + 1), auth_key, 20);
    run(static_cast<uint8_t>(first + 2), salt, 14);
    OPENSSL_cleanse(iv, sizeof(iv));
}

}  // namespace rtprelay::dp::srtp
