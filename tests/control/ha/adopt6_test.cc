// IPv6 calls moved between nodes of a group: a bridged call (A on IPv6, B on IPv4) offered
// and answered on node 1, its record sealed and opened again, adopted by node 2. Node 2
// keeps the IPv6 ports and SDP addresses, the IPv6 latched source whole (the data plane's
// word only folds the address), and reserves each leg at its own cost; records whose latch
// disagrees with its stream are refused with a reason.

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <string>

#include "control/ha/record.h"
#include "control/ha/snapshot.h"
#include "control/interfaces.h"
#include "control/ng/bencode.h"
#include "control/ng/commands.h"
#include "control/publish/publisher.h"
#include "control/session/manager.h"
#include "dataplane/flow_table.h"
#include "dataplane/local_addresses.h"
#include "dataplane/neighbour_table.h"

namespace rtprelay::ha {
namespace {

using ng::value;

// One relay's control plane with both families, without workers; wire cost admission, so
// that an IPv6 leg and an IPv4 leg reserve different amounts.
struct node6 {
    node6() {
        flows = std::make_unique<dp::flow_table>(4096, 1, 0);
        neighbours = std::make_unique<dp::neighbour_table>(256, 0);
        ifs.add(parse_interface("ext address=198.18.1.1/24,2001:2:1::1/64 dpdk-port=0 ports=30000-30099", 11));
        ifs.add(parse_interface("int address=198.18.2.1/24,2001:2:2::1/64 dpdk-port=1 ports=40000-40099", 12));
        for (const auto& i : ifs.all()) {
            for (const auto& a : i.addresses) {
                locals.add(local_address_of(a.net.base, i.dpdk_port, i.vlan));
            }
        }
        pub = std::make_unique<publisher>(*flows, *neighbours, 1);
        pub->set_local_addresses(&locals);
        adm = std::make_unique<admission>(0, 80000, 0, 2);
        adm->set_wire(true);
        sessions = std::make_unique<session_manager>(ifs, *pub, session_timeouts{}, adm.get());
        commands = std::make_unique<ng::commands>(*sessions, nullptr);
    }
    ~node6() {
        commands.reset();
        sessions.reset();
        pub.reset();
        flows->reclaim_all();
    }
    value handle(std::initializer_list<std::pair<const char*, value>> items) {
        value v = value::dict();
        for (const auto& [k, item] : items) {
            v.set(k, item);
        }
        std::string err;
        return *ng::decode(ng::encode(commands->handle(*ng::decode(ng::encode(v), &err), steady::now())), &err);
    }

    std::unique_ptr<dp::flow_table> flows;
    std::unique_ptr<dp::neighbour_table> neighbours;
    interface_set ifs;
    dp::local_addresses locals;
    std::unique_ptr<publisher> pub;
    std::unique_ptr<admission> adm;
    std::unique_ptr<session_manager> sessions;
    std::unique_ptr<ng::commands> commands;
};

std::string str(const value& v, const char* key) {
    auto s = v.find_string(key);
    return s ? std::string(*s) : std::string();
}

std::string sdp(const char* type, const std::string& ip, uint16_t port) {
    return std::string("v=0\r\no=- 1 1 IN ") + type + " " + ip + "\r\ns=-\r\nc=IN " + type + " " + ip +
           "\r\nt=0 0\r\nm=audio " + std::to_string(port) + " RTP/AVP 0\r\na=sendrecv\r\n";
}

value list(std::initializer_list<const char*> items) {
    value l = value::list();
    for (const char* s : items) {
        l.as_list().push_back(value::str(s));
    }
    return l;
}

const group_key test_key = *group_key::from_hex(std::string(64, '6'));

class adopt6_test : public ::testing::Test {
 protected:
    void SetUp() override {
        const value o = n1.handle({{"command", value::str("offer")},
                                   {"call-id", value::str("call-6")},
                                   {"from-tag", value::str("tag-a")},
                                   {"sdp", value::str(sdp("IP6", "2001:2:1::10", 4000))},
                                   {"direction", list({"ext", "int"})},
                                   {"address-family", value::str("IP4")}});
        ASSERT_EQ(str(o, "result"), "ok") << str(o, "error-reason");
        const value a = n1.handle({{"command", value::str("answer")},
                                   {"call-id", value::str("call-6")},
                                   {"from-tag", value::str("tag-a")},
                                   {"to-tag", value::str("tag-b")},
                                   {"sdp", value::str(sdp("IP4", "198.18.2.20", 5000))}});
        ASSERT_EQ(str(a, "result"), "ok") << str(a, "error-reason");
        c1 = n1.sessions->find("call-6");
        ASSERT_NE(c1, nullptr);
        ASSERT_FALSE(c1->legs[0]->streams[0].local_addr.is_v4()) << "A's leg is IPv6";
        ASSERT_TRUE(c1->legs[1]->streams[0].local_addr.is_v4()) << "B's leg is IPv4";
    }
    call_record sealed_and_opened() {
        const std::string bytes =
            encode_record(snapshot_call(*c1, "node-1", steady::now(), unix_now_ms()), test_key, "tokyo");
        decode_error err = decode_error::none;
        auto r = decode_record(bytes, test_key, "tokyo", "call-6", &err);
        EXPECT_TRUE(r) << decode_error_name(err);
        return r ? *r : call_record{};
    }

    node6 n1;
    node6 n2;
    const call* c1 = nullptr;
};

TEST_F(adopt6_test, an_ipv6_latch_and_sdp_address_carry_over_whole) {
    // A latched from a source other than its SDP's (NAT): the worker would store the whole
    // address in stream_addr6 and its fold in the word.
    const stream& s1 = c1->legs[0]->streams[0];
    ASSERT_NE(s1.rtp_addr6, nullptr) << "the publisher made the IPv6 latch line";
    const ip_address src = *ip_address::parse("2001:2:1::99");
    const uint64_t word = dp::pack_endpoint6(src.bytes.data(), htons(4444));
    s1.rtp_addr6->store(src.bytes.data(), htons(4444));
    s1.rtp_state->latched.store(word);

    const call_record r = sealed_and_opened();
    const stream_record& sr = r.legs[0].streams[0];
    EXPECT_EQ(sr.local.family, 6);
    EXPECT_EQ(sr.peer_rtp.family, 6);
    EXPECT_EQ(0, std::memcmp(sr.latched_rtp6, src.bytes.data(), 16));

    std::string why;
    auto c = rebuild_call(r, n2.ifs, steady::now(), unix_now_ms(), &why);
    ASSERT_NE(c, nullptr) << why;
    n2.sessions->adopt(std::move(c));
    const call* c2 = n2.sessions->find("call-6");
    ASSERT_NE(c2, nullptr);
    const stream& s2 = c2->legs[0]->streams[0];
    EXPECT_EQ(s2.local_addr, s1.local_addr);
    EXPECT_EQ(s2.alloc.rtp_port, s1.alloc.rtp_port);
    ASSERT_TRUE(s2.peer_rtp.has_value());
    EXPECT_EQ(s2.peer_rtp->addr, *ip_address::parse("2001:2:1::10")) << "the SDP's IPv6 address, whole";
    EXPECT_EQ(s2.rtp_state->latched.load(), word);
    ASSERT_NE(s2.rtp_addr6, nullptr);
    uint8_t got[16] = {};
    uint16_t port_be = 0;
    ASSERT_TRUE(s2.rtp_addr6->load(got, &port_be));
    EXPECT_EQ(0, std::memcmp(got, src.bytes.data(), 16)) << "the latched IPv6 address, whole";
    EXPECT_EQ(port_be, htons(4444));

    // Its flows are in node 2's table under the IPv6 address's slot, pointing at that line.
    dp::flow_key k;
    k.v6_slot = n2.locals.slot6(s2.local_addr.bytes.data());
    k.local_port = htons(s2.alloc.rtp_port);
    ASSERT_NE(k.v6_slot, 0);
    const dp::flow_entry* e = n2.flows->lookup(k);
    ASSERT_NE(e, nullptr);
    ASSERT_NE(e->v6.get(), nullptr);
    EXPECT_EQ(e->v6->self6, s2.rtp_addr6.get());
    EXPECT_EQ(n2.flows->size(), n1.flows->size());

    // Each leg reserves what it costs, as at node 1's offer; delete gives it all back.
    EXPECT_EQ(n2.adm->node().calls, 1u);
    EXPECT_EQ(n2.adm->node().reserved_bps, n1.adm->node().reserved_bps);
    EXPECT_EQ(c2->admitted_bps[0], c1->admitted_bps[0]);
    EXPECT_EQ(c2->admitted_bps[1], c1->admitted_bps[1]);
    EXPECT_NE(c2->admitted_bps[0], c2->admitted_bps[1]) << "an IPv6 leg costs more on the wire";
    const value d = n2.handle({{"command", value::str("delete")}, {"call-id", value::str("call-6")}});
    EXPECT_EQ(str(d, "result"), "ok");
    EXPECT_EQ(n2.adm->node().calls, 0u);
    EXPECT_EQ(n2.adm->node().reserved_bps, 0u);
}

TEST_F(adopt6_test, latches_that_do_not_fit_their_stream_are_refused) {
    const call_record good = sealed_and_opened();
    auto refused = [&](const call_record& r, const char* what) {
        std::string why;
        EXPECT_EQ(rebuild_call(r, n2.ifs, steady::now(), unix_now_ms(), &why), nullptr) << what;
        EXPECT_FALSE(why.empty()) << what;
    };
    call_record r = good;
    const ip_address src = *ip_address::parse("2001:2:1::99");
    r.legs[0].streams[0].latched_rtp = dp::pack_endpoint6(src.bytes.data(), htons(4444));
    std::memcpy(r.legs[0].streams[0].latched_rtp6, src.bytes.data(), 16);
    r.legs[0].streams[0].latched_rtp6[15] ^= 1;
    refused(r, "an IPv6 address that does not fold to its word");
    r = good;
    r.legs[0].streams[0].latched_rtp = dp::pack_endpoint(ip_address::parse("198.18.1.99")->v4_be(), htons(4444));
    refused(r, "an IPv4 source on an IPv6 address");
    r = good;
    r.legs[1].streams[0].latched_rtcp = dp::pack_endpoint6(src.bytes.data(), htons(4445));
    std::memcpy(r.legs[1].streams[0].latched_rtcp6, src.bytes.data(), 16);
    refused(r, "an IPv6 source on an IPv4 address");
    EXPECT_EQ(n2.sessions->size(), 0u);
    EXPECT_EQ(n2.adm->node().calls, 0u);
}

}  // namespace
}  // namespace rtprelay::ha
