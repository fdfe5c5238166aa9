#include "bench/pipeline/relay_under_test.h"

#include <emmintrin.h>
#include <malloc.h>
#include <pthread.h>
#include <sched.h>

#include <rte_malloc.h>
#include <rte_ring.h>

#include <chrono>
#include <cstring>
#include <stdexcept>
#include <string>
#include <string_view>

#include "control/interfaces.h"
#include "control/publish/publisher.h"
#include "control/sdes/crypto_attr.h"
#include "control/session/manager.h"
#include "dataplane/rewrite.h"
#include "dataplane/srtp/context_pool.h"

namespace rtprelay::pipeline {

namespace {

// malloc's heap and the SRTP contexts' own blocks (dataplane/srtp/context_pool.h).
uint64_t heap_in_use() { return mallinfo2().uordblks + dp::srtp::detail::context_pool::instance().in_use_bytes(); }

uint64_t dpdk_in_use() {
    rte_malloc_socket_stats st{};
    return rte_malloc_get_socket_stats(0, &st) == 0 ? st.heap_allocsz_bytes : 0;
}

// A deterministic key per (call, side): runs are reproducible, every stream distinct.
dp::srtp::master_key peer_key(uint32_t call, int side) {
    uint64_t x = (uint64_t{call} << 1 | static_cast<uint64_t>(side)) * 0x9e3779b97f4a7c15ull + 0x5bd1e995;
    auto next = [&x] {
        x += 0x9e3779b97f4a7c15ull;
        uint64_t z = x;
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        return static_cast<uint8_t>(z ^ (z >> 31));
    };
    dp::srtp::master_key k{};
    for (auto& b : k.key) {
        b = next();
    }
    for (auto& b : k.salt) {
        b = next();
    }
    return k;
}

// One G.711 audio stream from the peer on `side`, with its a=crypto line on an SRTP leg.
std::string peer_sdp(int side, uint32_t call, bool srtp, dp::srtp::suite suite, const dp::srtp::master_key& key,
                     bool v6) {
    const std::string ip = v6 ? peer_address6_text(side, call) : peer_address_text(side, call);
    const std::string fam = v6 ? " IN IP6 " : " IN IP4 ";
    std::string s = "v=0\r\no=- " + std::to_string(call * 2 + static_cast<uint32_t>(side) + 1) + " 1" + fam + ip +
                    "\r\ns=-\r\nc=" + fam.substr(1) + ip + "\r\nt=0 0\r\nm=audio " + std::to_string(peer_port(call)) +
                    (srtp ? " RTP/SAVP 0\r\n" : " RTP/AVP 0\r\n") + "a=rtpmap:0 PCMU/8000\r\na=sendrecv\r\n";
    if (srtp) {
        sdes::crypto_attr a;
        a.crypto_suite = suite;
        a.key = key;
        s += "a=crypto:" + sdes::format_crypto(a) + "\r\n";
    }
    return s;
}

// The value after `prefix` on the first line starting with it; empty if none.
std::string_view line_value(std::string_view sdp, std::string_view prefix) {
    size_t at = 0;
    while (at < sdp.size()) {
        const size_t end = sdp.find("\r\n", at);
        const std::string_view line = sdp.substr(at, end == std::string_view::npos ? std::string_view::npos : end - at);
        if (line.substr(0, prefix.size()) == prefix) {
            return line.substr(prefix.size());
        }
        if (end == std::string_view::npos) {
            break;
        }
        at = end + 2;
    }
    return {};
}

// Where the relay's SDP (an offer to the callee or an answer to the caller) says to send,
// and, on an SRTP leg, the key the relay sends with.
void read_relay_sdp(const std::string& sdp, bool srtp, uint32_t call, int side, bool v6, call_info* out) {
    auto fail = [&](const std::string& why) {
        throw std::runtime_error("call " + std::to_string(call) + ": relay SDP toward side " + std::to_string(side) +
                                 ": " + why + "\n" + sdp);
    };
    if (v6) {
        const std::string addr(line_value(sdp, "c=IN IP6 "));
        if (inet_pton(AF_INET6, addr.c_str(), out->relay_addr6[side]) != 1) {
            fail("no c=IN IP6 address");
        }
    } else {
        const std::string addr(line_value(sdp, "c=IN IP4 "));
        in_addr a{};
        if (inet_pton(AF_INET, addr.c_str(), &a) != 1) {
            fail("no c=IN IP4 address");
        }
        out->relay_addr[side] = a.s_addr;
    }
    const std::string m(line_value(sdp, "m=audio "));
    const unsigned long port = m.empty() ? 0 : std::stoul(m);
    if (port < 10000 || port > 19998 || port % 2 != 0) {
        fail("m=audio port is not an RTP port of the pool");
    }
    out->relay_port[side] = static_cast<uint16_t>(port);
    if (srtp) {
        std::string err;
        const auto c = sdes::parse_crypto(line_value(sdp, "a=crypto:"), {}, &err);
        if (!c) {
            fail("no usable a=crypto line: " + err);
        }
        if (c->crypto_suite != out->suite) {
            fail(std::string("a=crypto line of ") + dp::srtp::info(c->crypto_suite).name);
        }
        out->relay_key[side] = c->key;
    } else if (!line_value(sdp, "a=crypto:").empty()) {
        fail("a=crypto on a plain RTP leg");
    }
}

}  // namespace

relay_under_test::relay_under_test(eal_env& env, scenario s, uint32_t calls, uint32_t srtp_batch_min, uint32_t workers,
                                   dp::srtp::suite suite, ip_mode ip, uint32_t record_pct, uint32_t record_hot)
    : env_(env), scenario_(s), calls_(calls), suite_(suite), ip_(ip), record_pct_(record_pct) {
    if (workers < 1 || workers > env.lanes()) {
        throw std::runtime_error(std::to_string(workers) + " workers, but the ports have " +
                                 std::to_string(env.lanes()) + " queues");
    }
    heap_before_ = heap_in_use();
    dpdk_before_ = dpdk_in_use();

    // Interfaces and their media addresses, as the daemon reads them from its config.
    interfaces_ = std::make_unique<interface_set>();
    dp::plane_config pc;
    pc.name = "pipe";
    pc.workers = static_cast<uint16_t>(workers);
    pc.pool = env.pool();
    const uint32_t n_addr = addresses_per_side(calls);
    for (int side = 0; side < 2; ++side) {
        std::string spec = std::string(side == 0 ? "a" : "b") + " address=";
        for (uint32_t i = 0; i < n_addr; ++i) {
            spec += i == 0 ? "" : ",";
            if (side_v6(ip, side)) {
                spec += relay_address6_text(side, i) + "/64";
                dp::local_address la{0, env.port(side).id, 0};
                la.v6 = true;
                relay_address6(side, i, la.addr6);
                pc.addresses.push_back(la);
                continue;
            }
            spec += relay_address_text(side, i);
            spec += "/16";
            pc.addresses.push_back({relay_address(side, i), env.port(side).id, 0});
        }
        spec += " dpdk-port=" + std::to_string(env.port(side).id) +
                " ports=10000-20000 offer-suites=" + dp::srtp::info(suite).name;
        interfaces_->add(parse_interface(spec, 0x1234 + static_cast<uint64_t>(side) * 977));
        // eal_env set the port up with a queue pair per lane and stops it at the end.
        pc.ports.push_back(dp::plane_port{.id = env.port(side).id, .set_up = false, .mac = env.port(side).mac});
    }
    // Tables sized for the calls: 4 flows per call (RTP and RTCP, both legs), a few peers'
    // next hops.
    pc.max_flows = calls * 4 + 1024;
    pc.max_neighbours = 2 * peer_hosts + 64;
    pc.srtp_batch_min = srtp_batch_min;
    pc.record_bytes = record_pct > 0 ? 32u << 20 : 0;  // the daemon's default ring
    if (record_hot != 0) {
        pc.record_hot = record_hot;
    }
    plane_ = std::make_unique<dp::plane>(pc);
    // What worker::run() does before its loop, for every worker (RCU reader ids are not
    // bound to threads: each worker's thread reports its own id while it runs).
    plane_->register_readers();

    pub_ = std::make_unique<publisher>(plane_->flows(), plane_->neighbours(), static_cast<uint16_t>(workers));
    pub_->set_local_addresses(&plane_->locals());
    sessions_ = std::make_unique<session_manager>(*interfaces_, *pub_);
}

relay_under_test::~relay_under_test() {
    stop_recorder();
    sessions_.reset();  // removes the calls' flows, retires their states and contexts
    pub_.reset();
    plane_.reset();  // readers off, everything reclaimed, rings freed with their packets
}

void relay_under_test::quiescent(uint32_t worker_index) {
    plane_->quiescent(static_cast<uint16_t>(worker_index));
    if (!recorder_.joinable()) {
        read_records(worker_index);
    }
}

void relay_under_test::start_recorder(int cpu) {
    recorder_stop_.store(false);
    recorder_ = std::thread([this] {
        const uint32_t n = plane_->n_workers();
        // The daemon's recorder sleeps when its rings are empty; spinning here costs the
        // worker nothing (another core) and reads each ring as soon as it is committed.
        while (!recorder_stop_.load(std::memory_order_acquire)) {
            for (uint32_t w = 0; w < n; ++w) {
                read_records(w);
            }
            _mm_pause();
        }
        for (uint32_t w = 0; w < n; ++w) {
            read_records(w);  // what was committed before the stop
        }
    });
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    if (pthread_setaffinity_np(recorder_.native_handle(), sizeof(set), &set) != 0) {
        stop_recorder();
        throw std::runtime_error("--recorder-cpu " + std::to_string(cpu) + ": cannot pin the reader there");
    }
}

void relay_under_test::stop_recorder() {
    if (recorder_.joinable()) {
        recorder_stop_.store(true, std::memory_order_release);
        recorder_.join();
    }
}

void relay_under_test::read_records(uint32_t worker_index) {
    if (dp::record_ring* r = plane_->record(static_cast<uint16_t>(worker_index)); r != nullptr) {
        uint64_t pos = r->consumed();
        const uint64_t limit = r->committed();
        while (const dp::record_slot* s = r->next(&pos, limit)) {
            ++recorded_[worker_index];
            if (!record_as_sent(*s)) {
                ++record_wrong_[worker_index];
            }
        }
        r->release(pos);
    }
}

uint64_t relay_under_test::record_refused() const {
    uint64_t n = 0;
    for (uint16_t w = 0; w < dp::max_workers; ++w) {
        if (const dp::record_ring* r = plane_->record(w); r != nullptr) {
            n += r->refused();
        }
    }
    return n;
}

bool relay_under_test::record_as_sent(const dp::record_slot& s) const {
    // The leg that sent it is the side its peer is on (topology.h): that side's family, from
    // a peer address of the side to a relay address of the side.
    const int side = s.channel;
    if (s.ipv6() != side_v6(ip_, side) || s.packet_len() + (s.ipv6() ? dp::record_addr6_bytes : 0) != s.len ||
        s.packet_len() != (s.orig_len < dp::record_slot_data ? s.orig_len : dp::record_slot_data)) {
        return false;
    }
    if (s.ipv6()) {
        uint8_t peer[16], relay[16];
        side_address6(side, 0x100, 0, peer);
        side_address6(side, 0, 0, relay);
        return std::memcmp(s.src6(), peer, 14) == 0 && std::memcmp(s.dst6(), relay, 14) == 0;
    }
    const auto* src = reinterpret_cast<const uint8_t*>(&s.src_addr);
    const auto* dst = reinterpret_cast<const uint8_t*>(&s.dst_addr);
    return src[0] == 10 && src[1] == 1 + side && src[2] == 100 && dst[0] == 10 && dst[1] == 1 + side && dst[2] == 0;
}

uint64_t relay_under_test::record_wrong() const {
    uint64_t n = 0;
    for (uint64_t r : record_wrong_) {
        n += r;
    }
    return n;
}

uint64_t relay_under_test::recorded() const {
    uint64_t n = 0;
    for (uint64_t r : recorded_) {
        n += r;
    }
    return n;
}

unsigned relay_under_test::handoff_backlog(uint32_t worker_index) const {
    rte_ring* r = plane_->handoff(static_cast<uint16_t>(worker_index));
    return r == nullptr ? 0 : rte_ring_count(r);
}

uint32_t relay_under_test::owner(const call_info& c, int side) const {
    if (side_v6(ip_, side)) {
        ip_address a;
        a.fam = ip_address::family::v6;
        std::memcpy(a.bytes.data(), c.relay_addr6[side], 16);
        return pub_->owner_of(a, c.relay_port[side]);
    }
    return pub_->owner_of(c.relay_addr[side], c.relay_port[side]);
}

dp::worker_counters relay_under_test::totals() const { return plane_->totals(); }

std::vector<call_info> relay_under_test::set_up_calls() {
    std::vector<call_info> out(calls_);
    const bool srtp_a = srtp_leg(scenario_, 0);
    const bool srtp_b = srtp_leg(scenario_, 1);
    const auto start = std::chrono::steady_clock::now();
    for (uint32_t i = 0; i < calls_; ++i) {
        call_info& c = out[i];
        c.peer_key[0] = peer_key(i, 0);
        c.peer_key[1] = peer_key(i, 1);
        c.suite = suite_;

        sdp_request offer;
        offer.call_id = "call-" + std::to_string(i);
        offer.from_tag = "caller-" + std::to_string(i);
        offer.sdp = peer_sdp(0, i, srtp_a, suite_, c.peer_key[0], side_v6(ip_, 0));
        offer.direction = {"a", "b"};
        if (srtp_b && !srtp_a) {
            offer.transport_protocol = "RTP/SAVP";  // NG bridging: the callee leg is SRTP
        }
        const auto now = std::chrono::steady_clock::now();
        if (side_v6(ip_, 0) != side_v6(ip_, 1)) {
            offer.address_family = side_v6(ip_, 1) ? ip_address::family::v6 : ip_address::family::v4;
        }
        read_relay_sdp(sessions_->offer(offer, now).sdp, srtp_b, i, 1, side_v6(ip_, 1), &c);

        sdp_request answer;
        answer.call_id = offer.call_id;
        answer.from_tag = offer.from_tag;
        answer.to_tag = "callee-" + std::to_string(i);
        answer.sdp = peer_sdp(1, i, srtp_b, suite_, c.peer_key[1], side_v6(ip_, 1));
        read_relay_sdp(sessions_->answer(answer, now).sdp, srtp_a, i, 0, side_v6(ip_, 0), &c);
    }
    stats_.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

    // The peers' MACs, as the control plane learns them from their ARP (IPv6: ND).
    const auto now = dp::neighbour_table::clock::now();
    for (int side = 0; side < 2; ++side) {
        for (uint32_t h = 0; h < peer_hosts && h < calls_; ++h) {
            if (side_v6(ip_, side)) {
                uint8_t a[16];
                peer_address6(side, h, a);
                plane_->neighbours().learn6(env_.port(side).id, a, dp::pack_mac(peer_mac(side, h)), true, now);
            } else {
                plane_->neighbours().learn(env_.port(side).id, peer_address(side, h), dp::pack_mac(peer_mac(side, h)),
                                           true, now);
            }
        }
    }
    // Recorded calls: record_pct of them, spread evenly, both legs stamped as the recording
    // controller does (control/recording/controller.cc).
    for (uint32_t i = 0; i < calls_ && record_pct_ > 0; ++i) {
        if ((i * record_pct_) % 100 >= record_pct_ && record_pct_ < 100) {
            continue;
        }
        call* c = sessions_->find("call-" + std::to_string(i));
        for (size_t l = 0; c != nullptr && l < c->legs.size(); ++l) {
            c->legs[l]->record_id = static_cast<uint16_t>(i % 65535 + 1);  // 16-bit ids, as the controller's
            c->legs[l]->record_channel = static_cast<uint8_t>(l);
            pub_->restamp(*c->legs[l]);
        }
    }
    // The answers replaced the offers' entries: let those go as the running relay would.
    for (uint32_t w = 0; w < n_workers(); ++w) {
        quiescent(w);
    }
    dp::flow_table& flows = plane_->flows();
    flows.reclaim();
    stats_.flows = flows.size();
    if (stats_.flows != uint64_t{calls_} * 4 || flows.pending() != 0) {
        throw std::runtime_error("flow table holds " + std::to_string(stats_.flows) + " entries (" +
                                 std::to_string(flows.pending()) + " pending) for " + std::to_string(calls_) +
                                 " calls; expected 4 per call");
    }
    // Less this benchmark's own record of the calls.
    stats_.heap_bytes = heap_in_use() - heap_before_ - out.capacity() * sizeof(call_info);
    stats_.dpdk_bytes = dpdk_in_use() - dpdk_before_;
    return out;
}

}  // namespace rtprelay::pipeline
