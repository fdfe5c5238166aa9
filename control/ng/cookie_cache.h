#pragma once
// Replies remembered per request, so a request the peer retransmits (because our reply was
// lost or slow) gets the byte-identical reply and never runs twice: re-running an "offer"
// or "delete" would allocate ports twice or tear down a call twice.
//
// A request is known by who sent it (address and port, as opaque bytes) and its cookie,
// and the entry keeps a digest of the request body: two proxies that happen to use the same
// cookie each get their own reply, and a cookie reused with a different body (a proxy
// restarted with the same cookie sequence) is reported as such instead of being answered
// with the reply to another request. SHA-256, so no body a peer can craft passes for
// another: ~1.3 µs for a 2 KB offer (OpenSSL at 1.5 GB/s on a 2-vCPU Xeon VM), at
// call-setup rates.
//
// Bounded in entries and in age; the oldest entry goes first. Memory is about
// max_entries * (source + cookie + 32-byte digest + reply) bytes: 10000 entries of ~2 KB SDP
// replies is ~20 MB. Time is passed in, so tests drive the clock. Single-threaded (control
// plane).

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <list>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace rtprelay::ng {

class cookie_cache {
 public:
    using clock = std::chrono::steady_clock;
    using body_digest = std::array<uint8_t, 32>;  // SHA-256 of the request body

    // False only when OpenSSL cannot (out of memory): the caller then bypasses the cache.
    static bool digest(std::string_view body, body_digest* out);

    // A cached entry for (source, cookie): its reply, and whether it was the reply to the
    // same body (a retransmit) or to another request that used the cookie before.
    struct hit {
        std::string_view reply;  // valid until the next call on this cache
        bool same_body = false;
    };

    // max_entries 0 disables caching. An entry lives while (now - inserted) < max_age.
    cookie_cache(size_t max_entries, clock::duration max_age);

    cookie_cache(const cookie_cache&) = delete;
    cookie_cache& operator=(const cookie_cache&) = delete;

    // The entry for `cookie` from `source`, if any; expires old entries first.
    std::optional<hit> lookup(std::string_view source, std::string_view cookie, const body_digest& body,
                              clock::time_point now);

    // Remembers `reply` to the request `body` for (source, cookie), replacing an earlier
    // entry under the same pair and evicting expired entries, then the oldest ones, to stay
    // within max_entries.
    void insert(std::string_view source, std::string_view cookie, const body_digest& body, std::string reply,
                clock::time_point now);

    size_t size() const { return index_.size(); }

 private:
    struct entry {
        std::string key;  // key_of(source, cookie)
        body_digest body;
        std::string reply;
        clock::time_point inserted;
    };

    // One byte of source length, the source (up to 255 bytes), the cookie: unambiguous
    // whatever the lengths.
    static void key_of(std::string_view source, std::string_view cookie, std::string* out);
    void expire(clock::time_point now);

    size_t max_entries_;
    clock::duration max_age_;
    std::list<entry> entries_;  // insertion order: oldest at the front
    // Keys view the key string inside the list node; list nodes never move.
    std::unordered_map<std::string_view, std::list<entry>::iterator> index_;
    std::string scratch_key_;  // lookup's key, reused so a lookup does not allocate
};

}  // namespace rtprelay::ng
