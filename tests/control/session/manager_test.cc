// Sessions through the NG front door: every request is bencoded and decoded as it would
// arrive from Kamailio, dispatched by ng::commands to session_manager, which allocates
// ports and publishes flows into a real flow table (EAL up, no data plane running).

#include "control/session/manager.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "control/interfaces.h"
#include "control/ng/bencode.h"
#include "control/ng/commands.h"
#include "control/ng/server.h"
#include "control/publish/publisher.h"
#include "dataplane/flow_table.h"
#include "dataplane/neighbour_table.h"
#include "tests/support/control_rig.h"

namespace rtprelay {
namespace {

using ng::value;

struct media_line {
    std::string type;
    uint16_t port;
};

// An SDP as a phone sends it: origin and connection on `ip`, a=rtcp naming port+1.
std::string sdp_text(const std::string& origin_ip, const std::string& conn_ip, const std::vector<media_line>& medias,
                     const std::vector<uint16_t>& rtcp_ports = {}) {
    std::string s = "v=0\r\no=- 4711 1 IN IP4 " + origin_ip + "\r\ns=call\r\nc=IN IP4 " + conn_ip + "\r\nt=0 0\r\n";
    for (size_t i = 0; i < medias.size(); ++i) {
        const media_line& m = medias[i];
        s += "m=" + m.type + " " + std::to_string(m.port) + " RTP/AVP 0 8 101\r\n";
        s += "a=rtpmap:101 telephone-event/8000\r\n";
        const uint16_t rtcp = i < rtcp_ports.size() ? rtcp_ports[i] : static_cast<uint16_t>(m.port + 1);
        if (m.port != 0) {
            s += "a=rtcp:" + std::to_string(rtcp) + "\r\n";
        }
        s += "a=sendrecv\r\n";
    }
    return s;
}

const std::string caller_ip = "198.51.100.10";
const std::string callee_ip = "203.0.113.20";

std::string caller_sdp(uint16_t port = 4000) { return sdp_text(caller_ip, caller_ip, {{"audio", port}}); }
std::string callee_sdp(uint16_t port = 5000) { return sdp_text(callee_ip, callee_ip, {{"audio", port}}); }

// The value after `prefix` on every line that starts with it.
std::vector<std::string> line_values(const std::string& sdp, const std::string& prefix) {
    std::vector<std::string> out;
    size_t at = 0;
    while ((at = sdp.find("\n" + prefix, at)) != std::string::npos) {
        at += 1 + prefix.size();
        out.push_back(sdp.substr(at, sdp.find_first_of(" \r\n", at) - at));
    }
    return out;
}
// The port of every m= line, in order.
std::vector<uint16_t> media_ports(const std::string& sdp) {
    std::vector<uint16_t> out;
    size_t at = 0;
    while ((at = sdp.find("\nm=", at)) != std::string::npos) {
        at = sdp.find(' ', at) + 1;
        out.push_back(static_cast<uint16_t>(std::stoi(sdp.substr(at))));
    }
    return out;
}
std::vector<uint16_t> rtcp_ports(const std::string& sdp) {
    std::vector<uint16_t> out;
    for (const auto& v : line_values(sdp, "a=rtcp:")) {
        out.push_back(static_cast<uint16_t>(std::stoi(v)));
    }
    return out;
}
std::string connection(const std::string& sdp) {
    const auto v = line_values(sdp, "c=IN IP4 ");
    return v.empty() ? std::string() : v.front();
}

class session_test : public ::testing::Test, protected test::control_rig {
 protected:
    void SetUp() override {
        interfaces_.add(parse_interface("a address=198.18.1.1/24 dpdk-port=0 ports=30000-30099", 11));
        interfaces_.add(parse_interface("b address=198.18.2.1/24 dpdk-port=1 ports=40000-40099", 12));
        interfaces_.add(parse_interface("tiny address=198.18.3.1/24 dpdk-port=0 ports=20000-20003", 13));
        start();
    }

    static value request(std::initializer_list<std::pair<const char*, value>> items) {
        value v = value::dict();
        for (const auto& [k, item] : items) {
            v.set(k, item);
        }
        return v;
    }
    static value strings(std::initializer_list<const char*> items) {
        value l = value::list();
        for (const char* s : items) {
            l.as_list().push_back(value::str(s));
        }
        return l;
    }

    value offer(const std::string& call_id, const std::string& sdp, std::optional<value> direction = std::nullopt,
                const std::string& from_tag = "from1") {
        value r = request({{"command", value::str("offer")},
                           {"call-id", value::str(call_id)},
                           {"from-tag", value::str(from_tag)},
                           {"sdp", value::str(sdp)}});
        if (direction) {
            r.set("direction", *direction);
        }
        return handle(r);
    }
    value answer(const std::string& call_id, const std::string& sdp, const std::string& to_tag = "to1",
                 const std::string& from_tag = "from1") {
        return handle(request({{"command", value::str("answer")},
                               {"call-id", value::str(call_id)},
                               {"from-tag", value::str(from_tag)},
                               {"to-tag", value::str(to_tag)},
                               {"sdp", value::str(sdp)}}));
    }
    value command(const std::string& name, const std::string& call_id) {
        return handle(request({{"command", value::str(name)}, {"call-id", value::str(call_id)}}));
    }

    static std::string result(const value& v) {
        const auto r = v.find_string("result");
        return r ? std::string(*r) : std::string("<none>");
    }
    static std::string reason(const value& v) {
        const auto r = v.find_string("error-reason");
        return r ? std::string(*r) : std::string();
    }
    static std::string sdp_of(const value& v) {
        const auto r = v.find_string("sdp");
        return r ? std::string(*r) : std::string();
    }

    port_pool& pool(const char* iface) { return *interfaces_.find(iface)->addresses.front().pool; }
    // Free port pairs of every interface, to compare before and after a request.
    std::vector<size_t> free_counts() {
        std::vector<size_t> out;
        for (const auto& i : interfaces_.all()) {
            out.push_back(i.addresses.front().pool->free());
        }
        return out;
    }
};

// rx-desc / tx-desc: the DPDK port's ring sizes, 0 (unset) meaning the plane's default.
TEST(interface_config, ring_sizes_parse_and_refuse_bad_values) {
    const logical_interface d = parse_interface("a address=198.18.1.1/24 dpdk-port=0", 1);
    EXPECT_EQ(d.rx_desc, 0);
    EXPECT_EQ(d.tx_desc, 0);
    const logical_interface s = parse_interface("a address=198.18.1.1/24 dpdk-port=0 rx-desc=8192 tx-desc=512", 1);
    EXPECT_EQ(s.rx_desc, 8192);
    EXPECT_EQ(s.tx_desc, 512);
    for (const char* bad : {"rx-desc=0", "rx-desc=63", "tx-desc=32769", "rx-desc=-1", "tx-desc=4k", "rx-desc="}) {
        EXPECT_THROW(parse_interface(std::string("a address=198.18.1.1/24 dpdk-port=0 ") + bad, 1),
                     std::invalid_argument)
            << bad;
    }
}

TEST_F(session_test, ping_is_answered_with_pong) {
    std::string err;
    const auto req = ng::decode("d7:command4:pinge", &err);
    ASSERT_TRUE(req.has_value()) << err;
    EXPECT_EQ(ng::encode(commands_->handle(*req, std::chrono::steady_clock::now())), "d6:result4:ponge");
}

TEST_F(session_test, offer_and_answer_point_each_side_at_the_relay) {
    const value o = offer("call-1", caller_sdp(), strings({"a", "b"}));
    ASSERT_EQ(result(o), "ok") << reason(o);
    const std::string to_callee = sdp_of(o);
    // The callee is on interface b: it is told to send to b's address and port.
    ASSERT_EQ(media_ports(to_callee).size(), 1u);
    const uint16_t b_port = media_ports(to_callee)[0];
    EXPECT_GE(b_port, 40000);
    EXPECT_LE(b_port, 40098);
    EXPECT_EQ(b_port % 2, 0);
    // Byte for byte: only c=, the m= port and a=rtcp change.
    EXPECT_EQ(to_callee, sdp_text(caller_ip, "198.18.2.1", {{"audio", b_port}}));
    EXPECT_EQ(rtcp_ports(to_callee), std::vector<uint16_t>{static_cast<uint16_t>(b_port + 1)});

    const value a = answer("call-1", callee_sdp());
    ASSERT_EQ(result(a), "ok") << reason(a);
    const std::string to_caller = sdp_of(a);
    const uint16_t a_port = media_ports(to_caller).at(0);
    EXPECT_GE(a_port, 30000);
    EXPECT_LE(a_port, 30098);
    EXPECT_EQ(a_port % 2, 0);
    EXPECT_EQ(to_caller, sdp_text(callee_ip, "198.18.1.1", {{"audio", a_port}}));
    EXPECT_EQ(rtcp_ports(to_caller), std::vector<uint16_t>{static_cast<uint16_t>(a_port + 1)});

    EXPECT_EQ(pool("a").used(), 1u);
    EXPECT_EQ(pool("b").used(), 1u);
    EXPECT_EQ(flows_after_grace(), 4u);  // RTP and RTCP, both directions
    EXPECT_EQ(sessions_->size(), 1u);
}

TEST_F(session_test, without_direction_both_legs_use_the_first_interface) {
    const value o = offer("call-1", caller_sdp());
    ASSERT_EQ(result(o), "ok") << reason(o);
    EXPECT_EQ(connection(sdp_of(o)), "198.18.1.1");
    const value a = answer("call-1", callee_sdp());
    EXPECT_EQ(connection(sdp_of(a)), "198.18.1.1");
    EXPECT_NE(media_ports(sdp_of(o)).at(0), media_ports(sdp_of(a)).at(0));
    EXPECT_EQ(pool("a").used(), 2u);
    EXPECT_EQ(pool("b").used(), 0u);
}

TEST_F(session_test, direction_picks_the_interfaces) {
    const value o = offer("call-1", caller_sdp(), strings({"b", "a"}));
    ASSERT_EQ(result(o), "ok") << reason(o);
    EXPECT_EQ(connection(sdp_of(o)), "198.18.1.1");  // callee on a
    const value a = answer("call-1", callee_sdp());
    EXPECT_EQ(connection(sdp_of(a)), "198.18.2.1");  // caller on b
    EXPECT_GE(media_ports(sdp_of(a)).at(0), 40000);
}

TEST_F(session_test, unknown_interface_is_an_error_and_leaks_nothing) {
    const auto before = free_counts();
    const value o = offer("call-1", caller_sdp(), strings({"a", "nowhere"}));
    EXPECT_EQ(result(o), "error");
    EXPECT_EQ(reason(o), "Unknown interface 'nowhere'");
    EXPECT_EQ(free_counts(), before);
    EXPECT_EQ(sessions_->size(), 0u);
    EXPECT_EQ(flows_after_grace(), 0u);
    EXPECT_EQ(reason(offer("call-2", caller_sdp(), strings({"nowhere", "a"}))), "Unknown interface 'nowhere'");
    EXPECT_EQ(free_counts(), before);
}

TEST_F(session_test, delete_returns_ports_and_flows) {
    const auto before = free_counts();
    ASSERT_EQ(result(offer("call-1", caller_sdp(), strings({"a", "b"}))), "ok");
    ASSERT_EQ(result(answer("call-1", callee_sdp())), "ok");
    EXPECT_EQ(pool("a").free(), pool("a").total() - 1);
    EXPECT_EQ(pool("b").free(), pool("b").total() - 1);

    const value d = command("delete", "call-1");
    EXPECT_EQ(result(d), "ok") << reason(d);
    EXPECT_NE(d.find("totals"), nullptr) << "delete returns the final stats";
    EXPECT_EQ(free_counts(), before);
    EXPECT_EQ(sessions_->size(), 0u);
    EXPECT_EQ(flows_after_grace(), 0u);

    const value again = command("delete", "call-1");
    EXPECT_EQ(result(again), "error");
    EXPECT_EQ(reason(again), "Unknown call-id");
    EXPECT_EQ(reason(command("query", "call-1")), "Unknown call-id");
}

// Kamailio's rtpengine_delete("delete-delay=5") sends the key with a string value;
// rtpengine-ng-client --delete-delay sends an integer. Either way the call stays (relaying,
// queryable) until the delay is over, then ends as deleted.
TEST_F(session_test, per_request_delete_delay_keeps_the_call_until_it_expires) {
    const auto before = free_counts();
    ASSERT_EQ(result(offer("call-1", caller_sdp(), strings({"a", "b"}))), "ok");
    ASSERT_EQ(result(answer("call-1", callee_sdp())), "ok");
    const auto t0 = std::chrono::steady_clock::now();
    const value d = handle(request(
        {{"command", value::str("delete")}, {"call-id", value::str("call-1")}, {"delete-delay", value::str("5")}}));
    ASSERT_EQ(result(d), "ok") << reason(d);
    EXPECT_EQ(d.find("warning"), nullptr);
    EXPECT_EQ(sessions_->size(), 1u);
    EXPECT_EQ(result(command("query", "call-1")), "ok") << "queryable during the delay";
    EXPECT_EQ(sessions_->expire(t0 + std::chrono::seconds(4), 0, 1), 0u);
    EXPECT_EQ(result(command("query", "call-1")), "ok");
    // A second delete may not put the end later.
    ASSERT_EQ(result(handle(request({{"command", value::str("delete")},
                                     {"call-id", value::str("call-1")},
                                     {"delete delay", value::integer(600)}}))),
              "ok");
    EXPECT_EQ(sessions_->expire(t0 + std::chrono::seconds(6), 0, 1), 1u);
    EXPECT_EQ(sessions_->size(), 0u);
    EXPECT_EQ(reason(command("query", "call-1")), "Unknown call-id");
    EXPECT_EQ(free_counts(), before);
    EXPECT_EQ(flows_after_grace(), 0u);
    EXPECT_EQ(sessions_->totals().closed[static_cast<size_t>(close_reason::deleted)], 1u);

    // "delete delay" (rtpengine's documented spelling), then a delete with 0 ends it at once.
    ASSERT_EQ(result(offer("call-2", caller_sdp())), "ok");
    ASSERT_EQ(result(handle(request({{"command", value::str("delete")},
                                     {"call-id", value::str("call-2")},
                                     {"delete delay", value::integer(30)}}))),
              "ok");
    EXPECT_EQ(sessions_->size(), 1u);
    ASSERT_EQ(result(handle(request({{"command", value::str("delete")},
                                     {"call-id", value::str("call-2")},
                                     {"delete-delay", value::integer(0)}}))),
              "ok");
    EXPECT_EQ(sessions_->size(), 0u);
}

TEST_F(session_test, unusable_delete_delays_still_delete_with_a_warning) {
    ASSERT_EQ(result(offer("call-1", caller_sdp())), "ok");
    const value bad = handle(request(
        {{"command", value::str("delete")}, {"call-id", value::str("call-1")}, {"delete-delay", value::str("soon")}}));
    ASSERT_EQ(result(bad), "ok");
    EXPECT_EQ(bad.find_string("warning"),
              "delete-delay 'soon' is not a number of seconds: the configured delay applies");
    EXPECT_EQ(sessions_->size(), 0u) << "configured delay: 0";

    ASSERT_EQ(result(offer("call-2", caller_sdp())), "ok");
    const value negative = handle(request(
        {{"command", value::str("delete")}, {"call-id", value::str("call-2")}, {"delete-delay", value::integer(-4)}}));
    ASSERT_EQ(result(negative), "ok");
    EXPECT_NE(negative.find_string("warning").value_or("").find("'-4' is not a number of seconds"),
              std::string_view::npos);
    EXPECT_EQ(sessions_->size(), 0u);

    ASSERT_EQ(result(offer("call-3", caller_sdp())), "ok");
    const auto t0 = std::chrono::steady_clock::now();
    const value huge = handle(request({{"command", value::str("delete")},
                                       {"call-id", value::str("call-3")},
                                       {"delete-delay", value::integer(999999)}}));
    ASSERT_EQ(result(huge), "ok");
    EXPECT_EQ(huge.find_string("warning"), "delete-delay 999999 is above 3600 s: 3600 s applies");
    EXPECT_EQ(sessions_->expire(t0 + std::chrono::seconds(3599), 0, 1), 0u);
    EXPECT_EQ(sessions_->expire(t0 + std::chrono::seconds(3601), 0, 1), 1u);
}

TEST_F(session_test, query_reports_totals_and_streams_per_tag) {
    const value o = offer("call-1", caller_sdp(), strings({"a", "b"}));
    const value a = answer("call-1", callee_sdp());
    const uint16_t b_port = media_ports(sdp_of(o)).at(0);
    const uint16_t a_port = media_ports(sdp_of(a)).at(0);

    const value q = command("query", "call-1");
    ASSERT_EQ(result(q), "ok") << reason(q);
    ASSERT_NE(q.find("created"), nullptr);
    EXPECT_GT(q.find("created")->as_integer(), 1600000000);
    for (const char* kind : {"RTP", "RTCP"}) {
        SCOPED_TRACE(kind);
        const value* t = q.find("totals") ? q.find("totals")->find(kind) : nullptr;
        ASSERT_NE(t, nullptr);
        for (const char* counter : {"packets", "bytes", "errors"}) {
            ASSERT_NE(t->find(counter), nullptr) << counter;
            EXPECT_TRUE(t->find(counter)->is_integer());
            EXPECT_EQ(t->find(counter)->as_integer(), 0);
        }
    }

    const value* tags = q.find("tags");
    ASSERT_NE(tags, nullptr);
    EXPECT_EQ(tags->as_dict().size(), 2u);
    struct expect_leg {
        const char* tag;
        const char* peer_tag;
        const char* iface;
        const char* local;
        uint16_t port;
        const std::string& peer_ip;
        uint16_t peer_port;
    };
    for (const expect_leg& e : {expect_leg{"from1", "to1", "a", "198.18.1.1", a_port, caller_ip, 4000},
                                expect_leg{"to1", "from1", "b", "198.18.2.1", b_port, callee_ip, 5000}}) {
        SCOPED_TRACE(e.tag);
        const value* t = tags->find(e.tag);
        ASSERT_NE(t, nullptr);
        EXPECT_EQ(t->find_string("tag"), e.tag);
        EXPECT_EQ(t->find_string("interface"), e.iface);
        EXPECT_EQ(t->find_string("in dialogue with"), e.peer_tag);
        const value* medias = t->find("medias");
        ASSERT_NE(medias, nullptr);
        ASSERT_EQ(medias->as_list().size(), 1u);
        const value& m = medias->as_list()[0];
        EXPECT_EQ(m.find("index")->as_integer(), 1);
        EXPECT_EQ(m.find_string("type"), "audio");
        EXPECT_EQ(m.find_string("protocol"), "RTP/AVP");
        const value* streams = m.find("streams");
        ASSERT_NE(streams, nullptr);
        ASSERT_EQ(streams->as_list().size(), 2u);  // RTP, RTCP
        for (size_t i = 0; i < 2; ++i) {
            const value& s = streams->as_list()[i];
            EXPECT_EQ(s.find("local port")->as_integer(), e.port + static_cast<int>(i));
            EXPECT_EQ(s.find_string("local address"), e.local);
            const value* adv = s.find("advertised endpoint");
            ASSERT_NE(adv, nullptr);
            EXPECT_EQ(adv->find_string("address"), e.peer_ip);
            EXPECT_EQ(adv->find("port")->as_integer(), e.peer_port + static_cast<int>(i));
            EXPECT_EQ(s.find("stats")->find("packets")->as_integer(), 0);
        }
    }
}

TEST_F(session_test, port_exhaustion_fails_cleanly) {
    port_pool& tiny = pool("tiny");
    ASSERT_EQ(tiny.total(), 2u);  // 20000/20001 and 20002/20003
    // Two m= lines need four pairs: the offer fails part-way and must give back the two
    // it already took.
    const value o =
        offer("call-1", sdp_text(caller_ip, caller_ip, {{"audio", 4000}, {"video", 4002}}), strings({"tiny", "tiny"}));
    EXPECT_EQ(result(o), "error");
    EXPECT_EQ(reason(o), "Ran out of ports");
    EXPECT_EQ(tiny.free(), 2u);
    EXPECT_EQ(sessions_->size(), 0u);
    EXPECT_EQ(flows_after_grace(), 0u);

    // The pool still works: one stream fits exactly.
    const value ok = offer("call-2", caller_sdp(), strings({"tiny", "tiny"}));
    ASSERT_EQ(result(ok), "ok") << reason(ok);
    EXPECT_EQ(tiny.free(), 0u);
    const uint16_t p = media_ports(sdp_of(ok)).at(0);
    EXPECT_TRUE(p == 20000 || p == 20002) << p;

    EXPECT_EQ(reason(offer("call-3", caller_sdp(), strings({"tiny", "tiny"}))), "Ran out of ports");
    EXPECT_EQ(reason(command("query", "call-3")), "Unknown call-id");

    const value stats = handle(request({{"command", value::str("statistics")}}));
    ASSERT_EQ(result(stats), "ok");
    EXPECT_EQ(stats.find("statistics")->find("refused ports")->as_integer(), 2);

    ASSERT_EQ(result(command("delete", "call-2")), "ok");
    EXPECT_EQ(tiny.free(), 2u);
}

TEST_F(session_test, port_zero_media_allocates_nothing) {
    const value o =
        offer("call-1", sdp_text(caller_ip, caller_ip, {{"audio", 4000}, {"video", 0}}), strings({"a", "b"}));
    ASSERT_EQ(result(o), "ok") << reason(o);
    EXPECT_EQ(pool("a").used(), 1u);
    EXPECT_EQ(pool("b").used(), 1u);
    const auto ports = media_ports(sdp_of(o));
    ASSERT_EQ(ports.size(), 2u);
    EXPECT_GE(ports[0], 40000);
    EXPECT_EQ(ports[1], 0);  // stays disabled
    EXPECT_NE(sdp_of(o).find("m=video 0 RTP/AVP 0 8 101\r\n"), std::string::npos);
    EXPECT_EQ(flows_after_grace(), 4u);

    const value only_zero = offer("call-2", sdp_text(caller_ip, caller_ip, {{"audio", 0}}), strings({"a", "b"}));
    ASSERT_EQ(result(only_zero), "ok") << reason(only_zero);
    EXPECT_EQ(pool("a").used(), 1u);
    EXPECT_EQ(pool("b").used(), 1u);
    EXPECT_EQ(media_ports(sdp_of(only_zero)), std::vector<uint16_t>{0});
    EXPECT_EQ(flows_after_grace(), 4u);
}

TEST_F(session_test, disabled_streams_leak_neither_keys_nor_addresses) {
    // A port-0 SRTP stream still carries the offerer's key; it must not reach the far side.
    const std::string key = "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNk";
    const std::string with_key = "v=0\r\no=- 1 1 IN IP4 " + std::string(caller_ip) + "\r\ns=-\r\nc=IN IP4 " +
                                 std::string(caller_ip) +
                                 "\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\nm=video 0 RTP/SAVP 96\r\n"
                                 "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" +
                                 key + "\r\n";
    const value o = offer("call-k", with_key, strings({"a", "b"}));
    ASSERT_EQ(result(o), "ok") << reason(o);
    EXPECT_EQ(sdp_of(o).find(key), std::string::npos) << sdp_of(o);
    EXPECT_NE(sdp_of(o).find("m=video 0 RTP/SAVP 96"), std::string::npos);

    // Every stream disabled: the session c= shows the relay, not the offerer.
    const value z = offer("call-z", sdp_text(caller_ip, caller_ip, {{"audio", 0}}), strings({"a", "b"}));
    ASSERT_EQ(result(z), "ok") << reason(z);
    EXPECT_EQ(sdp_of(z).find(std::string("c=IN IP4 ") + caller_ip), std::string::npos) << sdp_of(z);
}

TEST_F(session_test, keys_outside_rtp_streams_are_stripped_and_counted) {
    // a=crypto lines no SDES step owns: at session level, and in a T.38 (udptl) stream.
    // Neither may reach the other leg; each is counted.
    const std::string k1 = "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNk";
    const std::string k2 = "MDEyMzQ1Njc4OWFiY2RlZmdoaWprbG1ub3BxcnN0";
    const std::string k3 = "enl4d3Z1dHNycXBvbm1sa2ppaGdmZWRjYmE5ODc2";
    const std::string head =
        "v=0\r\no=- 1 1 IN IP4 " + caller_ip + "\r\ns=-\r\nc=IN IP4 " + caller_ip + "\r\nt=0 0\r\n";
    const std::string offer_sdp = head + "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" + k1 +
                                  "\r\nm=audio 4000 RTP/AVP 0\r\nm=image 4002 udptl t38\r\n"
                                  "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" +
                                  k2 + "\r\n";
    const value o = offer("call-k", offer_sdp, strings({"a", "b"}));
    ASSERT_EQ(result(o), "ok") << reason(o);
    EXPECT_EQ(sdp_of(o).find("a=crypto"), std::string::npos) << sdp_of(o);
    EXPECT_NE(sdp_of(o).find(" udptl t38\r\n"), std::string::npos) << sdp_of(o);

    // The answerer puts a key into its T.38 answer: it does not reach the offerer either.
    const std::string answer_sdp = "v=0\r\no=- 2 1 IN IP4 " + callee_ip + "\r\ns=-\r\nc=IN IP4 " + callee_ip +
                                   "\r\nt=0 0\r\nm=audio 5000 RTP/AVP 0\r\nm=image 5002 udptl t38\r\n"
                                   "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" +
                                   k3 + "\r\n";
    const value a = answer("call-k", answer_sdp);
    ASSERT_EQ(result(a), "ok") << reason(a);
    EXPECT_EQ(sdp_of(a).find("a=crypto"), std::string::npos) << sdp_of(a);
    EXPECT_EQ(sdp_of(a).find(k3), std::string::npos) << sdp_of(a);
    EXPECT_NE(sdp_of(a).find(" udptl t38\r\n"), std::string::npos) << sdp_of(a);

    EXPECT_EQ(sessions_->totals().crypto_lines_stripped, 3u);
    const value stats = handle(request({{"command", value::str("statistics")}}));
    ASSERT_NE(stats.find("statistics"), nullptr);
    ASSERT_NE(stats.find("statistics")->find("crypto lines stripped"), nullptr);
    EXPECT_EQ(stats.find("statistics")->find("crypto lines stripped")->as_integer(), 3);
}

TEST_F(session_test, answer_proto_must_be_rtp_where_the_offer_was) {
    // An answer that puts a proto that is not RTP (and formats that are no payload types)
    // where the offer had RTP/AVP is refused, and so is the reverse; the call is unchanged.
    ASSERT_EQ(result(offer("call-p", caller_sdp(), strings({"a", "b"}))), "ok");
    const std::string head =
        "v=0\r\no=- 2 1 IN IP4 " + callee_ip + "\r\ns=-\r\nc=IN IP4 " + callee_ip + "\r\nt=0 0\r\n";
    const value bad = answer("call-p", head + "m=audio 5000 RT/VPSP A0\r\n");
    EXPECT_EQ(result(bad), "error");
    EXPECT_EQ(reason(bad), "SDP: m= line 1: answer proto RT/VPSP does not answer the offer's RTP/AVP");
    const value good = answer("call-p", callee_sdp());
    EXPECT_EQ(result(good), "ok") << reason(good);

    const std::string t38 = "v=0\r\no=- 1 1 IN IP4 " + caller_ip + "\r\ns=-\r\nc=IN IP4 " + caller_ip +
                            "\r\nt=0 0\r\nm=image 4000 udptl t38\r\n";
    ASSERT_EQ(result(offer("call-t", t38, strings({"a", "b"}))), "ok");
    const value rtp_for_t38 = answer("call-t", head +
                                                   "m=image 5000 RTP/SAVP 0\r\n"
                                                   "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:"
                                                   "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNk\r\n");
    EXPECT_EQ(result(rtp_for_t38), "error");
    EXPECT_EQ(reason(rtp_for_t38), "SDP: m= line 1: answer proto RTP/SAVP does not answer the offer's udptl");
    // A rejected stream (port 0) may say anything: nothing is relayed there.
    const value rejected = answer("call-t", head + "m=image 0 RTP/AVP 0\r\n");
    EXPECT_EQ(result(rejected), "ok") << reason(rejected);
}

TEST_F(session_test, unknown_flags_are_ignored_with_a_warning) {
    value r = request({{"command", value::str("offer")},
                       {"call-id", value::str("call-1")},
                       {"from-tag", value::str("from1")},
                       {"sdp", value::str(caller_sdp())},
                       {"flags", strings({"trust-address", "no-such-flag", "symmetric"})}});
    const value o = handle(r);
    EXPECT_EQ(result(o), "ok") << reason(o);
    const auto w = o.find_string("warning");
    ASSERT_TRUE(w.has_value());
    EXPECT_NE(w->find("no-such-flag"), std::string_view::npos) << *w;
    EXPECT_EQ(w->find("trust-address"), std::string_view::npos) << *w;
    EXPECT_EQ(w->find("symmetric"), std::string_view::npos) << *w;

    // Known flags only: no warning at all.
    r.set("call-id", value::str("call-2"));
    r.set("flags", strings({"trust-address"}));
    EXPECT_EQ(handle(r).find("warning"), nullptr);
}

TEST_F(session_test, bad_requests_get_clear_reasons_and_change_nothing) {
    const auto before = free_counts();
    const value no_sdp = handle(request(
        {{"command", value::str("offer")}, {"call-id", value::str("call-1")}, {"from-tag", value::str("from1")}}));
    EXPECT_EQ(result(no_sdp), "error");
    EXPECT_EQ(reason(no_sdp), "No SDP body");

    const value no_call_id = handle(request(
        {{"command", value::str("offer")}, {"from-tag", value::str("from1")}, {"sdp", value::str(caller_sdp())}}));
    EXPECT_EQ(result(no_call_id), "error");
    EXPECT_EQ(reason(no_call_id), "Missing call-id or from-tag");

    const value no_from_tag = handle(request(
        {{"command", value::str("offer")}, {"call-id", value::str("call-1")}, {"sdp", value::str(caller_sdp())}}));
    EXPECT_EQ(reason(no_from_tag), "Missing call-id or from-tag");

    const value garbage = offer("call-1", "this is not SDP\r\n");
    EXPECT_EQ(result(garbage), "error");
    EXPECT_EQ(reason(garbage).rfind("SDP: ", 0), 0u) << reason(garbage);
    EXPECT_GT(reason(garbage).size(), 5u);

    const value bad_port = offer("call-1",
                                 "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nc=IN IP4 1.2.3.4\r\nt=0 0\r\n"
                                 "m=audio 99999 RTP/AVP 0\r\n");
    EXPECT_EQ(result(bad_port), "error");
    EXPECT_NE(reason(bad_port).find("line 6"), std::string::npos) << reason(bad_port);

    const value ipv6 = offer("call-1",
                             "v=0\r\no=- 1 1 IN IP6 2001:db8::1\r\ns=-\r\nc=IN IP6 2001:db8::1\r\n"
                             "t=0 0\r\nm=audio 4000 RTP/AVP 0\r\n");
    EXPECT_EQ(result(ipv6), "error");
    EXPECT_EQ(reason(ipv6), "SDP: m= line 1: interface 'a' has no IPv6 address");

    EXPECT_EQ(free_counts(), before);
    EXPECT_EQ(sessions_->size(), 0u);
    EXPECT_EQ(flows_after_grace(), 0u);
}

TEST_F(session_test, answer_needs_a_matching_offer) {
    EXPECT_EQ(reason(answer("nope", callee_sdp())), "Unknown call-id");
    ASSERT_EQ(result(offer("call-1", caller_sdp(), strings({"a", "b"}))), "ok");
    EXPECT_EQ(reason(answer("call-1", callee_sdp(), "to1", "stranger")), "Unknown from-tag");
}

TEST_F(session_test, reoffer_keeps_the_same_ports) {
    const value first = offer("call-1", caller_sdp(4000), strings({"a", "b"}));
    ASSERT_EQ(result(first), "ok") << reason(first);
    const auto used = free_counts();
    // The phone moved its media port (re-INVITE before the answer): same relay ports.
    const value again = offer("call-1", caller_sdp(4010), strings({"a", "b"}));
    ASSERT_EQ(result(again), "ok") << reason(again);
    EXPECT_EQ(media_ports(sdp_of(again)), media_ports(sdp_of(first)));
    EXPECT_EQ(free_counts(), used);
    EXPECT_EQ(sessions_->size(), 1u);

    // After the answer, a re-INVITE from the caller (with the to-tag) too.
    const value a = answer("call-1", callee_sdp());
    ASSERT_EQ(result(a), "ok");
    value reinvite = request({{"command", value::str("offer")},
                              {"call-id", value::str("call-1")},
                              {"from-tag", value::str("from1")},
                              {"to-tag", value::str("to1")},
                              {"sdp", value::str(caller_sdp(4020))}});
    const value r = handle(reinvite);
    ASSERT_EQ(result(r), "ok") << reason(r);
    EXPECT_EQ(media_ports(sdp_of(r)), media_ports(sdp_of(first)));
    EXPECT_EQ(free_counts(), used);
    EXPECT_EQ(flows_after_grace(), 4u);
    // The new SDP port is what the relay now sends to.
    const value q = command("query", "call-1");
    const value& s = q.find("tags")->find("from1")->find("medias")->as_list()[0].find("streams")->as_list()[0];
    EXPECT_EQ(s.find("advertised endpoint")->find("port")->as_integer(), 4020);
}

TEST_F(session_test, refused_reoffer_and_answer_change_nothing) {
    ASSERT_EQ(result(offer("call-1", caller_sdp(4000), strings({"a", "b"}))), "ok");
    ASSERT_EQ(result(answer("call-1", callee_sdp())), "ok");
    auto advertised_port = [&](const char* tag) {
        const value q = command("query", "call-1");
        const value& st = q.find("tags")->find(tag)->find("medias")->as_list()[0].find("streams")->as_list()[0];
        return st.find("advertised endpoint")->find("port")->as_integer();
    };
    const int64_t caller_port = advertised_port("from1");
    const int64_t callee_port = advertised_port("to1");
    // A re-INVITE moving to port 4010 whose only crypto line has an MKI: refused, and media
    // keeps going to the old port.
    const std::string mki_only =
        "v=0\r\no=- 1 2 IN IP4 " + std::string(caller_ip) + "\r\ns=-\r\nc=IN IP4 " + std::string(caller_ip) +
        "\r\nt=0 0\r\nm=audio 4010 RTP/SAVP 0\r\n"
        "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNk|2^20|1:4\r\n";
    value reinvite = request({{"command", value::str("offer")},
                              {"call-id", value::str("call-1")},
                              {"from-tag", value::str("from1")},
                              {"to-tag", value::str("to1")},
                              {"sdp", value::str(mki_only)}});
    const value r = handle(reinvite);
    EXPECT_EQ(result(r), "error");
    EXPECT_EQ(advertised_port("from1"), caller_port);
    // An answer the relay refuses (garbage SDP would fail before; use a bad crypto answer
    // to a plain offer's re-offer with SAVP) leaves the callee's view alone too.
    const value bad_answer = answer("call-1", "v=0\r\nthis is not SDP\r\n");
    EXPECT_EQ(result(bad_answer), "error");
    EXPECT_EQ(advertised_port("to1"), callee_port);
}

TEST_F(session_test, list_names_open_calls) {
    ASSERT_EQ(result(offer("call-1", caller_sdp())), "ok");
    ASSERT_EQ(result(offer("call-2", caller_sdp())), "ok");
    const value l = handle(request({{"command", value::str("list")}}));
    ASSERT_EQ(result(l), "ok");
    const value* calls = l.find("calls");
    ASSERT_NE(calls, nullptr);
    ASSERT_EQ(calls->as_list().size(), 2u);
    EXPECT_EQ(calls->as_list()[0].as_string(), "call-1");
    EXPECT_EQ(calls->as_list()[1].as_string(), "call-2");
}

// A walk a few calls per step (the group's SRTP scan, control/ha/group.cc): calls opened
// or closed between steps, the one the walk stopped at included, neither repeat nor skip a
// call that is there throughout; a call opened before the walk's place waits for the next.
TEST_F(session_test, a_walk_a_few_calls_per_step_visits_each_call_once) {
    for (const char* id : {"call-1", "call-2", "call-4", "call-5", "call-6", "call-7"}) {
        ASSERT_EQ(result(offer(id, caller_sdp())), "ok") << id;
    }
    std::vector<std::string> seen;
    std::string after;
    auto step = [&] {
        const call* last = nullptr;
        const size_t n = sessions_->for_each_call_after(after, 2, [&](call& c) {
            seen.push_back(c.call_id);
            last = &c;
        });
        if (last != nullptr) {
            after = last->call_id;
        }
        return n;
    };
    EXPECT_EQ(step(), 2u);                                   // call-1, call-2
    ASSERT_EQ(result(command("delete", "call-2")), "ok");    // where the walk stands
    ASSERT_EQ(result(command("delete", "call-5")), "ok");    // not visited yet
    ASSERT_EQ(result(offer("call-0", caller_sdp())), "ok");  // behind the walk
    ASSERT_EQ(result(offer("call-3", caller_sdp())), "ok");  // ahead of it
    EXPECT_EQ(step(), 2u);                                   // call-3, call-4
    ASSERT_EQ(result(offer("call-8", caller_sdp())), "ok");
    EXPECT_EQ(step(), 2u);  // call-6, call-7
    EXPECT_EQ(step(), 1u);  // call-8: fewer than asked, the walk is done
    EXPECT_EQ(step(), 0u);
    EXPECT_EQ(seen, (std::vector<std::string>{"call-1", "call-2", "call-3", "call-4", "call-6", "call-7", "call-8"}));
    after.clear();  // a new walk starts from the first call
    seen.clear();
    EXPECT_EQ(step(), 2u);
    EXPECT_EQ(seen, (std::vector<std::string>{"call-0", "call-1"}));
}

TEST_F(session_test, malformed_requests) {
    EXPECT_EQ(reason(commands_->handle(value::list(), std::chrono::steady_clock::now())),
              "Request is not a dictionary");
    EXPECT_EQ(reason(handle(request({{"call-id", value::str("x")}}))), "No command given");
    EXPECT_EQ(reason(handle(request({{"command", value::str("frobnicate")}}))), "Unrecognized command");
    // All three count as errors of `other` (no command rtprelay has), nothing else moved.
    const auto& counts = commands_->results();
    EXPECT_EQ(counts[static_cast<size_t>(ng::command::other)][static_cast<size_t>(ng::result::error)], 3u);
    uint64_t total = 0;
    for (const auto& row : counts) {
        for (uint64_t n : row) {
            total += n;
        }
    }
    EXPECT_EQ(total, 3u);
}

// Late offer (INVITE without SDP): Kamailio sends the offer from the 200 OK and the answer
// from the ACK, so the offer's from-tag is the callee's and the answer's to-tag the caller's.
TEST_F(session_test, late_offer_swaps_the_tags) {
    const value o = offer("call-1", callee_sdp(), strings({"b", "a"}), "callee-tag");
    ASSERT_EQ(result(o), "ok") << reason(o);
    EXPECT_EQ(connection(sdp_of(o)), "198.18.1.1");  // to the caller, on a
    const value a = answer("call-1", caller_sdp(), "caller-tag", "callee-tag");
    ASSERT_EQ(result(a), "ok") << reason(a);
    EXPECT_EQ(connection(sdp_of(a)), "198.18.2.1");  // to the callee, on b
    const value q = command("query", "call-1");
    const value* tags = q.find("tags");
    ASSERT_NE(tags, nullptr);
    ASSERT_EQ(tags->as_dict().size(), 2u);
    EXPECT_EQ(tags->find("callee-tag")->find_string("interface"), "b");
    EXPECT_EQ(tags->find("caller-tag")->find_string("interface"), "a");
    EXPECT_EQ(tags->find("caller-tag")->find_string("in dialogue with"), "callee-tag");
    // The 200 OK retransmitted: the same offer again, the same ports.
    const value again = offer("call-1", callee_sdp(), strings({"b", "a"}), "callee-tag");
    EXPECT_EQ(media_ports(sdp_of(again)), media_ports(sdp_of(o)));
    EXPECT_EQ(pool("a").used(), 1u);
    EXPECT_EQ(pool("b").used(), 1u);
    EXPECT_EQ(flows_after_grace(), 4u);
}

// The flow a worker uses for packets arriving on `port` of `addr`.
const dp::flow_entry* entry_at(const dp::flow_table& flows, const char* addr, uint16_t port) {
    dp::flow_key k;
    k.local_addr = ip_address::parse(addr)->v4_be();
    k.local_port = htons(port);
    return flows.lookup(k);
}

int64_t advertised(const value& q, const char* tag) {
    const value* t = q.find("tags")->find(tag);
    const value& streams = *t->find("medias")->as_list().at(0).find("streams");
    if (streams.as_list().empty()) {
        return -1;  // a parked branch: no ports of its own
    }
    return streams.as_list()[0].find("advertised endpoint")->find("port")->as_integer();
}

// Forking downstream of Kamailio: one offer, answers (183s, then a 200) from two branches
// with their own to-tags. Every branch got the same SDP, so they share the offer's ports on
// b; each answer makes its branch the active one, the others are parked with their SDP.
TEST_F(session_test, forked_answers_get_a_leg_each) {
    const value o = offer("call-1", caller_sdp(), strings({"a", "b"}));
    ASSERT_EQ(result(o), "ok") << reason(o);
    const uint16_t b_port = media_ports(sdp_of(o)).at(0);
    const value a1 = answer("call-1", callee_sdp(5000), "branch1");
    ASSERT_EQ(result(a1), "ok") << reason(a1);
    const uint16_t a_port = media_ports(sdp_of(a1)).at(0);
    const dp::flow_entry* e = entry_at(*flows_, "198.18.1.1", a_port);
    ASSERT_NE(e, nullptr);
    EXPECT_NE(e->sibling, nullptr) << "one answer: the caller's media follows the callee's latched source";

    const value a2 = answer("call-1", callee_sdp(5010), "branch2");
    ASSERT_EQ(result(a2), "ok") << reason(a2);
    EXPECT_EQ(media_ports(sdp_of(a2)).at(0), a_port) << "the caller has one leg whichever branch answers";
    EXPECT_EQ(pool("a").used(), 1u);
    EXPECT_EQ(pool("b").used(), 1u);
    EXPECT_EQ(flows_after_grace(), 4u);
    value q = command("query", "call-1");
    ASSERT_EQ(q.find("tags")->as_dict().size(), 3u);
    EXPECT_EQ(advertised(q, "branch2"), 5010);
    EXPECT_EQ(advertised(q, "branch1"), -1);
    EXPECT_EQ(q.find("tags")->find("from1")->find_string("in dialogue with"), "branch2");
    EXPECT_EQ(q.find("tags")->find("branch1")->find_string("in dialogue with"), "from1");
    // The caller's media goes to the active branch's SDP address, not to whichever branch
    // spoke last on the shared port; the branches' media all reach the caller.
    e = entry_at(*flows_, "198.18.1.1", a_port);
    ASSERT_NE(e, nullptr);
    EXPECT_EQ(e->sibling, nullptr);
    EXPECT_EQ(dp::endpoint_port(e->sdp_dest), htons(5010));
    const dp::flow_entry* from_b = entry_at(*flows_, "198.18.2.1", b_port);
    ASSERT_NE(from_b, nullptr);
    EXPECT_EQ(from_b->forward, dp::forward_on);
    EXPECT_EQ(from_b->flags & dp::flow_strict_source, 0);

    // Branch 1 wins: its 200 OK makes it active again with its own SDP.
    const value ok1 = answer("call-1", callee_sdp(5000), "branch1");
    ASSERT_EQ(result(ok1), "ok") << reason(ok1);
    q = command("query", "call-1");
    EXPECT_EQ(advertised(q, "branch1"), 5000);
    EXPECT_EQ(advertised(q, "branch2"), -1);
    e = entry_at(*flows_, "198.18.1.1", a_port);
    EXPECT_EQ(dp::endpoint_port(e->sdp_dest), htons(5000));

    // The loser is deleted by its to-tag: only that branch goes, the call stays.
    const value d = handle(request({{"command", value::str("delete")},
                                    {"call-id", value::str("call-1")},
                                    {"from-tag", value::str("from1")},
                                    {"to-tag", value::str("branch2")}}));
    ASSERT_EQ(result(d), "ok") << reason(d);
    EXPECT_EQ(sessions_->size(), 1u);
    q = command("query", "call-1");
    EXPECT_EQ(q.find("tags")->as_dict().size(), 2u);
    EXPECT_EQ(q.find("tags")->find("branch2"), nullptr);
    EXPECT_EQ(pool("a").used(), 1u);
    EXPECT_EQ(pool("b").used(), 1u);
    e = entry_at(*flows_, "198.18.1.1", a_port);
    ASSERT_NE(e, nullptr);
    EXPECT_EQ(dp::endpoint_port(e->sdp_dest), htons(5000));
    // The latch on the shared port may still name the loser: the winner's SDP address stays.
    EXPECT_EQ(e->sibling, nullptr);

    // The call's delete (the BYE) frees everything.
    ASSERT_EQ(result(command("delete", "call-1")), "ok");
    EXPECT_EQ(pool("a").used(), 0u);
    EXPECT_EQ(pool("b").used(), 0u);
    EXPECT_EQ(flows_after_grace(), 0u);
}

TEST_F(session_test, forked_branches_go_with_the_call) {
    const auto before = free_counts();
    ASSERT_EQ(result(offer("call-1", caller_sdp(), strings({"a", "b"}))), "ok");
    ASSERT_EQ(result(answer("call-1", callee_sdp(5000), "branch1")), "ok");
    ASSERT_EQ(result(answer("call-1", callee_sdp(5010), "branch2")), "ok");
    ASSERT_EQ(result(answer("call-1", callee_sdp(5020), "branch3")), "ok");
    // A refused answer from a fourth branch leaves the three as they were.
    EXPECT_EQ(result(answer("call-1", "v=0\r\nthis is not SDP\r\n", "branch4")), "error");
    value q = command("query", "call-1");
    EXPECT_EQ(q.find("tags")->as_dict().size(), 4u);
    EXPECT_EQ(advertised(q, "branch3"), 5020);
    // A delete naming the active branch (the BYE's tags) ends the whole call.
    const value d = handle(request({{"command", value::str("delete")},
                                    {"call-id", value::str("call-1")},
                                    {"from-tag", value::str("from1")},
                                    {"to-tag", value::str("branch3")}}));
    ASSERT_EQ(result(d), "ok") << reason(d);
    EXPECT_EQ(sessions_->size(), 0u);
    EXPECT_EQ(free_counts(), before);
    EXPECT_EQ(flows_after_grace(), 0u);
}

TEST_F(session_test, forked_branches_expire_with_the_call) {
    session_manager m(interfaces_, *pub_, session_timeouts{.offer = std::chrono::seconds(5)});
    const auto t0 = steady::now();
    sdp_request r;
    r.call_id = "call-1";
    r.from_tag = "from1";
    r.sdp = caller_sdp();
    r.direction = {"a", "b"};
    m.offer(r, t0);
    r.sdp = callee_sdp(5000);
    r.to_tag = "branch1";
    (void)m.answer(r, t0);
    r.sdp = callee_sdp(5010);
    r.to_tag = "branch2";
    (void)m.answer(r, t0);
    EXPECT_EQ(m.expire(t0 + std::chrono::seconds(59), 0, 0), 0u);
    EXPECT_EQ(m.expire(t0 + std::chrono::seconds(61), 0, 0), 1u) << "media timeout, no packet since the answer";
    EXPECT_EQ(m.size(), 0u);
    EXPECT_EQ(pool("a").used(), 0u);
    EXPECT_EQ(pool("b").used(), 0u);
}

// T.38: the callee re-INVITEs an audio call to m=image udptl. The ports stay; the relay
// forwards UDPTL on the RTP port and nothing on port+1 any more.
TEST_F(session_test, t38_reinvite_keeps_ports_and_drops_the_rtcp_flows) {
    const value o = offer("call-1", caller_sdp(), strings({"a", "b"}));
    ASSERT_EQ(result(o), "ok") << reason(o);
    const value a = answer("call-1", callee_sdp());
    ASSERT_EQ(result(a), "ok") << reason(a);
    EXPECT_EQ(flows_after_grace(), 4u);
    auto t38 = [](const std::string& ip, uint16_t port) {
        return "v=0\r\no=- 1 2 IN IP4 " + ip + "\r\ns=-\r\nc=IN IP4 " + ip + "\r\nt=0 0\r\nm=image " +
               std::to_string(port) + " udptl t38\r\na=T38FaxVersion:0\r\na=T38FaxUdpEC:t38UDPRedundancy\r\n";
    };
    // From the callee (upstream): its tag is the from-tag now.
    const value re = offer("call-1", t38(callee_ip, 5100), strings({"b", "a"}), "to1");
    ASSERT_EQ(result(re), "ok") << reason(re);
    EXPECT_EQ(media_ports(sdp_of(re)), media_ports(sdp_of(a))) << "the caller is told the audio's port";
    EXPECT_NE(sdp_of(re).find(" udptl t38\r\n"), std::string::npos);
    EXPECT_NE(sdp_of(re).find("a=T38FaxVersion:0\r\n"), std::string::npos);
    const value ra = answer("call-1", t38(caller_ip, 4100), "from1", "to1");
    ASSERT_EQ(result(ra), "ok") << reason(ra);
    EXPECT_EQ(media_ports(sdp_of(ra)), media_ports(sdp_of(o)));
    EXPECT_EQ(pool("a").used(), 1u);
    EXPECT_EQ(pool("b").used(), 1u);
    EXPECT_EQ(flows_after_grace(), 2u) << "UDPTL both ways on the RTP ports, no RTCP flows";
    const dp::flow_entry* e = entry_at(*flows_, "198.18.1.1", media_ports(sdp_of(a)).at(0));
    ASSERT_NE(e, nullptr);
    EXPECT_EQ(e->forward, dp::forward_on);
    EXPECT_EQ(dp::endpoint_port(e->sdp_dest), htons(5100));
}

// After a forked call is answered, the caller's re-INVITE (hold) names the winner's to-tag:
// same ports, media still to the winner, the parked loser untouched.
TEST_F(session_test, reinvite_after_a_fork_stays_with_the_winner) {
    const value o = offer("call-1", caller_sdp(), strings({"a", "b"}));
    ASSERT_EQ(result(o), "ok") << reason(o);
    ASSERT_EQ(result(answer("call-1", callee_sdp(5000), "branch1")), "ok");
    const value a2 = answer("call-1", callee_sdp(5010), "branch2");
    ASSERT_EQ(result(a2), "ok");
    const auto used = free_counts();
    value reinvite = request({{"command", value::str("offer")},
                              {"call-id", value::str("call-1")},
                              {"from-tag", value::str("from1")},
                              {"to-tag", value::str("branch2")},
                              {"sdp", value::str(caller_sdp(4020))}});
    const value r = handle(reinvite);
    ASSERT_EQ(result(r), "ok") << reason(r);
    EXPECT_EQ(media_ports(sdp_of(r)), media_ports(sdp_of(o)));
    const value ra = answer("call-1", callee_sdp(5010), "branch2");
    ASSERT_EQ(result(ra), "ok") << reason(ra);
    EXPECT_EQ(media_ports(sdp_of(ra)), media_ports(sdp_of(a2)));
    EXPECT_EQ(free_counts(), used);
    EXPECT_EQ(flows_after_grace(), 4u);
    const value q = command("query", "call-1");
    EXPECT_EQ(q.find("tags")->as_dict().size(), 3u);
    EXPECT_EQ(advertised(q, "branch2"), 5010);
    EXPECT_EQ(advertised(q, "branch1"), -1);
    EXPECT_EQ(advertised(q, "from1"), 4020);
    // A re-offer naming the loser's tag goes to the winner too (the loser has no ports).
    reinvite.set("to-tag", value::str("branch1"));
    const value r2 = handle(reinvite);
    ASSERT_EQ(result(r2), "ok") << reason(r2);
    EXPECT_EQ(media_ports(sdp_of(r2)), media_ports(sdp_of(o)));
    EXPECT_EQ(free_counts(), used);
}

// The count in the statistics reply's "ng requests" for one command and result.
int64_t ng_requests(const value& stats, const char* command, const char* res) {
    const value* s = stats.find("statistics");
    const value* by = s != nullptr ? s->find("ng requests") : nullptr;
    const value* row = by != nullptr ? by->find(command) : nullptr;
    const value* n = row != nullptr ? row->find(res) : nullptr;
    return n != nullptr && n->is_integer() ? n->as_integer() : -1;
}

TEST_F(session_test, port_exhaustion_is_a_load_limit_for_a_new_call_of_a_proxy_that_supports_it) {
    port_pool& tiny = pool("tiny");
    const value ok = offer("call-1", caller_sdp(), strings({"tiny", "tiny"}));
    ASSERT_EQ(result(ok), "ok") << reason(ok);
    ASSERT_EQ(tiny.free(), 0u);
    const auto offer_supporting = [&](const std::string& call_id, const std::string& sdp) {
        return handle(request({{"command", value::str("offer")},
                               {"call-id", value::str(call_id)},
                               {"from-tag", value::str("from1")},
                               {"sdp", value::str(sdp)},
                               {"direction", strings({"tiny", "tiny"})},
                               {"supports", strings({"load limit"})}}));
    };
    // A new call: Kamailio moves it to its next node on `load limit`.
    const value moved = offer_supporting("call-2", caller_sdp());
    EXPECT_EQ(result(moved), "load limit");
    EXPECT_EQ(moved.find_string("message"), "refused: ports");
    EXPECT_EQ(reason(command("query", "call-2")), "Unknown call-id");
    // The same offer from a proxy that did not say it supports `load limit`.
    EXPECT_EQ(reason(offer("call-3", caller_sdp(), strings({"tiny", "tiny"}))), "Ran out of ports");
    // A re-INVITE adding a stream to a call that lives here cannot be moved: the error, and
    // the call stays as it was.
    const value reinvite =
        offer_supporting("call-1", sdp_text(caller_ip, caller_ip, {{"audio", 4000}, {"video", 4002}}));
    EXPECT_EQ(result(reinvite), "error");
    EXPECT_EQ(reason(reinvite), "Ran out of ports");
    EXPECT_EQ(result(command("query", "call-1")), "ok");
    EXPECT_EQ(sessions_->size(), 1u);
    EXPECT_EQ(tiny.free(), 0u);
    EXPECT_EQ(sessions_->totals().refused_ports, 3u);
    EXPECT_EQ(sessions_->totals().refused_policy, 0u);
    const value st = handle(request({{"command", value::str("statistics")}}));
    EXPECT_EQ(ng_requests(st, "offer", "load limit"), 1);
    EXPECT_EQ(ng_requests(st, "offer", "error"), 2);
}

// At shutdown the calls still open end in the books: each closed with reason drain (ports
// and flows given back as by a delete), counted in NG statistics beside the other reasons.
TEST_F(session_test, close_all_ends_every_open_call_with_its_reason) {
    const std::vector<size_t> before = free_counts();
    ASSERT_EQ(result(offer("call-1", caller_sdp(), strings({"a", "b"}))), "ok");
    ASSERT_EQ(result(answer("call-1", callee_sdp())), "ok");
    ASSERT_EQ(result(offer("call-2", caller_sdp(4010), strings({"a", "b"}))), "ok");  // never answered
    ASSERT_EQ(result(offer("call-3", caller_sdp(4020), strings({"a", "b"}))), "ok");
    ASSERT_EQ(result(command("delete", "call-3")), "ok");
    ASSERT_EQ(sessions_->size(), 2u);

    EXPECT_EQ(sessions_->close_all(close_reason::drain), 2u);
    EXPECT_EQ(sessions_->size(), 0u);
    EXPECT_EQ(free_counts(), before);
    EXPECT_EQ(flows_after_grace(), 0u);
    EXPECT_EQ(sessions_->close_all(close_reason::drain), 0u) << "nothing left to close";

    const session_totals& t = sessions_->totals();
    EXPECT_EQ(t.calls_created, 3u);
    EXPECT_EQ(t.calls_deleted, 3u);
    EXPECT_EQ(t.closed[static_cast<size_t>(close_reason::drain)], 2u);
    EXPECT_EQ(t.closed[static_cast<size_t>(close_reason::deleted)], 1u);
    const value stats = handle(request({{"command", value::str("statistics")}}));
    const value* closed = stats.find("statistics")->find("calls closed");
    ASSERT_NE(closed, nullptr);
    ASSERT_NE(closed->find("drain"), nullptr);
    EXPECT_EQ(closed->find("drain")->as_integer(), 2);
    EXPECT_EQ(closed->find("deleted")->as_integer(), 1);
    EXPECT_EQ(stats.find("statistics")->find("calls deleted")->as_integer(), 3);
    EXPECT_STREQ(close_reason_label(close_reason::drain), "drain");
    EXPECT_STREQ(close_reason_label(close_reason::media_timeout), "media_timeout");
}

TEST_F(session_test, statistics_count_requests_by_command_and_result) {
    ASSERT_EQ(result(handle(request({{"command", value::str("ping")}}))), "pong");
    ASSERT_EQ(result(offer("call-1", caller_sdp())), "ok");
    ASSERT_EQ(result(offer("call-2", "v=0\r\nthis is not SDP\r\n")), "error");
    ASSERT_EQ(result(answer("no-such-call", callee_sdp())), "error");
    ASSERT_EQ(result(handle(request({{"command", value::str("frobnicate")}}))), "error");
    ASSERT_EQ(result(handle(request({{"call-id", value::str("x")}}))), "error");
    ASSERT_EQ(result(command("delete", "call-1")), "ok");
    ASSERT_EQ(result(command("query", "call-1")), "error");

    const value st = handle(request({{"command", value::str("statistics")}}));
    ASSERT_EQ(result(st), "ok");
    EXPECT_EQ(ng_requests(st, "ping", "ok"), 1);
    EXPECT_EQ(ng_requests(st, "offer", "ok"), 1);
    EXPECT_EQ(ng_requests(st, "offer", "error"), 1);
    EXPECT_EQ(ng_requests(st, "answer", "ok"), 0);
    EXPECT_EQ(ng_requests(st, "answer", "error"), 1);
    EXPECT_EQ(ng_requests(st, "delete", "ok"), 1);
    EXPECT_EQ(ng_requests(st, "query", "error"), 1);
    EXPECT_EQ(ng_requests(st, "other", "error"), 2);  // unknown command, no command
    EXPECT_EQ(ng_requests(st, "offer", "load limit"), 0);
    // This request is counted once its reply is made: the next reply shows it.
    EXPECT_EQ(ng_requests(st, "statistics", "ok"), 0);
    EXPECT_EQ(ng_requests(handle(request({{"command", value::str("statistics")}})), "statistics", "ok"), 1);
    // Without a server attached there is no "ng server" part.
    EXPECT_EQ(st.find("statistics")->find("ng server"), nullptr);
}

// Tools written for rtpengine read `statistics` -> currentstatistics / totalstatistics /
// controlstatistics (rtpengine's NG documentation): the same numbers, in its shapes.
TEST_F(session_test, statistics_carry_rtpengines_shapes) {
    const ng::peer_info proxy_a = *ng::parse_endpoint("198.51.100.7:5060", true);
    const ng::peer_info proxy_b = *ng::parse_endpoint("198.51.100.8:5060", true);
    const auto now = std::chrono::steady_clock::now();
    auto from = [&](const ng::peer_info& p, const value& req) { return commands_->handle(req, now, &p); };
    value o = request({{"command", value::str("offer")},
                       {"call-id", value::str("call-1")},
                       {"from-tag", value::str("from1")},
                       {"sdp", value::str(caller_sdp())}});
    ASSERT_EQ(result(from(proxy_a, o)), "ok");
    o.set("call-id", value::str("call-2"));
    ASSERT_EQ(result(from(proxy_a, o)), "ok");
    ASSERT_EQ(result(from(proxy_b, request({{"command", value::str("ping")}}))), "pong");
    ASSERT_EQ(result(from(proxy_b, request({{"command", value::str("delete")}, {"call-id", value::str("call-2")}}))),
              "ok");
    ASSERT_EQ(result(from(proxy_b, request({{"command", value::str("query")}, {"call-id", value::str("nope")}}))),
              "error");

    const value st = from(proxy_a, request({{"command", value::str("statistics")}}));
    ASSERT_EQ(result(st), "ok");
    const value* s = st.find("statistics");
    ASSERT_NE(s, nullptr);
    const value* cur = s->find("currentstatistics");
    ASSERT_NE(cur, nullptr);
    EXPECT_EQ(cur->find("sessionsown")->as_integer(), 1);
    EXPECT_EQ(cur->find("sessionstotal")->as_integer(), 1);
    EXPECT_EQ(cur->find("sessionsforeign")->as_integer(), 0);
    EXPECT_EQ(cur->find("transcodedmedia")->as_integer(), 0);
    for (const char* k : {"packetrate", "byterate", "errorrate"}) {
        ASSERT_NE(cur->find(k), nullptr) << k;
    }
    const value* tot = s->find("totalstatistics");
    ASSERT_NE(tot, nullptr);
    EXPECT_EQ(tot->find("managedsessions")->as_integer(), 1) << "ended calls";
    EXPECT_EQ(tot->find("regularterminatedsessions")->as_integer(), 1);
    EXPECT_EQ(tot->find("timeoutsessions")->as_integer(), 0);
    EXPECT_EQ(tot->find("rejectedsessions")->as_integer(), 0);
    EXPECT_GE(tot->find("uptime")->as_integer(), 0);
    ASSERT_NE(tot->find_string("avgcallduration"), std::nullopt);
    const value* ctl = s->find("controlstatistics");
    ASSERT_NE(ctl, nullptr);
    const auto& proxies = ctl->find("proxies")->as_list();
    ASSERT_EQ(proxies.size(), 2u);
    const value& a = proxies[0].find_string("proxy") == "198.51.100.7" ? proxies[0] : proxies[1];
    const value& b = proxies[0].find_string("proxy") == "198.51.100.7" ? proxies[1] : proxies[0];
    EXPECT_EQ(a.find_string("proxy"), "198.51.100.7");
    EXPECT_EQ(a.find("offercount")->as_integer(), 2);
    EXPECT_EQ(a.find("statscount")->as_integer(), 1) << "this request counts as it arrives";
    EXPECT_EQ(a.find("errorcount")->as_integer(), 0);
    EXPECT_EQ(b.find_string("proxy"), "198.51.100.8");
    EXPECT_EQ(b.find("pingcount")->as_integer(), 1);
    EXPECT_EQ(b.find("deletecount")->as_integer(), 1);
    EXPECT_EQ(b.find("querycount")->as_integer(), 1);
    EXPECT_EQ(b.find("errorcount")->as_integer(), 1);
    EXPECT_EQ(ctl->find("totaloffercount")->as_integer(), 2);
    EXPECT_EQ(ctl->find("totalpingcount")->as_integer(), 1);
    EXPECT_EQ(ctl->find("totalerrorcount")->as_integer(), 1);
}

// A UDP socket on `local_ip` that sends raw datagrams to the server and reads replies.
class udp_peer {
 public:
    udp_peer(const char* local_ip, const ng::peer_info& to) {
        fd_ = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        sockaddr_in me{};
        me.sin_family = AF_INET;
        inet_pton(AF_INET, local_ip, &me.sin_addr);
        EXPECT_EQ(bind(fd_, reinterpret_cast<sockaddr*>(&me), sizeof me), 0);
        EXPECT_EQ(connect(fd_, reinterpret_cast<const sockaddr*>(&to.addr), to.len), 0);
    }
    ~udp_peer() { close(fd_); }
    udp_peer(const udp_peer&) = delete;
    udp_peer& operator=(const udp_peer&) = delete;
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

 private:
    int fd_ = -1;
};

// Runs the server until it has seen `datagrams` datagrams (requests, ignored or dropped).
void serve(ng::ng_server& s, uint64_t datagrams) {
    for (int i = 0; i < 200; ++i) {
        const auto& c = s.counters();
        if (c.requests + c.dropped_not_allowed + c.dropped_malformed >= datagrams) {
            return;
        }
        pollfd p{s.fd(), POLLIN, 0};
        if (poll(&p, 1, 10) > 0) {
            s.on_readable(std::chrono::steady_clock::now());
        }
    }
}

TEST_F(session_test, statistics_carry_the_ng_servers_own_counters) {
    ng::ng_server_config cfg;
    cfg.listen = "127.0.0.1:0";
    cfg.allow = {"127.0.0.1"};
    ng::ng_server server(cfg, [&](const value& req, const ng::peer_info&) {
        return commands_->handle(req, std::chrono::steady_clock::now());
    });
    commands_->set_server(&server);
    udp_peer outsider("127.0.0.2", server.local_address());
    udp_peer insider("127.0.0.1", server.local_address());

    outsider.send_bytes("o1 d7:command4:pinge");  // not in the allow-list: ignored
    outsider.send_bytes("o2 d7:command4:pinge");
    insider.send_bytes("c1 d7:command4:pinge");
    insider.send_bytes("c1 d7:command4:pinge");  // a retransmit: answered from the cache
    insider.send_bytes("c2 not bencode");        // undecodable: error reply
    insider.send_bytes("nocookie");              // unframed: dropped, no reply
    serve(server, 6);
    EXPECT_EQ(insider.receive(1000), "c1 d6:result4:ponge");
    EXPECT_EQ(insider.receive(1000), "c1 d6:result4:ponge");
    EXPECT_EQ(insider.receive(1000).substr(0, 3), "c2 ");
    EXPECT_EQ(outsider.receive(50), "");

    insider.send_bytes("c3 d7:command10:statisticse");
    serve(server, 7);
    const std::string reply = insider.receive(1000);
    ASSERT_EQ(reply.substr(0, 3), "c3 ");
    std::string err;
    const auto st = ng::decode(reply.substr(3), &err);
    ASSERT_TRUE(st.has_value()) << err;
    const value* srv = st->find("statistics")->find("ng server");
    ASSERT_NE(srv, nullptr);
    auto count = [&](const char* k) {
        const value* v = srv->find(k);
        return v != nullptr && v->is_integer() ? v->as_integer() : -1;
    };
    EXPECT_EQ(count("ignored not allowed"), 2);
    EXPECT_EQ(count("requests"), 4);  // c1, its retransmit, c2, and this statistics request
    EXPECT_EQ(count("cache hits"), 1);
    EXPECT_EQ(count("bad requests"), 1);
    EXPECT_EQ(count("dropped malformed"), 1);
    EXPECT_EQ(count("replies"), 3);  // this reply is not sent yet
    EXPECT_EQ(count("handler errors"), 0);
    EXPECT_EQ(count("send errors"), 0);
    EXPECT_EQ(count("oversized replies"), 0);
    // The handler saw the ping once; the undecodable request never reached the commands.
    EXPECT_EQ(ng_requests(*st, "ping", "ok"), 1);
    EXPECT_EQ(ng_requests(*st, "other", "error"), 0);
    commands_->set_server(nullptr);
}

}  // namespace
}  // namespace rtprelay
