#pragma once
// DPDK's EAL for the fuzz targets that need it (the flow table behind the session manager,
// mbufs for classify): started once from LLVMFuzzerInitialize with no hugepages, no PCI,
// no shared files and no telemetry, under the file prefix "rtprelay_fuzz_<pid>". The
// runtime directory EAL creates is removed at exit; one left by a crashed run is removed by
// tests/fuzz/run.sh (it only touches that prefix).

namespace rtprelay::fuzz {

// Starts EAL (-m 128 MB of ordinary memory). Aborts with a message if EAL cannot start: a
// fuzz target without its environment would only report false crashes.
void start_eal(const char* argv0);

}  // namespace rtprelay::fuzz
