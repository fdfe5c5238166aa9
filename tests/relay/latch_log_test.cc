// Latch events to log lines (relay/latch_log.h): the call and leg named from the local port,
// moves at info, first latches at debug, both rate limited; and the ring drained whole.

#include "relay/latch_log.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <rte_ring.h>

#include <cstring>
#include <memory>
#include <string>

#include "control/interfaces.h"
#include "control/ng/bencode.h"
#include "control/ng/commands.h"
#include "control/publish/publisher.h"
#include "control/session/manager.h"
#include "dataplane/flow_table.h"
#include "dataplane/latch.h"
#include "dataplane/local_addresses.h"
#include "dataplane/neighbour_table.h"
#include "tests/support/control_rig.h"

namespace rtprelay {
namespace {

using ng::value;

std::string sdp(const std::string& ip, uint16_t port) {
    return "v=0\r\no=- 1 1 IN IP4 " + ip + "\r\ns=-\r\nc=IN IP4 " + ip + "\r\nt=0 0\r\nm=audio " +
           std::to_string(port) + " RTP/AVP 0\r\na=sendrecv\r\n";
}

std::string sdp6(const std::string& ip, uint16_t port) {
    return "v=0\r\no=- 1 1 IN IP6 " + ip + "\r\ns=-\r\nc=IN IP6 " + ip + "\r\nt=0 0\r\nm=audio " +
           std::to_string(port) + " RTP/AVP 0\r\na=sendrecv\r\n";
}

void copy6(uint8_t* to, const char* s) { inet_pton(AF_INET6, s, to); }

uint32_t ip(const char* s) {
    in_addr a{};
    inet_pton(AF_INET, s, &a);
    return a.s_addr;
}

uint64_t ep(const char* s, uint16_t port) { return dp::pack_endpoint(ip(s), htons(port)); }

class latch_log_test : public ::testing::Test, protected test::control_rig {
 protected:
    latch_log_test() : control_rig(64, 16) {}
    void SetUp() override {
        interfaces_.add(parse_interface("a address=198.18.1.1/24,2001:2:1::1/64 dpdk-port=0 ports=30000-30009", 1));
        // IPv6 flow keys name the address by its slot in the data plane's table.
        dp::local_address la6{0, 0, 0};
        la6.v6 = true;
        copy6(la6.addr6, "2001:2:1::1");
        ASSERT_TRUE(locals_.add(la6));
        pub_->set_local_addresses(&locals_);
        start();
        saved_level_ = log::threshold();
    }
    void TearDown() override { log::threshold() = saved_level_; }
    // A call on interface a (both legs, IPv4 or with v6 IPv6); returns the caller-facing RTP port.
    uint16_t call(const std::string& id, bool v6 = false) {
        value o = value::dict();
        o.set("command", value::str("offer"));
        o.set("call-id", value::str(id));
        o.set("from-tag", value::str("caller-tag"));
        o.set("sdp", value::str(v6 ? sdp6("2001:2:1::10", 4000) : sdp("198.18.1.10", 4000)));
        EXPECT_EQ(handle(o).find_string("result").value_or(""), "ok");
        value a = value::dict();
        a.set("command", value::str("answer"));
        a.set("call-id", value::str(id));
        a.set("from-tag", value::str("caller-tag"));
        a.set("to-tag", value::str("callee-tag"));
        a.set("sdp", value::str(v6 ? sdp6("2001:2:1::20", 5000) : sdp("198.18.1.20", 5000)));
        const value ra = handle(a);
        const std::string s(ra.find_string("sdp").value_or(""));
        return static_cast<uint16_t>(std::stoi(s.substr(s.find("m=audio ") + 8)));
    }
    static dp::latch_event move(uint16_t local_port, dp::latch_kind k) {
        dp::latch_event ev;
        ev.old_src = k == dp::latch_kind::first ? 0 : ep("198.18.1.10", 4000);
        ev.new_src = ep("198.18.1.66", 45000);
        ev.local_addr = ip("198.18.1.1");
        ev.local_port = htons(local_port);
        ev.kind = static_cast<uint8_t>(k);
        return ev;
    }

    log::level saved_level_ = log::level::info;
};

TEST_F(latch_log_test, a_move_names_the_call_leg_and_both_sources) {
    const uint16_t port = call("call-1");
    latch_log l(nullptr, sessions_.get());
    const auto now = std::chrono::steady_clock::now();
    testing::internal::CaptureStderr();
    l.write(move(static_cast<uint16_t>(port + 1), dp::latch_kind::plain_move), now);  // its RTCP port
    const std::string out = testing::internal::GetCapturedStderr();
    EXPECT_NE(
        out.find("level=info msg=\"latch moved\" call-id=call-1 leg=caller-tag kind=plain_move local=198.18.1.1:" +
                 std::to_string(port + 1) + " old=198.18.1.10:4000 new=198.18.1.66:45000\n"),
        std::string::npos)
        << out;
}

TEST_F(latch_log_test, first_latches_only_at_debug_and_unknown_ports_without_a_call) {
    const uint16_t port = call("call-2");
    latch_log l(nullptr, sessions_.get());
    const auto now = std::chrono::steady_clock::now();
    testing::internal::CaptureStderr();
    l.write(move(port, dp::latch_kind::first), now);
    EXPECT_EQ(testing::internal::GetCapturedStderr(), "");
    log::threshold() = log::level::debug;
    testing::internal::CaptureStderr();
    l.write(move(port, dp::latch_kind::first), now);
    l.write(move(30008, dp::latch_kind::srtp_relatch), now);  // no call there (any more)
    const std::string out = testing::internal::GetCapturedStderr();
    EXPECT_NE(out.find("level=debug msg=latched call-id=call-2 leg=caller-tag kind=first"), std::string::npos) << out;
    EXPECT_NE(out.find("old=none new=198.18.1.66:45000"), std::string::npos) << out;
    EXPECT_NE(out.find("msg=\"latch moved\" kind=srtp_relatch local=198.18.1.1:30008"), std::string::npos) << out;
}

TEST_F(latch_log_test, a_flood_of_moves_is_rate_limited_and_counted) {
    const uint16_t port = call("call-3");
    latch_log l(nullptr, sessions_.get());
    const auto now = std::chrono::steady_clock::now();
    testing::internal::CaptureStderr();
    for (int i = 0; i < 100; ++i) {
        l.write(move(port, dp::latch_kind::plain_move), now);
    }
    l.write(move(port, dp::latch_kind::plain_move), now + std::chrono::seconds(1));
    const std::string out = testing::internal::GetCapturedStderr();
    size_t lines = 0;
    for (size_t at = out.find("latch moved"); at != std::string::npos; at = out.find("latch moved", at + 1)) {
        ++lines;
    }
    EXPECT_EQ(lines, 21u) << "a burst of 20, then one more a second later";
    EXPECT_NE(out.find("msg=\"messages suppressed\" what=\"latch moves\" count=80"), std::string::npos) << out;
}

// An IPv6 stream's words hold folds: the event's whole addresses name the call and the sources.
TEST_F(latch_log_test, an_ipv6_move_names_the_call_and_whole_addresses) {
    const uint16_t port = call("call-6", true);
    dp::latch_event ev;
    uint8_t old6[16];
    uint8_t new6[16];
    copy6(old6, "2001:2:1::10");
    copy6(new6, "2001:2:1:0:5a::66");
    ev.old_src = dp::pack_endpoint6(old6, htons(4000));
    ev.new_src = dp::pack_endpoint6(new6, htons(45000));
    std::memcpy(ev.old6, old6, 16);
    std::memcpy(ev.new6, new6, 16);
    copy6(ev.local6, "2001:2:1::1");
    ev.local_port = htons(port);
    ev.kind = static_cast<uint8_t>(dp::latch_kind::plain_move);
    latch_log l(nullptr, sessions_.get());
    testing::internal::CaptureStderr();
    l.write(ev, std::chrono::steady_clock::now());
    const std::string out = testing::internal::GetCapturedStderr();
    EXPECT_NE(out.find("msg=\"latch moved\" call-id=call-6 leg=caller-tag kind=plain_move local=[2001:2:1::1]:" +
                       std::to_string(port) + " old=[2001:2:1::10]:4000 new=[2001:2:1:0:5a::66]:45000\n"),
              std::string::npos)
        << out;
    // Not the IPv4 call's port of the same number, nor another IPv6 address's.
    EXPECT_FALSE(sessions_->owner_of(ip("198.18.1.1"), port).has_value());
    ip_address other = *ip_address::parse("2001:2:1::2");
    EXPECT_FALSE(sessions_->owner_of(other, port).has_value());
    EXPECT_TRUE(sessions_->owner_of(*ip_address::parse("2001:2:1::1"), static_cast<uint16_t>(port + 1)).has_value());
}

TEST_F(latch_log_test, drain_takes_the_whole_ring) {
    const uint16_t port = call("call-4");
    rte_ring* r = rte_ring_create_elem("ut_latch_log", sizeof(dp::latch_event), 256, 0, RING_F_SC_DEQ);
    ASSERT_NE(r, nullptr);
    for (int i = 0; i < 100; ++i) {
        dp::latch_event ev = move(port, dp::latch_kind::first);
        ASSERT_EQ(rte_ring_enqueue_elem(r, &ev, sizeof(ev)), 0);
    }
    latch_log l(r, sessions_.get());
    EXPECT_EQ(l.drain(std::chrono::steady_clock::now()), 100u);
    EXPECT_EQ(rte_ring_count(r), 0u);
    rte_ring_free(r);
}

}  // namespace
}  // namespace rtprelay
