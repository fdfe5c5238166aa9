// Flow lookup as a worker does it (dataplane/flow_table): rte_hash_lookup_bulk_data of a
// burst of 32 keys (local address, local port) in a table holding 10k, 100k or 1M flows,
// every key of the burst a different flow chosen at random (a burst is 32 different calls,
// as at a busy relay). Reported per packet (items = keys looked up).
//
// lookup/<flows>: the hash lookup alone (bucket signatures, key compare, data pointer).
// lookup_touch/<flows>: then one load from every entry, as the worker's first use of it
//   (`e->in_port_id`), with the prefetch the worker issues after the lookup: the flow
//   entries (128 B each, malloc'd) miss the caches at these sizes.
//
// A call has 4 flows (RTP and RTCP ports of both legs), so 1M flows = 250,000 calls.
//
//   flow_table_benchmark --benchmark_repetitions=5 --benchmark_report_aggregates_only=true

#include <arpa/inet.h>
#include <benchmark/benchmark.h>

#include <rte_prefetch.h>

#include <cstdio>
#include <exception>
#include <map>
#include <memory>
#include <random>
#include <vector>

#include "bench/micro/micro_eal.h"
#include "dataplane/flow_entry.h"
#include "dataplane/flow_table.h"

namespace dp = rtprelay::dp;

namespace {

constexpr uint32_t burst = 32;
constexpr uint32_t key_rounds = 1 << 16;  // bursts of keys prepared beforehand (2M keys)

// Flows spread as the relay spreads calls: addresses of a /16, each with ports 10000-59999.
dp::flow_key key_of(uint32_t i) {
    constexpr uint32_t ports_per_addr = 50000;
    dp::flow_key k;
    k.local_addr = htonl(0xc6120000u + 1 + i / ports_per_addr);  // 198.18.0.1 + n
    k.local_port = htons(static_cast<uint16_t>(10000 + i % ports_per_addr));
    return k;
}

// One table per size, filled once and kept for the process (1M flows take a few seconds).
struct filled_table {
    std::unique_ptr<dp::flow_table> table;
    std::vector<dp::flow_key> keys;  // key_rounds * burst, random flows
};

// Emptied before EAL is cleaned up (the hash lives in EAL memory).
std::map<uint32_t, filled_table> tables;

filled_table& table_of(uint32_t flows) {
    auto it = tables.find(flows);
    if (it != tables.end()) {
        return it->second;
    }
    filled_table t;
    t.table = std::make_unique<dp::flow_table>(flows + flows / 8, 1, 0);
    for (uint32_t i = 0; i < flows; ++i) {
        auto e = std::make_unique<dp::flow_entry>();
        e->in_port_id = static_cast<uint16_t>(i & 1);
        if (!t.table->publish(key_of(i), std::move(e))) {
            throw std::runtime_error("flow table full at " + std::to_string(i));
        }
    }
    std::mt19937 rng(flows);
    std::uniform_int_distribution<uint32_t> pick(0, flows - 1);
    t.keys.resize(size_t{key_rounds} * burst);
    for (auto& k : t.keys) {
        k = key_of(pick(rng));
    }
    return tables.emplace(flows, std::move(t)).first->second;
}

template <bool touch>
void lookup(benchmark::State& state) {
    const uint32_t flows = static_cast<uint32_t>(state.range(0));
    filled_table& t = table_of(flows);
    const dp::flow_key* ptrs[burst];
    const dp::flow_entry* out[burst];
    uint32_t round = 0;
    uint64_t misses = 0;
    uint64_t sum = 0;
    for (auto _ : state) {
        const dp::flow_key* keys = &t.keys[size_t{round} * burst];
        for (uint32_t j = 0; j < burst; ++j) {
            ptrs[j] = &keys[j];
        }
        t.table->lookup_bulk(ptrs, burst, out);
        if constexpr (touch) {
            for (uint32_t j = 0; j < burst; ++j) {
                if (out[j] != nullptr) {
                    rte_prefetch0(out[j]);
                }
            }
            for (uint32_t j = 0; j < burst; ++j) {
                if (out[j] == nullptr) {
                    ++misses;
                    continue;
                }
                sum += out[j]->in_port_id;
            }
        } else {
            for (uint32_t j = 0; j < burst; ++j) {
                misses += out[j] == nullptr;
            }
        }
        round = (round + 1) % key_rounds;
    }
    benchmark::DoNotOptimize(sum);
    if (misses != 0) {
        state.SkipWithError("a published flow was not found");
    }
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * burst);
    state.counters["ns_per_key"] = benchmark::Counter(static_cast<double>(state.iterations()) * burst,
                                                      benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

void sizes(benchmark::internal::Benchmark* b) {
    b->ArgName("flows");
    for (int64_t n : {10'000, 100'000, 1'000'000}) {
        b->Arg(n);
    }
}

BENCHMARK(lookup<false>)->Name("lookup")->Apply(sizes);
BENCHMARK(lookup<true>)->Name("lookup_touch")->Apply(sizes);

}  // namespace

int main(int argc, char** argv) {
    // 1M flows: the hash (keys, buckets, extendable table) takes ~100 MB of EAL memory.
    return rtprelay::bench::run_benchmarks_with_eal(argc, argv, "flow_table_benchmark", 1024, [] { tables.clear(); });
}
