#pragma once
// AES-GCM (NIST SP 800-38D) for the AEAD suites (RFC 7714): AES-128 or AES-256, 12-byte IV,
// 16-byte tag, in place. Key lengths are in bytes (16 or 32).
//
// Two implementations, picked per key as for aes_ctr.h:
//  - aesni: intel-ipsec-mb's GCM (AES-NI and PCLMULQDQ; VAES and AVX-512 where the CPU has
//    them), one call per packet on key data precomputed once (gcm_key_data_len() bytes: the
//    round keys and powers of the hash key, kept after the SRTP context). The library's code
//    path is chosen once per process, the best this CPU runs, because its key data layout
//    differs between paths: every key is precomputed by that path and used only by it, on
//    every worker (the burst path's GCM jobs run on a manager of the same path, see
//    init_gcm_manager). ~100-160 ns for a 160-byte payload (bench/micro/srtp_benchmark.cc).
//  - openssl: an EVP_CIPHER_CTX keyed once; per packet the IV is set and the calls run, with
//    no allocation. For CPUs without AES-NI, and as a second implementation for the tests.
//
// Opening decrypts before it knows whether the tag is right (both libraries compute the tag
// while they decrypt): on a wrong tag the bytes are encrypted back, so a forged packet
// leaves the buffer as it came, at the cost of a second pass.

#include <cstddef>
#include <cstdint>

struct IMB_MGR;
struct evp_cipher_ctx_st;  // OpenSSL's EVP_CIPHER_CTX

namespace rtprelay::dp::srtp {

inline constexpr size_t gcm_iv_len = 12;   // bytes
inline constexpr size_t gcm_tag_len = 16;  // bytes

// --- aesni: intel-ipsec-mb. Call only when cpu_has_aesni(). ---

// Bytes of precomputed key data (64-byte aligned where it is kept).
size_t gcm_key_data_len() noexcept;
// Control plane: precomputes `key` into `key_data`. Throws std::runtime_error if the library
// cannot run on this CPU.
void gcm_precompute(const uint8_t* key, size_t key_len, void* key_data);
// Sets up `mgr` (allocated with alloc_mb_mgr) on the process's GCM code path, so that its
// GCM jobs can use key data from gcm_precompute. Throws std::runtime_error on failure.
void init_gcm_manager(IMB_MGR* mgr);
// Encrypts data[0, len) in place and writes the tag. `aad` may be null when aad_len is 0.
void gcm_seal(const void* key_data, size_t key_len, const uint8_t iv[gcm_iv_len], const uint8_t* aad, size_t aad_len,
              uint8_t* data, size_t len, uint8_t tag[gcm_tag_len]) noexcept;
// True when `tag` is right, and data[0, len) is then decrypted in place; false leaves it as
// it was. The tag compare takes constant time.
bool gcm_open(const void* key_data, size_t key_len, const uint8_t iv[gcm_iv_len], const uint8_t* aad, size_t aad_len,
              uint8_t* data, size_t len, const uint8_t tag[gcm_tag_len]) noexcept;

// --- openssl: EVP. ---

class gcm_evp {
 public:
    gcm_evp() = default;
    ~gcm_evp();
    gcm_evp(const gcm_evp&) = delete;
    gcm_evp& operator=(const gcm_evp&) = delete;

    // Control plane. Throws std::runtime_error for a key length other than 16 or 32, or if
    // OpenSSL fails.
    void set_key(const uint8_t* key, size_t key_len);
    // As gcm_seal / gcm_open. Cannot fail once keyed: if OpenSSL ever did, seal zeroes the
    // data (never plaintext leaving as ciphertext) and open says false.
    void seal(const uint8_t iv[gcm_iv_len], const uint8_t* aad, size_t aad_len, uint8_t* data, size_t len,
              uint8_t tag[gcm_tag_len]) noexcept;
    bool open(const uint8_t iv[gcm_iv_len], const uint8_t* aad, size_t aad_len, uint8_t* data, size_t len,
              const uint8_t tag[gcm_tag_len]) noexcept;

 private:
    evp_cipher_ctx_st* enc_ = nullptr;
    evp_cipher_ctx_st* dec_ = nullptr;
};

}  // namespace rtprelay::dp::srtp
