#pragma once
// Replies remembered by request cookie, so a request the peer retransmits (because our
// reply was lost or slow) gets the byte-identical reply and never runs twice: re-running
// an "offer" or "delete" would allocate ports twice or tear down a call twice.
//
// Bounded in entries and in age; the oldest entry goes first. Memory is about
// max_entries * (cookie + reply) bytes: 10000 entries of ~2 KB SDP replies is ~20 MB.
// Time is passed in, so tests drive the clock. Single-threaded (control plane).

#include <chrono>
#include <cstddef>
#include <list>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace rtprelay::ng {

class cookie_cache {
 public:
    using clock = std::chrono::steady_clock;

    // max_entries 0 disables caching. An entry lives while (now - inserted) < max_age.
    cookie_cache(size_t max_entries, clock::duration max_age);

    cookie_cache(const cookie_cache&) = delete;
    cookie_cache& operator=(const cookie_cache&) = delete;

    // The cached reply, valid until the next call on this cache; expires old entries first.
    std::optional<std::string_view> lookup(std::string_view cookie, clock::time_point now);

    // Remembers `reply` for `cookie`, replacing an earlier reply under the same cookie and
    // evicting expired entries, then the oldest ones, to stay within max_entries.
    void insert(std::string_view cookie, std::string reply, clock::time_point now);

    size_t size() const { return index_.size(); }

 private:
    struct entry {
        std::string cookie;
        std::string reply;
        clock::time_point inserted;
    };

    void expire(clock::time_point now);

    size_t max_entries_;
    clock::duration max_age_;
    std::list<entry> entries_;  // insertion order: oldest at the front
    // Keys view the cookie string inside the list node; list nodes never move.
    std::unordered_map<std::string_view, std::list<entry>::iterator> index_;
};

}  // namespace rtprelay::ng
