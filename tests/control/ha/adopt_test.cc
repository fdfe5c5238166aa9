// A call moved from one node to another the way a takeover moves it: NG offer/answer on
// node 1, its record sealed and opened again, rebuilt and adopted by node 2 (same
// interfaces, its own flow table). Node 2 must then relay it exactly as node 1 did (same
// ports, peers, latched sources, SRTP keys) and serve its later NG commands.

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <rte_cycles.h>

#include <cstring>
#include <memory>
#include <string>

#include "control/ha/flat_record.h"
#include "control/ha/record.h"
#include "control/ha/snapshot.h"
#include "control/ha/srtp_progress.h"
#include "control/interfaces.h"
#include "control/ng/bencode.h"
#include "control/ng/commands.h"
#include "control/publish/publisher.h"
#include "control/sdes/crypto_attr.h"
#include "control/session/manager.h"
#include "dataplane/flow_table.h"
#include "dataplane/latch.h"
#include "dataplane/neighbour_table.h"
#include "dataplane/srtp/srtp.h"
#include "tests/control/ha/record_compare.h"

namespace rtprelay::ha {
namespace {

using ng::value;

// One relay's control plane, without workers.
struct node {
    node() {
        flows = std::make_unique<dp::flow_table>(4096, 1, 0);
        neighbours = std::make_unique<dp::neighbour_table>(256, 0);
        ifs.add(parse_interface("ext address=198.18.1.1/24,198.18.1.3/24 dpdk-port=0 ports=30000-30099", 11));
        ifs.add(parse_interface("int address=198.18.2.1/24,198.18.2.3/24 dpdk-port=1 ports=40000-40099", 12));
        pub = std::make_unique<publisher>(*flows, *neighbours, 1);
        adm = std::make_unique<admission>(0, 80000, 0, 2);
        sessions = std::make_unique<session_manager>(ifs, *pub, session_timeouts{}, adm.get());
        commands = std::make_unique<ng::commands>(*sessions, nullptr);
    }
    ~node() {
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
    const dp::flow_entry* entry(const std::string& addr, uint16_t port) const {
        dp::flow_key k;
        k.local_addr = ip_address::parse(addr)->v4_be();
        k.local_port = htons(port);
        return flows->lookup(k);
    }

    std::unique_ptr<dp::flow_table> flows;
    std::unique_ptr<dp::neighbour_table> neighbours;
    interface_set ifs;
    std::unique_ptr<publisher> pub;
    std::unique_ptr<admission> adm;
    std::unique_ptr<session_manager> sessions;
    std::unique_ptr<ng::commands> commands;
};

std::string str(const value& v, const char* key) {
    auto s = v.find_string(key);
    return s ? std::string(*s) : std::string();
}

std::string sdp(const std::string& ip, uint16_t port, const std::string& crypto) {
    return "v=0\r\no=- 1 1 IN IP4 " + ip + "\r\ns=-\r\nc=IN IP4 " + ip + "\r\nt=0 0\r\nm=audio " +
           std::to_string(port) + " RTP/SAVP 0\r\na=crypto:" + crypto + "\r\na=sendrecv\r\n";
}

// The first value of `prefix` lines ("m=audio ", "c=IN IP4 ", "a=crypto:").
std::string line(const std::string& sdp, const std::string& prefix) {
    const size_t at = sdp.find("\n" + prefix);
    if (at == std::string::npos) {
        return {};
    }
    const size_t from = at + 1 + prefix.size();
    return sdp.substr(from, sdp.find_first_of("\r\n", from) - from);
}

sdes::crypto_attr key_in(const std::string& sdp) {
    std::string err;
    auto a = sdes::parse_crypto(line(sdp, "a=crypto:"), {}, &err);
    EXPECT_TRUE(a) << err;
    return a ? *a : sdes::crypto_attr{};
}

// What `from` protects, `to` opens (one RTP packet, fresh SSRC per call).
bool interoperate(dp::srtp::context& from, dp::srtp::context& to, uint32_t ssrc, uint16_t seq = 0x1000) {
    uint8_t buf[256] = {0x80, 0x00, static_cast<uint8_t>(seq >> 8), static_cast<uint8_t>(seq), 0, 0, 0, 1};
    buf[8] = static_cast<uint8_t>(ssrc >> 24);
    buf[9] = static_cast<uint8_t>(ssrc >> 16);
    buf[10] = static_cast<uint8_t>(ssrc >> 8);
    buf[11] = static_cast<uint8_t>(ssrc);
    for (int i = 12; i < 172; ++i) {
        buf[i] = static_cast<uint8_t>(i);
    }
    uint32_t len = 172;
    if (dp::srtp::protect_rtp(from, buf, &len, sizeof buf - len) != dp::srtp::result::ok) {
        return false;
    }
    return dp::srtp::unprotect_rtp(to, buf, &len) == dp::srtp::result::ok && len == 172 && buf[100] == 100;
}

const group_key test_key = *group_key::from_hex(std::string(64, '5'));

// Every suite on A's side (B gets the relay's default offer): a group adopts calls of any suite.
class adopt_test : public ::testing::TestWithParam<sdes::suite> {
 protected:
    // An SRTP<->SRTP call on node 1: A (ext) offers with its key, B (int) answers.
    void SetUp() override {
        a_key = sdes::format_crypto(sdes::fresh_attr(1, GetParam(), false));
        const value o = n1.handle({{"command", value::str("offer")},
                                   {"call-id", value::str("call-1")},
                                   {"from-tag", value::str("tag-a")},
                                   {"sdp", value::str(sdp("198.18.1.10", 4000, a_key))},
                                   {"direction", list({"ext", "int"})}});
        ASSERT_EQ(str(o, "result"), "ok") << str(o, "error-reason");
        to_b = str(o, "sdp");
        const sdes::crypto_attr relay_to_b = key_in(to_b);
        b_key = sdes::format_crypto(sdes::fresh_attr(relay_to_b.tag, relay_to_b.crypto_suite, false));
        const value a = n1.handle({{"command", value::str("answer")},
                                   {"call-id", value::str("call-1")},
                                   {"from-tag", value::str("tag-a")},
                                   {"to-tag", value::str("tag-b")},
                                   {"sdp", value::str(sdp("198.18.2.20", 5000, b_key))}});
        ASSERT_EQ(str(a, "result"), "ok") << str(a, "error-reason");
        to_a = str(a, "sdp");
    }
    static value list(std::initializer_list<const char*> items) {
        value l = value::list();
        for (const char* s : items) {
            l.as_list().push_back(value::str(s));
        }
        return l;
    }
    // node 1's call, through a sealed record, rebuilt for node 2.
    std::unique_ptr<call> moved(node& to, std::string* why) {
        const call* c = n1.sessions->find("call-1");
        EXPECT_NE(c, nullptr);
        const std::string bytes =
            encode_record(snapshot_call(*c, "node-1", steady::now(), unix_now_ms()), test_key, "tokyo");
        decode_error err = decode_error::none;
        auto r = decode_record(bytes, test_key, "tokyo", "call-1", &err);
        EXPECT_TRUE(r) << decode_error_name(err);
        return rebuild_call(*r, to.ifs, steady::now(), unix_now_ms(), why);
    }
    uint16_t port_of(const std::string& s) { return static_cast<uint16_t>(std::stoi(line(s, "m=audio "))); }

    node n1;
    node n2;
    std::string a_key, b_key, to_a, to_b;
};

TEST_P(adopt_test, the_peer_relays_the_call_with_the_same_ports_and_keys) {
    std::string why;
    auto c = moved(n2, &why);
    ASSERT_NE(c, nullptr) << why;
    n2.sessions->adopt(std::move(c));
    EXPECT_EQ(n2.sessions->size(), 1u);
    EXPECT_EQ(n2.sessions->totals().calls_adopted, 1u);
    EXPECT_EQ(n2.adm->node().calls, 1u) << "the call holds its bandwidth on the new node";

    const std::string relay_a = line(to_a, "c=IN IP4 ");
    const std::string relay_b = line(to_b, "c=IN IP4 ");
    const uint16_t port_a = port_of(to_a);
    const uint16_t port_b = port_of(to_b);
    for (uint16_t d : {0, 1}) {
        EXPECT_NE(n2.entry(relay_a, static_cast<uint16_t>(port_a + d)), nullptr) << "A's side, +" << d;
        EXPECT_NE(n2.entry(relay_b, static_cast<uint16_t>(port_b + d)), nullptr) << "B's side, +" << d;
    }
    EXPECT_EQ(n2.flows->size(), n1.flows->size());
    const dp::flow_entry* from_a = n2.entry(relay_a, port_a);
    const dp::flow_entry* from_b = n2.entry(relay_b, port_b);
    ASSERT_TRUE(from_a && from_b);
    EXPECT_EQ(from_a->forward, dp::forward_on);
    EXPECT_EQ(from_a->sdp_dest, dp::pack_endpoint(ip_address::parse("198.18.2.20")->v4_be(), htons(5000)));

    // A's packets: opened with A's key, sealed with the key the relay gave B; and back.
    auto peer = [](const std::string& sdp_text) {
        const sdes::crypto_attr k = key_in(sdp_text);
        return dp::srtp::make_context(dp::srtp::engine::native, k.crypto_suite, k.key, false);
    };
    auto a_send = peer("\r\na=crypto:" + a_key + "\r\n");
    auto b_recv = peer(to_b);
    auto b_send = peer("\r\na=crypto:" + b_key + "\r\n");
    auto a_recv = peer(to_a);
    ASSERT_TRUE(from_a->srtp_in[0] && from_a->srtp_out[0] && from_b->srtp_in[0] && from_b->srtp_out[0]);
    EXPECT_TRUE(interoperate(*a_send, *from_a->srtp_in[0], 0x1111));
    EXPECT_TRUE(interoperate(*from_a->srtp_out[0], *b_recv, 0x1111));
    EXPECT_TRUE(interoperate(*b_send, *from_b->srtp_in[0], 0x2222));
    EXPECT_TRUE(interoperate(*from_b->srtp_out[0], *a_recv, 0x2222));

    // Later NG commands: a re-INVITE keeps the relay's keys; query; delete frees everything.
    const value re = n2.handle({{"command", value::str("offer")},
                                {"call-id", value::str("call-1")},
                                {"from-tag", value::str("tag-a")},
                                {"to-tag", value::str("tag-b")},
                                {"sdp", value::str(sdp("198.18.1.10", 4000, a_key))}});
    ASSERT_EQ(str(re, "result"), "ok") << str(re, "error-reason");
    EXPECT_EQ(line(str(re, "sdp"), "a=crypto:"), line(to_b, "a=crypto:")) << "B keeps the key it has";
    EXPECT_EQ(port_of(str(re, "sdp")), port_b);
    const value q = n2.handle({{"command", value::str("query")}, {"call-id", value::str("call-1")}});
    EXPECT_EQ(str(q, "result"), "ok");
    const value d = n2.handle({{"command", value::str("delete")}, {"call-id", value::str("call-1")}});
    EXPECT_EQ(str(d, "result"), "ok");
    EXPECT_EQ(n2.sessions->size(), 0u);
    EXPECT_EQ(n2.adm->node().calls, 0u);
    for (const auto& i : n2.ifs.all()) {
        for (const auto& a : i.addresses) {
            EXPECT_EQ(a.pool->used(), 0u);
        }
    }
}

// A long SRTP call (ROC 3) and SRTCP sent by node 1: node 2 goes on with the same ROC in
// both directions and starts its SRTCP above node 1's reservation (srtp_progress.h).
TEST_P(adopt_test, srtp_indices_carry_over) {
    const std::string relay_a = line(to_a, "c=IN IP4 ");
    const std::string relay_b = line(to_b, "c=IN IP4 ");
    const dp::flow_entry* n1_from_a = n1.entry(relay_a, port_of(to_a));
    ASSERT_TRUE(n1_from_a && n1_from_a->srtp_in[0] && n1_from_a->srtp_out[0] && n1_from_a->srtp_out[1]);
    const uint64_t at = (uint64_t{3} << 16) | 100;
    ASSERT_TRUE(n1_from_a->srtp_in[0]->seed(0x1111, at));   // 3:100 received from A ...
    ASSERT_TRUE(n1_from_a->srtp_out[0]->seed(0x1111, at));  // ... and relayed to B
    for (int i = 0; i < 3; ++i) {                           // SRTCP to B: indices 0, 1, 2
        uint8_t buf[64] = {0x80, 200, 0, 6, 0, 0, 0x11, 0x11};
        uint32_t len = 28;
        ASSERT_EQ(dp::srtp::protect_rtcp(*n1_from_a->srtp_out[1], buf, &len, 36), dp::srtp::result::ok);
    }
    call* c1 = n1.sessions->find("call-1");
    for (auto& l : c1->legs) {
        for (auto& st : l->streams) {
            scan_srtp(st);  // what the group's scan does every 250 ms
        }
    }
    std::string why;
    auto c = moved(n2, &why);
    ASSERT_NE(c, nullptr) << why;
    n2.sessions->adopt(std::move(c));
    const dp::flow_entry* from_a = n2.entry(relay_a, port_of(to_a));
    ASSERT_TRUE(from_a && from_a->srtp_in[0] && from_a->srtp_out[0] && from_a->srtp_out[1]);

    auto peer = [](const std::string& sdp_text, bool rtcp = false) {
        const sdes::crypto_attr k = key_in(sdp_text);
        return dp::srtp::make_context(dp::srtp::engine::native, k.crypto_suite, k.key, rtcp);
    };
    auto a_send = peer("\r\na=crypto:" + a_key + "\r\n");
    auto b_recv = peer(to_b);
    ASSERT_TRUE(a_send->seed(0x1111, at));
    ASSERT_TRUE(b_recv->seed(0x1111, at));
    EXPECT_TRUE(interoperate(*a_send, *from_a->srtp_in[0], 0x1111, 101)) << "node 2 decrypts A's 3:101";
    EXPECT_TRUE(interoperate(*from_a->srtp_out[0], *b_recv, 0x1111, 101)) << "and B decrypts node 2's 3:101";
    auto fresh = peer("\r\na=crypto:" + a_key + "\r\n");
    EXPECT_FALSE(interoperate(*a_send, *fresh, 0x1111, 102)) << "a context from the key alone would not (ROC 0)";

    uint8_t buf[64] = {0x80, 200, 0, 6, 0, 0, 0x11, 0x11};
    uint32_t len = 28;
    ASSERT_EQ(dp::srtp::protect_rtcp(*from_a->srtp_out[1], buf, &len, 36), dp::srtp::result::ok);
    const uint32_t idx =
        (uint32_t{buf[len - 14]} << 24 | uint32_t{buf[len - 13]} << 16 | uint32_t{buf[len - 12]} << 8 | buf[len - 11]) &
        0x7fffffffu;
    EXPECT_GT(idx, 2u + ha::srtcp_block) << "node 2's first SRTCP index is above node 1's reservation";
    auto b_rtcp = peer(to_b, true);
    EXPECT_EQ(dp::srtp::unprotect_rtcp(*b_rtcp, buf, &len), dp::srtp::result::ok);
}

TEST_P(adopt_test, latched_sources_carry_over) {
    const call* c1 = n1.sessions->find("call-1");
    const uint64_t latched = dp::pack_endpoint(ip_address::parse("198.18.1.99")->v4_be(), htons(4444));
    c1->legs[0]->streams[0].rtp_state->latched.store(latched);
    std::string why;
    auto c = moved(n2, &why);
    ASSERT_NE(c, nullptr) << why;
    n2.sessions->adopt(std::move(c));
    const call* c2 = n2.sessions->find("call-1");
    ASSERT_NE(c2, nullptr);
    EXPECT_EQ(c2->legs[0]->streams[0].rtp_state->latched.load(), latched);
    EXPECT_EQ(c2->legs[1]->streams[0].rtp_state->latched.load(), 0u);

    // The adopting publish opens no learning window on the latched port: a stranger's
    // probation packets are refused now and after the latched source fell silent
    // (dataplane/latch.h, the rules a plain leg's worker applies).
    const dp::flow_entry* e = n2.entry(line(to_a, "c=IN IP4 "), port_of(to_a));
    ASSERT_NE(e, nullptr);
    dp::stream_state& st = *c2->legs[0]->streams[0].rtp_state;
    EXPECT_GE(st.heard_tsc, e->learn_from_tsc) << "the window is closed";
    const uint64_t stranger = dp::pack_endpoint(ip_address::parse("198.18.1.66")->v4_be(), htons(5555));
    const uint64_t hz = rte_get_tsc_hz();
    for (const uint64_t later : {uint64_t{0}, 3 * hz / 2}) {
        for (uint16_t seq = 100; seq < 100 + 2 * dp::probation_packets; ++seq) {
            uint8_t rtp[32] = {
                0x80, 0x00, static_cast<uint8_t>(seq >> 8), static_cast<uint8_t>(seq), 0, 0, 0, 0, 0x12, 0x34,
                0x56, 0x78};
            const auto v = dp::check_plain_source(*e, st, latched, stranger, rtp, sizeof rtp, dp::kind_rtp,
                                                  dp::make_latch_clock(rte_rdtsc() + later, hz));
            EXPECT_FALSE(v.latch) << "a stranger latched at +" << later / (hz / 1000) << " ms, packet " << seq;
        }
    }
}

// The control thread's flat snapshot (a ring slot, no allocation: flat_record.h) carries
// exactly what snapshot_call does, SRTP indices and latched sources included, and a call
// past a slot says so.
TEST_P(adopt_test, a_flat_snapshot_is_the_record_snapshot_call_makes) {
    call* c1 = n1.sessions->find("call-1");
    ASSERT_NE(c1, nullptr);
    c1->legs[0]->streams[0].rtp_state->latched.store(
        dp::pack_endpoint(ip_address::parse("198.18.1.99")->v4_be(), htons(4444)));
    const dp::flow_entry* from_a = n1.entry(line(to_a, "c=IN IP4 "), port_of(to_a));
    ASSERT_TRUE(from_a && from_a->srtp_in[0] && from_a->srtp_out[0]);
    ASSERT_TRUE(from_a->srtp_in[0]->seed(0x1111, (uint64_t{3} << 16) | 100));
    ASSERT_TRUE(from_a->srtp_out[0]->seed(0x2222, (uint64_t{1} << 16) | 7));
    for (auto& l : c1->legs) {
        for (auto& st : l->streams) {
            scan_srtp(st);
        }
    }
    const auto now = steady::now();
    const int64_t unix_ms = unix_now_ms();
    auto flat = std::make_unique<flat_record>();
    ASSERT_TRUE(snapshot_flat(*c1, now, unix_ms, *flat));
    const call_record expanded = expand(*flat, "node-1");
    const call_record made = snapshot_call(*c1, "node-1", now, unix_ms);
    ASSERT_FALSE(made.legs.empty());
    EXPECT_FALSE(made.legs[0].streams[0].srtp_in[0].empty()) << "the case covers SRTP indices";
    expect_same_record(expanded, made);

    // The agent encodes the flat record straight (no call_record): the same header and,
    // once opened, the same body byte for byte as the expanded record's encoding; each
    // under its own nonce.
    sealer s(test_key);
    encode_buffers b;
    std::string direct = "left alone";
    encode_record(*flat, "node-1", s, "tokyo", b, direct);
    ASSERT_EQ(direct.substr(0, 10), "left alone") << "appended to what was there";
    direct.erase(0, 10);
    const std::string via_call = encode_record(expanded, s, "tokyo");
    ASSERT_EQ(direct.substr(0, record_header_bytes), via_call.substr(0, record_header_bytes));
    EXPECT_EQ(record_version_of(direct), 1);
    const std::string aad = direct.substr(0, record_header_bytes) + "tokyo" + std::string(1, '\0') + "call-1";
    const auto body_direct = open(test_key, std::string_view(direct).substr(record_header_bytes), aad);
    const auto body_call = open(test_key, std::string_view(via_call).substr(record_header_bytes), aad);
    ASSERT_TRUE(body_direct && body_call);
    EXPECT_EQ(*body_direct, *body_call);
    EXPECT_NE(direct.substr(record_header_bytes, seal_nonce_bytes),
              via_call.substr(record_header_bytes, seal_nonce_bytes));
    EXPECT_TRUE(b.plain.find_first_not_of('\0') == std::string::npos) << "the clear body is wiped";

    // And the record moves the call as the other one does.
    decode_error err = decode_error::none;
    auto r = decode_record(direct, test_key, "tokyo", "call-1", &err);
    ASSERT_TRUE(r) << decode_error_name(err);
    std::string why;
    auto moved_call = rebuild_call(*r, n2.ifs, steady::now(), unix_now_ms(), &why);
    ASSERT_NE(moved_call, nullptr) << why;
    n2.sessions->adopt(std::move(moved_call));
    EXPECT_EQ(n2.flows->size(), n1.flows->size());

    // Past the capacity: a call-id longer than a slot's.
    call longer;
    longer.call_id = std::string(200, 'x');
    EXPECT_FALSE(snapshot_flat(longer, now, unix_ms, *flat));
}

// A record's times come from Redis: any value rebuilds without overflow (clamped to 50 years
// either side; the fuzz target found the overflow, seed killer_time_overflow).
TEST_P(adopt_test, times_from_a_record_never_overflow) {
    const call* c = n1.sessions->find("call-1");
    ASSERT_NE(c, nullptr);
    const auto now = steady::now();
    call_record r = snapshot_call(*c, "node-1", now, unix_now_ms());
    r.created_unix_ms = INT64_MIN;
    r.last_signal_unix_ms = INT64_MAX;
    r.answered_unix_ms = INT64_MAX;
    r.delete_at_unix_ms = INT64_MIN + 1;
    std::string why;
    auto moved = rebuild_call(r, n2.ifs, now, unix_now_ms(), &why);
    ASSERT_NE(moved, nullptr) << why;
    const auto years_40 = std::chrono::hours(24 * 365 * 40);
    EXPECT_LT(moved->created, now - years_40) << "long ago stays long ago";
    EXPECT_GT(moved->last_signal, now + years_40) << "far ahead stays far ahead";
    ASSERT_TRUE(moved->delete_at.has_value());
    EXPECT_LT(*moved->delete_at, now - years_40);
}

TEST_P(adopt_test, refused_when_held_already_or_a_port_is_in_use) {
    std::string why;
    auto same = moved(n1, &why);
    ASSERT_NE(same, nullptr) << why;
    EXPECT_THROW(n1.sessions->adopt(std::move(same)), session_error) << "node 1 holds it";

    const call* c1 = n1.sessions->find("call-1");
    const stream& s = c1->legs[1]->streams[0];
    ASSERT_TRUE(n2.ifs.find("int")->take(s.alloc)) << "a port of the call in use on node 2";
    auto c = moved(n2, &why);
    ASSERT_NE(c, nullptr) << why;
    EXPECT_THROW(n2.sessions->adopt(std::move(c)), session_error);
    EXPECT_EQ(n2.sessions->size(), 0u);
    EXPECT_EQ(n2.flows->size(), 0u);
    EXPECT_EQ(n2.ifs.find("ext")->addresses[0].pool->used() + n2.ifs.find("ext")->addresses[1].pool->used(), 0u)
        << "the ports claimed before the clash are given back";
    EXPECT_EQ(n2.adm->node().calls, 0u);
}

TEST_P(adopt_test, records_that_do_not_fit_this_node_are_refused) {
    const call* c1 = n1.sessions->find("call-1");
    const call_record good = snapshot_call(*c1, "node-1", steady::now(), unix_now_ms());
    auto refused = [&](call_record r, const char* what) {
        std::string why;
        EXPECT_EQ(rebuild_call(r, n2.ifs, steady::now(), unix_now_ms(), &why), nullptr) << what;
        EXPECT_FALSE(why.empty()) << what;
    };
    call_record r = good;
    r.legs[0].iface = "nowhere";
    refused(r, "unknown interface");
    r = good;
    r.legs[0].streams[0].address_index = 5;
    refused(r, "address index past the interface's");
    r = good;
    r.legs[0].streams[0].local.addr[3] = 77;
    refused(r, "local address not the interface's");
    r = good;
    r.legs[0].streams[0].rtp_port = 30001;
    refused(r, "odd port");
    r = good;
    r.legs[0].streams[0].rtp_port = 50000;
    refused(r, "port outside the range");
    r = good;
    r.legs[1].parked = true;
    refused(r, "a parked branch with ports");
    r = good;
    r.legs.clear();
    refused(r, "no legs");
    r = good;
    r.admitted_ifs[1] = "gone";
    refused(r, "admitted on an unknown interface");
    EXPECT_EQ(n2.sessions->size(), 0u);
}

TEST_P(adopt_test, suspend_withdraws_the_flows_and_resume_brings_them_back) {
    const uint32_t flows = static_cast<uint32_t>(n1.flows->size());
    const std::string relay_a = line(to_a, "c=IN IP4 ");
    EXPECT_EQ(n1.sessions->suspend_address(*ip_address::parse(relay_a)), 1u);
    n1.flows->reclaim_all();
    EXPECT_EQ(n1.flows->size(), 0u) << "both legs' flows go: nothing is sent from the address either";
    EXPECT_EQ(n1.sessions->expire(steady::now() + std::chrono::hours(10), 0, 0), 0u) << "no timers while suspended";
    const value o = n1.handle({{"command", value::str("offer")},
                               {"call-id", value::str("call-1")},
                               {"from-tag", value::str("tag-a")},
                               {"sdp", value::str(sdp("198.18.1.10", 4000, a_key))}});
    EXPECT_EQ(str(o, "error-reason"), suspended_error);
    EXPECT_EQ(n1.sessions->resume_address(*ip_address::parse(relay_a)), 1u);
    EXPECT_EQ(n1.flows->size(), flows);
    EXPECT_EQ(n1.sessions->drop_address(*ip_address::parse(relay_a)), 1u);
    EXPECT_EQ(n1.sessions->size(), 0u);
    EXPECT_EQ(n1.adm->node().calls, 0u);
}

INSTANTIATE_TEST_SUITE_P(ha, adopt_test, ::testing::ValuesIn(dp::srtp::all_suites),
                         [](const auto& info) { return std::string(dp::srtp::info(info.param).name); });

}  // namespace

}  // namespace rtprelay::ha
