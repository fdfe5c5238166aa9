#include "dataplane/srtp/kdf.h"

#include <openssl/crypto.h>

#include <cstring>

#include "dataplane/srtp/aes_ctr.h"

namespace rtprelay::dp::srtp {

namespace {

// x = key_id XOR master_salt, key_id = label || r (r = 0: 48 zero bits), both 112 bits
// right-aligned; so the label lands on salt byte 7. The counter block is x * 2^16 + block.
void counter_block(const uint8_t* master_salt, size_t master_salt_len, uint8_t label, uint16_t block, uint8_t out[16]) {
    std::memset(out, 0, 16);
    std::memcpy(out, master_salt, master_salt_len);  // 12-byte salts: zero-padded to 14
    out[7] ^= label;
    out[14] = static_cast<uint8_t>(block >> 8);
    out[15] = static_cast<uint8_t>(block);
}

}  // namespace

void derive_session_key(const uint8_t* master_key, size_t master_key_len, const uint8_t* master_salt,
                        size_t master_salt_len, kdf_label label, uint8_t* out, size_t len) {
    uint8_t iv[16];
    counter_block(master_salt, master_salt_len, static_cast<uint8_t>(label), 0, iv);
    aes_ctr prf;
    prf.set_key(master_key, master_key_len);
    std::memset(out, 0, len);
    prf.apply(iv, out, out, len);
}

void derive_session_keys(suite s, const master_key& key, bool rtcp, session_keys* out) {
    const suite_info& si = info(s);
    const uint8_t first = static_cast<uint8_t>(rtcp ? kdf_label::rtcp_encryption : kdf_label::rtp_encryption);
    // The keystream blocks needed: the encryption key (1 or 2 blocks of its label), the auth
    // key (2 blocks: 20 bytes; none for AEAD suites), the salt (1 block: 12 or 14 bytes).
    constexpr size_t max_blocks = 5;
    alignas(16) uint8_t blocks[16 * max_blocks];
    size_t n = 0;
    const size_t enc_blocks = (si.session_key_len + 15) / 16;
    const size_t auth_blocks = (si.session_auth_key_len + 15) / 16;
    for (size_t b = 0; b < enc_blocks; ++b) {
        counter_block(key.salt.data(), si.master_salt_len, first, static_cast<uint16_t>(b), blocks + 16 * n++);
    }
    for (size_t b = 0; b < auth_blocks; ++b) {
        counter_block(key.salt.data(), si.master_salt_len, static_cast<uint8_t>(first + 1), static_cast<uint16_t>(b),
                      blocks + 16 * n++);
    }
    counter_block(key.salt.data(), si.master_salt_len, static_cast<uint8_t>(first + 2), 0, blocks + 16 * n++);
    alignas(16) uint8_t stream[16 * max_blocks];
    if (cpu_has_aesni()) {
        // One key expansion and one pass over the blocks, all on the stack and wiped after.
        alignas(16) uint8_t round_keys[max_aes_round_keys_len];
        aesni_expand_key(key.key.data(), si.master_key_len, round_keys);
        aesni_encrypt_blocks(round_keys, si.master_key_len, blocks, stream, n);
        OPENSSL_cleanse(round_keys, sizeof(round_keys));
    } else {
        aes_ctr prf;  // keyed once (EVP); its destructor wipes the key schedule
        prf.set_key(key.key.data(), si.master_key_len);
        const uint8_t zero[16] = {};
        for (size_t i = 0; i < n; ++i) {
            prf.apply(blocks + 16 * i, zero, stream + 16 * i, 16);
        }
    }
    std::memcpy(out->enc, stream, si.session_key_len);
    if (auth_blocks != 0) {
        std::memcpy(out->auth, stream + 16 * enc_blocks, si.session_auth_key_len);
    }
    std::memcpy(out->salt, stream + 16 * (enc_blocks + auth_blocks), si.session_salt_len);
    OPENSSL_cleanse(stream, sizeof(stream));
}

}  // namespace rtprelay::dp::srtp
