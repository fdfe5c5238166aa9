// IPv6 media through the NG front door: offers and answers with c=IN IP6, v4 <-> v6
// bridging chosen by the offer's family and NG `address family`, the errors a family mix
// gets, the flow entries published for each direction (flow key slot, flow_entry_v6,
// neighbours), query's endpoints, and what admission reserves with call-bandwidth = wire.
//
// Golden cases: tests/golden/ipv6/<case>.{offer,answer}.in.sdp through ng::commands, the
// reply's SDP equal to <case>.{offer,answer}.out.sdp byte for byte once keys are masked
// (inline:<base64> -> inline:<KEY>). Every interface address owns one port pair, so the
// ports are deterministic. RTPRELAY_UPDATE_GOLDEN=1 (re)writes the .out.sdp files; review
// every one by hand.

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "control/admission/admission.h"
#include "control/interfaces.h"
#include "control/ng/bencode.h"
#include "control/ng/commands.h"
#include "control/publish/publisher.h"
#include "control/session/manager.h"
#include "dataplane/flow_entry.h"
#include "dataplane/flow_table.h"
#include "dataplane/local_addresses.h"
#include "dataplane/neighbour_table.h"
#include "tests/support/control_rig.h"

namespace rtprelay {
namespace {

namespace fs = std::filesystem;
using ng::value;

fs::path golden_dir() {
    static const fs::path dir = [] {
        const fs::path self = __FILE__;
        if (self.is_absolute()) {
            return (self.parent_path() / "../../golden/ipv6").lexically_normal();
        }
        std::error_code ec;
        for (fs::path p = fs::canonical("/proc/self/exe", ec).parent_path(); !p.empty(); p = p.parent_path()) {
            if (fs::exists(p / self, ec)) {
                return (fs::weakly_canonical(p / self, ec).parent_path() / "../../golden/ipv6").lexically_normal();
            }
            if (p == p.root_path()) {
                break;
            }
        }
        return fs::path();
    }();
    return dir;
}

std::string read_file(const std::string& name) {
    std::ifstream in(golden_dir() / name, std::ios::binary);
    EXPECT_TRUE(in.good()) << "cannot read " << (golden_dir() / name);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// inline:<base64> -> inline:<KEY>: the relay's keys are fresh every run.
std::string mask_keys(const std::string& sdp) {
    std::string out = sdp;
    for (size_t at = out.find("inline:"); at != std::string::npos; at = out.find("inline:", at)) {
        at += 7;
        size_t end = at;
        while (end < out.size() && (std::isalnum(static_cast<unsigned char>(out[end])) != 0 || out[end] == '+' ||
                                    out[end] == '/' || out[end] == '=')) {
            ++end;
        }
        out.replace(at, end - at, "<KEY>");
    }
    return out;
}

void expect_golden(const std::string& file, const std::string& got) {
    const std::string masked = mask_keys(got);
    const char* update = std::getenv("RTPRELAY_UPDATE_GOLDEN");
    if (update != nullptr && std::string_view(update) == "1") {
        std::ofstream(golden_dir() / file, std::ios::binary | std::ios::trunc) << masked;
        return;
    }
    EXPECT_EQ(masked, read_file(file)) << file;
}

ip_address addr(const char* text) { return *ip_address::parse(text); }

class ipv6_session_test : public ::testing::Test, protected test::control_rig {
 protected:
    void SetUp() override {
        ASSERT_FALSE(golden_dir().empty());
        // a, b: both families; b4: IPv4 only; b6: IPv6 only, with a gateway.
        interfaces_.add(parse_interface("a address=198.18.1.1/24,2001:2:1::1/64 dpdk-port=0 ports=30000-30001", 1));
        interfaces_.add(parse_interface("b address=198.18.2.1/24,2001:2:2::1/64 dpdk-port=1 ports=40000-40001", 2));
        interfaces_.add(parse_interface("b4 address=198.18.4.1/24 dpdk-port=1 ports=44000-44001", 4));
        interfaces_.add(
            parse_interface("b6 address=2001:2:6::1/64 dpdk-port=1 ports=46000-46001 gateway=2001:2:6::fe", 6));
        interfaces_.add(parse_interface("c4 address=198.18.5.1/24 dpdk-port=0 ports=48000-48003", 7));
        for (const auto& i : interfaces_.all()) {
            for (const auto& a : i.addresses) {
                ASSERT_TRUE(locals_.add(local_address_of(a.net.base, i.dpdk_port, i.vlan)));
            }
        }
        pub_->set_local_addresses(&locals_);
    }
    // Sessions under a call-bandwidth = wire admission (node budget, no cps limit); the rig
    // keeps it.
    admission& start_wire_admission() {
        auto adm = std::make_unique<admission>(0, wire_bps(false, 0), 0, interfaces_.all().size());
        adm->set_wire(true);
        admission& a = *adm;
        start(session_timeouts{}, std::move(adm));
        return a;
    }

    value offer(const std::string& call_id, const std::string& sdp, const char* from_if, const char* to_if,
                std::vector<std::pair<std::string, value>> extra = {}) {
        value r = value::dict();
        r.set("command", value::str("offer"));
        r.set("call-id", value::str(call_id));
        r.set("from-tag", value::str("from-" + call_id));
        r.set("sdp", value::str(sdp));
        value dir = value::list();
        dir.as_list().push_back(value::str(from_if));
        dir.as_list().push_back(value::str(to_if));
        r.set("direction", std::move(dir));
        for (auto& [k, v] : extra) {
            r.set(k, std::move(v));
        }
        return handle(r);
    }
    value answer(const std::string& call_id, const std::string& sdp,
                 std::vector<std::pair<std::string, value>> extra = {}) {
        value r = value::dict();
        r.set("command", value::str("answer"));
        r.set("call-id", value::str(call_id));
        r.set("from-tag", value::str("from-" + call_id));
        r.set("to-tag", value::str("to-" + call_id));
        r.set("sdp", value::str(sdp));
        for (auto& [k, v] : extra) {
            r.set(k, std::move(v));
        }
        return handle(r);
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

    // Offer and answer of golden case `name`; both must succeed.
    void golden(const std::string& name, const char* from_if, const char* to_if,
                std::vector<std::pair<std::string, value>> offer_keys = {}) {
        const value o = offer(name, read_file(name + ".offer.in.sdp"), from_if, to_if, std::move(offer_keys));
        ASSERT_EQ(result(o), "ok") << reason(o);
        expect_golden(name + ".offer.out.sdp", sdp_of(o));
        const value a = answer(name, read_file(name + ".answer.in.sdp"));
        ASSERT_EQ(result(a), "ok") << reason(a);
        expect_golden(name + ".answer.out.sdp", sdp_of(a));
    }

    const dp::flow_entry* entry(const char* local, uint16_t port) const {
        const auto key = pub_->flow_key_of(addr(local), port);
        return key ? flows_->lookup(*key) : nullptr;
    }
};

value str(const char* s) { return value::str(s); }

TEST_F(ipv6_session_test, golden_v6_to_v6) {
    start();
    golden("v6_to_v6", "a", "b");
}

// An IPv4 caller bridged to an IPv6 callee: NG address family picks the callee's side.
TEST_F(ipv6_session_test, golden_v4_to_v6_by_address_family) {
    start();
    golden("v4_to_v6", "a", "b", {{"address family", str("IP6")}});
}

// An IPv6 caller toward an interface without IPv6: the offer goes out over IPv4.
TEST_F(ipv6_session_test, golden_v6_to_v4_interface) {
    start();
    golden("v6_to_v4", "a", "b4");
}

// SRTP both legs with rtcp-mux, IPv6 caller, IPv4 callee (address-family spelled with a dash).
TEST_F(ipv6_session_test, golden_srtp_v6_to_v4) {
    start();
    golden("srtp_v6_to_v4", "a", "b", {{"address-family", str("IP4")}});
}

// Hold over IPv6: c=IN IP6 :: stays ::, the leg still gets an IPv6 address.
TEST_F(ipv6_session_test, golden_v6_hold) {
    start();
    golden("v6_hold", "a", "b");
    const value q = handle([] {
        value r = value::dict();
        r.set("command", value::str("query"));
        r.set("call-id", value::str("v6_hold"));
        return r;
    }());
    ASSERT_EQ(result(q), "ok");
    const value* tag = q.find("tags")->find("from-v6_hold");
    ASSERT_NE(tag, nullptr);
    const value& s = tag->find("medias")->as_list()[0].find("streams")->as_list()[0];
    EXPECT_EQ(*s.find_string("local address"), "2001:2:1::1");
}

// The entries both directions of a bridged call get: the IPv4 side keyed by its address,
// the IPv6 side by its slot; the IPv6 parts carry the addresses the IPv4 fields cannot.
TEST_F(ipv6_session_test, bridged_call_publishes_v6_parts_and_neighbours) {
    start();
    const value o = offer("br", read_file("v4_to_v6.offer.in.sdp"), "a", "b6");
    ASSERT_EQ(result(o), "ok") << reason(o);
    ASSERT_EQ(result(answer("br", read_file("v4_to_v6.answer.in.sdp"))), "ok");
    flows_->reclaim_all();
    EXPECT_EQ(flows_->size(), 4u);

    // Caller -> callee: arrives on a's IPv4 port, leaves over IPv6 from b6.
    const dp::flow_entry* in4 = entry("198.18.1.1", 30000);
    ASSERT_NE(in4, nullptr);
    ASSERT_NE(in4->v6.get(), nullptr);
    EXPECT_FALSE(in4->v6->in6);
    EXPECT_TRUE(in4->v6->out6);
    EXPECT_EQ(in4->expected_src, dp::pack_endpoint(addr("198.18.10.10").v4_be(), htons(4000)));
    EXPECT_EQ(std::memcmp(in4->v6->sdp_dest, addr("2001:2:b::20").bytes.data(), 16), 0);
    EXPECT_EQ(in4->sdp_dest, dp::pack_endpoint6(addr("2001:2:b::20").bytes.data(), htons(5000)));
    EXPECT_EQ(std::memcmp(in4->v6->out_src_addr, addr("2001:2:6::1").bytes.data(), 16), 0);
    EXPECT_EQ(in4->out_src_port, htons(46000));
    EXPECT_EQ(in4->v6->onlink_prefix, 64);
    EXPECT_TRUE(in4->v6->has_gateway);
    EXPECT_EQ(in4->v6->self6, nullptr) << "the caller's leg is IPv4: no IPv6 latch";
    ASSERT_NE(in4->v6->sibling6, nullptr);
    // The callee is off b6's /64: its SDP next hop is the IPv6 gateway.
    ASSERT_NE(in4->sdp_next_hop, nullptr);
    EXPECT_TRUE(in4->sdp_next_hop->v6);
    EXPECT_EQ(std::memcmp(in4->sdp_next_hop->addr6, addr("2001:2:6::fe").bytes.data(), 16), 0);

    // Callee -> caller: arrives on b6's IPv6 port (key: its slot), leaves over IPv4 from a.
    const auto key6 = pub_->flow_key_of(addr("2001:2:6::1"), 46000);
    ASSERT_TRUE(key6);
    EXPECT_EQ(key6->local_addr, 0u);
    EXPECT_NE(key6->v6_slot, 0);
    EXPECT_EQ(key6->v6_slot, locals_.slot6(1, addr("2001:2:6::1").bytes.data()));
    const dp::flow_entry* in6 = flows_->lookup(*key6);
    ASSERT_NE(in6, nullptr);
    ASSERT_NE(in6->v6.get(), nullptr);
    EXPECT_TRUE(in6->v6->in6);
    EXPECT_FALSE(in6->v6->out6);
    EXPECT_NE(in6->v6->self6, nullptr);
    EXPECT_EQ(std::memcmp(in6->v6->expected_src, addr("2001:2:b::20").bytes.data(), 16), 0);
    EXPECT_EQ(in6->out_src_addr, addr("198.18.1.1").v4_be());
    EXPECT_EQ(in6->sdp_dest, dp::pack_endpoint(addr("198.18.10.10").v4_be(), htons(4000)));
    ASSERT_NE(in6->sdp_next_hop, nullptr);
    EXPECT_FALSE(in6->sdp_next_hop->v6);

    // An IPv4-only call keeps its entries free of any IPv6 part.
    const value o4 = offer("plain4", read_file("v6_to_v4.answer.in.sdp"), "c4", "c4");
    ASSERT_EQ(result(o4), "ok") << reason(o4);
    size_t plain_entries = 0;
    for (uint16_t port = 48000; port < 48004; ++port) {
        if (const dp::flow_entry* e4 = entry("198.18.5.1", port)) {
            EXPECT_EQ(e4->v6.get(), nullptr);
            ++plain_entries;
        }
    }
    EXPECT_EQ(plain_entries, 4u);
}

TEST_F(ipv6_session_test, family_mixes_get_clear_errors_and_change_nothing) {
    start();
    const std::string v6_offer = read_file("v6_to_v6.offer.in.sdp");
    const std::string v4_offer = read_file("v4_to_v6.offer.in.sdp");
    // The offerer's interface must have the offer's family.
    EXPECT_EQ(reason(offer("c1", v6_offer, "b4", "a")), "SDP: m= line 1: interface 'b4' has no IPv6 address");
    // NG address family: a known value, and one the answerer's interface has.
    EXPECT_EQ(reason(offer("c2", v4_offer, "a", "b", {{"address family", str("IP5")}})),
              "address family 'IP5' is not IP4 or IP6");
    EXPECT_EQ(reason(offer("c3", v4_offer, "a", "b4", {{"address family", str("IP6")}})),
              "SDP: m= line 1: interface 'b4' has no IPv6 address");
    // c=IN IP6 with an IPv4 address.
    std::string bad = v6_offer;
    bad.replace(bad.find("c=IN IP6 2001:2:a::10"), 21, "c=IN IP6 198.18.10.10");
    EXPECT_EQ(reason(offer("c4", bad, "a", "b")),
              "SDP: m= line 1: connection address '198.18.10.10' is not an IP6 address");
    EXPECT_EQ(sessions_->size(), 0u);
    flows_->reclaim_all();
    EXPECT_EQ(flows_->size(), 0u);

    // An answer of the other family than the offer it answers, and a re-offer that changes
    // the caller's family: refused, the call as it was.
    ASSERT_EQ(result(offer("c5", v6_offer, "a", "b")), "ok");
    const value wrong = answer("c5", read_file("v6_to_v4.answer.in.sdp"));
    EXPECT_EQ(reason(wrong),
              "SDP: m= line 1: the answer's address is IP4 but the offer it answers gave IP6 "
              "(NG address family)");
    ASSERT_EQ(result(answer("c5", read_file("v6_to_v6.answer.in.sdp"))), "ok");
    const value switched = offer("c5", v4_offer, "a", "b");
    EXPECT_EQ(reason(switched), "SDP: m= line 1: the leg's address family cannot change within a call (IP6 to IP4)");
    const dp::flow_entry* e = entry("2001:2:1::1", 30000);
    ASSERT_NE(e, nullptr);
    EXPECT_EQ(std::memcmp(e->v6->expected_src, addr("2001:2:a::10").bytes.data(), 16), 0);
}

// RFC 2543 hold (c=IN IP4 0.0.0.0) on an IPv6 leg, in a re-offer and in an answer: hold,
// not a change of family.
TEST_F(ipv6_session_test, ipv4_hold_address_on_an_ipv6_leg_is_hold) {
    start();
    ASSERT_EQ(result(offer("h1", read_file("v6_to_v6.offer.in.sdp"), "a", "b")), "ok");
    std::string held = read_file("v6_to_v6.answer.in.sdp");
    held.replace(held.find("c=IN IP6 2001:2:b::20"), 21, "c=IN IP4 0.0.0.0");
    const value a = answer("h1", held);
    ASSERT_EQ(result(a), "ok") << reason(a);
    std::string reheld = read_file("v6_to_v6.offer.in.sdp");
    reheld.replace(reheld.find("c=IN IP6 2001:2:a::10"), 21, "c=IN IP4 0.0.0.0");
    const value o = offer("h1", reheld, "a", "b");
    ASSERT_EQ(result(o), "ok") << reason(o);
    EXPECT_NE(sdp_of(o).find("c=IN IP4 0.0.0.0"), std::string::npos) << "hold stays hold";
    EXPECT_NE(sdp_of(o).find("m=audio 40000 "), std::string::npos) << "the same IPv6 leg's port";
}

// call-bandwidth = wire: each leg reserves by its family and SRTP tag.
TEST_F(ipv6_session_test, wire_admission_reserves_each_legs_cost) {
    admission& adm = start_wire_admission();
    // IPv6 SRTP_80 caller (a) to an IPv4 SRTP callee (b): 92k on a, 84k on b, 92k on the node.
    ASSERT_EQ(result(offer("w1", read_file("srtp_v6_to_v4.offer.in.sdp"), "a", "b", {{"address family", str("IP4")}})),
              "ok");
    EXPECT_EQ(adm.interface(0).reserved_bps, 92'000u);
    EXPECT_EQ(adm.interface(1).reserved_bps, 84'000u);
    EXPECT_EQ(adm.node().reserved_bps, 92'000u);
    // Plain IPv4 both ways: the seeds' 80k.
    ASSERT_EQ(result(offer("w2", read_file("v6_to_v4.answer.in.sdp"), "c4", "c4")), "ok");
    EXPECT_EQ(adm.interface(4).reserved_bps, 80'000u);
    EXPECT_EQ(adm.node().reserved_bps, 172'000u);
    // Plain IPv6 caller bridged to IPv4: 88k on a, 80k on b4.
    sessions_->remove("w1", std::chrono::steady_clock::now());
    ASSERT_EQ(result(offer("w3", read_file("v6_to_v4.offer.in.sdp"), "a", "b4")), "ok");
    EXPECT_EQ(adm.interface(0).reserved_bps, 88'000u);
    EXPECT_EQ(adm.interface(2).reserved_bps, 80'000u);
    EXPECT_EQ(adm.node().reserved_bps, 168'000u);
    sessions_->remove("w2", std::chrono::steady_clock::now());
    sessions_->remove("w3", std::chrono::steady_clock::now());
    EXPECT_EQ(adm.node().reserved_bps, 0u);
    EXPECT_EQ(adm.interface(0).reserved_bps, 0u);
    EXPECT_EQ(adm.interface(2).reserved_bps, 0u);
}

// call-bandwidth = wire with the suite table's tags: an AES-GCM caller's leg costs its
// 16-byte tag, the callee (offered AES_CM_128_HMAC_SHA1_80, the default) its 10.
TEST_F(ipv6_session_test, wire_admission_takes_the_suites_tag) {
    admission& adm = start_wire_admission();
    std::string gcm = read_file("srtp_v6_to_v4.offer.in.sdp");
    const std::string line = "AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz";
    ASSERT_NE(gcm.find(line), std::string::npos);
    gcm.replace(gcm.find(line), line.size(), "AEAD_AES_128_GCM inline:AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHA==");
    const value o = offer("g1", gcm, "a", "b", {{"address family", str("IP4")}});
    ASSERT_EQ(result(o), "ok") << reason(o);
    // IPv6 AES-GCM: 50 x (160 + 12 + 16 + 8 + 40) x 8; IPv4 _80: 50 x (160 + 12 + 10 + 8 + 20) x 8.
    EXPECT_EQ(adm.interface(0).reserved_bps, 94'400u);
    EXPECT_EQ(adm.interface(1).reserved_bps, 84'000u);
    EXPECT_EQ(adm.node().reserved_bps, 94'400u);
    sessions_->remove("g1", std::chrono::steady_clock::now());
    EXPECT_EQ(adm.node().reserved_bps, 0u);
}

TEST(interfaces_ipv6, both_families_and_their_gateways) {
    const logical_interface li = parse_interface(
        "x address=198.18.0.1/24,2001:2::1/64,2001:2::2/64 dpdk-port=0 gateway=2001:2::fe,198.18.0.254", 1);
    EXPECT_TRUE(li.has_family(ip_address::family::v4));
    EXPECT_TRUE(li.has_family(ip_address::family::v6));
    EXPECT_EQ(li.first_family(), ip_address::family::v4);
    EXPECT_EQ(li.gateway->to_string(), "198.18.0.254");
    EXPECT_EQ(li.gateway6->to_string(), "2001:2::fe");
    EXPECT_EQ(li.first_address(ip_address::family::v6)->to_string(), "2001:2::1");
    logical_interface x = parse_interface("x address=198.18.0.1/24,2001:2::1/64,2001:2::2/64 dpdk-port=0", 1);
    // Allocation stays in the family asked for, round robin over its addresses.
    const auto a1 = x.allocate(ip_address::family::v6);
    const auto a2 = x.allocate(ip_address::family::v6);
    const auto a3 = x.allocate(ip_address::family::v4);
    ASSERT_TRUE(a1 && a2 && a3);
    EXPECT_EQ(a1->address_index, 1u);
    EXPECT_EQ(a2->address_index, 2u);
    EXPECT_EQ(a3->address_index, 0u);
    logical_interface v4only = parse_interface("y address=198.18.0.1/24 dpdk-port=0", 1);
    EXPECT_FALSE(v4only.allocate(ip_address::family::v6));

    auto refused = [](const char* spec) {
        try {
            parse_interface(spec, 1);
        } catch (const std::invalid_argument& e) {
            return std::string(e.what());
        }
        return std::string("accepted");
    };
    EXPECT_EQ(refused("x address=fe80::1/64 dpdk-port=0"),
              "interface 'x': address 'fe80::1/64' is link-local (fe80::/10): media needs a global address");
    EXPECT_EQ(refused("x address=ff02::1/64 dpdk-port=0"),
              "interface 'x': address 'ff02::1/64' is not a unicast address");
    EXPECT_EQ(refused("x address=::/0 dpdk-port=0"), "interface 'x': address '::/0' is not a unicast address");
    EXPECT_EQ(refused("x address=2001:2::1/129 dpdk-port=0"),
              "interface 'x': address '2001:2::1/129' is not an address/prefix");
    EXPECT_EQ(refused("x address=198.18.0.1/24 dpdk-port=0 gateway=2001:2::fe"),
              "interface 'x': gateway 2001:2::fe has no address of its family on this interface");
    EXPECT_EQ(refused("x address=2001:2::1/64 dpdk-port=0 gateway=2001:2::fe,2001:2::fd"),
              "interface 'x': gateway: more than one IPv6 gateway");
    EXPECT_EQ(refused("x address=2001:2::1/64 dpdk-port=0 gateway=nope"),
              "interface 'x': gateway 'nope' is not an IPv4 or IPv6 address");
}

}  // namespace
}  // namespace rtprelay
