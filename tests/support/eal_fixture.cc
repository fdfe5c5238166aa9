#include "tests/support/eal_fixture.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>

#include <filesystem>
#include <system_error>
#include <vector>

namespace rtprelay::test {

namespace {

bool g_ready = false;

class eal_environment : public ::testing::Environment {
 public:
    void SetUp() override {
        // EAL may keep pointers into argv: the strings live as long as the environment.
        args_ = {
            "rtprelay_unit_test",
            "--no-huge",
            "-m", "256",
            "--no-pci",
            "--in-memory",
            "--no-telemetry",
            "--file-prefix", eal_file_prefix(),
            "-l", "0",
            "--log-level=lib.eal:warning",
        };
        for (auto& a : args_) {
            argv_.push_back(a.data());
        }
        const int rc = rte_eal_init(static_cast<int>(argv_.size()), argv_.data());
        ASSERT_GE(rc, 0) << "rte_eal_init failed: " << rte_strerror(rte_errno);
        runtime_dir_ = rte_eal_get_runtime_dir();
        g_ready = true;
    }

    void TearDown() override {
        if (!g_ready) {
            return;
        }
        g_ready = false;
        EXPECT_EQ(rte_eal_cleanup(), 0);
        // --in-memory keeps EAL's own files out of the runtime directory, but EAL still
        // creates the directory itself. It is named after our unique prefix: remove it.
        if (!runtime_dir_.empty() && runtime_dir_.find(eal_file_prefix()) != std::string::npos) {
            std::error_code ec;
            std::filesystem::remove_all(runtime_dir_, ec);
        }
    }

 private:
    std::vector<std::string> args_;
    std::vector<char*> argv_;
    std::string runtime_dir_;
};

// gtest owns (and deletes) the environment.
[[maybe_unused]] ::testing::Environment* const g_environment =
    ::testing::AddGlobalTestEnvironment(new eal_environment);

}  // namespace

bool eal_ready() { return g_ready; }

const std::string& eal_file_prefix() {
    static const std::string prefix = "rtprelay_ut_" + std::to_string(getpid());
    return prefix;
}

}  // namespace rtprelay::test
