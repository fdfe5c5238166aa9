#include "control/ng/client.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "control/ng/server.h"

namespace rtprelay::ng {
namespace {

using namespace std::chrono_literals;

// A scripted peer on 127.0.0.1 that the test drives datagram by datagram.
class fake_server {
 public:
    fake_server() {
        fd_ = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        sockaddr_in me{};
        me.sin_family = AF_INET;
        me.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        EXPECT_EQ(bind(fd_, reinterpret_cast<sockaddr*>(&me), sizeof me), 0);
        socklen_t len = sizeof me;
        getsockname(fd_, reinterpret_cast<sockaddr*>(&me), &len);
        address_ = "127.0.0.1:" + std::to_string(ntohs(me.sin_port));
    }
    ~fake_server() { close(fd_); }
    const std::string& address() const { return address_; }

    std::string receive() {
        pollfd p{fd_, POLLIN, 0};
        if (poll(&p, 1, 2000) <= 0) {
            return "";
        }
        char buf[65536];
        from_len_ = sizeof from_;
        const ssize_t n = recvfrom(fd_, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from_), &from_len_);
        return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
    }
    void reply(std::string_view bytes) {
        sendto(fd_, bytes.data(), bytes.size(), 0, reinterpret_cast<sockaddr*>(&from_), from_len_);
    }

 private:
    int fd_ = -1;
    std::string address_;
    sockaddr_storage from_{};
    socklen_t from_len_ = 0;
};

std::string cookie_of(const std::string& msg) { return msg.substr(0, msg.find(' ')); }

const value ping = value::dict().set("command", value::str("ping"));

TEST(ng_client, retransmits_the_same_bytes_and_skips_foreign_cookies) {
    fake_server srv;
    std::vector<std::string> seen;
    std::thread peer([&] {
        seen.push_back(srv.receive());  // "lost": no answer
        seen.push_back(srv.receive());
        const std::string cookie = cookie_of(seen.back());
        srv.reply("stale d6:result4:oldee");
        srv.reply("not-ng-at-all");
        srv.reply(cookie + " d6:result4:ponge");
    });
    ng_client client(srv.address());
    std::string error;
    auto reply = client.request(ping, 200ms, 3, &error);
    peer.join();
    ASSERT_TRUE(reply) << error;
    EXPECT_EQ(reply->find_string("result"), "pong");
    ASSERT_EQ(seen.size(), 2u);
    EXPECT_EQ(seen[0], seen[1]);
    EXPECT_EQ(seen[0].substr(seen[0].find(' ')), " d7:command4:pinge");
}

TEST(ng_client, cookies_differ_between_requests_and_clients) {
    fake_server srv;
    ng_client a(srv.address());
    ng_client b(srv.address());
    const std::string c1 = a.send_request(ping);
    const std::string c2 = a.send_request(ping);
    const std::string c3 = b.send_request(ping);
    EXPECT_NE(c1, c2);
    EXPECT_NE(c1, c3);
    EXPECT_EQ(c1.find(' '), std::string::npos);
    EXPECT_EQ(cookie_of(srv.receive()), c1);
}

TEST(ng_client, reports_no_reply_with_the_try_count) {
    fake_server srv;  // bound but silent
    ng_client client(srv.address());
    std::string error;
    EXPECT_FALSE(client.request(ping, 30ms, 2, &error));
    EXPECT_EQ(error, "no reply from " + srv.address() + " after 3 tries");
}

TEST(ng_client, reports_connection_refused_when_nothing_listens) {
    std::string address;
    {
        fake_server gone;
        address = gone.address();
    }
    ng_client client(address);
    std::string error;
    EXPECT_FALSE(client.request(ping, 30ms, 1, &error));
    EXPECT_EQ(error, "no reply from " + address + " after 2 tries (Connection refused)");
}

TEST(ng_client, rejects_bad_addresses) {
    EXPECT_THROW(ng_client("nowhere"), std::invalid_argument);
    EXPECT_THROW(ng_client("127.0.0.1:99999"), std::invalid_argument);
    EXPECT_THROW(ng_client("127.0.0.1:2223", "[::1]:0"), std::invalid_argument);  // family mismatch
}

TEST(ng_client, send_and_poll_pair) {
    ng_server_config c;
    c.listen = "127.0.0.1:0";
    ng_server s(c, [](const value& r, const peer_info&) {
        return value::dict().set("echo", value::str(std::string(r.find_string("command").value_or(""))));
    });
    ng_client client(s.local_address().to_string());
    const std::string cookie = client.send_request(ping);
    pollfd p{s.fd(), POLLIN, 0};
    ASSERT_EQ(poll(&p, 1, 1000), 1);
    s.on_readable(std::chrono::steady_clock::now());
    auto reply = client.poll_reply(1000ms);
    ASSERT_TRUE(reply);
    EXPECT_EQ(reply->cookie, cookie);
    EXPECT_EQ(reply->body.find_string("echo"), "ping");
    EXPECT_FALSE(client.poll_reply(0ms));
}

TEST(ng_client, request_many_pipelines_against_the_server) {
    ng_server_config c;
    c.listen = "127.0.0.1:0";
    ng_server s(c, [](const value& r, const peer_info&) {
        return value::dict().set("n", value::integer(r.find("n")->as_integer() * 2));
    });
    std::atomic<bool> stop{false};
    std::thread loop([&] {
        while (!stop) {
            pollfd p{s.fd(), POLLIN, 0};
            if (poll(&p, 1, 5) > 0) {
                s.on_readable(std::chrono::steady_clock::now());
            }
        }
    });
    std::vector<value> requests;
    for (int i = 0; i < 500; ++i) {
        requests.push_back(value::dict().set("n", value::integer(i)));
    }
    ng_client client(s.local_address().to_string());
    auto replies = client.request_many(requests, 64, 500ms, 3);
    stop = true;
    loop.join();
    ASSERT_EQ(replies.size(), requests.size());
    for (size_t i = 0; i < replies.size(); ++i) {
        ASSERT_TRUE(replies[i]) << i;
        EXPECT_EQ(replies[i]->find("n")->as_integer(), static_cast<int64_t>(2 * i));
    }
}

TEST(ng_client, request_many_gives_up_on_silence) {
    fake_server srv;
    ng_client client(srv.address());
    auto replies = client.request_many({ping, ping, ping}, 2, 20ms, 1);
    ASSERT_EQ(replies.size(), 3u);
    for (const auto& r : replies) {
        EXPECT_FALSE(r);
    }
}

}  // namespace
}  // namespace rtprelay::ng
