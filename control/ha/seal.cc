#include "control/ha/seal.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <pthread.h>

#include <atomic>
#include <cstring>
#include <memory>
#include <stdexcept>

namespace rtprelay::ha {

void cipher_ctx_free::operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }

namespace {
// Bumped in every forked child (pthread_atfork): a sealer's nonce pool drawn before the
// fork is dropped, never used by parent and child alike.
std::atomic<uint64_t> forks{0};

void count_fork() { forks.fetch_add(1, std::memory_order_relaxed); }

// AES-256-GCM fetched from the default provider once per process (the legacy
// EVP_aes_256_gcm() is looked up again at each context's set-up); never freed.
const EVP_CIPHER* aes_256_gcm() {
    static const EVP_CIPHER* const c = [] {
        pthread_atfork(nullptr, nullptr, count_fork);
        return EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr);
    }();
    return c;
}

cipher_ctx new_ctx() {
    cipher_ctx c(EVP_CIPHER_CTX_new());
    if (!c) {
        throw std::runtime_error("seal: EVP_CIPHER_CTX_new failed");
    }
    return c;
}

int hex_digit(char c) {
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}
}  // namespace

group_key::~group_key() { OPENSSL_cleanse(bytes_.data(), bytes_.size()); }

std::optional<group_key> group_key::from_hex(std::string_view text) {
    while (!text.empty() &&
           (text.front() == ' ' || text.front() == '\n' || text.front() == '\t' || text.front() == '\r')) {
        text.remove_prefix(1);
    }
    while (!text.empty() && (text.back() == ' ' || text.back() == '\n' || text.back() == '\t' || text.back() == '\r')) {
        text.remove_suffix(1);
    }
    if (text.size() != 2 * size) {
        return std::nullopt;
    }
    std::array<uint8_t, size> k{};
    for (size_t i = 0; i < size; ++i) {
        const int hi = hex_digit(text[2 * i]);
        const int lo = hex_digit(text[2 * i + 1]);
        if (hi < 0 || lo < 0) {
            OPENSSL_cleanse(k.data(), k.size());
            return std::nullopt;
        }
        k[i] = static_cast<uint8_t>(hi << 4 | lo);
    }
    group_key g(k);
    OPENSSL_cleanse(k.data(), k.size());
    return g;
}

std::string seal(const group_key& key, std::string_view plain, std::string_view aad) {
    sealer s(key);
    return s.seal(plain, aad);
}

sealer::sealer(const group_key& key) {
    if (key.empty()) {
        throw std::runtime_error("seal: no group key");
    }
    const EVP_CIPHER* cipher = aes_256_gcm();
    if (cipher == nullptr) {
        throw std::runtime_error("seal: AES-256-GCM not available");
    }
    ctx_ = new_ctx();
    // The key (and its schedule) now; the nonce per seal. The context keeps its own copy of
    // the key schedule, wiped when it is freed.
    if (EVP_EncryptInit_ex(ctx_.get(), cipher, nullptr, key.data(), nullptr) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx_.get(), EVP_CTRL_GCM_SET_IVLEN, seal_nonce_bytes, nullptr) != 1) {
        throw std::runtime_error("seal: AES-256-GCM set-up failed");
    }
}

sealer::~sealer() { OPENSSL_cleanse(pool_.data(), pool_.size()); }

void sealer::next_nonce(unsigned char* out) {
    const uint64_t f = forks.load(std::memory_order_relaxed);
    if (pool_used_ == nonce_pool || f != pool_forks_) {
        if (RAND_bytes(pool_.data(), static_cast<int>(pool_.size())) != 1) {
            pool_used_ = nonce_pool;
            throw std::runtime_error("seal: the random generator failed");
        }
        pool_used_ = 0;
        pool_forks_ = f;
    }
    unsigned char* n = pool_.data() + pool_used_ * seal_nonce_bytes;
    std::memcpy(out, n, seal_nonce_bytes);
    OPENSSL_cleanse(n, seal_nonce_bytes);
    ++pool_used_;
}

std::string sealer::seal(std::string_view plain, std::string_view aad) {
    std::string out;
    seal_into(plain, aad, out);
    return out;
}

void sealer::seal_into(std::string_view plain, std::string_view aad, std::string& out) {
    const size_t at = out.size();
    out.resize(at + seal_nonce_bytes + plain.size() + seal_tag_bytes);
    auto* o = reinterpret_cast<unsigned char*>(out.data() + at);
    int len = 0;
    try {
        next_nonce(o);
    } catch (...) {
        out.resize(at);
        throw;
    }
    if (EVP_EncryptInit_ex(ctx_.get(), nullptr, nullptr, nullptr, o) != 1 ||
        (!aad.empty() &&
         EVP_EncryptUpdate(ctx_.get(), nullptr, &len, reinterpret_cast<const unsigned char*>(aad.data()),
                           static_cast<int>(aad.size())) != 1) ||
        EVP_EncryptUpdate(ctx_.get(), o + seal_nonce_bytes, &len, reinterpret_cast<const unsigned char*>(plain.data()),
                          static_cast<int>(plain.size())) != 1 ||
        EVP_EncryptFinal_ex(ctx_.get(), o + seal_nonce_bytes + len, &len) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx_.get(), EVP_CTRL_GCM_GET_TAG, seal_tag_bytes, o + seal_nonce_bytes + plain.size()) !=
            1) {
        OPENSSL_cleanse(o, out.size() - at);
        out.resize(at);
        throw std::runtime_error("seal: AES-256-GCM failed");
    }
}

std::optional<std::string> open(const group_key& key, std::string_view sealed, std::string_view aad) {
    if (key.empty() || sealed.size() < seal_overhead) {
        return std::nullopt;
    }
    const auto* in = reinterpret_cast<const unsigned char*>(sealed.data());
    const size_t n = sealed.size() - seal_overhead;
    std::string plain(n, '\0');
    auto* p = reinterpret_cast<unsigned char*>(plain.data());
    cipher_ctx c = new_ctx();
    int len = 0;
    unsigned char tag[seal_tag_bytes];
    std::copy(in + seal_nonce_bytes + n, in + sealed.size(), tag);
    const bool ok =
        EVP_DecryptInit_ex(c.get(), EVP_aes_256_gcm(), nullptr, key.data(), in) == 1 &&
        (aad.empty() || EVP_DecryptUpdate(c.get(), nullptr, &len, reinterpret_cast<const unsigned char*>(aad.data()),
                                          static_cast<int>(aad.size())) == 1) &&
        EVP_DecryptUpdate(c.get(), p, &len, in + seal_nonce_bytes, static_cast<int>(n)) == 1 &&
        EVP_CIPHER_CTX_ctrl(c.get(), EVP_CTRL_GCM_SET_TAG, seal_tag_bytes, tag) == 1 &&
        EVP_DecryptFinal_ex(c.get(), p + len, &len) == 1;
    if (!ok) {
        OPENSSL_cleanse(plain.data(), plain.size());
        return std::nullopt;
    }
    return plain;
}

}  // namespace rtprelay::ha
