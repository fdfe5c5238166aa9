#include "control/ng/cookie_cache.h"

#include <openssl/evp.h>

#include <algorithm>
#include <utility>

namespace rtprelay::ng {

bool cookie_cache::digest(std::string_view body, body_digest* out) {
    // Fetched once: with EVP_sha256() OpenSSL 3 looks the implementation up in its provider
    // store on every digest (EVP_MD_fetch was 2.6% of an NG delete's time in a perf profile
    // of commands_benchmark, half of the digest's). Kept for the process's life; an EVP_MD
    // is immutable and may be used from any thread.
    static EVP_MD* const sha256 = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    unsigned int len = 0;
    return sha256 != nullptr && EVP_Digest(body.data(), body.size(), out->data(), &len, sha256, nullptr) == 1 &&
           len == out->size();
}

cookie_cache::cookie_cache(size_t max_entries, clock::duration max_age) : max_entries_(max_entries), max_age_(max_age) {
    // Reserve up front so a burst of new calls never pays for a rehash (~1 pointer/bucket).
    index_.reserve(std::min<size_t>(max_entries_, 1 << 16));
}

void cookie_cache::key_of(std::string_view source, std::string_view cookie, std::string* out) {
    source = source.substr(0, 255);
    out->clear();
    out->push_back(static_cast<char>(source.size()));
    out->append(source);
    out->append(cookie);
}

void cookie_cache::expire(clock::time_point now) {
    // Entries are in insertion order and the clock is monotonic, so expired entries form a
    // prefix: amortised O(1) per entry ever inserted.
    while (!entries_.empty() && now - entries_.front().inserted >= max_age_) {
        index_.erase(entries_.front().key);
        entries_.pop_front();
    }
}

std::optional<cookie_cache::hit> cookie_cache::lookup(std::string_view source, std::string_view cookie,
                                                      const body_digest& body, clock::time_point now) {
    expire(now);
    if (index_.empty()) {
        return std::nullopt;
    }
    key_of(source, cookie, &scratch_key_);
    auto it = index_.find(scratch_key_);
    if (it == index_.end()) {
        return std::nullopt;
    }
    const entry& e = *it->second;
    return hit{e.reply, e.body == body};
}

void cookie_cache::insert(std::string_view source, std::string_view cookie, const body_digest& body, std::string reply,
                          clock::time_point now) {
    if (max_entries_ == 0) {
        return;
    }
    expire(now);
    std::string key;
    key_of(source, cookie, &key);
    if (auto it = index_.find(key); it != index_.end()) {
        auto node = it->second;
        index_.erase(it);
        entries_.erase(node);
    }
    while (entries_.size() >= max_entries_) {
        index_.erase(entries_.front().key);
        entries_.pop_front();
    }
    entries_.push_back(entry{std::move(key), body, std::move(reply), now});
    index_.emplace(entries_.back().key, std::prev(entries_.end()));
}

}  // namespace rtprelay::ng
