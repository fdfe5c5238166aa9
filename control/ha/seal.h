#pragma once
// Sealing call records for Redis: AES-256-GCM (OpenSSL) under the group's key, so that a
// Redis dump, a replica's disk or a MONITOR session shows no SDES media key, and a record
// cannot be altered, truncated or moved to another call's name without the open failing.
//
// A sealed blob is nonce (12 random bytes) || ciphertext || tag (16 bytes): 28 bytes more
// than the plain text. Random 96-bit nonces are safe for up to 2^32 seals under one key
// (NIST SP 800-38D); a node writing 1,000 records a second reaches that in 136 years.
// `aad` (authenticated, not stored) binds the blob to where it lives: the caller passes the
// record's header and the group and call-id it is stored under.
//
// Control plane and the HA thread only; ~1 us per 500-byte record with a context made per
// call (seal()), of which the AES key schedule is about a third: a writer that seals many
// records keeps one `sealer`.

#include <openssl/types.h>

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace rtprelay::ha {

class group_key {
 public:
    static constexpr size_t size = 32;
    group_key() = default;
    explicit group_key(const std::array<uint8_t, size>& k) : bytes_(k), set_(true) {}
    group_key(const group_key&) = default;
    group_key& operator=(const group_key&) = default;
    ~group_key();

    // 64 hex digits, surrounding white space ignored. nullopt when it is anything else.
    static std::optional<group_key> from_hex(std::string_view text);
    bool empty() const { return !set_; }
    const uint8_t* data() const { return bytes_.data(); }

 private:
    std::array<uint8_t, size> bytes_{};
    bool set_ = false;
};

inline constexpr size_t seal_nonce_bytes = 12;
inline constexpr size_t seal_tag_bytes = 16;
inline constexpr size_t seal_overhead = seal_nonce_bytes + seal_tag_bytes;

// Throws std::runtime_error when OpenSSL or the random generator fails (never for input).
std::string seal(const group_key& key, std::string_view plain, std::string_view aad);

// An OpenSSL cipher context, freed (its key schedule wiped) on every way out.
struct cipher_ctx_free {
    void operator()(EVP_CIPHER_CTX* c) const;
};
using cipher_ctx = std::unique_ptr<EVP_CIPHER_CTX, cipher_ctx_free>;

// seal() for one thread that seals many blobs under one key: the cipher (fetched once per
// process), the context and its key schedule are made once; each seal only sets a fresh
// random nonce. The nonces come from the random generator nonce_pool at a time (one
// RAND_bytes call instead of one per seal, ~0.3 us each on this project's machines); each
// is used once and wiped, and a forked child drops what its parent drew, so that a nonce is
// never used twice under the key. Same output format, same exceptions. Not shared between
// threads (the context and the pool are mutable state).
class sealer {
 public:
    static constexpr size_t nonce_pool = 32;

    explicit sealer(const group_key& key);  // throws std::runtime_error (no key, OpenSSL)
    ~sealer();
    sealer(const sealer&) = delete;
    sealer& operator=(const sealer&) = delete;

    std::string seal(std::string_view plain, std::string_view aad);
    // The same, appended to `out` (no allocation once `out` has the room). On a throw `out`
    // is as it was.
    void seal_into(std::string_view plain, std::string_view aad, std::string& out);

 private:
    void next_nonce(unsigned char* out);

    cipher_ctx ctx_;
    std::array<unsigned char, nonce_pool * seal_nonce_bytes> pool_{};
    size_t pool_used_ = nonce_pool;  // nonces of pool_ already handed out
    uint64_t pool_forks_ = 0;        // the process's fork count when pool_ was drawn
};
// nullopt when the blob is too short, or was sealed under another key or `aad`, or altered.
std::optional<std::string> open(const group_key& key, std::string_view sealed, std::string_view aad);

}  // namespace rtprelay::ha
