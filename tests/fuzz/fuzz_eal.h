#pragma once
// DPDK's EAL for the fuzz targets that need it (the flow table behind the session manager,
// mbufs for classify): started once from LLVMFuzzerInitialize with no hugepages, no PCI,
// no shared files and no telemetry, under the file prefix "<RTPRELAY_FUZZ_FILE_PREFIX>_<pid>"
// ("rtprelay_fuzz_<pid>" when the variable is unset), so runs given different prefixes never
// meet in /var/run/dpdk. The runtime directory EAL creates is removed at exit; one left by a
// crashed run is removed by tests/fuzz/run.sh (only its own prefix, and only a dead pid's).

namespace rtprelay::fuzz {

// Starts EAL (-m 128 MB of ordinary memory). Aborts with a message if EAL cannot start: a
// fuzz target without its environment would only report false crashes.
void start_eal(const char* argv0);

}  // namespace rtprelay::fuzz
