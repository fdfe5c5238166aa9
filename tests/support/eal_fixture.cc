#include "tests/support/eal_fixture.h"

#include <gtest/gtest.h>
#include <sched.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>

#include <filesystem>
#include <system_error>
#include <vector>

namespace rtprelay::test {

namespace {

bool g_ready = false;

// The first CPU this process may run on (taskset may exclude CPU 0).
unsigned first_allowed_cpu() {
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof(set), &set) == 0) {
        for (unsigned c = 0; c < CPU_SETSIZE; ++c) {
            if (CPU_ISSET(c, &set)) {
                return c;
            }
        }
    }
    return 0;
}

class eal_environment : public ::testing::Environment {
 public:
    void SetUp() override {
        // EAL may keep pointers into argv: the strings live as long as the environment.
        args_ = {
            "rtprelay_unit_test",
            "--no-huge",
            "-m",
            "256",
            "--no-pci",
            // --in-memory is refused with --no-huge (which implies --legacy-mem); without
            // hugepages nothing is shared anyway, and --no-shconf keeps EAL's files away.
            "--no-shconf",
            "--no-telemetry",
            "--file-prefix",
            eal_file_prefix(),
            "--lcores",
            lcore_map(),
            "--log-level=lib.eal:warning",
        };
        for (auto& a : args_) {
            argv_.push_back(a.data());
        }
        const int rc = rte_eal_init(static_cast<int>(argv_.size()), argv_.data());
        const int err = rte_errno;
        runtime_dir_ = rte_eal_get_runtime_dir();
        if (rc < 0) {
            remove_runtime_dir();
        }
        ASSERT_GE(rc, 0) << "rte_eal_init failed: " << rte_strerror(err);
        g_ready = true;
    }

    void TearDown() override {
        if (g_ready) {
            g_ready = false;
            EXPECT_EQ(rte_eal_cleanup(), 0);
        }
        remove_runtime_dir();
    }

 private:
    // EAL creates /var/run/dpdk/<prefix> even when it writes nothing into it. The name
    // holds our unique prefix, so it is ours to remove.
    void remove_runtime_dir() {
        if (!runtime_dir_.empty() && runtime_dir_.find(eal_file_prefix()) != std::string::npos) {
            std::error_code ec;
            std::filesystem::remove_all(runtime_dir_, ec);
        }
    }

    // The main lcore and eal_worker_lcores more, all on one CPU: the workers' threads wait
    // in EAL unless a test launches something on them.
    static std::string lcore_map() {
        const std::string cpu = std::to_string(first_allowed_cpu());
        std::string m = "0@" + cpu;
        for (unsigned l = 1; l <= eal_worker_lcores; ++l) {
            m += "," + std::to_string(l) + "@" + cpu;
        }
        return m;
    }

    std::vector<std::string> args_;
    std::vector<char*> argv_;
    std::string runtime_dir_;
};

// gtest owns (and deletes) the environment.
[[maybe_unused]] ::testing::Environment* const g_environment = ::testing::AddGlobalTestEnvironment(new eal_environment);

}  // namespace

bool eal_ready() { return g_ready; }

const std::string& eal_file_prefix() {
    static const std::string prefix = "rtprelay_ut_" + std::to_string(getpid());
    return prefix;
}

}  // namespace rtprelay::test
