#include "control/ng/client.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <random>
#include <stdexcept>
#include <system_error>
#include <unordered_map>
#include <utility>

namespace rtprelay::ng {

ng_client::ng_client(std::string_view server, std::string_view local) : server_name_(server), buf_(65536) {
    auto remote = parse_endpoint(server, false);
    if (!remote) {
        throw std::invalid_argument("ng client: bad address '" + std::string(server) + "'");
    }
    std::optional<peer_info> bind_to;
    if (!local.empty()) {
        bind_to = parse_endpoint(local, true);
        if (!bind_to || bind_to->family() != remote->family()) {
            throw std::invalid_argument("ng client: bad local address '" + std::string(local) + "'");
        }
    }
    fd_ = socket(remote->family(), SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd_ < 0) {
        throw std::system_error(errno, std::generic_category(), "ng client: socket");
    }
    // connect() makes the kernel drop datagrams from anyone but the server, and reports
    // ICMP port-unreachable as ECONNREFUSED, which tells "nothing listens" from "slow".
    if ((bind_to && bind(fd_, reinterpret_cast<const sockaddr*>(&bind_to->addr), bind_to->len) != 0) ||
        connect(fd_, reinterpret_cast<const sockaddr*>(&remote->addr), remote->len) != 0) {
        const int err = errno;
        close(fd_);
        throw std::system_error(err, std::generic_category(), "ng client: cannot reach " + server_name_);
    }
    // Cookies: a random per-client prefix (48 bits) plus a counter, so two clients (or two
    // runs of the CLI) never collide in the server's cookie cache and one client's are unique.
    std::random_device rd;
    const uint64_t r = (uint64_t{rd()} << 32 | rd()) & 0xffffffffffffULL;
    static constexpr char hex[] = "0123456789abcdef";
    for (int shift = 44; shift >= 0; shift -= 4) {
        cookie_prefix_.push_back(hex[(r >> shift) & 0xf]);
    }
    cookie_prefix_.push_back('_');
}

ng_client::~ng_client() {
    if (fd_ >= 0) {
        close(fd_);
    }
}

ng_client::ng_client(ng_client&& o) noexcept
    : fd_(std::exchange(o.fd_, -1)),
      server_name_(std::move(o.server_name_)),
      cookie_prefix_(std::move(o.cookie_prefix_)),
      next_seq_(o.next_seq_),
      last_errno_(o.last_errno_),
      buf_(std::move(o.buf_)) {}

ng_client& ng_client::operator=(ng_client&& o) noexcept {
    if (this != &o) {
        if (fd_ >= 0) {
            close(fd_);
        }
        fd_ = std::exchange(o.fd_, -1);
        server_name_ = std::move(o.server_name_);
        cookie_prefix_ = std::move(o.cookie_prefix_);
        next_seq_ = o.next_seq_;
        last_errno_ = o.last_errno_;
        buf_ = std::move(o.buf_);
    }
    return *this;
}

std::string ng_client::next_cookie() { return cookie_prefix_ + std::to_string(++next_seq_); }

std::string ng_client::make_message(std::string_view cookie, const value& dict) const {
    std::string msg(cookie);
    msg.push_back(' ');
    encode_to(dict, &msg);
    return msg;
}

void ng_client::send_message(std::string_view msg) {
    // Failures are not fatal: ECONNREFUSED here is an earlier try's ICMP error, and the
    // server may come up before the next retransmit.
    if (send(fd_, msg.data(), msg.size(), 0) < 0) {
        last_errno_ = errno;
    }
}

bool ng_client::receive(clock::time_point deadline, std::string* cookie, std::string_view* body) {
    for (;;) {
        const ssize_t got = recv(fd_, buf_.data(), buf_.size(), 0);
        if (got >= 0) {
            const std::string_view msg(buf_.data(), static_cast<size_t>(got));
            const size_t space = msg.find(' ');
            if (space == std::string_view::npos || space == 0) {
                continue;  // not an NG reply
            }
            cookie->assign(msg.substr(0, space));
            *body = msg.substr(space + 1);
            return true;
        }
        if (errno == ECONNREFUSED) {
            last_errno_ = errno;  // an ICMP error for an earlier send; reading it clears it
            continue;
        }
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
            last_errno_ = errno;
            return false;
        }
        const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - clock::now());
        if (left.count() <= 0) {
            return false;
        }
        pollfd p{fd_, POLLIN, 0};
        poll(&p, 1, static_cast<int>(std::min<int64_t>(left.count(), 60'000)));
    }
}

std::optional<value> ng_client::request(const value& dict, std::chrono::milliseconds timeout, int retries,
                                        std::string* error) {
    const std::string cookie = next_cookie();
    const std::string msg = make_message(cookie, dict);
    const int tries = 1 + std::max(retries, 0);
    last_errno_ = 0;
    std::string got_cookie;
    std::string_view body;
    for (int t = 0; t < tries; ++t) {
        send_message(msg);
        const auto deadline = clock::now() + timeout;
        while (receive(deadline, &got_cookie, &body)) {
            if (got_cookie != cookie) {
                continue;  // a late reply to an earlier request
            }
            std::string decode_error;
            auto reply = decode(body, &decode_error);
            if (!reply && error != nullptr) {
                *error = "bad reply from " + server_name_ + ": " + decode_error;
            }
            return reply;
        }
    }
    if (error != nullptr) {
        *error = "no reply from " + server_name_ + " after " + std::to_string(tries) + " tries";
        if (last_errno_ != 0) {
            *error += " (" + std::string(std::strerror(last_errno_)) + ")";
        }
    }
    return std::nullopt;
}

std::vector<std::optional<value>> ng_client::request_many(const std::vector<value>& dicts, size_t max_in_flight,
                                                          std::chrono::milliseconds timeout, int retries) {
    struct pending {
        size_t index;
        std::string msg;
        int retries_left;
        clock::time_point deadline;
    };
    std::vector<std::optional<value>> results(dicts.size());
    std::unordered_map<std::string, pending> in_flight;
    max_in_flight = std::max<size_t>(max_in_flight, 1);
    size_t next = 0;
    std::string got_cookie;
    std::string_view body;
    while (next < dicts.size() || !in_flight.empty()) {
        while (in_flight.size() < max_in_flight && next < dicts.size()) {
            std::string cookie = next_cookie();
            std::string msg = make_message(cookie, dicts[next]);
            send_message(msg);
            in_flight.emplace(std::move(cookie),
                              pending{next, std::move(msg), std::max(retries, 0), clock::now() + timeout});
            ++next;
        }
        // O(in flight) per reply: a few hundred comparisons, noise next to the syscalls.
        auto earliest = clock::time_point::max();
        for (const auto& [cookie, p] : in_flight) {
            earliest = std::min(earliest, p.deadline);
        }
        if (receive(earliest, &got_cookie, &body)) {
            if (auto it = in_flight.find(got_cookie); it != in_flight.end()) {
                results[it->second.index] = decode(body, nullptr);
                in_flight.erase(it);
            }
            continue;
        }
        const auto now = clock::now();
        for (auto it = in_flight.begin(); it != in_flight.end();) {
            pending& p = it->second;
            if (p.deadline > now) {
                ++it;
            } else if (p.retries_left > 0) {
                --p.retries_left;
                p.deadline = now + timeout;
                send_message(p.msg);
                ++it;
            } else {
                it = in_flight.erase(it);
            }
        }
    }
    return results;
}

std::string ng_client::send_request(const value& dict) {
    std::string cookie = next_cookie();
    send_message(make_message(cookie, dict));
    return cookie;
}

std::optional<ng_reply> ng_client::poll_reply(std::chrono::milliseconds wait) {
    const auto deadline = clock::now() + wait;
    std::string cookie;
    std::string_view body;
    while (receive(deadline, &cookie, &body)) {
        if (auto v = decode(body, nullptr)) {
            return ng_reply{std::move(cookie), std::move(*v)};
        }
    }
    return std::nullopt;
}

}  // namespace rtprelay::ng
