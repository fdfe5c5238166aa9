#include "tests/fuzz/fuzz_eal.h"

#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <system_error>
#include <vector>

namespace rtprelay::fuzz {

namespace {

std::string g_runtime_dir;

// RTPRELAY_FUZZ_FILE_PREFIX names a run ("rtprelay_fuzz" when unset); the pid keeps the
// processes of one run (libFuzzer's -jobs/-fork) apart. Checked, since it becomes a path.
std::string file_prefix() {
    static const std::string prefix = [] {
        const char* env = std::getenv("RTPRELAY_FUZZ_FILE_PREFIX");
        std::string base = env != nullptr && *env != '\0' ? env : "rtprelay_fuzz";
        const bool ok = base.size() <= 64 && base.find_first_not_of(
                                                 "abcdefghijklmnopqrstuvwxyz"
                                                 "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") == std::string::npos;
        if (!ok) {
            std::fprintf(stderr, "fuzz: RTPRELAY_FUZZ_FILE_PREFIX must be up to 64 of [A-Za-z0-9_-]\n");
            std::abort();
        }
        return base + "_" + std::to_string(getpid());
    }();
    return prefix;
}

// EAL creates its runtime directory even with --no-shconf. The name holds our prefix, so it
// is ours to remove. No rte_eal_cleanup(): the flow table and mempools of the targets live
// until exit, and EAL's memory goes with the process.
void remove_runtime_dir() {
    if (!g_runtime_dir.empty() && g_runtime_dir.find(file_prefix()) != std::string::npos) {
        std::error_code ec;
        std::filesystem::remove_all(g_runtime_dir, ec);
    }
}

}  // namespace

void start_eal(const char* argv0) {
    // EAL may keep pointers into argv: the strings live for the whole process.
    // clang-format off
    // An option and its value on one line.
    static std::vector<std::string> args = {
        argv0 != nullptr ? argv0 : "rtprelay_fuzz",
        "--no-huge",
        "-m", "128",
        "--no-pci",
        "--no-shconf",
        "--no-telemetry",
        "--file-prefix", file_prefix(),
        "-l", "0",
        "--log-level=lib.*:error",
    };
    // clang-format on
    static std::vector<char*> argv;
    for (auto& a : args) {
        argv.push_back(a.data());
    }
    if (rte_eal_init(static_cast<int>(argv.size()), argv.data()) < 0) {
        std::fprintf(stderr, "fuzz: rte_eal_init failed: %s\n", rte_strerror(rte_errno));
        std::abort();
    }
    g_runtime_dir = rte_eal_get_runtime_dir();
    std::atexit(remove_runtime_dir);
}

}  // namespace rtprelay::fuzz
