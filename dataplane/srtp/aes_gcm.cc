#define NO_COMPAT_IMB_API_053 1  // intel-ipsec-mb.h would otherwise #define SHA1 and friends
#include "dataplane/srtp/aes_gcm.h"

#include <intel-ipsec-mb.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <stdexcept>
#include <string>

namespace rtprelay::dp::srtp {

namespace {

// The process's GCM code path: a manager whose function table does the direct GCM calls
// (they keep no state in it, so every worker may call through it at once) and whose path
// precomputes every key.
struct gcm_path {
    IMB_MGR* mgr = nullptr;
    IMB_ARCH arch = IMB_ARCH_NONE;
};

const gcm_path& path() {
    static const gcm_path p = [] {
        gcm_path g;
        g.mgr = alloc_mb_mgr(0);
        if (g.mgr == nullptr) {
            throw std::runtime_error("intel-ipsec-mb: alloc_mb_mgr failed");
        }
        init_mb_mgr_auto(g.mgr, &g.arch);
        if (imb_get_errno(g.mgr) != 0 || g.arch == IMB_ARCH_NONE || g.arch == IMB_ARCH_NOAESNI) {
            free_mb_mgr(g.mgr);
            throw std::runtime_error("intel-ipsec-mb: no GCM code path with AES-NI on this CPU");
        }
        return g;
    }();
    return p;
}

const gcm_key_data* as_key(const void* key_data) noexcept { return static_cast<const gcm_key_data*>(key_data); }

}  // namespace

size_t gcm_key_data_len() noexcept { return sizeof(gcm_key_data); }

void gcm_precompute(const uint8_t* key, size_t key_len, void* key_data) {
    IMB_MGR* mgr = path().mgr;
    if (key_len == 32) {
        IMB_AES256_GCM_PRE(mgr, key, static_cast<gcm_key_data*>(key_data));
    } else if (key_len == 16) {
        IMB_AES128_GCM_PRE(mgr, key, static_cast<gcm_key_data*>(key_data));
    } else {
        throw std::runtime_error("AES-GCM key of " + std::to_string(key_len) + " bytes (16 or 32)");
    }
}

void init_gcm_manager(IMB_MGR* mgr) {
    switch (path().arch) {
        case IMB_ARCH_SSE:
            init_mb_mgr_sse(mgr);
            break;
        case IMB_ARCH_AVX:
            init_mb_mgr_avx(mgr);
            break;
        case IMB_ARCH_AVX2:
            init_mb_mgr_avx2(mgr);
            break;
        case IMB_ARCH_AVX512:
            init_mb_mgr_avx512(mgr);
            break;
        default:
            throw std::runtime_error("intel-ipsec-mb: unknown GCM code path");
    }
    if (imb_get_errno(mgr) != 0) {
        throw std::runtime_error("intel-ipsec-mb: cannot set up the GCM code path");
    }
}

void gcm_seal(const void* key_data, size_t key_len, const uint8_t iv[gcm_iv_len], const uint8_t* aad, size_t aad_len,
              uint8_t* data, size_t len, uint8_t tag[gcm_tag_len]) noexcept {
    IMB_MGR* mgr = path().mgr;
    gcm_context_data ctx;
    if (key_len == 16) [[likely]] {
        IMB_AES128_GCM_ENC(mgr, as_key(key_data), &ctx, data, data, len, iv, aad, aad_len, tag, gcm_tag_len);
    } else {
        IMB_AES256_GCM_ENC(mgr, as_key(key_data), &ctx, data, data, len, iv, aad, aad_len, tag, gcm_tag_len);
    }
}

bool gcm_open(const void* key_data, size_t key_len, const uint8_t iv[gcm_iv_len], const uint8_t* aad, size_t aad_len,
              uint8_t* data, size_t len, const uint8_t tag[gcm_tag_len]) noexcept {
    IMB_MGR* mgr = path().mgr;
    gcm_context_data ctx;
    uint8_t computed[gcm_tag_len];
    if (key_len == 16) [[likely]] {
        IMB_AES128_GCM_DEC(mgr, as_key(key_data), &ctx, data, data, len, iv, aad, aad_len, computed, gcm_tag_len);
    } else {
        IMB_AES256_GCM_DEC(mgr, as_key(key_data), &ctx, data, data, len, iv, aad, aad_len, computed, gcm_tag_len);
    }
    if (CRYPTO_memcmp(computed, tag, gcm_tag_len) == 0) [[likely]] {
        return true;
    }
    gcm_seal(key_data, key_len, iv, aad, aad_len, data, len, computed);  // counter mode: back as it came
    return false;
}

gcm_evp::~gcm_evp() {
    EVP_CIPHER_CTX_free(enc_);  // cleanses its key schedule
    EVP_CIPHER_CTX_free(dec_);
}

void gcm_evp::set_key(const uint8_t* key, size_t key_len) {
    if (key_len != 16 && key_len != 32) {
        throw std::runtime_error("AES-GCM key of " + std::to_string(key_len) + " bytes (16 or 32)");
    }
    const EVP_CIPHER* cipher = key_len == 32 ? EVP_aes_256_gcm() : EVP_aes_128_gcm();
    for (evp_cipher_ctx_st** c : {&enc_, &dec_}) {
        if (*c == nullptr) {
            *c = EVP_CIPHER_CTX_new();
            if (*c == nullptr) {
                throw std::runtime_error("EVP_CIPHER_CTX_new failed");
            }
        }
    }
    // A zero IV for now (the default IV length, 12, is RFC 7714's): each packet sets its own
    // without touching the key schedule.
    const uint8_t zero_iv[gcm_iv_len] = {};
    if (EVP_EncryptInit_ex(enc_, cipher, nullptr, key, zero_iv) != 1 ||
        EVP_DecryptInit_ex(dec_, cipher, nullptr, key, zero_iv) != 1) {
        throw std::runtime_error("EVP_CipherInit_ex(aes-gcm) failed");
    }
}

void gcm_evp::seal(const uint8_t iv[gcm_iv_len], const uint8_t* aad, size_t aad_len, uint8_t* data, size_t len,
                   uint8_t tag[gcm_tag_len]) noexcept {
    int n = 0;
    uint8_t none[16];
    bool ok = EVP_EncryptInit_ex(enc_, nullptr, nullptr, nullptr, iv) == 1;
    ok = ok && (aad_len == 0 || EVP_EncryptUpdate(enc_, nullptr, &n, aad, static_cast<int>(aad_len)) == 1);
    ok = ok && (len == 0 || EVP_EncryptUpdate(enc_, data, &n, data, static_cast<int>(len)) == 1);
    ok = ok && EVP_EncryptFinal_ex(enc_, none, &n) == 1;
    ok = ok && EVP_CIPHER_CTX_ctrl(enc_, EVP_CTRL_GCM_GET_TAG, static_cast<int>(gcm_tag_len), tag) == 1;
    if (!ok) [[unlikely]] {
        OPENSSL_cleanse(data, len);
    }
}

bool gcm_evp::open(const uint8_t iv[gcm_iv_len], const uint8_t* aad, size_t aad_len, uint8_t* data, size_t len,
                   const uint8_t tag[gcm_tag_len]) noexcept {
    int n = 0;
    uint8_t none[16];
    bool ok = EVP_DecryptInit_ex(dec_, nullptr, nullptr, nullptr, iv) == 1;
    ok = ok && (aad_len == 0 || EVP_DecryptUpdate(dec_, nullptr, &n, aad, static_cast<int>(aad_len)) == 1);
    const bool decrypted = ok && (len == 0 || EVP_DecryptUpdate(dec_, data, &n, data, static_cast<int>(len)) == 1);
    ok = decrypted &&
         EVP_CIPHER_CTX_ctrl(dec_, EVP_CTRL_GCM_SET_TAG, static_cast<int>(gcm_tag_len), const_cast<uint8_t*>(tag)) ==
             1 &&
         EVP_DecryptFinal_ex(dec_, none, &n) == 1;
    if (!ok && decrypted) {
        uint8_t ignored[gcm_tag_len];
        seal(iv, aad, aad_len, data, len, ignored);  // counter mode: back as it came
    }
    return ok;
}

}  // namespace rtprelay::dp::srtp
