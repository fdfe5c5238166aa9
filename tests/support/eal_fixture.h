#pragma once
// DPDK's EAL for unit-test binaries: initialised once per process before the first test and
// cleaned up after the last one, with no hugepages, no PCI scan, no shared files and no
// telemetry socket, so tests run anywhere and leave nothing in /var/run/dpdk.
//
// Linking eal_fixture.cc into a GoogleTest binary is all it takes: it registers a global
// environment from a static initialiser, so gtest_main (from gtest_dep) can stay the main.
// A failed rte_eal_init() is a fatal failure of the environment and no test runs.
//
// Besides the main lcore EAL has eal_worker_lcores worker lcores, on the same CPU, for tests
// that launch workers (tests/dataplane/plane_test.cc); idle, they cost nothing.

#include <string>

namespace rtprelay::test {

inline constexpr unsigned eal_worker_lcores = 2;

// True between a successful rte_eal_init() and rte_eal_cleanup().
bool eal_ready();

// This process's --file-prefix ("rtprelay_ut_<pid>").
const std::string& eal_file_prefix();

}  // namespace rtprelay::test
