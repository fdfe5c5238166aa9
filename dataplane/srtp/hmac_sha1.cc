// The low-level SHA1_* functions are deprecated in OpenSSL 3 in favour of EVP, which cannot
// resume from a saved midstate without an allocation per call (see hmac_sha1.h).
#define OPENSSL_SUPPRESS_DEPRECATED 1

#include "dataplane/srtp/hmac_sha1.h"

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include <cstring>

namespace rtprelay::dp::srtp {

namespace {

constexpr size_t block_len = 64;  // SHA-1 block, bytes

void save(const SHA_CTX& c, uint32_t* h) {
    h[0] = c.h0;
    h[1] = c.h1;
    h[2] = c.h2;
    h[3] = c.h3;
    h[4] = c.h4;
}

// A SHA_CTX that has consumed exactly one block and ended in chaining values `h`.
void resume(SHA_CTX* c, const uint32_t* h) {
    c->h0 = h[0];
    c->h1 = h[1];
    c->h2 = h[2];
    c->h3 = h[3];
    c->h4 = h[4];
    c->Nl = block_len * 8;  // message length so far, in bits
    c->Nh = 0;
    c->num = 0;  // nothing buffered
}

}  // namespace

hmac_sha1::~hmac_sha1() {
    OPENSSL_cleanse(inner_, sizeof(inner_));
    OPENSSL_cleanse(outer_, sizeof(outer_));
}

void hmac_sha1::set_key(const uint8_t* key, size_t len) noexcept {
    uint8_t k[block_len] = {};
    SHA_CTX c;
    if (len > block_len) {
        SHA1_Init(&c);
        SHA1_Update(&c, key, len);
        SHA1_Final(k, &c);
    } else if (len != 0) {
        std::memcpy(k, key, len);
    }
    uint8_t pad[block_len];
    for (size_t i = 0; i < block_len; ++i) {
        pad[i] = k[i] ^ 0x36;
    }
    SHA1_Init(&c);
    SHA1_Update(&c, pad, block_len);
    save(c, inner_);
    for (size_t i = 0; i < block_len; ++i) {
        pad[i] = k[i] ^ 0x5c;
    }
    SHA1_Init(&c);
    SHA1_Update(&c, pad, block_len);
    save(c, outer_);
    OPENSSL_cleanse(k, sizeof(k));
    OPENSSL_cleanse(pad, sizeof(pad));
    OPENSSL_cleanse(&c, sizeof(c));
}

void hmac_sha1::compute(const uint8_t* a, size_t a_len, const uint8_t* b, size_t b_len,
                        uint8_t out[digest_len]) const noexcept {
    SHA_CTX c;
    uint8_t inner_digest[digest_len];
    resume(&c, inner_);
    SHA1_Update(&c, a, a_len);
    if (b_len != 0) {
        SHA1_Update(&c, b, b_len);
    }
    SHA1_Final(inner_digest, &c);
    resume(&c, outer_);
    SHA1_Update(&c, inner_digest, digest_len);
    SHA1_Final(out, &c);
}

}  // namespace rtprelay::dp::srtp
