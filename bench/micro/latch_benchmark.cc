// ns per forged SRTP packet on each way dataplane/latch.h and srtp::precheck can reject it
// (172-byte G.711 packets, native engine): what a flood costs the worker per packet, before
// I/O. Every forged packet has a made-up tag and a fresh, plausible index.
//
//   forged/hmac         from the latched peer: precheck + HMAC (+ compare), refused
//   forged/capped       from a stranger with the budget spent: precheck + token, no HMAC
//   forged/replay       an index already received: precheck only
//   genuine/unprotect   for scale: an authentic packet, precheck + unprotect
//
//   latch_benchmark --benchmark_repetitions=3 --benchmark_report_aggregates_only=true

#include <benchmark/benchmark.h>

#include <cstring>
#include <memory>
#include <random>
#include <vector>

#include "dataplane/latch.h"
#include "dataplane/srtp/srtp.h"

namespace srtp = rtprelay::dp::srtp;
namespace dp = rtprelay::dp;

namespace {

constexpr uint32_t size = 172;  // bytes of RTP before the tag
constexpr uint32_t ssrc = 0x0badcafe;

srtp::master_key make_key() {
    std::mt19937_64 rng(11);
    srtp::master_key k{};
    for (auto& x : k.key) {
        x = static_cast<uint8_t>(rng());
    }
    for (auto& x : k.salt) {
        x = static_cast<uint8_t>(rng());
    }
    return k;
}

void write_rtp(uint8_t* p, uint16_t seq) {
    std::memset(p, 0x55, size);
    p[0] = 0x80;
    p[1] = 0;
    p[2] = static_cast<uint8_t>(seq >> 8);
    p[3] = static_cast<uint8_t>(seq);
    p[8] = static_cast<uint8_t>(ssrc >> 24);
    p[9] = static_cast<uint8_t>(ssrc >> 16);
    p[10] = static_cast<uint8_t>(ssrc >> 8);
    p[11] = static_cast<uint8_t>(ssrc);
}

// A receiving context that has seen seq 1000 (the stream is established).
std::unique_ptr<srtp::context> established(const srtp::master_key& k) {
    auto tx = srtp::make_context(srtp::engine::native, srtp::suite::aes_cm_128_hmac_sha1_80, k, false);
    auto rx = srtp::make_context(srtp::engine::native, srtp::suite::aes_cm_128_hmac_sha1_80, k, false);
    uint8_t buf[256];
    write_rtp(buf, 1000);
    uint32_t len = size;
    if (srtp::protect_rtp(*tx, buf, &len, 64) != srtp::result::ok ||
        srtp::unprotect_rtp(*rx, buf, &len) != srtp::result::ok) {
        std::abort();
    }
    return rx;
}

// What worker::authenticate does for one packet (without the mbuf): precheck, budget, HMAC.
dp::drop_reason reject(srtp::context& c, dp::stream_state& st, uint8_t* p, bool trusted) {
    const srtp::precheck pre = srtp::precheck_rtp(c, p, size + 10);
    const bool budgeted = pre == srtp::precheck::doubtful || (pre == srtp::precheck::plausible && !trusted);
    if (budgeted && !dp::take_auth_token(st, 1, 1'000'000'000)) {
        return dp::drop_reason::srtp_auth_capped;
    }
    uint32_t len = size + 10;
    switch (srtp::unprotect_rtp(c, p, &len)) {
        case srtp::result::ok:
            return dp::drop_reason::count;
        case srtp::result::auth_failed:
            return dp::drop_reason::srtp_auth_failed;
        case srtp::result::replay:
            return dp::drop_reason::srtp_replay;
        default:
            return dp::drop_reason::srtp_malformed;
    }
}

void bm_forged(benchmark::State& state, bool trusted, bool replay, dp::drop_reason expect) {
    const srtp::master_key k = make_key();
    auto rx = established(k);
    dp::stream_state st;
    st.auth_budget_tsc = 1;  // budget empty and no time passes: every stranger is capped
    uint8_t buf[256];
    uint16_t seq = 1001;
    for (auto _ : state) {
        write_rtp(buf, replay ? 1000 : seq);
        seq = seq == 1000 + 4000 ? 1001 : seq + 1;  // fresh and plausible: forgeries never commit
        std::memset(buf + size, 0xa5, 10);
        const dp::drop_reason why = reject(*rx, st, buf, trusted);
        if (why != expect) {
            state.SkipWithError("unexpected verdict");
            break;
        }
        benchmark::DoNotOptimize(buf);
    }
    state.SetItemsProcessed(state.iterations());
}

void bm_genuine(benchmark::State& state) {
    const srtp::master_key k = make_key();
    constexpr uint32_t n = 4096;
    std::vector<uint8_t> ring(size_t{n} * 256);
    auto fill = [&] {
        auto tx = srtp::make_context(srtp::engine::native, srtp::suite::aes_cm_128_hmac_sha1_80, k, false);
        for (uint32_t i = 0; i < n; ++i) {
            uint8_t* p = &ring[size_t{i} * 256];
            write_rtp(p, static_cast<uint16_t>(i));
            uint32_t len = size;
            srtp::protect_rtp(*tx, p, &len, 64);
        }
        return srtp::make_context(srtp::engine::native, srtp::suite::aes_cm_128_hmac_sha1_80, k, false);
    };
    auto rx = fill();
    dp::stream_state st;
    uint32_t i = 0;
    for (auto _ : state) {
        if (i == n) {
            state.PauseTiming();
            rx = fill();
            i = 0;
            state.ResumeTiming();
        }
        if (reject(*rx, st, &ring[size_t{i++} * 256], true) != dp::drop_reason::count) {
            state.SkipWithError("genuine packet refused");
            break;
        }
    }
    state.SetItemsProcessed(state.iterations());
}

}  // namespace

BENCHMARK_CAPTURE(bm_forged, hmac, true, false, dp::drop_reason::srtp_auth_failed)->Name("forged/hmac");
BENCHMARK_CAPTURE(bm_forged, capped, false, false, dp::drop_reason::srtp_auth_capped)->Name("forged/capped");
BENCHMARK_CAPTURE(bm_forged, replay, false, true, dp::drop_reason::srtp_replay)->Name("forged/replay");
BENCHMARK(bm_genuine)->Name("genuine/unprotect");
BENCHMARK_MAIN();
