// The NG reply cache in front of the real commands and session manager: a real offer's
// retransmit, after a flood of junk from the same proxy, gets the reply it got the first
// time, byte for byte, and the offer did not run again (no second call, no ports taken).

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "control/interfaces.h"
#include "control/ng/bencode.h"
#include "control/ng/commands.h"
#include "control/ng/server.h"
#include "control/publish/publisher.h"
#include "control/session/manager.h"
#include "dataplane/flow_table.h"
#include "dataplane/neighbour_table.h"
#include "tests/support/control_rig.h"

namespace rtprelay {
namespace {

using ng::value;

// A proxy's UDP socket on 127.0.0.1, connected to the server.
class proxy_socket {
 public:
    explicit proxy_socket(const ng::peer_info& to) {
        fd_ = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        sockaddr_in me{};
        me.sin_family = AF_INET;
        inet_pton(AF_INET, "127.0.0.1", &me.sin_addr);
        EXPECT_EQ(bind(fd_, reinterpret_cast<sockaddr*>(&me), sizeof me), 0);
        EXPECT_EQ(connect(fd_, reinterpret_cast<const sockaddr*>(&to.addr), to.len), 0);
    }
    ~proxy_socket() { close(fd_); }
    proxy_socket(const proxy_socket&) = delete;
    proxy_socket& operator=(const proxy_socket&) = delete;

    void send_bytes(std::string_view b) { EXPECT_EQ(send(fd_, b.data(), b.size(), 0), static_cast<ssize_t>(b.size())); }
    std::string receive(int wait_ms) {
        pollfd p{fd_, POLLIN, 0};
        if (poll(&p, 1, wait_ms) <= 0) {
            return "";
        }
        char buf[65536];
        const ssize_t n = recv(fd_, buf, sizeof buf, 0);
        return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
    }
    // Reads and drops the replies waiting; how many.
    size_t drain() {
        size_t n = 0;
        while (!receive(0).empty()) {
            ++n;
        }
        return n;
    }

 private:
    int fd_ = -1;
};

class ng_retransmit_test : public ::testing::Test, protected test::control_rig {
 protected:
    void SetUp() override {
        interfaces_.add(parse_interface("a address=198.18.1.1/24 dpdk-port=0 ports=30000-30099", 11));
        start();
        ng::ng_server_config cfg;
        cfg.listen = "127.0.0.1:0";
        cfg.is_command = ng::commands::knows;  // as relay/main.cc sets it
        server_ = std::make_unique<ng::ng_server>(cfg, [this](const value& req, const ng::peer_info&) {
            return commands_->handle(req, std::chrono::steady_clock::now());
        });
    }

    // Runs the server until it has taken `datagrams` requests in all (1 s at most).
    void serve_until(uint64_t datagrams) {
        for (int i = 0; i < 100 && server_->counters().requests < datagrams; ++i) {
            pollfd p{server_->fd(), POLLIN, 0};
            if (poll(&p, 1, 10) > 0) {
                server_->on_readable(std::chrono::steady_clock::now());
            }
        }
    }

    // Requests the commands counted for `c`, with result `r` or any.
    uint64_t requests(ng::command c, std::optional<ng::result> r = std::nullopt) const {
        const auto& row = commands_->results()[static_cast<size_t>(c)];
        if (r) {
            return row[static_cast<size_t>(*r)];
        }
        uint64_t n = 0;
        for (uint64_t v : row) {
            n += v;
        }
        return n;
    }

    std::unique_ptr<ng::ng_server> server_;  // destroyed before the rig's commands it calls
};

const std::string offer_body =
    ng::encode(value::dict()
                   .set("command", value::str("offer"))
                   .set("call-id", value::str("real-call"))
                   .set("from-tag", value::str("f1"))
                   .set("sdp", value::str("v=0\r\no=- 1 1 IN IP4 198.51.100.10\r\ns=-\r\nc=IN IP4 198.51.100.10\r\n"
                                          "t=0 0\r\nm=audio 4000 RTP/AVP 0\r\n")));

// Junk of every kind a peer can send inside a frame; none of it runs a command.
std::string junk(int i) {
    switch (i % 5) {
        case 0:
            return "not bencode " + std::to_string(i);
        case 1:
            return "i" + std::to_string(i) + "e";  // not a dictionary
        case 2:
            return ng::encode(value::dict().set("call-id", value::str(std::to_string(i))));  // no command
        case 3:
            return ng::encode(value::dict().set("command", value::str("frobnicate" + std::to_string(i))));
        default:
            return ng::encode(value::dict().set("command", value::integer(i)));  // command not a string
    }
}

TEST_F(ng_retransmit_test, junk_cannot_evict_a_real_reply) {
    proxy_socket proxy(server_->local_address());
    const std::string request = "5_1000_1 " + offer_body;
    proxy.send_bytes(request);
    serve_until(1);
    const std::string first = proxy.receive(1000);
    ASSERT_EQ(first.substr(0, 9), "5_1000_1 ");
    ASSERT_NE(first.find("6:result2:ok"), std::string::npos) << first;
    const size_t free_after_offer = interfaces_.front().addresses.front().pool->free();

    // 20,000 junk requests from the same proxy, twice the cache's 10,000 entries, each with a
    // cookie of its own; every 1,000th reuses the real request's cookie.
    constexpr int junk_count = 20000;
    uint64_t sent = 1;
    for (int i = 0; i < junk_count; ++i) {
        const std::string cookie = i % 1000 == 999 ? std::string("5_1000_1") : "j" + std::to_string(i);
        proxy.send_bytes(cookie + " " + junk(i));
        ++sent;
        if (i % 64 == 63 || i + 1 == junk_count) {
            serve_until(sent);  // in steps, so neither socket's buffer overflows
            proxy.drain();
        }
    }
    ASSERT_EQ(server_->counters().requests, sent);
    proxy.drain();

    proxy.send_bytes(request);  // the proxy retransmits the offer
    serve_until(sent + 1);
    EXPECT_EQ(proxy.receive(1000), first);  // byte for byte
    const auto& c = server_->counters();
    EXPECT_EQ(c.cache_hits, 1u);
    EXPECT_EQ(c.cookie_reuses, static_cast<uint64_t>(junk_count / 1000));
    EXPECT_EQ(c.bad_requests, static_cast<uint64_t>(2 * junk_count / 5));  // not bencode, not a dict
    // The offer ran once: one call, its ports taken once.
    EXPECT_EQ(sessions_->totals().offers, 1u);
    EXPECT_EQ(sessions_->size(), 1u);
    EXPECT_EQ(interfaces_.front().addresses.front().pool->free(), free_after_offer);
    // The commands saw the requests that decoded to a dictionary (no command, an unknown
    // one, one that is not a string: all `other`, all errors); none ran.
    EXPECT_EQ(requests(ng::command::other, ng::result::error), static_cast<uint64_t>(3 * junk_count / 5));
    EXPECT_EQ(requests(ng::command::other), static_cast<uint64_t>(3 * junk_count / 5));
    EXPECT_EQ(requests(ng::command::offer), 1u);
}

TEST_F(ng_retransmit_test, reused_cookie_with_another_body_runs_as_a_new_request) {
    proxy_socket proxy(server_->local_address());
    proxy.send_bytes("9_1 " + offer_body);
    serve_until(1);
    const std::string first = proxy.receive(1000);
    ASSERT_NE(first.find("6:result2:ok"), std::string::npos) << first;
    // A proxy restarted with the same cookie sequence: same cookie, another call.
    const std::string other =
        ng::encode(value::dict().set("command", value::str("query")).set("call-id", value::str("real-call")));
    proxy.send_bytes("9_1 " + other);
    serve_until(2);
    const std::string second = proxy.receive(1000);
    EXPECT_NE(second, first);
    EXPECT_NE(second.find("7:createdi"), std::string::npos) << second;  // the query's reply
    EXPECT_EQ(server_->counters().cookie_reuses, 1u);
    EXPECT_EQ(server_->counters().cache_hits, 0u);
    EXPECT_EQ(requests(ng::command::query), 1u);
    // Its retransmit is answered from the cache with the query's reply.
    proxy.send_bytes("9_1 " + other);
    serve_until(3);
    EXPECT_EQ(proxy.receive(1000), second);
    EXPECT_EQ(server_->counters().cache_hits, 1u);
    EXPECT_EQ(requests(ng::command::query), 1u);
    EXPECT_EQ(sessions_->totals().offers, 1u);
}

TEST(ng_commands, knows_every_command_it_counts_and_nothing_else) {
    for (size_t i = 0; i + 1 < ng::command_count; ++i) {
        const char* name = ng::command_name(static_cast<ng::command>(i));
        EXPECT_TRUE(ng::commands::knows(name)) << name;
    }
    EXPECT_FALSE(ng::commands::knows("other"));  // the row for unknown commands
    EXPECT_FALSE(ng::commands::knows("frobnicate"));
    EXPECT_FALSE(ng::commands::knows(""));
    EXPECT_FALSE(ng::commands::knows("Offer"));
}

}  // namespace
}  // namespace rtprelay
