#include "bench/pipeline/relay_under_test.h"

#include <malloc.h>

#include <rte_malloc.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring.h>

#include <chrono>
#include <stdexcept>
#include <string>
#include <string_view>

#include "control/interfaces.h"
#include "control/publish/publisher.h"
#include "control/sdes/crypto_attr.h"
#include "control/session/manager.h"
#include "dataplane/rewrite.h"

namespace rtprelay::pipeline {

namespace {

uint64_t heap_in_use() { return mallinfo2().uordblks; }

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
std::string peer_sdp(int side, uint32_t call, bool srtp, const dp::srtp::master_key& key) {
    const std::string ip = peer_address_text(side, call);
    std::string s = "v=0\r\no=- " + std::to_string(call * 2 + static_cast<uint32_t>(side) + 1) + " 1 IN IP4 " + ip +
                    "\r\ns=-\r\nc=IN IP4 " + ip + "\r\nt=0 0\r\nm=audio " + std::to_string(peer_port(call)) +
                    (srtp ? " RTP/SAVP 0\r\n" : " RTP/AVP 0\r\n") + "a=rtpmap:0 PCMU/8000\r\na=sendrecv\r\n";
    if (srtp) {
        sdes::crypto_attr a;
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
void read_relay_sdp(const std::string& sdp, bool srtp, uint32_t call, int side, call_info* out) {
    auto fail = [&](const std::string& why) {
        throw std::runtime_error("call " + std::to_string(call) + ": relay SDP toward side " + std::to_string(side) +
                                 ": " + why + "\n" + sdp);
    };
    const std::string addr(line_value(sdp, "c=IN IP4 "));
    in_addr a{};
    if (inet_pton(AF_INET, addr.c_str(), &a) != 1) {
        fail("no c=IN IP4 address");
    }
    out->relay_addr[side] = a.s_addr;
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
        out->relay_key[side] = c->key;
    } else if (!line_value(sdp, "a=crypto:").empty()) {
        fail("a=crypto on a plain RTP leg");
    }
}

}  // namespace

relay_under_test::relay_under_test(eal_env& env, scenario s, uint32_t calls, uint32_t srtp_batch_min,
                                   uint32_t workers)
    : env_(env), scenario_(s), calls_(calls) {
    if (workers < 1 || workers > env.lanes()) {
        throw std::runtime_error(std::to_string(workers) + " workers, but the ports have " +
                                 std::to_string(env.lanes()) + " queues");
    }
    heap_before_ = heap_in_use();
    dpdk_before_ = dpdk_in_use();

    // Interfaces and local addresses, as relay/main.cc builds them from the config.
    interfaces_ = std::make_unique<interface_set>();
    locals_ = std::make_unique<dp::local_addresses>();
    const uint32_t n_addr = addresses_per_side(calls);
    for (int side = 0; side < 2; ++side) {
        std::string spec = std::string(side == 0 ? "a" : "b") + " address=";
        for (uint32_t i = 0; i < n_addr; ++i) {
            spec += i == 0 ? "" : ",";
            spec += relay_address_text(side, i);
            spec += "/16";
            if (!locals_->add(relay_address(side, i), env.port(side).id, 0)) {
                throw std::runtime_error("too many media addresses for " + std::to_string(calls) + " calls");
            }
        }
        spec += " dpdk-port=" + std::to_string(env.port(side).id) + " ports=10000-20000";
        interfaces_->add(parse_interface(spec, 0x1234 + static_cast<uint64_t>(side) * 977));
    }

    // Tables and rings the planes share, sized for the calls: 4 flows per call (RTP and
    // RTCP, both legs), a few peers' next hops.
    flows_ = std::make_unique<dp::flow_table>(calls * 4 + 1024, workers, 0);
    neighbours_ = std::make_unique<dp::neighbour_table>(2 * peer_hosts + 64, 0);
    to_control_ = rte_ring_create("pipe_to_control", 1024, 0, RING_F_SC_DEQ);
    control_tx_ = rte_ring_create("pipe_control_tx", 1024, 0, RING_F_SP_ENQ | RING_F_SC_DEQ);
    if (to_control_ == nullptr || control_tx_ == nullptr) {
        throw std::runtime_error("control rings: rte_ring_create failed");
    }
    shared_ = std::make_unique<dp::dataplane_shared>();
    shared_->flows = flows_.get();
    shared_->neighbours = neighbours_.get();
    shared_->locals = locals_.get();
    for (int side = 0; side < 2; ++side) {
        const ring_port& p = env.port(side);
        shared_->port_macs[p.id] = p.mac;
        shared_->port_ids[shared_->n_ports++] = p.id;
    }
    shared_->n_workers = static_cast<uint16_t>(workers);
    shared_->to_control = to_control_;
    shared_->srtp_batch_min = srtp_batch_min;
    // As relay/main.cc: a handoff ring per worker when there is more than one.
    for (uint32_t w = 0; w < workers && workers > 1; ++w) {
        handoff_[w] = rte_ring_create(("pipe_handoff" + std::to_string(w)).c_str(), 4096, 0, RING_F_SC_DEQ);
        if (handoff_[w] == nullptr) {
            throw std::runtime_error("handoff ring: rte_ring_create failed");
        }
        shared_->handoff[w] = handoff_[w];
    }
    for (uint32_t w = 0; w < workers; ++w) {
        workers_.push_back(std::make_unique<dp::worker>());
        workers_.back()->init(static_cast<uint16_t>(w), shared_.get(), w == 0 ? control_tx_ : nullptr);
    }

    // What worker::run() does before its loop, for every worker (RCU reader ids are not
    // bound to threads: each worker's thread reports its own id while it runs).
    for (uint32_t w = 0; w < workers; ++w) {
        if (rte_rcu_qsbr_thread_register(flows_->rcu(), w) != 0) {
            throw std::runtime_error("RCU: thread register failed");
        }
        rte_rcu_qsbr_thread_online(flows_->rcu(), w);
    }
    rcu_online_ = true;

    pub_ = std::make_unique<publisher>(*flows_, *neighbours_, static_cast<uint16_t>(workers));
    sessions_ = std::make_unique<session_manager>(*interfaces_, *pub_);
}

relay_under_test::~relay_under_test() {
    sessions_.reset();  // removes the calls' flows, retires their states and contexts
    pub_.reset();
    if (rcu_online_) {
        for (uint32_t w = 0; w < workers_.size(); ++w) {
            rte_rcu_qsbr_thread_offline(flows_->rcu(), w);
            rte_rcu_qsbr_thread_unregister(flows_->rcu(), w);
        }
    }
    if (flows_) {
        flows_->reclaim_all();
    }
    for (auto& w : workers_) {
        w->release();
    }
    for (rte_ring* r : handoff_) {
        if (r != nullptr) {
            free_ring_contents(r);
            rte_ring_free(r);
        }
    }
    for (rte_ring* r : {to_control_, control_tx_}) {
        if (r != nullptr) {
            free_ring_contents(r);
            rte_ring_free(r);
        }
    }
}

void relay_under_test::quiescent(uint32_t worker_index) { rte_rcu_qsbr_quiescent(flows_->rcu(), worker_index); }

unsigned relay_under_test::handoff_backlog(uint32_t worker_index) const {
    return handoff_[worker_index] == nullptr ? 0 : rte_ring_count(handoff_[worker_index]);
}

uint32_t relay_under_test::owner(const call_info& c, int side) const {
    return pub_->owner_of(c.relay_addr[side], c.relay_port[side]);
}

dp::worker_counters relay_under_test::totals() const {
    std::vector<dp::worker_counters> blocks;
    for (const auto& w : workers_) {
        blocks.push_back(w->counters);
    }
    return dp::sum(blocks.data(), blocks.size());
}

std::vector<call_info> relay_under_test::set_up_calls() {
    std::vector<call_info> out(calls_);
    const bool srtp_a = srtp_leg(scenario_, 0);
    const bool srtp_b = srtp_leg(scenario_, 1);
    const auto start = std::chrono::steady_clock::now();
    for (uint32_t i = 0; i < calls_; ++i) {
        call_info& c = out[i];
        c.peer_key[0] = peer_key(i, 0);
        c.peer_key[1] = peer_key(i, 1);

        sdp_request offer;
        offer.call_id = "call-" + std::to_string(i);
        offer.from_tag = "caller-" + std::to_string(i);
        offer.sdp = peer_sdp(0, i, srtp_a, c.peer_key[0]);
        offer.direction = {"a", "b"};
        if (srtp_b && !srtp_a) {
            offer.transport_protocol = "RTP/SAVP";  // NG bridging: the callee leg is SRTP
        }
        const auto now = std::chrono::steady_clock::now();
        read_relay_sdp(sessions_->offer(offer, now).sdp, srtp_b, i, 1, &c);

        sdp_request answer;
        answer.call_id = offer.call_id;
        answer.from_tag = offer.from_tag;
        answer.to_tag = "callee-" + std::to_string(i);
        answer.sdp = peer_sdp(1, i, srtp_b, c.peer_key[1]);
        read_relay_sdp(sessions_->answer(answer, now).sdp, srtp_a, i, 0, &c);
    }
    stats_.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

    // The peers' MACs, as the control plane learns them from their ARP.
    const auto now = dp::neighbour_table::clock::now();
    for (int side = 0; side < 2; ++side) {
        for (uint32_t h = 0; h < peer_hosts && h < calls_; ++h) {
            neighbours_->learn(env_.port(side).id, peer_address(side, h), dp::pack_mac(peer_mac(side, h)), true, now);
        }
    }
    // The answers replaced the offers' entries: let those go as the running relay would.
    for (uint32_t w = 0; w < workers_.size(); ++w) {
        quiescent(w);
    }
    flows_->reclaim();
    stats_.flows = flows_->size();
    if (stats_.flows != uint64_t{calls_} * 4 || flows_->pending() != 0) {
        throw std::runtime_error("flow table holds " + std::to_string(stats_.flows) + " entries (" +
                                 std::to_string(flows_->pending()) + " pending) for " + std::to_string(calls_) +
                                 " calls; expected 4 per call");
    }
    // Less this benchmark's own record of the calls.
    stats_.heap_bytes = heap_in_use() - heap_before_ - out.capacity() * sizeof(call_info);
    stats_.dpdk_bytes = dpdk_in_use() - dpdk_before_;
    return out;
}

}  // namespace rtprelay::pipeline
