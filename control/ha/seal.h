#pragma once
// Sealing call records for Redis: AES-256-GCM under the group's key, so that a
// Redis dump, a replica's disk or a MONITOR session shows no SDES media key, and a record
// cannot be altered, truncated or moved to another call's name without the open failing.
//
// A sealed blob is nonce (12 random bytes) || ciphertext || tag (16 bytes): 28 bytes more
// than the plain text. Random 96-bit nonces are safe for up to 2^32 seals under one key
// (NIST SP 800-38D); a node writing 1,000 records a second reaches that in 136 years.
// `aad` (authenticated, not stored) binds the blob to where it lives: the caller passes the
// record's header and the group and call-id it is stored under.
//
// The cipher is the project's one AES-GCM (dataplane/srtp/aes_gcm.h, also the SRTP AEAD
// suites'): intel-ipsec-mb's on key data precomputed once where the CPU has AES-NI, else
// OpenSSL's EVP. A blob is the standard GCM construction either way (12-byte IV, 16-byte
// tag), so records written by any earlier version open, and each implementation opens what
// the other sealed (record_test checks both against OpenSSL's EVP directly). Per ~300-byte
// record: ~0.2-0.3 us on intel-ipsec-mb against ~0.7-1.0 us through OpenSSL 3's EVP, which
// looks up the context's parameters by name on every IV set and tag read (bench/RESULTS.md).
// Control plane and the HA thread only: a writer that seals many records keeps one `sealer`
// (the key's set-up, ~0.3 us, done once).

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

// Throws std::runtime_error when the cipher's set-up or the random generator fails (never
// for input).
std::string seal(const group_key& key, std::string_view plain, std::string_view aad);

// The group key set up for AES-256-GCM (dp::srtp: intel-ipsec-mb's precomputed key data, or
// an OpenSSL context), wiped when destroyed. Not shared between threads.
class gcm_key {
 public:
    enum class impl_kind { best, openssl };  // best: intel-ipsec-mb where the CPU has AES-NI
    // Throws std::runtime_error (no key, set-up).
    explicit gcm_key(const group_key& key, impl_kind kind = impl_kind::best);
    ~gcm_key();
    gcm_key(const gcm_key&) = delete;
    gcm_key& operator=(const gcm_key&) = delete;

    // In place, as dp::srtp::gcm_seal / gcm_open.
    void seal(const uint8_t* iv, std::string_view aad, uint8_t* data, size_t len, uint8_t* tag);
    bool open(const uint8_t* iv, std::string_view aad, uint8_t* data, size_t len, const uint8_t* tag);

 private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

// seal() for one thread that seals many blobs under one key: the key is set up once; each
// seal only sets a fresh random nonce. The nonces come from the random generator nonce_pool
// at a time (one RAND_bytes call instead of one per seal, ~0.3 us each on this project's
// machines); each is used once and wiped, and a forked child drops what its parent drew, so
// that a nonce is never used twice under the key. Same output format, same exceptions. Not
// shared between threads (the key's state and the pool are mutable).
class sealer {
 public:
    static constexpr size_t nonce_pool = 32;

    // Throws std::runtime_error (no key, set-up). `kind`: which GCM (gcm_key), for the tests
    // and benchmarks; the relay uses the best.
    explicit sealer(const group_key& key, gcm_key::impl_kind kind = gcm_key::impl_kind::best);
    ~sealer();
    sealer(const sealer&) = delete;
    sealer& operator=(const sealer&) = delete;

    std::string seal(std::string_view plain, std::string_view aad);
    // The same, appended to `out` (no allocation once `out` has the room). On a throw `out`
    // is as it was.
    void seal_into(std::string_view plain, std::string_view aad, std::string& out);

 private:
    void next_nonce(unsigned char* out);

    gcm_key key_;
    std::array<unsigned char, nonce_pool * seal_nonce_bytes> pool_{};
    size_t pool_used_ = nonce_pool;  // nonces of pool_ already handed out
    uint64_t pool_forks_ = 0;        // the process's fork count when pool_ was drawn
};
// nullopt when the blob is too short, or was sealed under another key or `aad`, or altered.
std::optional<std::string> open(const group_key& key, std::string_view sealed, std::string_view aad);

}  // namespace rtprelay::ha
