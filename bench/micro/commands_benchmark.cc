// NG offer/answer handling on one core, the way the relay's control loop does it for each
// datagram: cookie-cache lookup, bencode decode, ng::commands::handle (session manager:
// SDP parse, SDES negotiation and keys, port allocation, admission, rewrite, publishing flow
// entries and SRTP contexts into a real flow table), bencode encode of the reply, cookie-
// cache insert. No socket I/O. Requests carry what Kamailio's rtpengine module sends
// (call-id, from-tag/to-tag, via-branch, sdp, flags, replace origin, ICE remove, direction,
// supports load limit).
//
// One iteration = one offer + one answer of a new call: items/s = offer+answer pairs/s.
//   offer_answer/<kind>: calls are deleted every 1,000 pairs with the timer paused.
//   offer_answer_delete/<kind>: the delete request is timed too (a whole call's signalling).
//   delete/<kind>: only the delete is timed (items/s = deletes/s), of a call that has
//     relayed: every port counts packets and bytes and has latched a source, so the reply
//     carries rtpengine's full delete shape (totals, tags, medias, streams with stats). Its
//     calls are set up 1,000 at a time with the timer paused.
// kind: 0 = plain RTP both legs, 1 = RTP <-> SRTP (the relay offers RTP/SAVP to the callee),
//       2 = SRTP <-> SRTP (both legs SDES, the relay re-keys).
//
//   commands_benchmark --benchmark_repetitions=5 --benchmark_report_aggregates_only=true

#include <arpa/inet.h>
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdio>
#include <exception>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "bench/micro/micro_eal.h"
#include "control/admission/admission.h"
#include "control/interfaces.h"
#include "control/ng/bencode.h"
#include "control/ng/commands.h"
#include "control/ng/cookie_cache.h"
#include "control/publish/publisher.h"
#include "control/sdes/crypto_attr.h"
#include "control/session/manager.h"
#include "dataplane/flow_entry.h"
#include "dataplane/flow_table.h"
#include "dataplane/neighbour_table.h"

namespace {

using rtprelay::ng::value;
namespace ng = rtprelay::ng;
namespace sdes = rtprelay::sdes;
using steady = std::chrono::steady_clock;

constexpr uint32_t batch_calls = 1000;  // live calls at most (offer_answer)

enum class kind : int { plain = 0, rtp_srtp = 1, srtp_srtp = 2 };

std::string phone_sdp(const std::string& ip, uint32_t call, bool savp) {
    std::string s = "v=0\r\no=- " + std::to_string(100000 + call) + " 1 IN IP4 " + ip + "\r\ns=-\r\nc=IN IP4 " + ip +
                    "\r\nt=0 0\r\nm=audio " + std::to_string(16384 + 2 * (call % 8000)) +
                    (savp ? " RTP/SAVP" : " RTP/AVP") +
                    " 0 8 101\r\n"
                    "a=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:101 telephone-event/8000\r\n"
                    "a=fmtp:101 0-16\r\na=ptime:20\r\n";
    if (savp) {
        s += "a=crypto:" + sdes::format_crypto(sdes::fresh_attr(1, sdes::suite::aes_cm_128_hmac_sha1_80, false)) +
             "\r\n";
    }
    s += "a=sendrecv\r\n";
    return s;
}

value list_of(std::initializer_list<const char*> items) {
    value::list_t l;
    for (const char* i : items) {
        l.push_back(value::str(i));
    }
    return value::list(std::move(l));
}

value base_request(const char* command, uint32_t call) {
    value d = value::dict();
    d.set("command", value::str(command));
    d.set("call-id", value::str("bench-" + std::to_string(call) + "@198.51.100.10"));
    d.set("from-tag", value::str("ft" + std::to_string(call)));
    d.set("via-branch", value::str("z9hG4bK" + std::to_string(call)));
    return d;
}

// Encoded request bodies ("<bencode dict>", no cookie) for one batch of calls.
struct batch {
    std::vector<std::string> offers, answers, deletes;
};

batch make_batch(kind k) {
    batch b;
    for (uint32_t i = 0; i < batch_calls; ++i) {
        value o = base_request("offer", i);
        o.set("sdp", value::str(phone_sdp("198.51.100.10", i, k == kind::srtp_srtp)));
        o.set("flags", list_of({"trust-address"}));
        o.set("replace", list_of({"origin"}));
        o.set("ICE", value::str("remove"));
        o.set("direction", list_of({"external", "internal"}));
        o.set("supports", list_of({"load limit"}));
        o.set("received-from", list_of({"IP4", "198.51.100.10"}));
        if (k == kind::rtp_srtp) {
            o.set("transport-protocol", value::str("RTP/SAVP"));
        }
        b.offers.push_back(ng::encode(o));

        value a = base_request("answer", i);
        a.set("to-tag", value::str("tt" + std::to_string(i)));
        a.set("sdp", value::str(phone_sdp("203.0.113.20", i, k != kind::plain)));
        a.set("replace", list_of({"origin"}));
        a.set("ICE", value::str("remove"));
        a.set("received-from", list_of({"IP4", "203.0.113.20"}));
        if (k == kind::rtp_srtp) {
            a.set("transport-protocol", value::str("RTP/AVP"));
        }
        b.answers.push_back(ng::encode(a));

        b.deletes.push_back(ng::encode(base_request("delete", i)));
    }
    return b;
}

// The relay's control plane objects as relay/main.cc wires them, on no ports.
struct control_plane {
    control_plane() {
        interfaces.add(rtprelay::parse_interface("external address=198.18.1.1/24 dpdk-port=0 ports=10000-59999", 1));
        interfaces.add(rtprelay::parse_interface("internal address=198.18.2.1/24 dpdk-port=1 ports=10000-59999", 2));
        flows = std::make_unique<rtprelay::dp::flow_table>(8 * batch_calls + 1024, 1, 0);
        neighbours = std::make_unique<rtprelay::dp::neighbour_table>(1024, 0);
        pub = std::make_unique<rtprelay::publisher>(*flows, *neighbours, 1);
        adm = std::make_unique<rtprelay::admission>(0, 80'000, 0.0, interfaces.all().size());
        sessions =
            std::make_unique<rtprelay::session_manager>(interfaces, *pub, rtprelay::session_timeouts{}, adm.get());
        cmds = std::make_unique<ng::commands>(*sessions, nullptr);
    }
    ~control_plane() {
        cmds.reset();
        sessions.reset();
        pub.reset();
        flows->reclaim_all();  // no reader registered: every grace period is over
    }

    // One datagram as ng_server::handle_datagram treats it, minus the socket.
    void datagram(const std::string& cookie, const std::string& body, steady::time_point now) {
        ng::cookie_cache::body_digest digest{};
        if (!ng::cookie_cache::digest(body, &digest)) {
            throw std::runtime_error("SHA-256 failed");
        }
        if (cache.lookup(proxy, cookie, digest, now)) {
            throw std::runtime_error("cookie seen twice");
        }
        std::string error;
        auto request = ng::decode(body, &error);
        if (!request) {
            throw std::runtime_error("decode: " + error);
        }
        const ng::reply reply = cmds->reply_to(*request, now);
        if (reply.kind() != ng::result::ok) {
            std::string text;
            reply.encode_to(&text);
            throw std::runtime_error("NG reply is not ok: " + text);
        }
        std::string out = cookie;
        out.push_back(' ');
        reply.encode_to(&out);
        cache.insert(proxy, cookie, digest, std::move(out), now);
    }

    // The sender as ng_server keys it (family, IPv4 address, port): one proxy.
    const std::string proxy{"\x02\x7f\x00\x00\x01\x08\xaf", 7};

    rtprelay::interface_set interfaces;
    std::unique_ptr<rtprelay::dp::flow_table> flows;
    std::unique_ptr<rtprelay::dp::neighbour_table> neighbours;
    std::unique_ptr<rtprelay::publisher> pub;
    std::unique_ptr<rtprelay::admission> adm;
    std::unique_ptr<rtprelay::session_manager> sessions;
    std::unique_ptr<ng::commands> cmds;
    ng::cookie_cache cache{10000, std::chrono::seconds(30)};  // the relay's defaults
};

template <bool timed_delete>
void offer_answer(benchmark::State& state) {
    const kind k = static_cast<kind>(state.range(0));
    const batch b = make_batch(k);
    control_plane cp;
    uint64_t cookie_seq = 0;
    uint32_t i = 0;
    auto cookie = [&cookie_seq] { return std::to_string(++cookie_seq) + "_bench"; };
    try {
        for (auto _ : state) {
            const steady::time_point now = steady::now();
            cp.datagram(cookie(), b.offers[i], now);
            cp.datagram(cookie(), b.answers[i], now);
            if constexpr (timed_delete) {
                cp.datagram(cookie(), b.deletes[i], now);
            }
            if (++i == batch_calls) {
                i = 0;
                if constexpr (!timed_delete) {
                    state.PauseTiming();
                    for (uint32_t c = 0; c < batch_calls; ++c) {
                        cp.datagram(cookie(), b.deletes[c], now);
                    }
                    cp.flows->reclaim();
                    state.ResumeTiming();
                } else {
                    cp.flows->reclaim();  // the control loop does this between requests
                }
            }
        }
    } catch (const std::exception& e) {
        state.SkipWithError(e.what());
    }
    state.SetItemsProcessed(state.iterations());
}

// What a relayed call's ports show by its BYE: packets, bytes, a latched source (the SDP's
// address), as the workers would have left them. `seed` varies the figures between calls.
void mark_relayed(rtprelay::call& c, uint32_t seed) {
    uint64_t n = 1000 + seed % 1000;
    for (const auto& l : c.legs) {
        for (const auto& s : l->streams) {
            for (auto* st : {s.rtp_state.get(), s.rtcp_state.get()}) {
                if (st == nullptr) {
                    continue;
                }
                const auto& peer = st == s.rtp_state.get() ? s.peer_rtp : s.peer_rtcp;
                if (peer && peer->addr.is_v4()) {
                    st->latched.store(rtprelay::dp::pack_endpoint(peer->addr.v4_be(), htons(peer->port)));
                }
                st->packets.store(n);
                st->bytes.store(n * 172);
                st->errors.store(seed % 3);
                n += 7;
            }
        }
    }
}

// One iteration = one NG delete of a call that has been offered, answered and has relayed.
void del(benchmark::State& state) {
    const kind k = static_cast<kind>(state.range(0));
    const batch b = make_batch(k);
    control_plane cp;
    uint64_t cookie_seq = 0;
    auto cookie = [&cookie_seq] { return std::to_string(++cookie_seq) + "_bench"; };
    auto set_up = [&](steady::time_point now) {
        for (uint32_t c = 0; c < batch_calls; ++c) {
            cp.datagram(cookie(), b.offers[c], now);
            cp.datagram(cookie(), b.answers[c], now);
            rtprelay::call* call = cp.sessions->find("bench-" + std::to_string(c) + "@198.51.100.10");
            if (call == nullptr) {
                throw std::runtime_error("call not found after its answer");
            }
            mark_relayed(*call, c);
        }
    };
    uint32_t i = 0;
    try {
        set_up(steady::now());
        for (auto _ : state) {
            cp.datagram(cookie(), b.deletes[i], steady::now());
            if (++i == batch_calls) {
                i = 0;
                state.PauseTiming();
                cp.flows->reclaim();
                set_up(steady::now());
                state.ResumeTiming();
            }
        }
    } catch (const std::exception& e) {
        state.SkipWithError(e.what());
    }
    state.SetItemsProcessed(state.iterations());
}

void kinds(benchmark::internal::Benchmark* b) {
    b->ArgName("kind");
    for (int k : {0, 1, 2}) {
        b->Arg(k);
    }
    b->Unit(benchmark::kMicrosecond);
}

BENCHMARK(offer_answer<false>)->Name("offer_answer")->Apply(kinds);
BENCHMARK(offer_answer<true>)->Name("offer_answer_delete")->Apply(kinds);
BENCHMARK(del)->Name("delete")->Apply(kinds);

}  // namespace

int main(int argc, char** argv) {
    return rtprelay::bench::run_benchmarks_with_eal(argc, argv, "commands_benchmark", 256);
}
