#pragma once
// HMAC-SHA1 (RFC 2104) with the key folded in once: the SHA-1 states after the (key XOR ipad)
// and (key XOR opad) blocks are computed when the key is set, so a tag costs the message's
// blocks plus one outer block, and no key block is hashed per packet.
//
// Per message we continue from those states with OpenSSL's low-level SHA1_Update/SHA1_Final
// (SHA-NI or AVX2 assembly inside). The EVP alternatives are slower and allocate: for 176
// bytes (a 172-byte packet + ROC) midstates take 209 ns, EVP_MD_CTX_copy_ex from pre-fed
// pad contexts 363 ns (OpenSSL 3.0 mallocs the duplicated provider context on each copy),
// EVP_MAC re-init with the same key 538 ns (bench/micro/srtp_benchmark.cc, hmac_sha1/*,
// CPU time). SHA-1 compression is most of an SRTP packet's cost; only multi-buffer hashing
// across a burst would go much lower.

#include <cstddef>
#include <cstdint>

namespace rtprelay::dp::srtp {

class hmac_sha1 {
 public:
    static constexpr size_t digest_len = 20;  // bytes

    hmac_sha1() = default;
    ~hmac_sha1();
    hmac_sha1(const hmac_sha1&) = delete;
    hmac_sha1& operator=(const hmac_sha1&) = delete;

    // Any key length (a key longer than a block is hashed first, as RFC 2104 says).
    void set_key(const uint8_t* key, size_t len) noexcept;

    // out = HMAC(key, a || b), 20 bytes. `b` may be empty (b_len 0). No allocation.
    void compute(const uint8_t* a, size_t a_len, const uint8_t* b, size_t b_len,
                 uint8_t out[digest_len]) const noexcept;

    // The chaining values after the ipad/opad block, h0..h4 as native-endian words: the
    // layout intel-ipsec-mb's HMAC jobs take as hashed_auth_key_xor_ipad/opad (batch.h).
    const uint32_t* inner_state() const noexcept { return inner_; }
    const uint32_t* outer_state() const noexcept { return outer_; }

 private:
    // SHA-1 chaining values h0..h4 after one 64-byte block.
    uint32_t inner_[5]{};
    uint32_t outer_[5]{};
};

}  // namespace rtprelay::dp::srtp
