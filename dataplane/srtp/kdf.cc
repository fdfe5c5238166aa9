#include "dataplane/srtp/kdf.h"

#include <openssl/crypto.h>

#include <cstring>

#include "dataplane/srtp/aes_ctr.h"

namespace rtprelay::dp::srtp {

void derive_session_key(const uint8_t master_key[16], const uint8_t master_salt[14], kdf_label label, uint8_t* out,
                        size_t len) {
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

void derive_session_keys(const uint8_t master_key[16], const uint8_t master_salt[14], bool rtcp, uint8_t enc_key[16],
                         uint8_t auth_key[20], uint8_t salt[14]) {
    const uint8_t first = static_cast<uint8_t>(rtcp ? kdf_label::rtcp_encryption : kdf_label::rtp_encryption);
    // The keystream blocks needed: encryption key (block 0 of its label), auth key (blocks 0
    // and 1: 20 bytes), salt (block 0: 14 bytes). Counter block = x * 2^16 + block number.
    alignas(16) uint8_t blocks[64] = {};
    for (int i = 0; i < 4; ++i) {
        std::memcpy(blocks + 16 * i, master_salt, 14);
    }
    blocks[7] ^= first;
    blocks[16 + 7] ^= static_cast<uint8_t>(first + 1);
    blocks[32 + 7] ^= static_cast<uint8_t>(first + 1);
    blocks[32 + 15] = 1;
    blocks[48 + 7] ^= static_cast<uint8_t>(first + 2);
    alignas(16) uint8_t out[64];
    if (cpu_has_aesni()) {
        // One key expansion and one 4-block pass, all on the stack and wiped after.
        alignas(16) uint8_t round_keys[aes128_round_keys_len];
        aesni_expand_key(master_key, round_keys);
        aesni_encrypt4(round_keys, blocks, out);
        OPENSSL_cleanse(round_keys, sizeof(round_keys));
    } else {
        aes128_ctr prf;  // keyed once (EVP); its destructor wipes the key schedule
        prf.set_key(master_key);
        const uint8_t zero[16] = {};
        for (int i = 0; i < 4; ++i) {
            prf.apply(blocks + 16 * i, zero, out + 16 * i, 16);
        }
    }
    std::memcpy(enc_key, out, 16);
    std::memcpy(auth_key, out + 16, 20);
    std::memcpy(salt, out + 48, 14);
    OPENSSL_cleanse(out, sizeof(out));
}

}  // namespace rtprelay::dp::srtp
