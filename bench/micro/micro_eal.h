#pragma once
// DPDK's EAL for micro-benchmarks that need rte_hash or rte_malloc (flow table, NG handling
// through the publisher): no hugepages, no PCI scan, no shared files, one lcore, a file
// prefix of our own; the runtime directory EAL creates is removed again at exit.

#include <cstdint>

namespace rtprelay::bench {

// Initialises EAL once with `mem_mb` of ordinary memory. Throws std::runtime_error on failure.
void init_eal(uint32_t mem_mb);
// rte_eal_cleanup() and removal of the runtime directory; safe to call when init failed.
void cleanup_eal();

}  // namespace rtprelay::bench
