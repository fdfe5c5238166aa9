#pragma once
// DPDK's EAL for micro-benchmarks that need rte_hash or rte_malloc (flow table, NG handling
// through the publisher): no hugepages, no PCI scan, no shared files, one lcore, a file
// prefix of our own; the runtime directory EAL creates is removed again at exit.

#include <cstdint>
#include <functional>

namespace rtprelay::bench {

// Initialises EAL once with `mem_mb` of ordinary memory. Throws std::runtime_error on failure.
void init_eal(uint32_t mem_mb);
// rte_eal_cleanup() and removal of the runtime directory; safe to call when init failed.
void cleanup_eal();

// A Google Benchmark main() with EAL around the runs: parses the benchmark flags, initialises
// EAL with `mem_mb`, runs the selected benchmarks, calls `release` (to free what holds EAL
// memory) and cleans up. Returns the process exit code; errors are printed under `name`.
int run_benchmarks_with_eal(int argc, char** argv, const char* name, uint32_t mem_mb,
                            const std::function<void()>& release = {});

}  // namespace rtprelay::bench
