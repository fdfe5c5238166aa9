#pragma once
// The NG control socket: the UDP endpoint Kamailio/OpenSIPS `rtpengine` modules talk to.
// A datagram is "<cookie> <bencode dict>"; the reply is "<cookie> <bencode dict>" sent back
// to the sender. As rtpengine, a body that starts with '{' is a JSON object instead, and is
// answered in JSON (json.h). Replies are cached by sender and cookie, with a digest of the body, so a
// retransmit is answered from the cache and the handler runs once per request; a cookie
// the same sender reuses for a different body runs as the new request it is (and is
// counted). Only replies to requests that ran a command are cached: an error reply to junk
// (undecodable, not a dictionary, no command or an unknown one) is made again for each
// copy, byte for byte the same, so no amount of junk can evict a real request's reply.
// Single-threaded: the owner polls fd() and calls on_readable(); nothing here blocks.
//
// A set of sockets: the --ng-listen one, and in a group with floating NG addresses one per
// address this node holds the lease of (relay/ng_float.h), opened and closed as leases
// come and go. Every socket serves NG alike, with one cookie cache and one set of counters;
// a reply leaves by the socket its request came in by, so it carries the address the proxy
// sent to (Kamailio's module reads replies on a connected socket).

#include <sys/socket.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "control/log_limiter.h"
#include "control/ng/bencode.h"
#include "control/ng/cookie_cache.h"
#include "control/ng/reply.h"

namespace rtprelay::ng {

// A UDP endpoint (peer or local), as the kernel gives or takes it.
struct peer_info {
    sockaddr_storage addr{};
    socklen_t len = 0;

    int family() const { return addr.ss_family; }
    uint16_t port() const;
    std::string to_string() const;  // "127.0.0.1:5060", "[::1]:5060"
};

// Parses "host:port" or "[v6]:port". numeric_only refuses host names (the server's listen
// address must not depend on DNS at start-up); otherwise the first getaddrinfo answer wins.
std::optional<peer_info> parse_endpoint(std::string_view text, bool numeric_only);

// One NG datagram: "<cookie> <bencoded body>". The cookie is 1 to 255 bytes up to the
// first blank. Null when the datagram has no such frame (the server drops it unanswered).
struct ng_frame {
    std::string_view cookie;
    std::string_view body;
};
std::optional<ng_frame> split_datagram(std::string_view msg);

struct ng_server_config {
    // Port 0 picks a free port (tests). Empty: no socket at start (every address floats
    // and is opened by add_listener when its lease is taken).
    std::string listen = "127.0.0.1:2223";
    // Peers allowed to send commands: "10.0.0.0/8", "192.0.2.7", "fd00::/8", "::1".
    // Empty means loopback only (127.0.0.0/8 and ::1).
    std::vector<std::string> allow;
    size_t cache_entries = 10000;
    std::chrono::seconds cache_age{30};  // > the SIP proxy's total retransmit window
    unsigned max_burst = 64;             // datagrams per on_readable(), bounds one turn
    // The commands the handler runs (ng::commands::knows). A request naming any other gets
    // the handler's reply uncached, as junk. Empty: every command string is a command.
    std::function<bool(std::string_view command)> is_command;
};

// Counters of the control socket; written by the owning thread only.
struct ng_server_counters {
    uint64_t requests = 0;             // framed datagrams from allowed peers, retransmits too
    uint64_t replies = 0;              // datagrams sent, cached and error replies included
    uint64_t cache_hits = 0;           // requests answered from the cookie cache
    uint64_t cookie_reuses = 0;        // cached cookie, same sender, other body: run as new
    uint64_t dropped_not_allowed = 0;  // sender not in the allow-list; no reply
    uint64_t dropped_malformed = 0;    // no cookie, over-long cookie or truncated; no reply
    uint64_t bad_requests = 0;         // undecodable or not a dict; error reply
    uint64_t handler_errors = 0;       // handler threw; error reply
    uint64_t send_errors = 0;          // sendto failed (buffer full, too big); peer retries
    uint64_t oversized_replies = 0;    // replies over one datagram, replaced by an error
};

class ng_server {
 public:
    // Largest reply sent: a UDP datagram's payload over IPv4 is at most 65,507 bytes.
    static constexpr size_t max_reply_bytes = 65000;

    // The handler gets the decoded request dict and returns the reply dict (a tree, or
    // already bencoded: reply.h). An exception becomes an error reply carrying its what().
    // Runs on the caller of on_readable().
    using handler = std::function<reply(const value& request, const peer_info& from)>;

    // Binds the socket. Throws std::invalid_argument for a bad listen or allow address
    // ("ng listen: bad address 'x'") and std::system_error when the socket cannot be bound.
    ng_server(const ng_server_config& config, handler h);
    ~ng_server();

    ng_server(const ng_server&) = delete;
    ng_server& operator=(const ng_server&) = delete;

    // Opens one more socket on `endpoint` ("ADDR:PORT", numeric). `freebind`: bind even if
    // the address is not (yet) on an interface (IP_FREEBIND), for an address this node is
    // about to add. Throws as the constructor does; a second call for an open endpoint
    // does nothing.
    void add_listener(const std::string& endpoint, bool freebind);
    // Closes the socket opened for `endpoint`; false if there is none.
    bool remove_listener(const std::string& endpoint);
    size_t listeners() const { return listeners_.size(); }
    int fd(size_t i) const { return listeners_[i].fd; }
    // The first socket (--ng-listen), -1 when none is open.
    int fd() const { return listeners_.empty() ? -1 : listeners_[0].fd; }
    // The first socket's bound address, with the real port when the config asked for port 0
    // (empty when none is open).
    const peer_info& local_address() const { return listeners_.empty() ? no_address_ : listeners_[0].local; }
    const ng_server_counters& counters() const { return counters_; }
    bool is_allowed(const peer_info& peer) const;

    // Drains up to max_burst datagrams of socket `i` and answers each; `now` drives the
    // cookie cache.
    void on_readable(size_t i, std::chrono::steady_clock::time_point now);
    void on_readable(std::chrono::steady_clock::time_point now) { on_readable(0, now); }

    // The reply the server sends when a request cannot be handled:
    // {"result": "error", "error-reason": reason}.
    static value error_reply(std::string_view reason);

 private:
    struct allow_entry {
        int family = 0;  // AF_INET or AF_INET6
        unsigned prefix_bits = 0;
        std::array<uint8_t, 16> bytes{};  // network order; host bits zeroed
    };

    static std::optional<allow_entry> parse_allow(std::string_view text);
    void handle_datagram(int fd, std::string_view msg, const peer_info& from,
                         std::chrono::steady_clock::time_point now);
    // The reply to one request body (JSON when `json`, else bencode); *cacheable is false
    // when no command ran (junk).
    reply answer(std::string_view body, bool json, const peer_info& from, bool* cacheable);
    void send_to(int fd, std::string_view reply, const peer_info& to);

    struct listener {
        std::string endpoint;  // as given to add_listener
        int fd = -1;
        peer_info local;
    };
    std::vector<listener> listeners_;
    peer_info no_address_;
    std::vector<allow_entry> allow_;
    handler handler_;
    cookie_cache cache_;
    std::function<bool(std::string_view)> is_command_;
    unsigned max_burst_;
    ng_server_counters counters_;
    // Datagrams dropped without a reply come from the network: their log lines are rate
    // limited (10 at once, then 1/s) with a count of what was held back.
    log::rate_limiter drop_log_{"ng dropped datagrams", 1.0, 10.0};
    log::rate_limiter reuse_log_{"NG cookie reuses", 1.0, 10.0};
    std::vector<char> buf_;  // one datagram; 64 KiB holds any UDP payload
};

}  // namespace rtprelay::ng
