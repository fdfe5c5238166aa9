#include "control/ng/server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <functional>
#include <random>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>

#include "control/ng/client.h"

namespace rtprelay::ng {
namespace {

using namespace std::chrono_literals;

// Runs the server's poll loop on a thread, as relay/main would. Counters and the
// handler's state are read after stop(), so the test never races the loop.
class server_thread {
 public:
    explicit server_thread(ng_server& s) : server_(s), thread_([this] { run(); }) {}
    ~server_thread() { stop(); }
    void stop() {
        stop_ = true;
        if (thread_.joinable()) {
            thread_.join();
        }
    }

 private:
    void run() {
        while (!stop_) {
            pollfd p{server_.fd(), POLLIN, 0};
            if (poll(&p, 1, 5) > 0) {
                server_.on_readable(std::chrono::steady_clock::now());
            }
        }
    }
    ng_server& server_;
    std::atomic<bool> stop_{false};
    std::thread thread_;
};

// A bare UDP socket for datagrams the client would never send.
class raw_socket {
 public:
    raw_socket(const char* local_ip, const peer_info& to) {
        fd_ = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        sockaddr_in me{};
        me.sin_family = AF_INET;
        inet_pton(AF_INET, local_ip, &me.sin_addr);
        EXPECT_EQ(bind(fd_, reinterpret_cast<sockaddr*>(&me), sizeof me), 0);
        EXPECT_EQ(connect(fd_, reinterpret_cast<const sockaddr*>(&to.addr), to.len), 0);
    }
    ~raw_socket() { close(fd_); }
    void send_bytes(std::string_view b) { EXPECT_EQ(send(fd_, b.data(), b.size(), 0), static_cast<ssize_t>(b.size())); }
    // The next datagram within `wait`, or "" when none came.
    std::string receive(std::chrono::milliseconds wait) {
        pollfd p{fd_, POLLIN, 0};
        if (poll(&p, 1, static_cast<int>(wait.count())) <= 0) {
            return "";
        }
        char buf[65536];
        const ssize_t n = recv(fd_, buf, sizeof buf, 0);
        return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
    }

 private:
    int fd_ = -1;
};

// Without the loop thread: waits (up to 1 s) for the socket to be readable, then drains it.
// Loopback delivery is quick but not synchronous with send(), hence the poll.
void pump(ng_server& s, std::chrono::steady_clock::time_point now) {
    pollfd p{s.fd(), POLLIN, 0};
    if (poll(&p, 1, 1000) > 0) {
        s.on_readable(now);
    }
}

// Pumps until every datagram sent so far was either a request or a malformed drop.
void pump_all(ng_server& s, uint64_t sent) {
    for (int i = 0; i < 100; ++i) {
        const auto& c = s.counters();
        if (c.requests + c.dropped_malformed >= sent) {
            return;
        }
        pump(s, std::chrono::steady_clock::now());
    }
}

ng_server_config loopback_config() {
    ng_server_config c;
    c.listen = "127.0.0.1:0";
    return c;
}

std::string address_of(const ng_server& s) { return s.local_address().to_string(); }

value pong(const value& request, const peer_info&) {
    if (request.find_string("command") == "fail") {
        throw std::runtime_error("no such call");
    }
    return value::dict().set("result", value::str("pong"));
}

TEST(ng_server, rejects_bad_addresses_at_construction) {
    ng_server_config c = loopback_config();
    c.listen = "x";
    try {
        ng_server s(c, pong);
        FAIL() << "constructed";
    } catch (const std::invalid_argument& e) {
        EXPECT_STREQ(e.what(), "ng listen: bad address 'x'");
    }
    for (const char* bad :
         {"127.0.0.1", "::1:2223", "[::1]2223", "127.0.0.1:70000", "localhost:2223", "127.0.0.1:-1", "[::1]:"}) {
        c.listen = bad;
        EXPECT_THROW(ng_server(c, pong), std::invalid_argument) << bad;
    }
    c = loopback_config();
    for (const char* bad : {"10.0.0.0/33", "fd00::/129", "10.0.0.0/", "nonsense", "10.0.0.0/8x"}) {
        c.allow = {bad};
        EXPECT_THROW(ng_server(c, pong), std::invalid_argument) << bad;
    }
}

TEST(ng_server, allow_list_matches_cidrs) {
    ng_server_config c = loopback_config();
    c.allow = {"10.1.2.3/8", "192.0.2.7", "fd00::/8", "2001:db8::1"};
    ng_server s(c, pong);
    const auto allowed = [&](const char* text) { return s.is_allowed(*parse_endpoint(text, true)); };
    EXPECT_TRUE(allowed("10.200.0.1:1"));
    EXPECT_FALSE(allowed("11.0.0.1:1"));
    EXPECT_TRUE(allowed("192.0.2.7:1"));
    EXPECT_FALSE(allowed("192.0.2.8:1"));
    EXPECT_TRUE(allowed("[fd12::5]:1"));
    EXPECT_FALSE(allowed("[fe80::1]:1"));
    EXPECT_TRUE(allowed("[2001:db8::1]:1"));
    EXPECT_FALSE(allowed("[2001:db8::2]:1"));
    EXPECT_TRUE(allowed("[::ffff:10.0.0.9]:1"));  // IPv4-mapped, as a dual-stack socket sees it
    EXPECT_FALSE(allowed("127.0.0.1:1"));

    ng_server loopback_only(loopback_config(), pong);  // empty allow-list
    EXPECT_TRUE(loopback_only.is_allowed(*parse_endpoint("127.0.0.2:1", true)));
    EXPECT_TRUE(loopback_only.is_allowed(*parse_endpoint("[::1]:1", true)));
    EXPECT_FALSE(loopback_only.is_allowed(*parse_endpoint("192.0.2.1:1", true)));
}

TEST(ng_server, answers_a_request_end_to_end) {
    ng_server s(loopback_config(), pong);
    server_thread loop(s);
    ng_client client(address_of(s));
    std::string error;
    auto reply = client.request(value::dict().set("command", value::str("ping")), 1000ms, 2, &error);
    ASSERT_TRUE(reply) << error;
    EXPECT_EQ(reply->find_string("result"), "pong");
    loop.stop();
    EXPECT_EQ(s.counters().requests, 1u);
    EXPECT_EQ(s.counters().replies, 1u);
    EXPECT_EQ(s.counters().cache_hits, 0u);
}

TEST(ng_server, listens_on_ipv6) {
    ng_server_config c;
    c.listen = "[::1]:0";
    ng_server s(c, pong);
    server_thread loop(s);
    ng_client client(address_of(s));
    std::string error;
    auto reply = client.request(value::dict().set("command", value::str("ping")), 1000ms, 2, &error);
    ASSERT_TRUE(reply) << error;
    EXPECT_EQ(reply->find_string("result"), "pong");
}

TEST(ng_server, retransmit_gets_identical_reply_and_handler_runs_once) {
    int runs = 0;
    ng_server s(loopback_config(), [&](const value&, const peer_info&) {
        ++runs;
        return value::dict().set("result", value::str("ok")).set("run", value::integer(runs));
    });
    raw_socket peer("127.0.0.1", s.local_address());
    const auto now = std::chrono::steady_clock::now();
    peer.send_bytes("5_17_1 d7:command4:pinge");
    pump(s, now);
    const std::string first = peer.receive(1000ms);
    EXPECT_EQ(first, "5_17_1 d6:result2:ok3:runi1ee");
    peer.send_bytes("5_17_1 d7:command4:pinge");
    pump(s, now + 1s);
    EXPECT_EQ(peer.receive(1000ms), first);
    EXPECT_EQ(runs, 1);
    EXPECT_EQ(s.counters().requests, 2u);
    EXPECT_EQ(s.counters().cache_hits, 1u);
    EXPECT_EQ(s.counters().replies, 2u);
    // Past the cache's age the cookie is new again.
    peer.send_bytes("5_17_1 d7:command4:pinge");
    pump(s, now + 31s);
    EXPECT_EQ(peer.receive(1000ms), "5_17_1 d6:result2:ok3:runi2ee");
}

// Echoes who asked and how often the handler ran, so a test sees which reply it got.
class echo_handler {
 public:
    value operator()(const value& request, const peer_info& from) {
        ++runs;
        return value::dict()
            .set("result", value::str("ok"))
            .set("call-id", value::str(std::string(request.find_string("call-id").value_or(""))))
            .set("peer", value::str(from.to_string()))
            .set("run", value::integer(runs));
    }
    int runs = 0;
};

TEST(ng_server, same_cookie_from_two_proxies_gets_two_replies) {
    echo_handler h;
    ng_server s(loopback_config(), std::ref(h));
    raw_socket proxy_1("127.0.0.1", s.local_address());
    raw_socket proxy_2("127.0.0.2", s.local_address());  // both loopback: allowed
    const std::string request = "1_1 d7:call-id1:x7:command5:querye";
    proxy_1.send_bytes(request);
    pump_all(s, 1);
    proxy_2.send_bytes(request);
    pump_all(s, 2);
    const std::string reply_1 = proxy_1.receive(1000ms);
    const std::string reply_2 = proxy_2.receive(1000ms);
    EXPECT_NE(reply_1.find("4:peer15:127.0.0.1:"), std::string::npos) << reply_1;
    EXPECT_NE(reply_1.find("3:runi1e"), std::string::npos) << reply_1;
    EXPECT_NE(reply_2.find("4:peer15:127.0.0.2:"), std::string::npos) << reply_2;
    EXPECT_NE(reply_2.find("3:runi2e"), std::string::npos) << reply_2;
    EXPECT_EQ(h.runs, 2);
    // Each one's retransmit gets its own reply back, from the cache.
    proxy_2.send_bytes(request);
    pump_all(s, 3);
    proxy_1.send_bytes(request);
    pump_all(s, 4);
    EXPECT_EQ(proxy_2.receive(1000ms), reply_2);
    EXPECT_EQ(proxy_1.receive(1000ms), reply_1);
    EXPECT_EQ(h.runs, 2);
    EXPECT_EQ(s.counters().cache_hits, 2u);
    EXPECT_EQ(s.counters().cookie_reuses, 0u);
}

TEST(ng_server, same_cookie_with_another_body_is_not_answered_from_the_cache) {
    echo_handler h;
    ng_server s(loopback_config(), std::ref(h));
    raw_socket proxy("127.0.0.1", s.local_address());
    const auto now = std::chrono::steady_clock::now();
    proxy.send_bytes("7_1 d7:call-id6:call-a7:command5:querye");
    pump(s, now);
    const std::string reply_a = proxy.receive(1000ms);
    EXPECT_NE(reply_a.find("7:call-id6:call-a"), std::string::npos) << reply_a;
    // Same cookie, same proxy, another request: it runs and gets its own reply.
    proxy.send_bytes("7_1 d7:call-id6:call-b7:command5:querye");
    pump(s, now + 1s);
    const std::string reply_b = proxy.receive(1000ms);
    EXPECT_NE(reply_b.find("7:call-id6:call-b"), std::string::npos) << reply_b;
    EXPECT_NE(reply_b.find("3:runi2e"), std::string::npos) << reply_b;
    EXPECT_EQ(h.runs, 2);
    EXPECT_EQ(s.counters().cookie_reuses, 1u);
    EXPECT_EQ(s.counters().cache_hits, 0u);
    // A byte-identical retransmit of the second is a retransmit.
    proxy.send_bytes("7_1 d7:call-id6:call-b7:command5:querye");
    pump(s, now + 2s);
    EXPECT_EQ(proxy.receive(1000ms), reply_b);
    EXPECT_EQ(h.runs, 2);
    EXPECT_EQ(s.counters().cache_hits, 1u);
    // Junk under the same cookie runs nothing, is not cached, and leaves the entry as it was.
    proxy.send_bytes("7_1 garbage");
    pump(s, now + 3s);
    EXPECT_NE(proxy.receive(1000ms).find("5:error"), std::string::npos);
    EXPECT_EQ(s.counters().cookie_reuses, 2u);
    proxy.send_bytes("7_1 d7:call-id6:call-b7:command5:querye");
    pump(s, now + 4s);
    EXPECT_EQ(proxy.receive(1000ms), reply_b);
    EXPECT_EQ(h.runs, 2);
}

TEST(ng_server, replies_to_requests_that_run_no_command_are_not_cached) {
    ng_server_config c = loopback_config();
    c.cache_entries = 4;
    c.is_command = [](std::string_view cmd) { return cmd == "query"; };
    echo_handler h;
    ng_server s(c, std::ref(h));
    raw_socket proxy("127.0.0.1", s.local_address());
    proxy.send_bytes("real d7:call-id1:x7:command5:querye");
    pump_all(s, 1);
    const std::string real = proxy.receive(1000ms);
    // Far more junk than the cache holds: undecodable, not a dict, no command, unknown one.
    const char* junk[] = {"x", "i1e", "d7:call-id1:xe", "d7:command4:nonee", "d7:commandi1ee"};
    for (int i = 0; i < 40; ++i) {
        proxy.send_bytes("j" + std::to_string(i) + " " + junk[i % 5]);
    }
    pump_all(s, 41);
    while (!proxy.receive(0ms).empty()) {
    }
    EXPECT_EQ(h.runs, 25);  // the real request and the 24 dicts; the rest never reach it
    proxy.send_bytes("real d7:call-id1:x7:command5:querye");
    pump_all(s, 42);
    EXPECT_EQ(proxy.receive(1000ms), real);
    EXPECT_EQ(h.runs, 25);
    EXPECT_EQ(s.counters().cache_hits, 1u);
    // Junk retransmitted gets the same error again, made anew.
    proxy.send_bytes("j0 x");
    pump_all(s, 43);
    EXPECT_EQ(proxy.receive(1000ms), "j0 d12:error-reason40:bencode: unexpected byte 'x' at offset 06:result5:errore");
    EXPECT_EQ(s.counters().cache_hits, 1u);
}

TEST(ng_server, errors_become_error_replies) {
    ng_server s(loopback_config(), pong);
    raw_socket peer("127.0.0.1", s.local_address());
    const auto exchange = [&](std::string_view msg) {
        peer.send_bytes(msg);
        pump(s, std::chrono::steady_clock::now());
        return peer.receive(1000ms);
    };
    EXPECT_EQ(exchange("c1 d7:command4:pin"),
              "c1 d12:error-reason38:bencode: truncated string at offset 106:result5:errore");
    EXPECT_EQ(exchange("c2 garbage"), "c2 d12:error-reason40:bencode: unexpected byte 'g' at offset 06:result5:errore");
    EXPECT_EQ(exchange("c3 i5e"), "c3 d12:error-reason27:request is not a dictionary6:result5:errore");
    EXPECT_EQ(exchange("c4 "), "c4 d12:error-reason20:bencode: empty input6:result5:errore");
    EXPECT_EQ(exchange("c5 d7:command4:faile"), "c5 d12:error-reason12:no such call6:result5:errore");
    EXPECT_EQ(s.counters().bad_requests, 4u);
    EXPECT_EQ(s.counters().handler_errors, 1u);
    EXPECT_EQ(s.counters().replies, 5u);
}

// rtpengine takes a JSON object in place of the bencode dict and answers in JSON
// (rtpengine-ng-client --json decodes the reply as JSON and fails on anything else).
TEST(ng_server, json_requests_get_json_replies) {
    ng_server s(loopback_config(), [](const value& request, const peer_info&) {
        if (request.find_string("command") == "fail") {
            throw std::runtime_error("no such call");
        }
        value v = value::dict().set("result", value::str("ok"));
        v.set("echo", request);
        return v;
    });
    raw_socket peer("127.0.0.1", s.local_address());
    const auto exchange = [&](std::string_view msg) {
        peer.send_bytes(msg);
        pump(s, std::chrono::steady_clock::now());
        return peer.receive(1000ms);
    };
    EXPECT_EQ(exchange(R"(j1 {"command": "ping", "sdp": "v=0\r\n", "n": 5, "l": ["a", null]})"),
              R"(j1 {"echo":{"command":"ping","l":["a"],"n":5,"sdp":"v=0\r\n"},"result":"ok"})");
    EXPECT_EQ(exchange(R"(j2 {"command": "fail"})"), R"(j2 {"error-reason":"no such call","result":"error"})");
    EXPECT_EQ(
        exchange(R"(j3 {"command": 1.5})"),
        R"(j3 {"error-reason":"JSON: number with a fraction or exponent (only integers are NG values) at offset 12",)"
        R"("result":"error"})");
    // A retransmit gets the cached JSON reply.
    EXPECT_EQ(exchange(R"(j2 {"command": "fail"})"), R"(j2 {"error-reason":"no such call","result":"error"})");
    EXPECT_EQ(s.counters().bad_requests, 1u);
    EXPECT_EQ(s.counters().handler_errors, 1u);
    EXPECT_EQ(s.counters().cache_hits, 1u);
}

TEST(ng_server, unframed_datagrams_are_dropped_and_counted) {
    ng_server s(loopback_config(), pong);
    raw_socket peer("127.0.0.1", s.local_address());
    peer.send_bytes("no-space-here");
    peer.send_bytes(" d7:command4:pinge");  // empty cookie
    peer.send_bytes("");
    peer.send_bytes(std::string(300, 'c') + " de");  // cookie too long to cache
    pump_all(s, 4);
    EXPECT_EQ(peer.receive(50ms), "");
    EXPECT_EQ(s.counters().dropped_malformed, 4u);
    EXPECT_EQ(s.counters().requests, 0u);
    EXPECT_EQ(s.counters().replies, 0u);
}

TEST(ng_server, split_datagram_frames) {
    const auto f = split_datagram("5_1234_17 d7:command4:pinge");
    ASSERT_TRUE(f.has_value());
    EXPECT_EQ(f->cookie, "5_1234_17");
    EXPECT_EQ(f->body, "d7:command4:pinge");
    const auto empty_body = split_datagram("c ");
    ASSERT_TRUE(empty_body.has_value());
    EXPECT_EQ(empty_body->cookie, "c");
    EXPECT_EQ(empty_body->body, "");
    // The first blank ends the cookie; the body keeps the rest as it is.
    EXPECT_EQ(split_datagram("c  x")->body, " x");
    EXPECT_FALSE(split_datagram(""));
    EXPECT_FALSE(split_datagram("nocookie"));
    EXPECT_FALSE(split_datagram(" d7:command4:pinge"));
    EXPECT_TRUE(split_datagram(std::string(255, 'k') + " x"));
    EXPECT_FALSE(split_datagram(std::string(256, 'k') + " x"));
}

TEST(ng_server, random_garbage_never_crashes) {
    ng_server s(loopback_config(), pong);
    raw_socket peer("127.0.0.1", s.local_address());
    std::mt19937 rng(99);
    for (int i = 0; i < 2000; ++i) {
        std::string d(rng() % 200, '\0');
        for (char& c : d) {
            c = static_cast<char>(rng());
        }
        if (i % 2 == 0) {
            d.insert(0, "g" + std::to_string(i) + " ");  // framed, so it reaches the decoder
        }
        peer.send_bytes(d);
        if (i % 32 == 31) {
            pump_all(s, static_cast<uint64_t>(i) + 1);
            while (!peer.receive(0ms).empty()) {
            }
        }
    }
    pump_all(s, 2000);
    const auto& c = s.counters();
    EXPECT_EQ(c.requests + c.dropped_malformed, 2000u);
    EXPECT_GE(c.requests, 1000u);
}

TEST(ng_server, disallowed_peer_gets_nothing_and_is_counted) {
    ng_server_config c = loopback_config();
    c.allow = {"127.0.0.1"};
    int runs = 0;
    ng_server s(c, [&](const value& r, const peer_info& p) {
        ++runs;
        return pong(r, p);
    });
    server_thread loop(s);
    ng_client outsider(address_of(s), "127.0.0.2:0");
    std::string error;
    EXPECT_FALSE(outsider.request(value::dict().set("command", value::str("ping")), 100ms, 1, &error));
    EXPECT_EQ(error, "no reply from " + address_of(s) + " after 2 tries");
    ng_client insider(address_of(s), "127.0.0.1:0");
    EXPECT_TRUE(insider.request(value::dict().set("command", value::str("ping")), 1000ms, 2, &error));
    loop.stop();
    EXPECT_EQ(s.counters().dropped_not_allowed, 2u);
    EXPECT_EQ(s.counters().requests, 1u);
    EXPECT_EQ(runs, 1);
}

// Floating NG addresses (relay/ng_float.h): a socket opened later on another address serves
// alike, and its replies leave from the address the request went to (a proxy reading on a
// connected socket would drop any other); closing it leaves the first one serving.
TEST(ng_server, another_listener_answers_from_its_own_address) {
    ng_server s(loopback_config(), pong);
    const std::string second = "127.0.0.2:" + std::to_string(s.local_address().port());
    s.add_listener(second, false);
    s.add_listener(second, false);  // already open: nothing more
    ASSERT_EQ(s.listeners(), 2u);
    raw_socket c("127.0.0.1", *parse_endpoint(second, true));  // connected: only replies from `second`
    c.send_bytes("f1 d7:command4:pinge");
    pollfd p{s.fd(1), POLLIN, 0};
    ASSERT_EQ(poll(&p, 1, 1000), 1);
    s.on_readable(1, std::chrono::steady_clock::now());
    EXPECT_EQ(c.receive(1000ms), "f1 d6:result4:ponge");
    EXPECT_TRUE(s.remove_listener(second));
    EXPECT_FALSE(s.remove_listener(second));
    ASSERT_EQ(s.listeners(), 1u);
    c.send_bytes("f2 d7:command4:pinge");
    EXPECT_EQ(c.receive(200ms), "");  // nobody there now
    raw_socket first("127.0.0.1", s.local_address());
    first.send_bytes("f3 d7:command4:pinge");
    pump(s, std::chrono::steady_clock::now());
    EXPECT_EQ(first.receive(1000ms), "f3 d6:result4:ponge");
}

// An address this host does not have binds only with IP_FREEBIND (a lease taken before the
// kernel has the address); an empty --ng-listen opens nothing at start.
TEST(ng_server, floating_listener_binds_before_the_address_exists) {
    ng_server_config c = loopback_config();
    c.listen.clear();
    ng_server s(c, pong);
    EXPECT_EQ(s.listeners(), 0u);
    EXPECT_EQ(s.fd(), -1);
    EXPECT_THROW(s.add_listener("198.18.250.77:2223", false), std::system_error);
    EXPECT_EQ(s.listeners(), 0u);
    s.add_listener("198.18.250.77:2223", true);
    EXPECT_EQ(s.listeners(), 1u);
    EXPECT_THROW(s.add_listener("198.18.250.77", true), std::invalid_argument);
}

}  // namespace
}  // namespace rtprelay::ng
