// ns per packet of protecting a burst of N RTP packets of N different streams (172 bytes,
// AES_CM_128_HMAC_SHA1_80, and for the other suites' families "..._aes256_80", "..._gcm128",
// "..._gcm256"): the burst path (batch.h, intel-ipsec-mb) against the same packets one by
// one. Where the two cross is the worker's srtp_batch_min.
//
//   srtp_batch_benchmark --benchmark_repetitions=5 --benchmark_report_aggregates_only=true

#include <benchmark/benchmark.h>

#include <exception>
#include <memory>
#include <random>
#include <vector>

#include "dataplane/srtp/batch.h"
#include "dataplane/srtp/srtp.h"

namespace srtp = rtprelay::dp::srtp;

namespace {

constexpr uint32_t len = 172;  // bytes: 12 header + 160 G.711
constexpr uint32_t stride = 256;

void bm_protect_burst(benchmark::State& state, bool batched, srtp::imb_arch arch, srtp::suite s) {
    const auto n = static_cast<uint32_t>(state.range(0));
    std::mt19937_64 rng(3);
    std::vector<std::unique_ptr<srtp::context>> ctxs;
    for (uint32_t i = 0; i < n; ++i) {
        srtp::master_key k{};
        for (auto& b : k.key) {
            b = static_cast<uint8_t>(rng());
        }
        ctxs.push_back(srtp::make_context(srtp::engine::native, s, k, false));
    }
    std::vector<uint8_t> buf(n * stride);
    for (auto& b : buf) {
        b = static_cast<uint8_t>(rng());
    }
    std::unique_ptr<srtp::burst_crypto> owned;
    try {
        owned = std::make_unique<srtp::burst_crypto>(arch);
    } catch (const std::exception& e) {
        state.SkipWithError(e.what());
        return;
    }
    srtp::burst_crypto& bc = *owned;
    bc.set_min_batch(1);
    std::vector<srtp::batch_item> items(n);
    uint32_t seq = 0;
    for (auto _ : state) {
        for (uint32_t i = 0; i < n; ++i) {
            uint8_t* p = buf.data() + i * stride;
            p[0] = 0x80;
            p[1] = 0;
            p[2] = static_cast<uint8_t>(seq >> 8);
            p[3] = static_cast<uint8_t>(seq);
            p[8] = 0;
            p[9] = 0;
            p[10] = 0;
            p[11] = static_cast<uint8_t>(i + 1);
            items[i] = srtp::batch_item{};
            items[i].out = ctxs[i].get();
            items[i].pkt = p;
            items[i].len = len;
            items[i].room = stride - len;
        }
        ++seq;
        if (batched) {
            bc.run(items.data(), n);
        } else {
            for (uint32_t i = 0; i < n; ++i) {
                srtp::run_item(items[i]);
            }
        }
        benchmark::DoNotOptimize(items.data());
    }
    // Seconds of CPU per packet (shown as e.g. 190n): the iteration's time over its n packets.
    state.counters["per_pkt"] = benchmark::Counter(
        static_cast<double>(n), benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
    state.SetLabel(srtp::imb_arch_name(bc.arch()));
}

// The burst sizes both automatic-path runs cover.
void burst_sizes(benchmark::internal::Benchmark* b) {
    for (int n : {1, 2, 3, 4, 6, 8, 16, 32}) {
        b->Arg(n);
    }
}

// Fewer sizes for the other suites.
void suite_sizes(benchmark::internal::Benchmark* b) {
    for (int n : {1, 2, 4, 8, 32}) {
        b->Arg(n);
    }
}

}  // namespace

constexpr auto cm80 = srtp::suite::aes_cm_128_hmac_sha1_80;

// automatic: the code path burst_crypto picks by timing (sse with SHA-NI on AMD EPYC).
BENCHMARK_CAPTURE(bm_protect_burst, batch, true, srtp::imb_arch::automatic, cm80)->Apply(burst_sizes);
BENCHMARK_CAPTURE(bm_protect_burst, single, false, srtp::imb_arch::automatic, cm80)->Apply(burst_sizes);
// Each intel-ipsec-mb code path on a full burst.
BENCHMARK_CAPTURE(bm_protect_burst, batch_sse, true, srtp::imb_arch::sse, cm80)->Arg(32);
BENCHMARK_CAPTURE(bm_protect_burst, batch_avx, true, srtp::imb_arch::avx, cm80)->Arg(32);
BENCHMARK_CAPTURE(bm_protect_burst, batch_avx2, true, srtp::imb_arch::avx2, cm80)->Arg(32);
BENCHMARK_CAPTURE(bm_protect_burst, batch_avx512, true, srtp::imb_arch::avx512, cm80)->Arg(32);
// The other suites: AES-256 counter mode (its own cipher burst), AES-GCM (one job burst on
// the process's GCM code path, whatever `arch` says for the rest).
BENCHMARK_CAPTURE(bm_protect_burst, batch_aes256_80, true, srtp::imb_arch::automatic,
                  srtp::suite::aes_256_cm_hmac_sha1_80)
    ->Apply(suite_sizes);
BENCHMARK_CAPTURE(bm_protect_burst, single_aes256_80, false, srtp::imb_arch::automatic,
                  srtp::suite::aes_256_cm_hmac_sha1_80)
    ->Apply(suite_sizes);
BENCHMARK_CAPTURE(bm_protect_burst, batch_gcm128, true, srtp::imb_arch::automatic, srtp::suite::aead_aes_128_gcm)
    ->Apply(suite_sizes);
BENCHMARK_CAPTURE(bm_protect_burst, single_gcm128, false, srtp::imb_arch::automatic, srtp::suite::aead_aes_128_gcm)
    ->Apply(suite_sizes);
BENCHMARK_CAPTURE(bm_protect_burst, batch_gcm256, true, srtp::imb_arch::automatic, srtp::suite::aead_aes_256_gcm)
    ->Apply(suite_sizes);
BENCHMARK_CAPTURE(bm_protect_burst, single_gcm256, false, srtp::imb_arch::automatic, srtp::suite::aead_aes_256_gcm)
    ->Apply(suite_sizes);
BENCHMARK_MAIN();
