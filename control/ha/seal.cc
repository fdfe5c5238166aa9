#include "control/ha/seal.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <pthread.h>

#include <atomic>
#include <cstring>
#include <memory>
#include <stdexcept>

#include "dataplane/srtp/aes_ctr.h"
#include "dataplane/srtp/aes_gcm.h"

namespace rtprelay::ha {

namespace {
// Bumped in every forked child (pthread_atfork): a sealer's nonce pool drawn before the
// fork is dropped, never used by parent and child alike.
std::atomic<uint64_t> forks{0};

void count_fork() { forks.fetch_add(1, std::memory_order_relaxed); }

void watch_forks() {
    static const bool once = [] {
        pthread_atfork(nullptr, nullptr, count_fork);
        return true;
    }();
    (void)once;
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

// Exactly one of the two is used: intel-ipsec-mb's key data (64-byte aligned, as the
// library wants it), or an OpenSSL context.
struct gcm_key::impl {
    std::unique_ptr<uint8_t[]> storage;
    void* key_data = nullptr;
    dp::srtp::gcm_evp evp;
    bool use_evp = false;
};

gcm_key::gcm_key(const group_key& key, impl_kind kind) : impl_(std::make_unique<impl>()) {
    if (key.empty()) {
        throw std::runtime_error("seal: no group key");
    }
    if (kind == impl_kind::best && dp::srtp::cpu_has_aesni()) {
        const size_t n = dp::srtp::gcm_key_data_len();
        impl_->storage = std::make_unique<uint8_t[]>(n + 63);
        impl_->key_data =
            reinterpret_cast<void*>((reinterpret_cast<uintptr_t>(impl_->storage.get()) + 63) & ~uintptr_t{63});
        dp::srtp::gcm_precompute(key.data(), group_key::size, impl_->key_data);
    } else {
        impl_->use_evp = true;
        impl_->evp.set_key(key.data(), group_key::size);
    }
}

gcm_key::~gcm_key() {
    if (impl_ && impl_->key_data != nullptr) {
        OPENSSL_cleanse(impl_->key_data, dp::srtp::gcm_key_data_len());
    }
}

void gcm_key::seal(const uint8_t* iv, std::string_view aad, uint8_t* data, size_t len, uint8_t* tag) {
    const auto* a = reinterpret_cast<const uint8_t*>(aad.data());
    if (impl_->use_evp) {
        impl_->evp.seal(iv, a, aad.size(), data, len, tag);
    } else {
        dp::srtp::gcm_seal(impl_->key_data, group_key::size, iv, a, aad.size(), data, len, tag);
    }
}

bool gcm_key::open(const uint8_t* iv, std::string_view aad, uint8_t* data, size_t len, const uint8_t* tag) {
    const auto* a = reinterpret_cast<const uint8_t*>(aad.data());
    if (impl_->use_evp) {
        return impl_->evp.open(iv, a, aad.size(), data, len, tag);
    }
    return dp::srtp::gcm_open(impl_->key_data, group_key::size, iv, a, aad.size(), data, len, tag);
}

std::string seal(const group_key& key, std::string_view plain, std::string_view aad) {
    sealer s(key);
    return s.seal(plain, aad);
}

sealer::sealer(const group_key& key, gcm_key::impl_kind kind) : key_(key, kind) { watch_forks(); }

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
    auto* o = reinterpret_cast<uint8_t*>(out.data() + at);
    try {
        next_nonce(o);
    } catch (...) {
        out.resize(at);
        throw;
    }
    uint8_t* body = o + seal_nonce_bytes;
    if (!plain.empty()) {
        std::memcpy(body, plain.data(), plain.size());
    }
    key_.seal(o, aad, body, plain.size(), body + plain.size());
}

std::optional<std::string> open(const group_key& key, std::string_view sealed, std::string_view aad) {
    if (key.empty() || sealed.size() < seal_overhead) {
        return std::nullopt;
    }
    const auto* in = reinterpret_cast<const uint8_t*>(sealed.data());
    const size_t n = sealed.size() - seal_overhead;
    std::string plain(sealed.substr(seal_nonce_bytes, n));
    auto* p = reinterpret_cast<uint8_t*>(plain.data());
    gcm_key k(key);
    if (!k.open(in, aad, p, n, in + seal_nonce_bytes + n)) {
        return std::nullopt;  // gcm_open left the bytes as they came: nothing to wipe
    }
    return plain;
}

}  // namespace rtprelay::ha
