#include "dataplane/srtp/kdf.h"

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

}  // namespace rtprelay::dp::srtp
