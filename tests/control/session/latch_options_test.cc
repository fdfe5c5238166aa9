// Endpoint-learning options from config and NG down to the flow entries the workers read:
// per-interface strict-source and learn-window, the NG strict-source flag, and the learning
// window each offer/answer opens.

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <rte_cycles.h>

#include <functional>
#include <memory>
#include <stdexcept>
#include <string>

#include "control/interfaces.h"
#include "control/ng/bencode.h"
#include "control/ng/commands.h"
#include "control/publish/publisher.h"
#include "control/session/manager.h"
#include "dataplane/counters.h"
#include "dataplane/flow_table.h"
#include "dataplane/neighbour_table.h"
#include "tests/support/control_rig.h"

namespace rtprelay {
namespace {

using ng::value;

std::string sdp(const std::string& ip, uint16_t port) {
    return "v=0\r\no=- 1 1 IN IP4 " + ip + "\r\ns=-\r\nc=IN IP4 " + ip + "\r\nt=0 0\r\nm=audio " +
           std::to_string(port) + " RTP/AVP 0\r\na=sendrecv\r\n";
}

uint16_t media_port(const std::string& s) {
    const size_t at = s.find("m=audio ");
    return at == std::string::npos ? 0 : static_cast<uint16_t>(std::stoi(s.substr(at + 8)));
}

TEST(latch_options, interface_keys_parse_and_refuse_bad_values) {
    const logical_interface d = parse_interface("a address=198.18.1.1/24 dpdk-port=0", 1);
    EXPECT_FALSE(d.strict_source);
    EXPECT_EQ(d.learn_window_s, 3u);
    const logical_interface s =
        parse_interface("a address=198.18.1.1/24 dpdk-port=0 strict-source=on learn-window=10", 1);
    EXPECT_TRUE(s.strict_source);
    EXPECT_EQ(s.learn_window_s, 10u);
    EXPECT_THROW(parse_interface("a address=198.18.1.1/24 dpdk-port=0 strict-source=maybe", 1), std::invalid_argument);
    EXPECT_THROW(parse_interface("a address=198.18.1.1/24 dpdk-port=0 learn-window=-1", 1), std::invalid_argument);
    EXPECT_THROW(parse_interface("a address=198.18.1.1/24 dpdk-port=0 learn-window=99999", 1), std::invalid_argument);
}

class latch_options_test : public ::testing::Test, protected test::control_rig {
 protected:
    latch_options_test() : control_rig(256, 64) {}
    void SetUp() override {
        interfaces_.add(parse_interface("a address=198.18.1.1/24 dpdk-port=0 ports=30000-30099 learn-window=5", 1));
        interfaces_.add(parse_interface("b address=198.18.2.1/24 dpdk-port=1 ports=40000-40099 strict-source=on", 2));
        start();
    }
    // Offer from a (caller) to b, answer; returns the relay's ports (a side, b side).
    std::pair<uint16_t, uint16_t> call(const std::string& id, bool strict_flag, const char* a_if = "a",
                                       const char* b_if = "b", const char* strict_spelling = "strict-source") {
        value o = value::dict();
        o.set("command", value::str("offer"));
        o.set("call-id", value::str(id));
        o.set("from-tag", value::str("f"));
        o.set("sdp", value::str(sdp("198.18.1.10", 4000)));
        value dir = value::list();
        dir.as_list().push_back(value::str(a_if));
        dir.as_list().push_back(value::str(b_if));
        o.set("direction", dir);
        if (strict_flag) {
            value flags = value::list();
            flags.as_list().push_back(value::str(strict_spelling));
            o.set("flags", flags);
        }
        const value ro = handle(o);
        EXPECT_EQ(ro.find_string("result").value_or(""), "ok");
        EXPECT_EQ(ro.find("warning"), nullptr) << "strict-source is a known flag";
        value a = value::dict();
        a.set("command", value::str("answer"));
        a.set("call-id", value::str(id));
        a.set("from-tag", value::str("f"));
        a.set("to-tag", value::str("t"));
        a.set("sdp", value::str(sdp("198.18.2.20", 5000)));
        const value ra = handle(a);
        EXPECT_EQ(ra.find_string("result").value_or(""), "ok");
        return {media_port(std::string(ra.find_string("sdp").value_or(""))),
                media_port(std::string(ro.find_string("sdp").value_or("")))};
    }
    const dp::flow_entry* entry(const char* local_ip, uint16_t port) const {
        in_addr a{};
        inet_pton(AF_INET, local_ip, &a);
        return flows_->lookup(dp::flow_key{a.s_addr, htons(port), 0});
    }
};

TEST_F(latch_options_test, interface_strict_source_and_learn_window_reach_the_entries) {
    const uint64_t before = rte_rdtsc();
    const auto [pa, pb] = call("c1", false);
    const uint64_t after = rte_rdtsc();
    const uint64_t hz = rte_get_tsc_hz();
    ASSERT_GT(hz, 0u);
    for (uint16_t off : {0, 1}) {
        const dp::flow_entry* ea = entry("198.18.1.1", static_cast<uint16_t>(pa + off));
        const dp::flow_entry* eb = entry("198.18.2.1", static_cast<uint16_t>(pb + off));
        ASSERT_NE(ea, nullptr);
        ASSERT_NE(eb, nullptr);
        EXPECT_EQ(ea->flags & dp::flow_strict_source, 0) << "interface a is not strict";
        EXPECT_NE(eb->flags & dp::flow_strict_source, 0) << "interface b is strict";
        EXPECT_NE(ea->flags & dp::flow_learn, 0);
        // The window opened at publish time and lasts the interface's learn-window.
        EXPECT_GE(ea->learn_from_tsc, before);
        EXPECT_LE(ea->learn_from_tsc, after);
        EXPECT_EQ(ea->learn_until_tsc - ea->learn_from_tsc, 5 * hz);
        EXPECT_EQ(eb->learn_until_tsc - eb->learn_from_tsc, 3 * hz);
    }
}

TEST_F(latch_options_test, ng_strict_source_flag_makes_every_leg_strict) {
    const auto [pa, pb] = call("c2", true, "a", "a");
    for (uint16_t port : {pa, pb}) {
        const dp::flow_entry* e = entry("198.18.1.1", port);
        ASSERT_NE(e, nullptr);
        EXPECT_NE(e->flags & dp::flow_strict_source, 0) << port;
    }
    const auto [qa, qb] = call("c3", false, "a", "a");
    EXPECT_EQ(entry("198.18.1.1", qa)->flags & dp::flow_strict_source, 0);
    EXPECT_EQ(entry("198.18.1.1", qb)->flags & dp::flow_strict_source, 0);
}

// rtpengine-ng-client --strict-source sends "strict source"; rtpengine takes both spellings.
// A security option silently dropped would leave the call open to strangers.
TEST_F(latch_options_test, ng_strict_source_flag_in_every_spelling) {
    int n = 0;
    for (const char* spelling : {"strict source", "Strict Source", "STRICT-SOURCE"}) {
        SCOPED_TRACE(spelling);
        const auto [pa, pb] = call("c-spell-" + std::to_string(n++), true, "a", "a", spelling);
        for (uint16_t port : {pa, pb}) {
            const dp::flow_entry* e = entry("198.18.1.1", port);
            ASSERT_NE(e, nullptr);
            EXPECT_NE(e->flags & dp::flow_strict_source, 0) << port;
        }
    }
}

TEST_F(latch_options_test, each_offer_answer_opens_a_new_window) {
    const auto [pa, pb] = call("c4", false);
    (void)pb;
    const uint64_t first = entry("198.18.1.1", pa)->learn_from_tsc;
    rte_delay_us_block(1000);
    call("c4", false);  // a re-INVITE
    EXPECT_GT(entry("198.18.1.1", pa)->learn_from_tsc, first);
}

TEST_F(latch_options_test, ports_answered_by_forked_branches_take_every_branch) {
    const auto [pa, pb] = call("c5", false, "a", "a");
    (void)pa;
    EXPECT_EQ(entry("198.18.1.1", pb)->flags & dp::flow_any_source, 0) << "one answer: not forked";
    value a = value::dict();
    a.set("command", value::str("answer"));
    a.set("call-id", value::str("c5"));
    a.set("from-tag", value::str("f"));
    a.set("to-tag", value::str("t-branch-2"));
    a.set("sdp", value::str(sdp("198.18.2.21", 5002)));
    ASSERT_EQ(handle(a).find_string("result").value_or(""), "ok");
    const dp::flow_entry* e = entry("198.18.1.1", pb);
    ASSERT_NE(e, nullptr);
    EXPECT_NE(e->flags & dp::flow_any_source, 0) << "both branches send to the offer's port";
}

TEST_F(latch_options_test, entries_name_their_interface_and_rtcp_ports_their_rtp_port) {
    const auto [pa, pb] = call("c6", false);
    const dp::flow_entry* a_rtp = entry("198.18.1.1", pa);
    const dp::flow_entry* a_rtcp = entry("198.18.1.1", static_cast<uint16_t>(pa + 1));
    const dp::flow_entry* b_rtp = entry("198.18.2.1", pb);
    ASSERT_NE(a_rtp, nullptr);
    ASSERT_NE(a_rtcp, nullptr);
    ASSERT_NE(b_rtp, nullptr);
    EXPECT_EQ(a_rtp->iface, 0u);
    EXPECT_EQ(b_rtp->iface, 1u);
    EXPECT_EQ(a_rtp->rtp_of_leg, nullptr);
    EXPECT_EQ(a_rtcp->rtp_of_leg, a_rtp->self) << "the RTCP port reads its own leg's RTP latch";
    EXPECT_EQ(a_rtp->flags & dp::flow_opaque, 0) << "RTP/AVP is RTP";
}

TEST_F(latch_options_test, a_local_port_names_its_call_and_leg) {
    const auto [pa, pb] = call("c7", false);
    in_addr a{};
    inet_pton(AF_INET, "198.18.1.1", &a);
    in_addr b{};
    inet_pton(AF_INET, "198.18.2.1", &b);
    for (uint16_t off : {0, 1}) {
        const auto oa = sessions_->owner_of(a.s_addr, static_cast<uint16_t>(pa + off));
        ASSERT_TRUE(oa.has_value()) << off;
        EXPECT_EQ(oa->call_id, "c7");
        EXPECT_EQ(oa->tag, "f");
        const auto ob = sessions_->owner_of(b.s_addr, static_cast<uint16_t>(pb + off));
        ASSERT_TRUE(ob.has_value()) << off;
        EXPECT_EQ(ob->tag, "t");
    }
    EXPECT_FALSE(sessions_->owner_of(a.s_addr, static_cast<uint16_t>(pa + 2)).has_value());
    EXPECT_FALSE(sessions_->owner_of(b.s_addr, pa).has_value()) << "the port on the other address";
    value d = value::dict();
    d.set("command", value::str("delete"));
    d.set("call-id", value::str("c7"));
    ASSERT_EQ(handle(d).find_string("result").value_or(""), "ok");
    EXPECT_FALSE(sessions_->owner_of(a.s_addr, pa).has_value()) << "released with the call";
}

TEST(latch_options, at_most_counted_interfaces_interfaces) {
    interface_set set;
    for (uint16_t i = 0; i < dp::counted_interfaces; ++i) {
        set.add(
            parse_interface("i" + std::to_string(i) + " address=198.18." + std::to_string(i) + ".1/24 dpdk-port=0", i));
    }
    EXPECT_THROW(set.add(parse_interface("one-more address=198.19.0.1/24 dpdk-port=0", 99)), std::invalid_argument);
}

}  // namespace
}  // namespace rtprelay
