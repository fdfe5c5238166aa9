#include "bench/pipeline/crypto_floor.h"

#include <rte_cycles.h>
#include <sys/resource.h>

#include <algorithm>
#include <memory>
#include <random>
#include <vector>

#include "dataplane/srtp/batch.h"
#include "dataplane/srtp/srtp.h"

namespace rtprelay::pipeline {

floor_figures measure_crypto_floor(uint32_t keys, uint32_t bursts_per_round, uint32_t rounds, const std::string& arch) {
    namespace srtp = dp::srtp;
    constexpr uint32_t burst = 32;
    constexpr uint32_t len = 172;  // bytes of RTP; the hash covers len + 4 (ROC)
    keys = std::max(keys, burst);
    std::mt19937_64 rng(42);
    std::vector<std::unique_ptr<srtp::context>> ctxs;
    std::vector<srtp::context*> ring;
    for (uint32_t i = 0; i < keys; ++i) {
        srtp::master_key k{};
        for (auto& b : k.key) {
            b = static_cast<uint8_t>(rng());
        }
        for (auto& b : k.salt) {
            b = static_cast<uint8_t>(rng());
        }
        ctxs.push_back(srtp::make_context(srtp::engine::native, srtp::suite::aes_cm_128_hmac_sha1_80, k, false));
        ring.push_back(ctxs.back().get());
    }
    std::vector<uint8_t> storage(burst * 256);
    for (auto& b : storage) {
        b = static_cast<uint8_t>(rng());
    }
    uint8_t* pkts[burst];
    for (uint32_t i = 0; i < burst; ++i) {
        pkts[i] = storage.data() + 256 * i;
    }
    srtp::imb_arch which = srtp::imb_arch::automatic;
    for (const auto a : {srtp::imb_arch::sse, srtp::imb_arch::avx, srtp::imb_arch::avx2, srtp::imb_arch::avx512}) {
        if (arch == srtp::imb_arch_name(a)) {
            which = a;
        }
    }
    srtp::burst_crypto bc(which);
    // As the pipeline is timed: windows of 8 bursts, those in which the thread was switched
    // out left out (one switch on this shared machine adds milliseconds).
    auto switches = [] {
        rusage ru{};
        getrusage(RUSAGE_THREAD, &ru);
        return static_cast<uint64_t>(ru.ru_nvcsw) + static_cast<uint64_t>(ru.ru_nivcsw);
    };
    constexpr uint32_t window = 8;
    std::vector<double> per_round;
    uint32_t next = 0;
    for (uint32_t r = 0; r < rounds + 1; ++r) {  // round 0 warms up
        uint64_t clean_cycles = 0;
        uint64_t clean_bursts = 0;
        for (uint32_t b = 0; b < bursts_per_round; b += window) {
            const uint64_t sw = switches();
            const uint64_t t0 = rte_rdtsc_precise();
            for (uint32_t k = 0; k < window; ++k) {
                bc.floor_pass(ring.data() + next, pkts, burst, len);
                next = next + 2 * burst > keys ? 0 : next + burst;
            }
            const uint64_t cycles = rte_rdtsc_precise() - t0;
            if (switches() == sw) {
                clean_cycles += cycles;
                clean_bursts += window;
            }
        }
        if (r != 0 && clean_bursts != 0) {
            per_round.push_back(static_cast<double>(clean_cycles) * 1e9 / static_cast<double>(rte_get_tsc_hz()) /
                                (static_cast<double>(clean_bursts) * burst));
        }
    }
    if (per_round.empty()) {
        per_round.push_back(0);
    }
    std::sort(per_round.begin(), per_round.end());
    floor_figures f;
    f.arch = srtp::imb_arch_name(bc.arch());
    f.keys = keys;
    f.ns_per_direction = per_round[per_round.size() / 2];
    return f;
}

}  // namespace rtprelay::pipeline
