#include "control/ng/server.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <stdexcept>
#include <system_error>
#include <utility>

#include "control/ng/json.h"

namespace rtprelay::ng {

namespace {

// SIP proxies use short cookies ("5_1234_17"); a long one is garbage, and capping it keeps
// a cache entry small whatever the peer sends.
constexpr size_t max_cookie_len = 255;

// The address bytes to compare against the allow-list; IPv4-mapped IPv6 peers (seen on a
// dual-stack "[::]" socket) compare as the IPv4 address they are.
struct peer_bytes {
    int family = 0;
    const uint8_t* bytes = nullptr;
};

peer_bytes bytes_of(const peer_info& peer) {
    if (peer.family() == AF_INET) {
        const auto* sin = reinterpret_cast<const sockaddr_in*>(&peer.addr);
        return {AF_INET, reinterpret_cast<const uint8_t*>(&sin->sin_addr)};
    }
    if (peer.family() == AF_INET6) {
        const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(&peer.addr);
        const auto* b = reinterpret_cast<const uint8_t*>(&sin6->sin6_addr);
        if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
            return {AF_INET, b + 12};
        }
        return {AF_INET6, b};
    }
    return {};
}

// The sender as the reply cache knows it: family, address, port in network order
// (7 bytes for IPv4, 19 for IPv6). A peer always reaches the one socket with the same form.
std::string_view source_key(const peer_info& peer, std::array<char, 19>* out) {
    size_t n = 0;
    auto put = [&](const void* p, size_t len) {
        std::memcpy(out->data() + n, p, len);
        n += len;
    };
    const auto family = static_cast<char>(peer.family());
    put(&family, 1);
    if (peer.family() == AF_INET) {
        const auto* sin = reinterpret_cast<const sockaddr_in*>(&peer.addr);
        put(&sin->sin_addr, 4);
        put(&sin->sin_port, 2);
    } else if (peer.family() == AF_INET6) {
        const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(&peer.addr);
        put(&sin6->sin6_addr, 16);
        put(&sin6->sin6_port, 2);
    }
    return {out->data(), n};
}

bool prefix_equal(const uint8_t* a, const uint8_t* b, unsigned bits) {
    const unsigned full = bits / 8;
    if (std::memcmp(a, b, full) != 0) {
        return false;
    }
    const unsigned rest = bits % 8;
    if (rest == 0) {
        return true;
    }
    const auto mask = static_cast<uint8_t>(0xff << (8 - rest));
    return (a[full] & mask) == (b[full] & mask);
}

}  // namespace

uint16_t peer_info::port() const {
    if (family() == AF_INET) {
        return ntohs(reinterpret_cast<const sockaddr_in*>(&addr)->sin_port);
    }
    if (family() == AF_INET6) {
        return ntohs(reinterpret_cast<const sockaddr_in6*>(&addr)->sin6_port);
    }
    return 0;
}

std::string peer_info::to_string() const {
    char host[INET6_ADDRSTRLEN] = {};
    if (family() == AF_INET) {
        inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(&addr)->sin_addr, host, sizeof host);
        return std::string(host) + ':' + std::to_string(port());
    }
    if (family() == AF_INET6) {
        inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(&addr)->sin6_addr, host, sizeof host);
        return '[' + std::string(host) + "]:" + std::to_string(port());
    }
    return "(unknown address family)";
}

std::optional<peer_info> parse_endpoint(std::string_view text, bool numeric_only) {
    std::string_view host;
    std::string_view port;
    if (!text.empty() && text.front() == '[') {
        const size_t close = text.find(']');
        if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
            return std::nullopt;
        }
        host = text.substr(1, close - 1);
        port = text.substr(close + 2);
    } else {
        const size_t colon = text.rfind(':');
        if (colon == std::string_view::npos) {
            return std::nullopt;
        }
        host = text.substr(0, colon);
        port = text.substr(colon + 1);
        if (host.find(':') != std::string_view::npos) {
            return std::nullopt;  // a bare IPv6 address needs brackets to show where the port is
        }
    }
    unsigned port_number = 0;
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), port_number);
    if (host.empty() || port.empty() || ec != std::errc() || end != port.data() + port.size() || port_number > 65535) {
        return std::nullopt;
    }
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_DGRAM;
    hints.ai_flags = AI_NUMERICSERV | (numeric_only ? AI_NUMERICHOST : 0);
    addrinfo* res = nullptr;
    const std::string host_z(host);
    const std::string port_z(port);
    if (getaddrinfo(host_z.c_str(), port_z.c_str(), &hints, &res) != 0 || res == nullptr) {
        return std::nullopt;
    }
    peer_info out;
    std::memcpy(&out.addr, res->ai_addr, res->ai_addrlen);
    out.len = res->ai_addrlen;
    freeaddrinfo(res);
    return out;
}

std::optional<ng_server::allow_entry> ng_server::parse_allow(std::string_view text) {
    const size_t slash = text.find('/');
    const std::string addr(text.substr(0, slash));
    allow_entry e;
    unsigned max_bits = 0;
    if (inet_pton(AF_INET, addr.c_str(), e.bytes.data()) == 1) {
        e.family = AF_INET;
        max_bits = 32;
    } else if (inet_pton(AF_INET6, addr.c_str(), e.bytes.data()) == 1) {
        e.family = AF_INET6;
        max_bits = 128;
    } else {
        return std::nullopt;
    }
    e.prefix_bits = max_bits;
    if (slash != std::string_view::npos) {
        const std::string_view bits = text.substr(slash + 1);
        auto [end, ec] = std::from_chars(bits.data(), bits.data() + bits.size(), e.prefix_bits);
        if (bits.empty() || ec != std::errc() || end != bits.data() + bits.size() || e.prefix_bits > max_bits) {
            return std::nullopt;
        }
    }
    // Zero the host bits so "10.1.2.3/8" means 10.0.0.0/8, as routers read it.
    for (unsigned bit = e.prefix_bits; bit < max_bits; ++bit) {
        e.bytes[bit / 8] &= static_cast<uint8_t>(~(0x80u >> (bit % 8)));
    }
    return e;
}

ng_server::ng_server(const ng_server_config& config, handler h)
    : handler_(std::move(h)),
      cache_(config.cache_entries, config.cache_age),
      is_command_(config.is_command),
      max_burst_(config.max_burst == 0 ? 1 : config.max_burst),
      buf_(65536) {
    const std::vector<std::string> loopback = {"127.0.0.0/8", "::1"};
    for (const std::string& text : config.allow.empty() ? loopback : config.allow) {
        auto entry = parse_allow(text);
        if (!entry) {
            throw std::invalid_argument("ng allow: bad address '" + text + "'");
        }
        allow_.push_back(*entry);
    }
    if (!config.listen.empty()) {
        add_listener(config.listen, false);
    }
}

ng_server::~ng_server() {
    for (const listener& l : listeners_) {
        close(l.fd);
    }
}

void ng_server::add_listener(const std::string& endpoint, bool freebind) {
    for (const listener& l : listeners_) {
        if (l.endpoint == endpoint) {
            return;
        }
    }
    auto listen = parse_endpoint(endpoint, true);
    if (!listen) {
        throw std::invalid_argument("ng listen: bad address '" + endpoint + "'");
    }
    listener l;
    l.endpoint = endpoint;
    l.fd = socket(listen->family(), SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (l.fd < 0) {
        throw std::system_error(errno, std::generic_category(), "ng listen: socket");
    }
    const int one = 1;
    if (freebind && setsockopt(l.fd, listen->family() == AF_INET6 ? IPPROTO_IPV6 : IPPROTO_IP,
                               listen->family() == AF_INET6 ? IPV6_FREEBIND : IP_FREEBIND, &one, sizeof one) != 0) {
        const int err = errno;
        close(l.fd);
        throw std::system_error(err, std::generic_category(), "ng listen: IP_FREEBIND on " + endpoint);
    }
    if (bind(l.fd, reinterpret_cast<const sockaddr*>(&listen->addr), listen->len) != 0) {
        const int err = errno;
        close(l.fd);
        throw std::system_error(err, std::generic_category(), "ng listen: cannot bind " + endpoint);
    }
    l.local.len = sizeof l.local.addr;
    getsockname(l.fd, reinterpret_cast<sockaddr*>(&l.local.addr), &l.local.len);
    listeners_.push_back(std::move(l));
}

bool ng_server::remove_listener(const std::string& endpoint) {
    for (auto it = listeners_.begin(); it != listeners_.end(); ++it) {
        if (it->endpoint == endpoint) {
            close(it->fd);
            listeners_.erase(it);
            return true;
        }
    }
    return false;
}

bool ng_server::is_allowed(const peer_info& peer) const {
    const peer_bytes p = bytes_of(peer);
    for (const allow_entry& e : allow_) {
        if (e.family == p.family && prefix_equal(e.bytes.data(), p.bytes, e.prefix_bits)) {
            return true;
        }
    }
    return false;
}

value ng_server::error_reply(std::string_view reason) {
    value reply = value::dict();
    reply.set("result", value::str("error"));
    reply.set("error-reason", value::str(std::string(reason)));
    return reply;
}

void ng_server::on_readable(size_t i, std::chrono::steady_clock::time_point now) {
    if (i >= listeners_.size()) {
        return;
    }
    const int fd = listeners_[i].fd;
    // A recvfrom per datagram (~2 µs) rather than recvmmsg: NG runs at call-setup rates,
    // hundreds per second, and one 64 KiB buffer is simpler than a batch of them.
    for (unsigned n = 0; n < max_burst_; ++n) {
        peer_info from;
        from.len = sizeof from.addr;
        const ssize_t got =
            recvfrom(fd, buf_.data(), buf_.size(), MSG_TRUNC, reinterpret_cast<sockaddr*>(&from.addr), &from.len);
        if (got < 0) {
            if (errno == EINTR) {
                continue;
            }
            return;  // EAGAIN: drained; anything else is retried on the next poll
        }
        if (!is_allowed(from)) {
            ++counters_.dropped_not_allowed;
            if (drop_log_.allow(now)) {
                log::event(log::level::warning, "NG datagram from a peer not in --ng-allow dropped")
                    .field("peer", from.to_string());
            }
            continue;
        }
        if (static_cast<size_t>(got) > buf_.size()) {
            ++counters_.dropped_malformed;  // MSG_TRUNC gave the real, larger length
            if (drop_log_.allow(now)) {
                log::event(log::level::warning, "NG datagram too large, dropped")
                    .field("peer", from.to_string())
                    .field("bytes", static_cast<uint64_t>(got));
            }
            continue;
        }
        handle_datagram(fd, std::string_view(buf_.data(), static_cast<size_t>(got)), from, now);
    }
}

std::optional<ng_frame> split_datagram(std::string_view msg) {
    const size_t space = msg.find(' ');
    if (space == std::string_view::npos || space == 0 || space > max_cookie_len) {
        return std::nullopt;
    }
    return ng_frame{msg.substr(0, space), msg.substr(space + 1)};
}

void ng_server::handle_datagram(int fd, std::string_view msg, const peer_info& from,
                                std::chrono::steady_clock::time_point now) {
    const auto frame = split_datagram(msg);
    if (!frame) {
        ++counters_.dropped_malformed;
        if (drop_log_.allow(now)) {
            log::event(log::level::warning, "NG datagram without a cookie, dropped")
                .field("peer", from.to_string())
                .field("bytes", static_cast<uint64_t>(msg.size()));
        }
        return;
    }
    const std::string_view cookie = frame->cookie;
    ++counters_.requests;
    std::array<char, 19> source_buf;
    const std::string_view source = source_key(from, &source_buf);
    cookie_cache::body_digest body{};
    const bool digested = cookie_cache::digest(frame->body, &body);
    if (auto cached = digested ? cache_.lookup(source, cookie, body, now) : std::nullopt) {
        if (cached->same_body) {
            ++counters_.cache_hits;
            send_to(fd, cached->reply, from);
            return;
        }
        // Not a retransmit: a retransmit is byte-identical. Answering with the old reply
        // would hand the proxy another call's SDP; refusing would fail every call of a
        // proxy that restarted with the same cookie sequence. So it runs, as what it is.
        ++counters_.cookie_reuses;
        if (reuse_log_.allow(now)) {
            log::event(log::level::warning, "NG cookie reused for a different request, handled as a new one")
                .field("peer", from.to_string())
                .field("cookie", cookie);
        }
    }
    // rtpengine's rule: a body starting with '{' is JSON and is answered in JSON; anything
    // else is bencode (an undecodable one gets the bencode decoder's reason).
    const bool json = !frame->body.empty() && frame->body.front() == '{';
    auto encode_reply = [json](const reply& r, std::string* out) {
        if (json) {
            r.to_json(out);
        } else {
            r.encode_to(out);
        }
    };
    bool cacheable = false;
    std::string reply(cookie);
    reply.push_back(' ');
    encode_reply(answer(frame->body, json, from, &cacheable), &reply);
    if (reply.size() > max_reply_bytes) {
        // One UDP datagram cannot carry it: say so instead of letting the client time out.
        ++counters_.oversized_replies;
        const size_t was = reply.size();
        reply.resize(cookie.size() + 1);
        encode_reply(error_reply("reply too large for one datagram (" + std::to_string(was) +
                                 " bytes); narrow the request (e.g. list with a smaller limit)"),
                     &reply);
    }
    send_to(fd, reply, from);
    if (cacheable && digested) {
        cache_.insert(source, cookie, body, std::move(reply), now);
    }
}

reply ng_server::answer(std::string_view body, bool json, const peer_info& from, bool* cacheable) {
    *cacheable = false;
    std::string error;
    auto request = json ? from_json(body, &error) : decode(body, &error);
    if (!request) {
        ++counters_.bad_requests;
        return error_reply(error);
    }
    if (!request->is_dict()) {
        ++counters_.bad_requests;
        return error_reply("request is not a dictionary");
    }
    // Without a command nothing runs: the handler's error reply (it counts these) is made
    // again for a retransmit, identical, so it need not take a cache entry.
    const auto command = request->find_string("command");
    *cacheable = command && (!is_command_ || is_command_(*command));
    try {
        return handler_(*request, from);
    } catch (const std::exception& e) {
        ++counters_.handler_errors;
        return error_reply(e.what());
    } catch (...) {
        ++counters_.handler_errors;
        return error_reply("internal error");
    }
}

void ng_server::send_to(int fd, std::string_view reply, const peer_info& to) {
    const ssize_t sent =
        sendto(fd, reply.data(), reply.size(), MSG_DONTWAIT, reinterpret_cast<const sockaddr*>(&to.addr), to.len);
    if (sent < 0) {
        ++counters_.send_errors;  // the reply stays cached; the peer's retransmit gets it
        return;
    }
    ++counters_.replies;
}

}  // namespace rtprelay::ng
