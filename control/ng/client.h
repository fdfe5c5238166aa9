#pragma once
// An NG client: sends "<cookie> <bencode dict>" to an rtprelay (or rtpengine) control
// socket and waits for the reply with the same cookie, retransmitting the same bytes on
// timeout as a SIP proxy does. Used by the operator CLI, the load generator and tests.
// Blocking calls; one thread per client.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "control/ng/bencode.h"
#include "control/ng/server.h"

namespace rtprelay::ng {

struct ng_reply {
    std::string cookie;
    value body;
};

class ng_client {
 public:
    // server: "host:port" or "[v6]:port" (host names resolved once, here). local: optional
    // "addr:port" to bind first (port 0 for any), e.g. to send from 127.0.0.2 in tests.
    // Throws std::invalid_argument for a bad address, std::system_error if the socket fails.
    explicit ng_client(std::string_view server, std::string_view local = {});
    ~ng_client();

    ng_client(const ng_client&) = delete;
    ng_client& operator=(const ng_client&) = delete;
    ng_client(ng_client&& o) noexcept;
    ng_client& operator=(ng_client&& o) noexcept;

    // Sends `dict` under a fresh cookie and waits up to `timeout` per try for its reply;
    // retransmits the same datagram `retries` more times. Replies to other cookies (late
    // answers to earlier requests) are skipped. On failure returns std::nullopt and sets
    // *error (may be nullptr): "no reply from 127.0.0.1:2223 after 3 tries", with the last
    // socket error appended when there was one ("(Connection refused)").
    std::optional<value> request(const value& dict, std::chrono::milliseconds timeout, int retries, std::string* error);

    // Pipelined requests for the load generator: keeps up to max_in_flight outstanding,
    // each with its own timeout and retransmits. result[i] answers dicts[i]; std::nullopt
    // when it got no (decodable) reply.
    std::vector<std::optional<value>> request_many(const std::vector<value>& dicts, size_t max_in_flight,
                                                   std::chrono::milliseconds timeout, int retries);

    // Non-blocking pair: send once (no retransmit) and return the cookie used ...
    std::string send_request(const value& dict);
    // ... then collect whichever reply arrives within `wait` (undecodable ones skipped).
    std::optional<ng_reply> poll_reply(std::chrono::milliseconds wait);

    int fd() const { return fd_; }
    const std::string& server_name() const { return server_name_; }

 private:
    using clock = std::chrono::steady_clock;

    std::string next_cookie();
    std::string make_message(std::string_view cookie, const value& dict) const;
    void send_message(std::string_view msg);  // errors land in last_errno_
    // Waits until `deadline` for one "<cookie> <body>" datagram; body points into buf_.
    bool receive(clock::time_point deadline, std::string* cookie, std::string_view* body);

    int fd_ = -1;
    std::string server_name_;  // as the caller wrote it, for error messages
    std::string cookie_prefix_;
    uint64_t next_seq_ = 0;
    int last_errno_ = 0;  // last send/receive error (e.g. ECONNREFUSED), for messages
    std::vector<char> buf_;
};

}  // namespace rtprelay::ng
