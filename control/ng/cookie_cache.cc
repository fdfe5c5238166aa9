#include "control/ng/cookie_cache.h"

#include <algorithm>
#include <utility>

namespace rtprelay::ng {

cookie_cache::cookie_cache(size_t max_entries, clock::duration max_age)
    : max_entries_(max_entries), max_age_(max_age) {
    // Reserve up front so a burst of new calls never pays for a rehash (~1 pointer/bucket).
    index_.reserve(std::min<size_t>(max_entries_, 1 << 16));
}

void cookie_cache::expire(clock::time_point now) {
    // Entries are in insertion order and the clock is monotonic, so expired entries form a
    // prefix: amortised O(1) per entry ever inserted.
    while (!entries_.empty() && now - entries_.front().inserted >= max_age_) {
        index_.erase(entries_.front().cookie);
        entries_.pop_front();
    }
}

std::optional<std::string_view> cookie_cache::lookup(std::string_view cookie, clock::time_point now) {
    expire(now);
    auto it = index_.find(cookie);
    if (it == index_.end()) {
        return std::nullopt;
    }
    return std::string_view(it->second->reply);
}

void cookie_cache::insert(std::string_view cookie, std::string reply, clock::time_point now) {
    if (max_entries_ == 0) {
        return;
    }
    expire(now);
    if (auto it = index_.find(cookie); it != index_.end()) {
        auto node = it->second;
        index_.erase(it);
        entries_.erase(node);
    }
    while (entries_.size() >= max_entries_) {
        index_.erase(entries_.front().cookie);
        entries_.pop_front();
    }
    entries_.push_back(entry{std::string(cookie), std::move(reply), now});
    index_.emplace(entries_.back().cookie, std::prev(entries_.end()));
}

}  // namespace rtprelay::ng
