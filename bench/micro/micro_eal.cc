#include "bench/micro/micro_eal.h"

#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>

#include <benchmark/benchmark.h>

#include <cstdio>
#include <exception>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

namespace rtprelay::bench {

namespace {

bool g_up = false;
std::string g_runtime_dir;
std::vector<std::string> g_args;  // EAL may keep pointers into argv
std::vector<char*> g_argv;

void remove_runtime_dir(const std::string& prefix) {
    if (!g_runtime_dir.empty() && g_runtime_dir.find(prefix) != std::string::npos) {
        std::error_code ec;
        std::filesystem::remove_all(g_runtime_dir, ec);
    }
}

std::string prefix() { return "rtprelay_micro_" + std::to_string(::getpid()); }

}  // namespace

void init_eal(uint32_t mem_mb) {
    if (g_up) {
        return;
    }
    g_args = {"rtprelay_micro",
              "--no-huge",
              "-m",
              std::to_string(mem_mb),
              "--no-pci",
              "--no-shconf",
              "--no-telemetry",
              "--file-prefix",
              prefix(),
              "-l",
              "0",
              "--log-level=lib.eal:warning"};
    for (auto& a : g_args) {
        g_argv.push_back(a.data());
    }
    const int rc = rte_eal_init(static_cast<int>(g_argv.size()), g_argv.data());
    const int err = rte_errno;
    g_runtime_dir = rte_eal_get_runtime_dir();
    if (rc < 0) {
        remove_runtime_dir(prefix());
        throw std::runtime_error(std::string("rte_eal_init failed: ") + rte_strerror(err));
    }
    g_up = true;
}

void cleanup_eal() {
    if (g_up) {
        rte_eal_cleanup();
        g_up = false;
    }
    remove_runtime_dir(prefix());
}

int run_benchmarks_with_eal(int argc, char** argv, const char* name, uint32_t mem_mb,
                            const std::function<void()>& release) {
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) {
        return 1;
    }
    int rc = 0;
    try {
        init_eal(mem_mb);
        benchmark::RunSpecifiedBenchmarks();
    } catch (const std::exception& e) {
        std::fprintf(stderr, "%s: %s\n", name, e.what());
        rc = 1;
    }
    benchmark::Shutdown();
    if (release) {
        release();
    }
    cleanup_eal();
    return rc;
}

}  // namespace rtprelay::bench
