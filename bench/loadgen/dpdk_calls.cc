#include "bench/loadgen/dpdk_calls.h"

#include <algorithm>
#include <cstdio>

#include "bench/loadgen/net_address.h"

namespace rtprelay::loadgen {

namespace {

// The wire's two "relay" sides (--dpdk-wire): addresses no network has, since the wire has
// none (198.18.0.0/15, the benchmarking range).
constexpr const char* wire_relay_a = "198.19.255.1";
constexpr const char* wire_relay_b = "198.19.255.2";
constexpr uint16_t wire_first_port = 10000;

}  // namespace

packet_store make_packet_store(const options& opt, std::mt19937_64& rng) {
    const uint32_t most_calls = opt.ramp ? std::max(opt.ramp_max, opt.calls) : opt.calls;
    const uint64_t streams = 2 * uint64_t{most_calls};
    // A round per ptime of --duration, and one spare: the schedule's last round may start
    // within the duration.
    const auto rounds = static_cast<uint32_t>(opt.duration_s * 1000.0 / opt.ptime_ms) + 2;
    const size_t per_identity = packet_store::bytes_per_identity(rounds, opt.payload_bytes, opt.any_srtp());
    const uint64_t fit = uint64_t{opt.dpdk_store_mb} * 1024 * 1024 / per_identity;
    packet_store::params p;
    p.identities = packet_store::shared_identities(streams, fit, opt.legs());
    p.rounds = rounds;
    p.payload_bytes = opt.payload_bytes;
    p.ptime_ms = opt.ptime_ms;
    p.legs = opt.legs();
    p.check_identities = 2 * opt.srtp_check_streams;
    packet_store store(p, rng);
    std::fprintf(stderr, "rtprelay-loadgen: %u sender identities x %u rounds precomputed (%s, %.0f MB) in %.2f s%s\n",
                 store.identities(), store.rounds(), leg_mode_name(opt.legs()),
                 static_cast<double>(per_identity) * store.identities() / 1e6, store.build_seconds(),
                 store.identities() < streams ? " (streams share identities beyond that)" : "");
    return store;
}

void use_identity_keys(const packet_store& store, std::vector<call_record>* calls) {
    const uint32_t n = store.identities();
    for (call_record& c : *calls) {
        c.key_a = store.identity((2 * c.index) % n).key;
        c.key_b = store.identity((2 * c.index + 1) % n).key;
    }
}

void use_identities(const packet_store& store, stream_set* streams) {
    for (stream_plan& s : streams->streams) {
        const uint32_t k = (2 * s.call_index + (s.from == side::a ? 0 : 1)) % store.identities();
        const sender_identity& id = store.identity(k);
        s.ssrc = id.ssrc;
        s.first_seq = id.first_seq;
        s.first_ts = id.first_ts;
    }
    // SSRCs may repeat now: the DPDK receiver tells streams apart by the relay's address.
    streams->by_ssrc = stream_index();
}

void set_up_wire_calls(std::vector<call_record>* calls) {
    for (call_record& c : *calls) {
        const auto port = static_cast<uint16_t>(wire_first_port + 2 * (c.index % 25000));
        c.offered = true;
        c.set_up = true;
        make_address(wire_relay_a, port, &c.a_sends_to.rtp);
        make_address(wire_relay_a, static_cast<uint16_t>(port + 1), &c.a_sends_to.rtcp);
        make_address(wire_relay_b, port, &c.b_sends_to.rtp);
        make_address(wire_relay_b, static_cast<uint16_t>(port + 1), &c.b_sends_to.rtcp);
        c.a_sends_to.srtp_key = c.key_b;  // B's packets reach A as B protected them
        c.b_sends_to.srtp_key = c.key_a;
    }
}

}  // namespace rtprelay::loadgen
