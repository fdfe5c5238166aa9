#include "dataplane/worker.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <algorithm>

#include <rte_byteorder.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring.h>

#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "control/interfaces.h"
#include "control/ng/replies.h"
#include "control/publish/publisher.h"
#include "control/session/manager.h"
#include "dataplane/arp.h"
#include "dataplane/latch.h"
#include "dataplane/plane.h"
#include "dataplane/port_setup.h"
#include "dataplane/record_stage.h"
#include "dataplane/rewrite.h"
#include "dataplane/srtp/batch.h"
#include "dataplane/srtp/srtp.h"
#include "tests/dataplane/test_packets.h"

// The worker on two ring-backed ethdevs, in the daemon's data plane (dataplane/plane.h). A test puts
// frames on a port's RX ring (setting mbuf->port, as a NIC's driver would; net_ring leaves
// it alone), runs the worker until it is idle, and takes what it sent off the TX rings.

namespace rtprelay::dp {
namespace {

using test::bytes;
using test::frame_spec;
using test::free_all;
using test::ip4;
using test::ring_port;
using namespace std::chrono_literals;

constexpr int side_a = 0;  // interface "a": the caller's side
constexpr int side_b = 1;  // interface "b": the callee's side

// A SIP endpoint on one side of the relay.
struct peer {
    std::string ip;
    uint16_t port;
    rte_ether_addr mac;
    uint32_t be() const {
        in_addr a{};
        inet_pton(AF_INET, ip.c_str(), &a);
        return a.s_addr;
    }
};

std::string sdp_for(const peer& p, uint16_t port) {
    return "v=0\r\no=- 1 1 IN IP4 " + p.ip + "\r\ns=-\r\nc=IN IP4 " + p.ip + "\r\nt=0 0\r\nm=audio " +
           std::to_string(port) + " RTP/AVP 0 8\r\na=sendrecv\r\n";
}

uint16_t first_media_port(const std::string& sdp) {
    const size_t at = sdp.find("m=audio ");
    return at == std::string::npos ? 0 : static_cast<uint16_t>(std::stoi(sdp.substr(at + 8)));
}

class worker_test : public ::testing::Test {
 protected:
    static void SetUpTestSuite() {
        for (int s = 0; s < 2; ++s) {
            ring_port& p = ports_[s];
            ASSERT_TRUE(test::open_ring_port(std::string("ut_port") + static_cast<char>('a' + s), p))
                << "ring port " << s << ": rings or rte_eth_from_rings failed";
            ASSERT_LT(p.id, max_ports);
            // Every net_ring port reports the same MAC and cannot change it: give each
            // its own in dataplane_shared::port_macs (all the worker reads), so the
            // tests can tell which port a frame was sent from.
            p.mac = test::mac(static_cast<uint8_t>(0xa0 + s));
        }
        ASSERT_FALSE(rte_is_same_ether_addr(&ports_[0].mac, &ports_[1].mac));
    }

    static void TearDownTestSuite() {
        for (ring_port& p : ports_) {
            test::close_ring_port(p);
        }
    }

    void SetUp() override {
        ASSERT_NE(ports_[side_b].rx, nullptr) << "ring ports missing";
        for (ring_port& p : ports_) {
            free_all(p.rx);
            free_all(p.tx);
        }
        // Interfaces and their media addresses, as the daemon reads them from its config;
        // the daemon's data plane on the ring ports, one worker polled by the test.
        interfaces_ = std::make_unique<interface_set>();
        interfaces_->add(parse_interface(
            "a address=198.18.1.1/24 dpdk-port=" + std::to_string(ports_[side_a].id) + " ports=30000-30999", 1));
        interfaces_->add(parse_interface("b address=198.18.2.1/24 dpdk-port=" + std::to_string(ports_[side_b].id) +
                                             " gateway=198.18.2.254 ports=40000-40999",
                                         2));
        plane_config c;
        c.name = "ut_worker";
        c.pool = test::packet_pool();
        for (const ring_port& p : ports_) {
            c.ports.push_back(plane_port{.id = p.id, .set_up = false, .mac = p.mac});
        }
        c.addresses = {{addr_a_, ports_[side_a].id, 0}, {addr_b_, ports_[side_b].id, 0}};
        c.max_flows = 1024;
        c.max_neighbours = 64;
        c.record_bytes = 65536;  // call recording's ring (the recording tests at the end)
        c.record_hot = 65536;    // and its hot area
        plane_ = std::make_unique<plane>(c);
        plane_->register_readers();  // what worker::run() does before its loop
        worker_ = &plane_->worker_at(0);
        flows_ = &plane_->flows();
        neighbours_ = &plane_->neighbours();
        to_control_ = plane_->to_control();
        control_tx_ = plane_->control_tx();

        pub_ = std::make_unique<publisher>(*flows_, *neighbours_, 1);
        sessions_ = std::make_unique<session_manager>(*interfaces_, *pub_);
    }

    void TearDown() override {
        sessions_.reset();  // removes what is left of the calls' flows
        pub_.reset();
        plane_.reset();  // reclaims them, frees what the rings hold
        for (ring_port& p : ports_) {
            free_all(p.rx);
            free_all(p.tx);
        }
    }

    // --- traffic ---
    void inject(int side, const bytes& f) {
        rte_mbuf* m = test::to_mbuf(f, ports_[side].id);
        ASSERT_NE(m, nullptr);
        ASSERT_EQ(rte_ring_enqueue(ports_[side].rx, m), 0);
    }
    // Polls until nothing more arrives, then drains the TX buffers.
    void run() {
        for (int turns = 0; worker_->poll_once(rte_rdtsc()) != 0; ++turns) {
            ASSERT_LT(turns, 1000);
        }
        worker_->flush_tx();
    }
    std::vector<bytes> sent(int side) { return take(ports_[side].tx); }
    std::vector<bytes> take(rte_ring* r) {
        std::vector<bytes> out;
        void* obj = nullptr;
        while (rte_ring_dequeue(r, &obj) == 0) {
            auto* m = static_cast<rte_mbuf*>(obj);
            out.push_back(test::from_mbuf(m));
            rte_pktmbuf_free(m);
        }
        return out;
    }
    uint64_t drops(drop_reason r) const { return worker_->counters.drops[static_cast<size_t>(r)]; }
    void expect_accounted() const {
        const worker_counters& c = worker_->counters;
        EXPECT_EQ(c.rx_packets,
                  c.relayed_rtp + c.relayed_rtcp + c.total_drops() + c.arp_to_control + c.icmp_echo_replies);
        EXPECT_EQ(c.rx_packets, c.accounted());
    }

    // A frame carrying `payload` from `from` (on `side`) to the relay's `relay_addr`:`relay_port`.
    bytes frame(int side, const peer& from, uint16_t from_port, uint32_t relay_addr, uint16_t relay_port,
                bytes payload) const {
        frame_spec s;
        s.src_mac = from.mac;
        s.dst_mac = ports_[side].mac;
        s.src_ip = from.be();
        s.dst_ip = relay_addr;
        s.src_port = from_port;
        s.dst_port = relay_port;
        s.payload = std::move(payload);
        return test::udp_frame(s);
    }
    // As frame, with payload_len bytes counting up from `fill`.
    bytes media(int side, const peer& from, uint16_t from_port, uint32_t relay_addr, uint16_t relay_port,
                size_t payload_len = 172, uint8_t fill = 0x80) const {
        bytes payload(payload_len);
        for (size_t i = 0; i < payload_len; ++i) {
            payload[i] = static_cast<uint8_t>(fill + i);
        }
        return frame(side, from, from_port, relay_addr, relay_port, std::move(payload));
    }
    static bytes payload_of(const bytes& f) { return test::parse_udp(f)->payload; }
    // A stream from a source the SDP did not name (a NAT'd phone): probation_packets RTP
    // packets with sequential sequence numbers, of which only the last is relayed (latch.h).
    void inject_new_source(int side, const peer& from, uint16_t from_port, uint32_t relay_addr, uint16_t relay_port) {
        for (uint16_t k = 0; k < probation_packets; ++k) {
            bytes payload(172, 0x55);
            payload[0] = 0x80;  // RTP version 2, sequence numbers 0x1000 + k
            payload[2] = 0x10;
            payload[3] = static_cast<uint8_t>(k);
            inject(side, frame(side, from, from_port, relay_addr, relay_port, std::move(payload)));
        }
    }

    // --- signalling ---
    struct call_ports {
        uint16_t a = 0;  // relay's RTP port on interface a (facing the caller)
        uint16_t b = 0;  // relay's RTP port on interface b (facing the callee)
    };
    call_ports make_call(const std::string& call_id, const peer& caller, const peer& callee) {
        call_ports p;
        sdp_request offer;
        offer.call_id = call_id;
        offer.from_tag = "caller-tag";
        offer.sdp = sdp_for(caller, caller.port);
        offer.direction = {"a", "b"};
        const sdp_reply o = sessions_->offer(offer, std::chrono::steady_clock::now());
        EXPECT_NE(o.sdp.find("c=IN IP4 198.18.2.1\r\n"), std::string::npos) << o.sdp;
        p.b = first_media_port(o.sdp);

        sdp_request answer;
        answer.call_id = call_id;
        answer.from_tag = "caller-tag";
        answer.to_tag = "callee-tag";
        answer.sdp = sdp_for(callee, callee.port);
        const sdp_reply a = sessions_->answer(answer, std::chrono::steady_clock::now());
        EXPECT_NE(a.sdp.find("c=IN IP4 198.18.1.1\r\n"), std::string::npos) << a.sdp;
        p.a = first_media_port(a.sdp);
        EXPECT_TRUE(p.a >= 30000 && p.a < 30999 && p.a % 2 == 0) << p.a;
        EXPECT_TRUE(p.b >= 40000 && p.b < 40999 && p.b % 2 == 0) << p.b;
        return p;
    }
    void learn(int side, const peer& p) { learn(side, p.be(), p.mac); }
    void learn(int side, uint32_t addr, const rte_ether_addr& m) {
        neighbours_->learn(ports_[side].id, addr, pack_mac(m), true, neighbour_table::clock::now());
    }
    int64_t query_int(const std::string& call_id, std::initializer_list<std::string_view> path) const {
        const ng::value q = ng::reply_call_stats(sessions_->query(call_id)).take_value();
        const ng::value* v = &q;
        for (std::string_view k : path) {
            v = v->find(k);
            if (v == nullptr) {
                ADD_FAILURE() << "query reply has no '" << k << "'";
                return -1;
            }
        }
        return v->as_integer();
    }
    // The stream dict for `tag`'s first media, RTP (0) or RTCP (1).
    ng::value query_stream(const std::string& call_id, const std::string& tag, size_t which) const {
        const ng::value q = ng::reply_call_stats(sessions_->query(call_id)).take_value();
        const ng::value* t = q.find("tags") ? q.find("tags")->find(tag) : nullptr;
        if (t == nullptr || t->find("medias") == nullptr || t->find("medias")->as_list().empty()) {
            ADD_FAILURE() << "no media for tag " << tag;
            return ng::value::dict();
        }
        const ng::value* streams = t->find("medias")->as_list()[0].find("streams");
        if (streams == nullptr || streams->as_list().size() <= which) {
            ADD_FAILURE() << "no stream " << which << " for tag " << tag;
            return ng::value::dict();
        }
        return streams->as_list()[which];
    }

    // Checks one relayed frame: addressing, TTL, checksums, payload.
    void expect_relayed(const bytes& f, int out_side, const rte_ether_addr& dst_mac, uint32_t src_ip, uint16_t src_port,
                        uint32_t dst_ip, uint16_t dst_port, const bytes& payload) const {
        const auto v = test::parse_udp(f);
        ASSERT_TRUE(v.has_value()) << "not a UDP frame";
        EXPECT_TRUE(rte_is_same_ether_addr(&v->dst_mac, &dst_mac));
        EXPECT_TRUE(rte_is_same_ether_addr(&v->src_mac, &ports_[out_side].mac));
        EXPECT_EQ(v->vlan, 0);
        EXPECT_EQ(v->src_ip(), src_ip);
        EXPECT_EQ(v->src_port(), src_port);
        EXPECT_EQ(v->dst_ip(), dst_ip);
        EXPECT_EQ(v->dst_port(), dst_port);
        EXPECT_EQ(v->ip.time_to_live, 64);
        EXPECT_TRUE(v->ip_checksum_ok);
        EXPECT_TRUE(v->udp_checksum_ok);
        EXPECT_NE(v->udp.dgram_cksum, 0);
        EXPECT_EQ(v->payload, payload);
    }

    // An SRTP stream published by hand (publish_direct) toward `dest_ip`:6000 with its own
    // receive and send contexts, and packets seq in [first, end) protected by the peer
    // beforehand (`wire`). Keys: byte i of the incoming key is in_base + i, of the outgoing
    // out_base + i; the RTP payload of seq is (seq * mul + i + ssrc) for byte i.
    struct srtp_stream {
        uint16_t port = 0;
        peer dest;
        uint8_t ssrc = 0;
        uint16_t mul = 1;
        std::unique_ptr<srtp::context> sender, in, out, receiver;  // receiver: libsrtp2, the far peer
        std::vector<bytes> wire;
    };
    static bytes rtp_packet(uint16_t seq, uint8_t ssrc, uint16_t mul) {
        bytes p(172);
        p[0] = 0x80;
        p[2] = static_cast<uint8_t>(seq >> 8);
        p[3] = static_cast<uint8_t>(seq);
        p[11] = ssrc;
        for (size_t i = 12; i < p.size(); ++i) {
            p[i] = static_cast<uint8_t>(seq * mul + i + ssrc);
        }
        return p;
    }
    // `in_suite`/`out_suite`: the two legs' suites; `in_mki`: the MKI length of the incoming
    // key (its bytes 0xa1, 0xa2, ...).
    void add_srtp_stream(srtp_stream& st, uint16_t port, const char* dest_ip, uint8_t mac_byte, uint8_t in_base,
                         uint8_t out_base, uint16_t first, uint16_t end,
                         srtp::suite in_suite = srtp::suite::aes_cm_128_hmac_sha1_80,
                         srtp::suite out_suite = srtp::suite::aes_cm_128_hmac_sha1_80, uint8_t in_mki = 0) {
        st.port = port;
        st.dest = peer{dest_ip, 6000, test::mac(mac_byte)};
        flow_entry* e = publish_direct(st.port, pack_endpoint(st.dest.be(), rte_cpu_to_be_16(6000)));
        learn(side_b, st.dest);
        srtp::master_key k_in{}, k_out{};
        for (size_t i = 0; i < k_in.key.size(); ++i) {
            k_in.key[i] = static_cast<uint8_t>(in_base + i);
            k_out.key[i] = static_cast<uint8_t>(out_base + i);
        }
        k_in.mki_len = in_mki;
        k_in.mki = {0xa1, 0xa2, 0xa3, 0xa4};
        st.sender = srtp::make_context(srtp::engine::native, in_suite, k_in, false);
        st.in = srtp::make_context(srtp::engine::native, in_suite, k_in, false);
        st.out = srtp::make_context(srtp::engine::native, out_suite, k_out, false);
        st.receiver = srtp::make_context(srtp::engine::libsrtp2, out_suite, k_out, false);
        e->srtp_in[kind_rtp] = st.in.get();
        e->srtp_out[kind_rtp] = st.out.get();
        for (uint16_t seq = first; seq < end; ++seq) {
            bytes p = rtp_packet(seq, st.ssrc, st.mul);
            auto len = static_cast<uint32_t>(p.size());
            p.resize(p.size() + st.sender->overhead());
            ASSERT_EQ(srtp::protect_rtp(*st.sender, p.data(), &len, st.sender->overhead()), srtp::result::ok);
            st.wire.push_back(p);
        }
    }
    // Injects on side a, from the caller, (stream, packet) in order; packet -1 is `forged`.
    void inject_srtp_burst(const std::vector<srtp_stream>& st, const std::vector<std::pair<int, int>>& burst,
                           const bytes& forged) {
        for (const auto& [s, k] : burst) {
            const srtp_stream& stream = st[static_cast<size_t>(s)];
            inject(side_a, frame(side_a, caller_, 4000, addr_a_, stream.port,
                                 k < 0 ? forged : stream.wire[static_cast<size_t>(k)]));
        }
    }
    // What side b sent, decrypted by each stream's far peer: stream s's packets are the
    // sequence numbers relayed[s], in that order. next[s] = how many of stream s came out.
    void expect_relayed_in_order(const std::vector<srtp_stream>& st, const std::vector<uint16_t> (&relayed)[2],
                                 size_t count, size_t (&next)[2]) {
        next[0] = next[1] = 0;
        const auto sent_b = sent(side_b);
        ASSERT_EQ(sent_b.size(), count);
        for (const bytes& frame : sent_b) {
            const size_t s = test::parse_udp(frame)->dst_ip() == st[0].dest.be() ? 0 : 1;
            bytes p = payload_of(frame);
            auto len = static_cast<uint32_t>(p.size());
            ASSERT_EQ(srtp::unprotect_rtp(*st[s].receiver, p.data(), &len), srtp::result::ok);
            p.resize(len);
            ASSERT_LT(next[s], relayed[s].size());
            EXPECT_EQ(p, rtp_packet(relayed[s][next[s]], st[s].ssrc, st[s].mul)) << "stream " << s;
            ++next[s];
        }
    }

    // A flow published by hand (no session) on interface a's address, forwarding to `dest`
    // out of side b from 198.18.2.1:41000.
    flow_entry* publish_direct(uint16_t local_port, uint64_t dest) {
        auto e = std::make_unique<flow_entry>();
        states_.push_back(std::make_unique<stream_state>());
        e->self = states_.back().get();
        e->sdp_dest = dest;
        e->out_src_addr = addr_b_;
        e->out_src_port = rte_cpu_to_be_16(41000);
        e->out_port_id = ports_[side_b].id;
        e->in_port_id = ports_[side_a].id;
        e->flags = flow_learn;
        e->forward = 1;
        flow_entry* raw = e.get();
        flow_key k{addr_a_, rte_cpu_to_be_16(local_port), 0};
        EXPECT_TRUE(flows_->publish(k, std::move(e)));
        return raw;  // still writable: the test owns the timing (nothing polls concurrently)
    }

    static inline ring_port ports_[2];

    const uint32_t addr_a_ = ip4(198, 18, 1, 1);
    const uint32_t addr_b_ = ip4(198, 18, 2, 1);
    const peer caller_{"198.18.1.10", 4000, test::mac(0x10)};
    const peer callee_{"198.18.2.20", 5000, test::mac(0x20)};

    std::unique_ptr<plane> plane_;
    // The plane's, for the tests' convenience.
    worker* worker_ = nullptr;
    flow_table* flows_ = nullptr;
    neighbour_table* neighbours_ = nullptr;
    rte_ring* to_control_ = nullptr;
    rte_ring* control_tx_ = nullptr;
    std::unique_ptr<interface_set> interfaces_;
    std::unique_ptr<publisher> pub_;
    std::unique_ptr<session_manager> sessions_;
    std::vector<std::unique_ptr<stream_state>> states_;  // for publish_direct; outlive flows_
};

TEST_F(worker_test, session_publishes_both_directions_and_wants_next_hops) {
    const call_ports p = make_call("c1", caller_, callee_);
    EXPECT_EQ(flows_->size(), 4u);  // RTP and RTCP, each direction
    for (uint16_t port : {p.a, static_cast<uint16_t>(p.a + 1)}) {
        const flow_entry* e = flows_->lookup(flow_key{addr_a_, rte_cpu_to_be_16(port), 0});
        ASSERT_NE(e, nullptr) << port;
        EXPECT_EQ(e->in_port_id, ports_[side_a].id);
        EXPECT_EQ(e->out_port_id, ports_[side_b].id);
    }
    ASSERT_NE(flows_->lookup(flow_key{addr_b_, rte_cpu_to_be_16(p.b), 0}), nullptr);
    // The SDP peers' next hops exist before the first packet and are flagged for ARP.
    const neighbour* nc = neighbours_->lookup(ports_[side_a].id, caller_.be());
    const neighbour* nd = neighbours_->lookup(ports_[side_b].id, callee_.be());
    ASSERT_NE(nc, nullptr);
    ASSERT_NE(nd, nullptr);
    EXPECT_EQ(nc->wanted.load(), 1u);
    EXPECT_EQ(nd->wanted.load(), 1u);
}

TEST_F(worker_test, relays_rtp_caller_to_callee) {
    const call_ports p = make_call("c1", caller_, callee_);
    learn(side_b, callee_);
    const bytes in = media(side_a, caller_, 4000, addr_a_, p.a);
    inject(side_a, in);
    run();
    EXPECT_TRUE(sent(side_a).empty());
    const auto out = sent(side_b);
    ASSERT_EQ(out.size(), 1u);
    expect_relayed(out[0], side_b, callee_.mac, addr_b_, p.b, callee_.be(), 5000, payload_of(in));
    EXPECT_EQ(worker_->counters.relayed_rtp, 1u);
    EXPECT_EQ(worker_->counters.relayed_bytes, out[0].size());
    expect_accounted();
}

TEST_F(worker_test, relays_rtp_callee_to_caller) {
    const call_ports p = make_call("c1", caller_, callee_);
    learn(side_a, caller_);
    const bytes in = media(side_b, callee_, 5000, addr_b_, p.b, 160, 0x11);
    inject(side_b, in);
    run();
    EXPECT_TRUE(sent(side_b).empty());
    const auto out = sent(side_a);
    ASSERT_EQ(out.size(), 1u);
    expect_relayed(out[0], side_a, caller_.mac, addr_a_, p.a, caller_.be(), 4000, payload_of(in));
    expect_accounted();
}

TEST_F(worker_test, relays_rtcp_on_port_plus_one) {
    const call_ports p = make_call("c1", caller_, callee_);
    learn(side_a, caller_);
    learn(side_b, callee_);
    const bytes up = media(side_a, caller_, 4001, addr_a_, static_cast<uint16_t>(p.a + 1), 52, 0x81);
    const bytes down = media(side_b, callee_, 5001, addr_b_, static_cast<uint16_t>(p.b + 1), 60, 0x90);
    inject(side_a, up);
    inject(side_b, down);
    run();
    const auto to_callee = sent(side_b);
    const auto to_caller = sent(side_a);
    ASSERT_EQ(to_callee.size(), 1u);
    ASSERT_EQ(to_caller.size(), 1u);
    expect_relayed(to_callee[0], side_b, callee_.mac, addr_b_, static_cast<uint16_t>(p.b + 1), callee_.be(), 5001,
                   payload_of(up));
    expect_relayed(to_caller[0], side_a, caller_.mac, addr_a_, static_cast<uint16_t>(p.a + 1), caller_.be(), 4001,
                   payload_of(down));
    EXPECT_EQ(worker_->counters.relayed_rtcp, 2u);
    EXPECT_EQ(worker_->counters.relayed_rtp, 0u);
    expect_accounted();
}

TEST_F(worker_test, replies_follow_the_latched_source) {
    // The caller is behind NAT: its media comes from another port than its SDP said.
    const call_ports p = make_call("c1", caller_, callee_);
    learn(side_a, caller_);
    learn(side_b, callee_);
    inject_new_source(side_a, caller_, 61000, addr_a_, p.a);
    run();
    ASSERT_EQ(sent(side_b).size(), 1u);
    EXPECT_EQ(drops(drop_reason::latch_probation), probation_packets - 1);
    inject(side_b, media(side_b, callee_, 5000, addr_b_, p.b));
    run();
    const auto out = sent(side_a);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(test::parse_udp(out[0])->dst_port(), 61000);
    // The query shows where media really comes from, next to what the SDP said.
    const ng::value s = query_stream("c1", "caller-tag", 0);
    EXPECT_EQ(s.find("endpoint")->find("port")->as_integer(), 61000);
    EXPECT_EQ(s.find("advertised endpoint")->find("port")->as_integer(), 4000);
}

TEST_F(worker_test, long_burst_is_relayed_in_order) {
    const call_ports p = make_call("c1", caller_, callee_);
    learn(side_b, callee_);
    for (int i = 0; i < 100; ++i) {
        inject(side_a, media(side_a, caller_, 4000, addr_a_, p.a, 40, static_cast<uint8_t>(i)));
    }
    run();
    const auto out = sent(side_b);
    ASSERT_EQ(out.size(), 100u);
    for (size_t i = 0; i < out.size(); ++i) {
        EXPECT_EQ(payload_of(out[i])[0], static_cast<uint8_t>(i)) << i;
    }
    EXPECT_EQ(worker_->counters.relayed_rtp, 100u);
    expect_accounted();
}

TEST_F(worker_test, unknown_port_on_our_address) {
    const call_ports p = make_call("c1", caller_, callee_);
    inject(side_a, media(side_a, caller_, 4000, addr_a_, static_cast<uint16_t>(p.a + 2)));
    run();
    EXPECT_EQ(drops(drop_reason::unknown_port), 1u);
    EXPECT_TRUE(sent(side_a).empty());
    EXPECT_TRUE(sent(side_b).empty());
    expect_accounted();
}

TEST_F(worker_test, udp_to_an_address_not_ours_is_not_for_us) {
    const call_ports p = make_call("c1", caller_, callee_);
    inject(side_a, media(side_a, caller_, 4000, ip4(198, 18, 1, 99), p.a));
    // Interface b's address is not ours on port a either.
    inject(side_a, media(side_a, caller_, 4000, addr_b_, 12345));
    run();
    EXPECT_EQ(drops(drop_reason::not_for_us), 2u);
    EXPECT_EQ(drops(drop_reason::unknown_port), 0u);
    expect_accounted();
}

TEST_F(worker_test, udp_to_a_group_address_is_link_multicast) {
    make_call("c1", caller_, callee_);
    // mDNS from a host on the segment: 224.0.0.251:5353 to MAC 01:00:5e:00:00:fb.
    bytes f = media(side_a, caller_, 5353, ip4(224, 0, 0, 251), 5353);
    const uint8_t group_mac[6] = {0x01, 0x00, 0x5e, 0x00, 0x00, 0xfb};
    std::copy(group_mac, group_mac + 6, f.begin());
    inject(side_a, f);
    run();
    EXPECT_EQ(drops(drop_reason::link_multicast), 1u);
    EXPECT_EQ(drops(drop_reason::not_for_us), 0u);
    EXPECT_EQ(drops(drop_reason::unknown_port), 0u);
    expect_accounted();
}

TEST_F(worker_test, flow_arriving_on_the_wrong_port_is_dropped) {
    const call_ports p = make_call("c1", caller_, callee_);
    learn(side_b, callee_);
    inject(side_b, media(side_b, caller_, 4000, addr_a_, p.a));  // a's flow, seen on port b
    run();
    EXPECT_EQ(drops(drop_reason::wrong_port), 1u);
    EXPECT_TRUE(sent(side_b).empty());
    expect_accounted();
}

TEST_F(worker_test, unresolved_neighbour_drops_and_flags_it_wanted) {
    const call_ports p = make_call("c1", caller_, callee_);
    neighbour* n = neighbours_->get_or_create(ports_[side_b].id, callee_.be());
    n->wanted.store(0);  // as if the control plane had already asked once
    inject(side_a, media(side_a, caller_, 4000, addr_a_, p.a));
    run();
    EXPECT_EQ(drops(drop_reason::no_neighbour), 1u);
    EXPECT_EQ(n->wanted.load(), 1u);
    EXPECT_TRUE(sent(side_b).empty());
    EXPECT_EQ(query_int("c1", {"totals", "RTP", "errors"}), 1);
    EXPECT_EQ(query_int("c1", {"totals", "RTP", "packets"}), 0);
    expect_accounted();

    // Once the control plane learns the MAC, the next packet goes through.
    learn(side_b, callee_);
    inject(side_a, media(side_a, caller_, 4000, addr_a_, p.a));
    run();
    EXPECT_EQ(sent(side_b).size(), 1u);
}

TEST_F(worker_test, latched_peer_without_neighbour_entry_is_requested) {
    const call_ports p = make_call("c1", caller_, callee_);
    learn(side_b, callee_);
    learn(side_a, caller_);
    // Media comes from another host than the SDP named; replies must go there.
    const peer moved{"198.18.1.11", 4000, test::mac(0x12)};
    inject_new_source(side_a, moved, 4000, addr_a_, p.a);
    run();
    ASSERT_EQ(sent(side_b).size(), 1u);
    inject(side_b, media(side_b, callee_, 5000, addr_b_, p.b));
    run();
    EXPECT_EQ(drops(drop_reason::no_neighbour), 1u);
    EXPECT_TRUE(sent(side_a).empty());
    EXPECT_EQ(neighbours_->lookup(ports_[side_a].id, moved.be()), nullptr);
    neighbours_->take_requests();
    const neighbour* n = neighbours_->lookup(ports_[side_a].id, moved.be());
    ASSERT_NE(n, nullptr);
    bool due = false;
    for (const neighbour* d : neighbours_->due_for_request(neighbour_table::clock::now())) {
        due = due || d == n;
    }
    EXPECT_TRUE(due);
    learn(side_a, moved);
    inject(side_b, media(side_b, callee_, 5000, addr_b_, p.b));
    run();
    const auto out = sent(side_a);
    ASSERT_EQ(out.size(), 1u);
    const auto v = test::parse_udp(out[0]);
    EXPECT_EQ(v->dst_ip(), moved.be());
    EXPECT_TRUE(rte_is_same_ether_addr(&v->dst_mac, &moved.mac));
    expect_accounted();
}

TEST_F(worker_test, off_link_peer_goes_through_the_gateway) {
    // Interface b has gateway=198.18.2.254: a callee outside 198.18.2.0/24 is reached
    // through it, so the gateway is the neighbour to resolve and its MAC the destination.
    const peer far{"203.0.113.20", 5000, test::mac(0x30)};
    const peer gateway{"198.18.2.254", 0, test::mac(0xfe)};
    const call_ports p = make_call("c1", caller_, far);
    EXPECT_EQ(neighbours_->lookup(ports_[side_b].id, far.be()), nullptr);
    ASSERT_NE(neighbours_->lookup(ports_[side_b].id, gateway.be()), nullptr);
    learn(side_b, gateway);
    const bytes in = media(side_a, caller_, 4000, addr_a_, p.a);
    inject(side_a, in);
    run();
    const auto out = sent(side_b);
    ASSERT_EQ(out.size(), 1u);
    expect_relayed(out[0], side_b, gateway.mac, addr_b_, p.b, far.be(), 5000, payload_of(in));
}

TEST_F(worker_test, arp_goes_to_the_control_plane) {
    inject(side_a, test::arp_request_frame(caller_.mac, caller_.be(), addr_a_, 0));
    run();
    EXPECT_EQ(worker_->counters.arp_to_control, 1u);
    EXPECT_TRUE(sent(side_a).empty());
    void* obj = nullptr;
    ASSERT_EQ(rte_ring_dequeue(to_control_, &obj), 0);
    auto* m = static_cast<rte_mbuf*>(obj);
    EXPECT_EQ(m->port, ports_[side_a].id);
    arp_info a;
    EXPECT_TRUE(parse_arp(m, &a));
    EXPECT_EQ(a.target_ip, addr_a_);
    rte_pktmbuf_free(m);
    expect_accounted();
}

TEST_F(worker_test, icmp_echo_is_answered_on_the_same_port) {
    frame_spec s;
    s.src_mac = caller_.mac;
    s.dst_mac = ports_[side_a].mac;
    s.src_ip = caller_.be();
    s.dst_ip = addr_a_;
    s.payload = bytes(56, 0x42);
    inject(side_a, test::icmp_frame(s, 8, 0x77, 3));
    run();
    EXPECT_TRUE(sent(side_b).empty());
    const auto out = sent(side_a);
    ASSERT_EQ(out.size(), 1u);
    const bytes& f = out[0];
    rte_ether_addr dst, src;
    std::memcpy(dst.addr_bytes, &f[0], 6);
    std::memcpy(src.addr_bytes, &f[6], 6);
    EXPECT_TRUE(rte_is_same_ether_addr(&dst, &caller_.mac));
    EXPECT_TRUE(rte_is_same_ether_addr(&src, &ports_[side_a].mac));
    uint32_t ip_src = 0, ip_dst = 0;
    std::memcpy(&ip_src, &f[26], 4);
    std::memcpy(&ip_dst, &f[30], 4);
    EXPECT_EQ(ip_src, addr_a_);
    EXPECT_EQ(ip_dst, caller_.be());
    EXPECT_EQ(f[34], 0);  // echo reply
    EXPECT_EQ(test::ones_sum(&f[14], 20), 0xffff);
    EXPECT_EQ(test::ones_sum(&f[34], f.size() - 34), 0xffff);
    EXPECT_EQ(worker_->counters.icmp_echo_replies, 1u);
    expect_accounted();
}

TEST_F(worker_test, control_plane_frames_go_out_through_worker_0) {
    rte_mbuf* m =
        make_arp_request(test::packet_pool(), ports_[side_b].id, ports_[side_b].mac, addr_b_, callee_.be(), 0);
    ASSERT_NE(m, nullptr);
    ASSERT_EQ(rte_ring_enqueue(control_tx_, m), 0);
    run();  // one turn: nothing arrives on the ports, the control frame goes out anyway
    const auto out = sent(side_b);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0][12], 0x08);
    EXPECT_EQ(out[0][13], 0x06);
    EXPECT_EQ(worker_->counters.control_tx, 1u);
    EXPECT_EQ(worker_->counters.rx_packets, 0u);
}

// A TX queue that refuses the control plane's frames (a memif server's until its client
// first polls; here port b's full TX ring) gets them again on later turns: none is lost
// while it refuses for less than control_tx::hold_ms.
TEST_F(worker_test, a_refused_control_frame_goes_out_when_its_queue_takes_it) {
    std::vector<rte_mbuf*> filler(1023);  // port b's TX ring, full
    ASSERT_EQ(rte_pktmbuf_alloc_bulk(test::packet_pool(), filler.data(), 1023), 0);
    ASSERT_EQ(rte_ring_enqueue_bulk(ports_[side_b].tx, reinterpret_cast<void**>(filler.data()), 1023, nullptr), 1023u);
    rte_mbuf* m = make_arp_request(test::packet_pool(), ports_[side_b].id, ports_[side_b].mac, addr_b_, addr_b_, 0);
    ASSERT_NE(m, nullptr);
    ASSERT_EQ(rte_ring_enqueue(control_tx_, m), 0);
    const uint64_t t0 = rte_rdtsc();
    worker_->poll_once(t0);
    worker_->poll_once(t0 + worker_->control.hold_tsc - 1);
    EXPECT_EQ(worker_->control.n, 1u) << "held, not dropped";
    EXPECT_EQ(worker_->counters.control_tx, 1u);
    EXPECT_EQ(worker_->counters.control_tx_failed, 0u);
    EXPECT_EQ(sent(side_b).size(), 1023u);  // the filler: the ring has room again
    worker_->poll_once(t0 + worker_->control.hold_tsc - 1);
    const auto out = sent(side_b);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0][12], 0x08);
    EXPECT_EQ(out[0][13], 0x06);
    EXPECT_EQ(worker_->control.n, 0u);
    EXPECT_EQ(worker_->counters.control_tx, 1u) << "counted once, however often offered";
    EXPECT_EQ(worker_->counters.control_tx_failed, 0u);
}

// One still refused hold_ms after the worker took it is freed and counted as failed.
TEST_F(worker_test, a_control_frame_refused_for_too_long_counts_as_failed) {
    std::vector<rte_mbuf*> filler(1023);
    ASSERT_EQ(rte_pktmbuf_alloc_bulk(test::packet_pool(), filler.data(), 1023), 0);
    ASSERT_EQ(rte_ring_enqueue_bulk(ports_[side_b].tx, reinterpret_cast<void**>(filler.data()), 1023, nullptr), 1023u);
    const unsigned pool_free = rte_mempool_avail_count(test::packet_pool());
    rte_mbuf* m = make_arp_request(test::packet_pool(), ports_[side_b].id, ports_[side_b].mac, addr_b_, addr_b_, 0);
    ASSERT_NE(m, nullptr);
    ASSERT_EQ(rte_ring_enqueue(control_tx_, m), 0);
    const uint64_t t0 = rte_rdtsc();
    worker_->poll_once(t0);
    worker_->poll_once(t0 + worker_->control.hold_tsc);
    EXPECT_EQ(worker_->control.n, 0u);
    EXPECT_EQ(worker_->counters.control_tx, 1u);
    EXPECT_EQ(worker_->counters.control_tx_failed, 1u);
    EXPECT_EQ(rte_mempool_avail_count(test::packet_pool()), pool_free) << "the frame went back to the pool";
    EXPECT_EQ(sent(side_b).size(), 1023u) << "only the filler";
}

TEST_F(worker_test, deleted_call_is_unknown_after_the_grace_period) {
    const call_ports p = make_call("c1", caller_, callee_);
    learn(side_b, callee_);
    inject(side_a, media(side_a, caller_, 4000, addr_a_, p.a));
    run();
    ASSERT_EQ(sent(side_b).size(), 1u);

    // The answer replaced the offer's four entries; let those go first.
    rte_rcu_qsbr_quiescent(flows_->rcu(), 0);
    flows_->reclaim();
    ASSERT_EQ(flows_->pending(), 0u);

    sessions_->remove("c1", std::chrono::steady_clock::now());
    EXPECT_EQ(flows_->pending(), 8u);  // 4 entries (RTP+RTCP, both legs) and their 4 states
    flows_->reclaim();
    EXPECT_GT(flows_->pending(), 0u) << "freed while the worker may still hold an entry";
    rte_rcu_qsbr_quiescent(flows_->rcu(), 0);  // the worker finishes its loop turn
    flows_->reclaim();
    EXPECT_EQ(flows_->pending(), 0u);
    EXPECT_EQ(flows_->size(), 0u);

    inject(side_a, media(side_a, caller_, 4000, addr_a_, p.a));
    inject(side_a, media(side_a, caller_, 4001, addr_a_, static_cast<uint16_t>(p.a + 1)));
    inject(side_b, media(side_b, callee_, 5000, addr_b_, p.b));
    run();
    EXPECT_EQ(drops(drop_reason::unknown_port), 3u);
    EXPECT_TRUE(sent(side_a).empty());
    EXPECT_TRUE(sent(side_b).empty());
    expect_accounted();
}

TEST_F(worker_test, stream_counters_show_in_query) {
    const call_ports p = make_call("c1", caller_, callee_);
    learn(side_b, callee_);
    learn(side_a, caller_);
    uint64_t payload_bytes = 0;
    for (size_t len : {20u, 160u, 161u, 320u, 1000u}) {
        const bytes f = media(side_a, caller_, 4000, addr_a_, p.a, len);
        payload_bytes += len;
        inject(side_a, f);
    }
    const bytes rtcp = media(side_b, callee_, 5001, addr_b_, static_cast<uint16_t>(p.b + 1), 80);
    inject(side_b, rtcp);
    run();
    ASSERT_EQ(sent(side_b).size(), 5u);
    ASSERT_EQ(sent(side_a).size(), 1u);

    EXPECT_EQ(query_int("c1", {"totals", "RTP", "packets"}), 5);
    // Bytes are the UDP payload (the RTP packet) as received, as rtpengine counts them.
    EXPECT_EQ(query_int("c1", {"totals", "RTP", "bytes"}), static_cast<int64_t>(payload_bytes));
    EXPECT_EQ(query_int("c1", {"totals", "RTP", "errors"}), 0);
    EXPECT_EQ(query_int("c1", {"totals", "RTCP", "packets"}), 1);
    EXPECT_EQ(query_int("c1", {"totals", "RTCP", "bytes"}), 80);

    // Per stream: counted on the leg whose port received them.
    const ng::value caller_rtp = query_stream("c1", "caller-tag", 0);
    EXPECT_EQ(caller_rtp.find("local port")->as_integer(), p.a);
    EXPECT_EQ(caller_rtp.find("stats")->find("packets")->as_integer(), 5);
    EXPECT_EQ(query_stream("c1", "callee-tag", 0).find("stats")->find("packets")->as_integer(), 0);
    const ng::value callee_rtcp = query_stream("c1", "callee-tag", 1);
    EXPECT_EQ(callee_rtcp.find("local port")->as_integer(), p.b + 1);
    EXPECT_EQ(callee_rtcp.find("stats")->find("packets")->as_integer(), 1);
}

TEST_F(worker_test, every_received_packet_is_accounted_for) {
    const call_ports p = make_call("c1", caller_, callee_);
    learn(side_b, callee_);
    learn(side_a, caller_);
    frame_spec ping;
    ping.src_mac = caller_.mac;
    ping.src_ip = caller_.be();
    ping.dst_ip = addr_a_;
    for (int round = 0; round < 7; ++round) {
        inject(side_a, media(side_a, caller_, 4000, addr_a_, p.a));                             // relayed RTP
        inject(side_b, media(side_b, callee_, 5000, addr_b_, p.b));                             // relayed RTP
        inject(side_a, media(side_a, caller_, 4001, addr_a_, static_cast<uint16_t>(p.a + 1)));  // relayed RTCP
        inject(side_a, media(side_a, caller_, 4000, addr_a_, static_cast<uint16_t>(p.a + 2)));  // unknown port
        inject(side_b, media(side_b, callee_, 5000, ip4(10, 0, 0, 1), 5000));                   // not for us
        inject(side_a, test::arp_request_frame(caller_.mac, caller_.be(), addr_a_, 0));         // ARP
        inject(side_a, test::icmp_frame(ping, 8, 1, static_cast<uint16_t>(round)));             // ping
        inject(side_b, bytes(10, 0));                                                           // runt
        bytes bad = media(side_a, caller_, 4000, addr_a_, p.a);
        bad[24] ^= 0xff;  // IP checksum
        inject(side_a, bad);
    }
    run();
    const worker_counters& c = worker_->counters;
    EXPECT_EQ(c.rx_packets, 63u);
    EXPECT_EQ(c.relayed_rtp, 14u);
    EXPECT_EQ(c.relayed_rtcp, 7u);
    EXPECT_EQ(c.arp_to_control, 7u);
    EXPECT_EQ(c.icmp_echo_replies, 7u);
    EXPECT_EQ(c.total_drops(), 28u);
    EXPECT_EQ(drops(drop_reason::unknown_port), 7u);
    EXPECT_EQ(drops(drop_reason::not_for_us), 7u);
    EXPECT_EQ(drops(drop_reason::malformed_l2), 7u);
    EXPECT_EQ(drops(drop_reason::malformed_ip), 7u);
    expect_accounted();
    EXPECT_EQ(sent(side_a).size(), 7u + 7u);  // RTP to the caller + ping replies
    EXPECT_EQ(sent(side_b).size(), 7u + 7u);  // RTP + RTCP to the callee
    EXPECT_EQ(take(to_control_).size(), 7u);
}

TEST_F(worker_test, full_tx_queue_moves_packets_from_relayed_to_tx_full) {
    const call_ports p = make_call("c1", caller_, callee_);
    learn(side_b, callee_);
    // Leave one free slot in port b's TX ring (capacity 1023).
    std::vector<rte_mbuf*> filler(1022);
    ASSERT_EQ(rte_pktmbuf_alloc_bulk(test::packet_pool(), filler.data(), 1022), 0);
    ASSERT_EQ(rte_ring_enqueue_bulk(ports_[side_b].tx, reinterpret_cast<void**>(filler.data()), 1022, nullptr), 1022u);
    for (int i = 0; i < 3; ++i) {
        inject(side_a, media(side_a, caller_, 4000, addr_a_, p.a));
    }
    run();
    EXPECT_EQ(worker_->counters.relayed_rtp, 1u);
    EXPECT_EQ(drops(drop_reason::tx_full), 2u);
    expect_accounted();
    EXPECT_EQ(sent(side_b).size(), 1023u);
}

TEST_F(worker_test, disabled_flow_counts_and_drops) {
    const peer dest{"198.18.2.30", 6000, test::mac(0x31)};
    flow_entry* e = publish_direct(31000, pack_endpoint(dest.be(), rte_cpu_to_be_16(6000)));
    e->forward = 0;
    learn(side_b, dest);
    inject(side_a, media(side_a, caller_, 4000, addr_a_, 31000));
    run();
    EXPECT_EQ(drops(drop_reason::stream_disabled), 1u);
    EXPECT_EQ(e->self->errors.load(), 1u);
    EXPECT_EQ(e->self->packets.load(), 0u);
    EXPECT_TRUE(sent(side_b).empty());
    expect_accounted();
}

// One RX burst of SRTP packets of two streams, re-keyed by the worker with the burst path
// (srtp/batch.h; interleaved streams make segments of 2): good ones, a forged one, a replay
// inside the burst; the forged packet's authentic twin later in the same burst still goes
// through (the forgery recorded nothing). Everything relayed decrypts under the outgoing
// key, in order per stream.
TEST_F(worker_test, srtp_burst_with_forged_and_replayed_packets) {
    ASSERT_NE(worker_->crypto, nullptr);
    std::vector<srtp_stream> st(2);
    for (uint8_t s = 0; s < 2; ++s) {
        st[s].ssrc = static_cast<uint8_t>(0x42 + s);
        add_srtp_stream(st[s], static_cast<uint16_t>(31000 + 2 * s), s == 0 ? "198.18.2.30" : "198.18.2.31",
                        static_cast<uint8_t>(0x31 + s), static_cast<uint8_t>(1 + 16 * s),
                        static_cast<uint8_t>(0xa0 + 16 * s), 100, 106);
    }
    bytes forged = st[0].wire[2];
    forged.back() ^= 1;
    // Arrival order: (stream, packet); -1 = the forged copy of stream 0's packet 2.
    const std::vector<std::pair<int, int>> burst = {{0, 0}, {1, 0}, {0, 1}, {1, 1}, {0, -1}, {1, 2}, {0, 3},
                                                    {1, 3}, {0, 1}, {1, 4}, {0, 4}, {1, 5},  {0, 5}, {0, 2}};
    const std::vector<uint16_t> relayed[2] = {{100, 101, 103, 104, 105, 102}, {100, 101, 102, 103, 104, 105}};
    inject_srtp_burst(st, burst, forged);
    run();
    EXPECT_EQ(drops(drop_reason::srtp_auth_failed), 1u);
    EXPECT_EQ(drops(drop_reason::srtp_replay), 1u);
    EXPECT_EQ(worker_->counters.relayed_rtp, 12u);
    size_t next[2];
    expect_relayed_in_order(st, relayed, 12, next);
    EXPECT_EQ(st[0].in->highest_index(0x42), std::optional<uint64_t>(105));
    EXPECT_EQ(st[1].in->highest_index(0x43), std::optional<uint64_t>(105));
    expect_accounted();
}

// Runs of one stream in a burst (what the worker groups into one round and the crypto into
// successive batches), with a forged packet, its authentic twin and replays inside the runs:
// the same drops, output order and SRTP state as one packet at a time.
TEST_F(worker_test, srtp_burst_of_stream_runs_with_forged_and_replayed_packets) {
    ASSERT_NE(worker_->crypto, nullptr);
    std::vector<srtp_stream> st(2);
    for (uint8_t s = 0; s < 2; ++s) {
        st[s].ssrc = static_cast<uint8_t>(0x52 + s);
        st[s].mul = 3;
        add_srtp_stream(st[s], static_cast<uint16_t>(31100 + 2 * s), s == 0 ? "198.18.2.40" : "198.18.2.41",
                        static_cast<uint8_t>(0x41 + s), static_cast<uint8_t>(7 + 16 * s),
                        static_cast<uint8_t>(0x70 + 16 * s), 200, 208);
    }
    bytes forged = st[0].wire[3];
    forged[20] ^= 0x10;
    // (stream, packet); -1 = the forged copy of stream 0's packet 3. Runs: stream 0 x 7,
    // stream 1 x 8, stream 0 x 3.
    const std::vector<std::pair<int, int>> burst = {{0, 0}, {0, 1}, {0, 2}, {0, -1}, {0, 3}, {0, 3},
                                                    {0, 4}, {1, 0}, {1, 1}, {1, 2},  {1, 1}, {1, 3},
                                                    {1, 4}, {1, 6}, {1, 5}, {0, 6},  {0, 5}, {0, 6}};
    const std::vector<uint16_t> relayed[2] = {{200, 201, 202, 203, 204, 206, 205}, {200, 201, 202, 203, 204, 206, 205}};
    inject_srtp_burst(st, burst, forged);
    run();
    EXPECT_EQ(drops(drop_reason::srtp_auth_failed), 1u);
    EXPECT_EQ(drops(drop_reason::srtp_replay), 3u);
    EXPECT_EQ(worker_->counters.relayed_rtp, 14u);
    size_t next[2];
    expect_relayed_in_order(st, relayed, 14, next);
    EXPECT_EQ(next[0], 7u);
    EXPECT_EQ(next[1], 7u);
    EXPECT_EQ(st[0].in->highest_index(0x52), std::optional<uint64_t>(206));
    EXPECT_EQ(st[1].in->highest_index(0x53), std::optional<uint64_t>(206));
    EXPECT_EQ(st[0].out->highest_index(0x52), std::optional<uint64_t>(206));
    expect_accounted();
}

// Legs of other suites (AES-GCM in, AES-256 out with an MKI on the incoming key, and the
// reverse): re-keyed in one burst; a packet with another MKI is dropped as srtp_bad_mki
// before any crypto, a forged one as srtp_auth_failed, neither moves the stream.
TEST_F(worker_test, srtp_burst_across_suites_and_a_wrong_mki) {
    ASSERT_NE(worker_->crypto, nullptr);
    std::vector<srtp_stream> st(2);
    st[0].ssrc = 0x62;
    st[1].ssrc = 0x63;
    add_srtp_stream(st[0], 31200, "198.18.2.50", 0x51, 3, 0x90, 300, 306, srtp::suite::aead_aes_128_gcm,
                    srtp::suite::aes_256_cm_hmac_sha1_32, 2);
    add_srtp_stream(st[1], 31202, "198.18.2.51", 0x52, 19, 0xb0, 300, 306, srtp::suite::aes_256_cm_hmac_sha1_80,
                    srtp::suite::aead_aes_256_gcm);
    // Stream 0's packet 2 with its MKI's last byte changed (the MKI is last with AES-GCM).
    bytes wrong_mki = st[0].wire[2];
    wrong_mki.back() ^= 1;
    const std::vector<std::pair<int, int>> burst = {{0, 0}, {1, 0}, {0, 1}, {1, 1}, {0, -1}, {1, 2},
                                                    {0, 2}, {1, 3}, {0, 3}, {0, 3}, {1, 4},  {1, 5}};
    const std::vector<uint16_t> relayed[2] = {{300, 301, 302, 303}, {300, 301, 302, 303, 304, 305}};
    inject_srtp_burst(st, burst, wrong_mki);
    run();
    EXPECT_EQ(drops(drop_reason::srtp_bad_mki), 1u);
    EXPECT_EQ(drops(drop_reason::srtp_replay), 1u);
    EXPECT_EQ(worker_->counters.relayed_rtp, 10u);
    size_t next[2];
    expect_relayed_in_order(st, relayed, 10, next);
    EXPECT_EQ(st[0].in->highest_index(0x62), std::optional<uint64_t>(303));
    expect_accounted();
}

TEST_F(worker_test, strict_source_drops_strangers) {
    const peer dest{"198.18.2.30", 6000, test::mac(0x31)};
    flow_entry* e = publish_direct(31000, pack_endpoint(dest.be(), rte_cpu_to_be_16(6000)));
    e->flags = flow_strict_source;  // no learning: only the SDP's source is accepted
    e->expected_src = pack_endpoint(caller_.be(), rte_cpu_to_be_16(4000));
    learn(side_b, dest);
    inject(side_a, media(side_a, caller_, 4000, addr_a_, 31000));
    inject(side_a, media(side_a, caller_, 4002, addr_a_, 31000));
    run();
    EXPECT_EQ(sent(side_b).size(), 1u);
    EXPECT_EQ(drops(drop_reason::strict_source), 1u);
    expect_accounted();
}

TEST_F(worker_test, no_destination_until_the_peer_is_known) {
    publish_direct(31000, 0)->expected_src = pack_endpoint(caller_.be(), rte_cpu_to_be_16(4000));
    inject(side_a, media(side_a, caller_, 4000, addr_a_, 31000));
    run();
    EXPECT_EQ(drops(drop_reason::no_destination), 1u);
    expect_accounted();
}

TEST_F(worker_test, egress_vlan_tag_is_added) {
    const peer dest{"198.18.2.30", 6000, test::mac(0x31)};
    flow_entry* e = publish_direct(31000, pack_endpoint(dest.be(), rte_cpu_to_be_16(6000)));
    e->vlan = 301;
    e->expected_src = pack_endpoint(caller_.be(), rte_cpu_to_be_16(4000));
    learn(side_b, dest);
    const bytes in = media(side_a, caller_, 4000, addr_a_, 31000);
    inject(side_a, in);
    run();
    const auto out = sent(side_b);
    ASSERT_EQ(out.size(), 1u);
    ASSERT_EQ(out[0].size(), in.size() + 4);
    const auto v = test::parse_udp(out[0]);
    ASSERT_TRUE(v.has_value());
    EXPECT_EQ(v->vlan, 301);
    EXPECT_EQ(v->dst_ip(), dest.be());
    EXPECT_EQ(v->src_port(), 41000);
    EXPECT_TRUE(v->ip_checksum_ok && v->udp_checksum_ok);
    EXPECT_EQ(v->payload, payload_of(in));
}

TEST_F(worker_test, flow_owned_by_a_missing_worker_is_dropped) {
    const peer dest{"198.18.2.30", 6000, test::mac(0x31)};
    flow_entry* e = publish_direct(31000, pack_endpoint(dest.be(), rte_cpu_to_be_16(6000)));
    e->owner = 3;  // only one worker runs, and it has no handoff rings
    learn(side_b, dest);
    inject(side_a, media(side_a, caller_, 4000, addr_a_, 31000));
    run();
    EXPECT_EQ(drops(drop_reason::handoff_full), 1u);
    EXPECT_EQ(e->self->packets.load(), 0u);
    expect_accounted();
}

// The per-port, per-direction, per-kind breakdown: where a packet arrived (rx) and where it
// left (tx), in frame bytes as on the wire; a tx_full drop takes back only the tx side.
TEST_F(worker_test, traffic_is_counted_by_port_direction_and_kind) {
    const call_ports p = make_call("c1", caller_, callee_);
    learn(side_a, caller_);
    learn(side_b, callee_);
    const bytes up = media(side_a, caller_, 4000, addr_a_, p.a, 172);
    const bytes rtcp_down = media(side_b, callee_, 5001, addr_b_, static_cast<uint16_t>(p.b + 1), 52, 0x81);
    for (int i = 0; i < 3; ++i) {
        inject(side_a, up);
    }
    inject(side_b, rtcp_down);
    run();
    ASSERT_EQ(sent(side_b).size(), 3u);
    ASSERT_EQ(sent(side_a).size(), 1u);
    const auto& t = worker_->counters.traffic;
    auto at = [&](int side, traffic_dir d, media_kind k) {
        return t[ports_[side].id][static_cast<size_t>(d)][static_cast<size_t>(k)];
    };
    EXPECT_EQ(at(side_a, traffic_dir::rx, media_kind::rtp).packets, 3u);
    EXPECT_EQ(at(side_a, traffic_dir::rx, media_kind::rtp).bytes, 3 * up.size());
    EXPECT_EQ(at(side_b, traffic_dir::tx, media_kind::rtp).packets, 3u);
    EXPECT_EQ(at(side_b, traffic_dir::tx, media_kind::rtp).bytes, 3 * up.size());
    EXPECT_EQ(at(side_b, traffic_dir::rx, media_kind::rtcp).packets, 1u);
    EXPECT_EQ(at(side_b, traffic_dir::rx, media_kind::rtcp).bytes, rtcp_down.size());
    EXPECT_EQ(at(side_a, traffic_dir::tx, media_kind::rtcp).packets, 1u);
    uint64_t all = 0;
    for (const auto& port : t) {
        for (const auto& dir : port) {
            for (const auto& k : dir) {
                all += k.packets;
            }
        }
    }
    EXPECT_EQ(all, 8u);  // 4 packets, each once in and once out
    EXPECT_EQ(at(side_a, traffic_dir::rx, media_kind::srtp).packets, 0u);
    // Summed blocks keep the breakdown.
    const worker_counters twice[2] = {worker_->counters, worker_->counters};
    EXPECT_EQ(sum(twice, 2).traffic[ports_[side_a].id][0][0].packets, 6u);
}

TEST_F(worker_test, tx_full_takes_back_the_tx_traffic_count) {
    const call_ports p = make_call("c1", caller_, callee_);
    learn(side_b, callee_);
    std::vector<rte_mbuf*> filler(1022);
    ASSERT_EQ(rte_pktmbuf_alloc_bulk(test::packet_pool(), filler.data(), 1022), 0);
    ASSERT_EQ(rte_ring_enqueue_bulk(ports_[side_b].tx, reinterpret_cast<void**>(filler.data()), 1022, nullptr), 1022u);
    for (int i = 0; i < 3; ++i) {
        inject(side_a, media(side_a, caller_, 4000, addr_a_, p.a));
    }
    run();
    const auto& t = worker_->counters.traffic;
    constexpr auto rx = static_cast<size_t>(traffic_dir::rx);
    constexpr auto tx = static_cast<size_t>(traffic_dir::tx);
    EXPECT_EQ(t[ports_[side_b].id][tx][0].packets, 1u);
    EXPECT_EQ(t[ports_[side_a].id][rx][0].packets, 3u);  // accepted from the caller; tx_full is counted after
    EXPECT_EQ(drops(drop_reason::tx_full), 2u);
    EXPECT_EQ(sent(side_b).size(), 1023u);
}

// worker::run() on a thread of its own, as on an lcore: busy time grows with the turns that
// received packets, and not at all while the worker only polls empty queues.
TEST_F(worker_test, run_counts_busy_time_only_for_turns_with_packets) {
    // run() registers itself with RCU as worker 0: hand the fixture's registration over to it.
    rte_rcu_qsbr_thread_offline(flows_->rcu(), 0);
    rte_rcu_qsbr_thread_unregister(flows_->rcu(), 0);
    dataplane_shared& shared = plane_->shared();
    shared.idle_sleep_us = 20;  // a shared test machine
    auto read = [](const uint64_t& c) { return __atomic_load_n(&c, __ATOMIC_RELAXED); };
    const worker_counters& c = worker_->counters;
    std::thread t([this] { worker_->run(); });

    const uint64_t t0 = rte_rdtsc();
    for (int i = 0; i < 2000 && read(c.polls) < 1000; ++i) {
        std::this_thread::sleep_for(1ms);
    }
    const uint64_t idle_polls = read(c.polls);
    EXPECT_GE(idle_polls, 1000u) << "the worker loop turns";
    EXPECT_EQ(read(c.busy_tsc), 0u) << "empty polls are not busy time";
    EXPECT_EQ(read(c.busy_polls), 0u);

    constexpr uint64_t n = 200;
    for (uint64_t i = 0; i < n; ++i) {
        inject(side_a, media(side_a, caller_, 4000, addr_a_, 30100));  // no call there: unknown_port
    }
    for (int i = 0; i < 2000 && read(c.rx_packets) < n; ++i) {
        std::this_thread::sleep_for(1ms);
    }
    shared.stop.store(true);
    t.join();
    const uint64_t elapsed = rte_rdtsc() - t0;
    ASSERT_EQ(c.rx_packets, n);
    EXPECT_EQ(drops(drop_reason::unknown_port), n);
    EXPECT_GE(c.busy_polls, 1u);
    EXPECT_GT(c.busy_tsc, 0u) << "turns that received packets are busy time";
    EXPECT_LT(c.busy_tsc, elapsed) << "busy time is part of the time the worker ran";
    EXPECT_GT(c.polls, c.busy_polls);

    // Back to the fixture's registration, which the plane's destructor undoes.
    ASSERT_EQ(rte_rcu_qsbr_thread_register(flows_->rcu(), 0), 0);
    rte_rcu_qsbr_thread_online(flows_->rcu(), 0);
}

// --- call recording (record_stage.h): clear copies of recorded flows' packets ---

// What the worker put in its record ring, taken off it as the recorder does: headers and
// the packets' copies.
struct recorded {
    record_slot h;
    bytes data;
    const record_slot* operator->() const { return &h; }
};
std::vector<recorded> take_recorded(record_ring& r) {
    std::vector<recorded> out;
    uint64_t pos = r.consumed();
    const uint64_t limit = r.committed();
    while (const record_slot* s = r.next(&pos, limit)) {
        out.push_back({*s, bytes(s->packet(), s->packet() + s->packet_len())});
    }
    r.release(pos);
    return out;
}
bytes slot_bytes(const recorded& s) { return s.data; }

// SRTP in, SRTP out, batched and with forged and replayed packets: the ring gets the clear
// packets of the recorded stream, those relayed, in relay order; what is relayed is what the
// same burst gives without recording (the protect step after the copy keeps the state).
TEST_F(worker_test, recorded_srtp_to_srtp_burst_copies_the_clear_packets) {
    ASSERT_NE(worker_->crypto, nullptr);
    std::vector<srtp_stream> st(2);
    for (uint8_t s = 0; s < 2; ++s) {
        st[s].ssrc = static_cast<uint8_t>(0x62 + s);
        add_srtp_stream(st[s], static_cast<uint16_t>(31200 + 2 * s), s == 0 ? "198.18.2.50" : "198.18.2.51",
                        static_cast<uint8_t>(0x51 + s), static_cast<uint8_t>(3 + 16 * s),
                        static_cast<uint8_t>(0xb0 + 16 * s), 300, 306);
    }
    flow_key k{addr_a_, rte_cpu_to_be_16(31200), 0};
    set_recording(*const_cast<flow_entry*>(flows_->lookup(k)), 77, false);  // stream 0 only
    bytes forged = st[0].wire[2];
    forged.back() ^= 1;
    const std::vector<std::pair<int, int>> burst = {{0, 0}, {1, 0}, {0, 1}, {1, 1}, {0, -1}, {1, 2}, {0, 3},
                                                    {1, 3}, {0, 1}, {1, 4}, {0, 4}, {1, 5},  {0, 5}, {0, 2}};
    const std::vector<uint16_t> relayed[2] = {{300, 301, 303, 304, 305, 302}, {300, 301, 302, 303, 304, 305}};
    inject_srtp_burst(st, burst, forged);
    run();
    size_t next[2];
    expect_relayed_in_order(st, relayed, 12, next);
    const auto rec = take_recorded(*worker_->recording->ring);
    ASSERT_EQ(rec.size(), relayed[0].size());
    for (size_t i = 0; i < rec.size(); ++i) {
        EXPECT_EQ(rec[i]->record_id, 77u);
        EXPECT_EQ(rec[i]->flags, 0) << "SRTP out: a copy";
        EXPECT_EQ(slot_bytes(rec[i]), rtp_packet(relayed[0][i], st[0].ssrc, st[0].mul)) << i;
        EXPECT_EQ(rec[i]->src_addr, caller_.be());
        EXPECT_EQ(rec[i]->dst_addr, addr_a_);
        EXPECT_EQ(rec[i]->dst_port, rte_cpu_to_be_16(31200));
    }
    EXPECT_EQ(st[0].out->highest_index(0x62), std::optional<uint64_t>(305));
    EXPECT_EQ(worker_->recording->ring->refused(), 0u);
    expect_accounted();
}

// The same with runs of one stream (grouped into one round, batched in layers).
TEST_F(worker_test, recorded_srtp_runs_copy_in_order) {
    ASSERT_NE(worker_->crypto, nullptr);
    std::vector<srtp_stream> st(2);
    for (uint8_t s = 0; s < 2; ++s) {
        st[s].ssrc = static_cast<uint8_t>(0x72 + s);
        st[s].mul = 5;
        add_srtp_stream(st[s], static_cast<uint16_t>(31300 + 2 * s), s == 0 ? "198.18.2.60" : "198.18.2.61",
                        static_cast<uint8_t>(0x61 + s), static_cast<uint8_t>(9 + 16 * s),
                        static_cast<uint8_t>(0x30 + 16 * s), 400, 408);
    }
    for (uint16_t port : {31300, 31302}) {
        flow_key k{addr_a_, rte_cpu_to_be_16(port), 0};
        set_recording(*const_cast<flow_entry*>(flows_->lookup(k)), port, false);
    }
    const std::vector<std::pair<int, int>> burst = {{0, 0}, {0, 1}, {0, 2}, {0, 3}, {1, 0}, {1, 1},
                                                    {1, 2}, {1, 1}, {1, 3}, {0, 5}, {0, 4}, {0, 6}};
    const std::vector<uint16_t> relayed[2] = {{400, 401, 402, 403, 405, 404, 406}, {400, 401, 402, 403}};
    inject_srtp_burst(st, burst, bytes{});
    run();
    size_t next[2];
    expect_relayed_in_order(st, relayed, 11, next);
    size_t n[2] = {0, 0};
    for (const auto& r : take_recorded(*worker_->recording->ring)) {
        const size_t s = r->record_id == 31300 ? 0 : 1;
        ASSERT_LT(n[s], relayed[s].size());
        EXPECT_EQ(slot_bytes(r), rtp_packet(relayed[s][n[s]], st[s].ssrc, st[s].mul)) << s << " " << n[s];
        ++n[s];
    }
    EXPECT_EQ(n[0], 7u);
    EXPECT_EQ(n[1], 4u);
}

// A recorded plain call: both directions copied, each with its leg, the ring's copy equal to
// what was relayed; an unrecorded call beside it adds nothing. The worker keeps no hold on a
// recorded packet: once sent, its mbuf is back in the pool as an unrecorded one's is.
TEST_F(worker_test, recorded_plain_call_copies_both_legs) {
    const call_ports p = make_call("rec1", caller_, callee_);
    const peer other_callee{"198.18.2.21", 5100, test::mac(0x22)};
    const call_ports q = make_call("other", peer{"198.18.1.11", 4100, test::mac(0x12)}, other_callee);
    learn(side_a, caller_);
    learn(side_b, callee_);
    learn(side_b, other_callee);
    call* c = sessions_->find("rec1");
    ASSERT_NE(c, nullptr);
    for (size_t l = 0; l < c->legs.size(); ++l) {
        c->legs[l]->record_id = 5;
        c->legs[l]->record_channel = static_cast<uint8_t>(l);
        pub_->restamp(*c->legs[l]);
    }
    const bytes up = media(side_a, caller_, 4000, addr_a_, p.a, 172, 0x01);
    const bytes down = media(side_b, callee_, 5000, addr_b_, p.b, 160, 0x02);
    inject(side_a, up);
    inject(side_b, down);
    inject(side_a, media(side_a, peer{"198.18.1.11", 4100, test::mac(0x12)}, 4100, addr_a_, q.a));
    const unsigned idle = rte_mempool_in_use_count(test::packet_pool());
    run();
    EXPECT_EQ(sent(side_b).size(), 2u);
    EXPECT_EQ(sent(side_a).size(), 1u);
    EXPECT_EQ(rte_mempool_in_use_count(test::packet_pool()), idle - 3) << "every relayed mbuf freed, none held";
    const auto rec = take_recorded(*worker_->recording->ring);
    ASSERT_EQ(rec.size(), 2u);
    EXPECT_EQ(rec[0]->channel, 0);
    EXPECT_EQ(slot_bytes(rec[0]), payload_of(up));
    EXPECT_EQ(rec[0]->src_port, rte_cpu_to_be_16(4000));
    EXPECT_EQ(rec[0]->dst_port, rte_cpu_to_be_16(p.a));
    EXPECT_EQ(rec[1]->channel, 1);
    EXPECT_EQ(slot_bytes(rec[1]), payload_of(down));
    EXPECT_EQ(rec[1]->dst_addr, addr_b_);
    EXPECT_NE(rec[0]->tsc, 0u);
    EXPECT_EQ(rec[0]->orig_len, 172u);
    EXPECT_EQ(rec[0]->flags, 0);
}

// RTP in, SRTP out: the copy is the clear packet; a packet whose protect fails (its index
// was sent already) is not relayed, and its copy is marked for the recorder to skip.
TEST_F(worker_test, recorded_rtp_to_srtp_copies_before_encryption_and_discards_failures) {
    const peer dest{"198.18.2.70", 6000, test::mac(0x71)};
    flow_entry* e = publish_direct(31400, pack_endpoint(dest.be(), rte_cpu_to_be_16(6000)));
    e->expected_src = pack_endpoint(caller_.be(), rte_cpu_to_be_16(4000));  // the SDP's: latches at once
    learn(side_b, dest);
    srtp::master_key key{};
    key.key[0] = 9;
    auto out = srtp::make_context(srtp::engine::native, srtp::suite::aes_cm_128_hmac_sha1_80, key, false);
    auto far = srtp::make_context(srtp::engine::libsrtp2, srtp::suite::aes_cm_128_hmac_sha1_80, key, false);
    e->srtp_out[kind_rtp] = out.get();
    set_recording(*e, 9, true);
    std::vector<bytes> plain;
    for (uint16_t seq : {500, 501, 501, 502}) {
        plain.push_back(rtp_packet(seq, 0x21, 1));
        inject(side_a, frame(side_a, caller_, 4000, addr_a_, 31400, plain.back()));
    }
    run();
    const auto relayed = sent(side_b);
    ASSERT_EQ(relayed.size(), 3u);
    EXPECT_EQ(drops(drop_reason::srtp_index_reuse), 1u);
    for (const bytes& frame : relayed) {
        bytes p = payload_of(frame);
        auto len = static_cast<uint32_t>(p.size());
        EXPECT_EQ(srtp::unprotect_rtp(*far, p.data(), &len), srtp::result::ok);
    }
    const auto rec = take_recorded(*worker_->recording->ring);
    ASSERT_EQ(rec.size(), 4u);
    for (size_t i = 0; i < 4; ++i) {
        EXPECT_EQ(slot_bytes(rec[i]), plain[i]);
        EXPECT_EQ(rec[i]->channel, 1);
    }
    EXPECT_EQ(rec[2]->flags & record_discard, record_discard) << "the duplicate was not relayed";
    EXPECT_EQ(rec[0]->flags | rec[1]->flags | rec[3]->flags, 0);
}

// Plain in, plain out: copied as it joins the round (record_plain), before the finish, so a
// packet the finish drops must not reach the recorder as relayed: one without headroom for
// the egress VLAN tag is neither relayed nor recorded (not copied, or copied and marked for
// the recorder to skip), and the packets around it are both, in order.
TEST_F(worker_test, recorded_plain_packet_without_headroom_is_not_recorded) {
    const peer dest{"198.18.2.74", 6000, test::mac(0x75)};
    flow_entry* e = publish_direct(31600, pack_endpoint(dest.be(), rte_cpu_to_be_16(6000)));
    e->vlan = 302;
    e->expected_src = pack_endpoint(caller_.be(), rte_cpu_to_be_16(4000));
    learn(side_b, dest);
    set_recording(*e, 11, false);
    std::vector<bytes> frames;
    for (uint8_t fill : {0x80, 0x90, 0xa0}) {
        frames.push_back(media(side_a, caller_, 4000, addr_a_, 31600, 172, fill));
    }
    inject(side_a, frames[0]);
    // The second one starts 2 bytes into its buffer: the tag needs 4.
    rte_mbuf* tight = rte_pktmbuf_alloc(test::packet_pool());
    ASSERT_NE(tight, nullptr);
    tight->data_off = 2;
    std::memcpy(rte_pktmbuf_append(tight, static_cast<uint16_t>(frames[1].size())), frames[1].data(), frames[1].size());
    tight->port = ports_[side_a].id;
    ASSERT_EQ(rte_ring_enqueue(ports_[side_a].rx, tight), 0);
    inject(side_a, frames[2]);
    run();
    EXPECT_EQ(sent(side_b).size(), 2u);
    EXPECT_EQ(drops(drop_reason::no_headroom), 1u);
    std::vector<recorded> rec;
    for (recorded& r : take_recorded(*worker_->recording->ring)) {
        if ((r->flags & record_discard) == 0) {
            rec.push_back(std::move(r));
        }
    }
    ASSERT_EQ(rec.size(), 2u) << "the dropped packet is not in the recording";
    EXPECT_EQ(slot_bytes(rec[0]), payload_of(frames[0]));
    EXPECT_EQ(slot_bytes(rec[1]), payload_of(frames[2]));
    EXPECT_EQ(rec[0]->record_id, 11u);
    EXPECT_EQ(rec[1]->record_id, 11u);
}

// A full ring costs the recording, never the relay: a recorder that reads nothing holds no
// mbuf, and once it reads the ring takes records again.
TEST_F(worker_test, a_full_record_ring_counts_and_still_relays) {
    const call_ports p = make_call("full", caller_, callee_);
    learn(side_b, callee_);
    call* c = sessions_->find("full");
    c->legs[0]->record_id = 3;
    pub_->restamp(*c->legs[0]);
    rte_mempool* pool = test::packet_pool();
    const unsigned idle = rte_mempool_in_use_count(pool);
    // 160-byte packets are copied into 192 bytes each of the ring's two 64 KiB areas, less
    // each one's room for the switch from one to the other (a header and 16 bytes).
    const unsigned fit = 2 * ((65536 - 48) / 192);
    for (int i = 0; i < 800; ++i) {
        inject(side_a, media(side_a, caller_, 4000, addr_a_, p.a, 160, static_cast<uint8_t>(i)));
    }
    run();
    EXPECT_EQ(sent(side_b).size(), 800u);
    EXPECT_EQ(worker_->counters.relayed_rtp, 800u);
    EXPECT_EQ(worker_->recording->ring->refused(), 800u - fit);
    EXPECT_EQ(rte_mempool_in_use_count(pool), idle) << "the stalled recorder holds no mbuf";
    const auto rec = take_recorded(*worker_->recording->ring);
    ASSERT_EQ(rec.size(), fit);
    for (unsigned i = 0; i < fit; ++i) {
        ASSERT_EQ(rec[i].data, payload_of(media(side_a, caller_, 4000, addr_a_, p.a, 160, static_cast<uint8_t>(i))))
            << "the first ones, in order: " << i;
    }
    expect_accounted();
    // Read: the next packet is recorded again.
    inject(side_a, media(side_a, caller_, 4000, addr_a_, p.a, 160, 1));
    run();
    EXPECT_EQ(sent(side_b).size(), 1u);
    const auto again = take_recorded(*worker_->recording->ring);
    ASSERT_EQ(again.size(), 1u);
    EXPECT_EQ(again[0].data, payload_of(media(side_a, caller_, 4000, addr_a_, p.a, 160, 1)));
    EXPECT_EQ(worker_->recording->ring->refused(), 800u - fit);
}

// SRTP in, plain out: the record is the packet as decrypted in place, which is what leaves; a
// forged packet is neither relayed nor recorded.
TEST_F(worker_test, recorded_srtp_to_rtp_copies_the_decrypted_packet) {
    const peer dest{"198.18.2.72", 6000, test::mac(0x73)};
    flow_entry* e = publish_direct(31500, pack_endpoint(dest.be(), rte_cpu_to_be_16(6000)));
    e->expected_src = pack_endpoint(caller_.be(), rte_cpu_to_be_16(4000));
    learn(side_b, dest);
    srtp::master_key key{};
    key.key[0] = 11;
    auto in = srtp::make_context(srtp::engine::native, srtp::suite::aes_cm_128_hmac_sha1_80, key, false);
    auto far = srtp::make_context(srtp::engine::libsrtp2, srtp::suite::aes_cm_128_hmac_sha1_80, key, false);
    e->srtp_in[kind_rtp] = in.get();
    set_recording(*e, 12, false);
    std::vector<bytes> plain;
    for (uint16_t seq : {700, 701, 702, 703}) {
        plain.push_back(rtp_packet(seq, 0x23, 1));
        bytes wire = plain.back();
        wire.resize(wire.size() + 16);
        auto len = static_cast<uint32_t>(plain.back().size());
        ASSERT_EQ(srtp::protect_rtp(*far, wire.data(), &len, static_cast<uint32_t>(wire.size())), srtp::result::ok);
        wire.resize(len);
        if (seq == 702) {
            wire.back() ^= 1;  // forged
        }
        inject(side_a, frame(side_a, caller_, 4000, addr_a_, 31500, wire));
    }
    run();
    const auto relayed = sent(side_b);
    ASSERT_EQ(relayed.size(), 3u);
    EXPECT_EQ(drops(drop_reason::srtp_auth_failed), 1u);
    const auto rec = take_recorded(*worker_->recording->ring);
    ASSERT_EQ(rec.size(), 3u);
    const size_t sent_of[3] = {0, 1, 3};
    for (size_t i = 0; i < 3; ++i) {
        EXPECT_EQ(slot_bytes(rec[i]), plain[sent_of[i]]) << i;
        EXPECT_EQ(payload_of(relayed[i]), plain[sent_of[i]]) << i;
        EXPECT_EQ(rec[i]->orig_len, plain[sent_of[i]].size());
        EXPECT_EQ(rec[i]->flags, 0);
    }
}

}  // namespace
}  // namespace rtprelay::dp
