#include "control/recording/completion_command.h"

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <chrono>
#include <cstring>
#include <sstream>
#include <thread>

#include "control/log.h"

extern char** environ;

namespace rtprelay::recording {

completion_command::completion_command(const std::string& command, live_counters& counters) : counters_(counters) {
    std::istringstream words(command);
    std::string w;
    while (words >> w) {
        words_.push_back(w);
    }
}

void completion_command::run(const std::vector<std::string>& paths) {
    std::vector<std::string> args = words_;
    args.insert(args.end(), paths.begin(), paths.end());
    std::vector<char*> argv;
    for (auto& a : args) {
        argv.push_back(a.data());
    }
    argv.push_back(nullptr);
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    sigset_t defaults;
    sigemptyset(&defaults);
    sigaddset(&defaults, SIGPIPE);
    sigaddset(&defaults, SIGTERM);
    sigaddset(&defaults, SIGINT);
    posix_spawnattr_setsigdefault(&attr, &defaults);
    sigset_t none;
    sigemptyset(&none);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
    pid_t pid = 0;
    const int rc = posix_spawnp(&pid, argv[0], nullptr, &attr, argv.data(), environ);
    posix_spawnattr_destroy(&attr);
    live_counters::bump(counters_.commands_run);
    if (rc != 0) {
        live_counters::bump(counters_.commands_failed);
        log::event(log::level::error, "recording command failed")
            .field("command", args[0])
            .field("error", std::strerror(rc));
        return;
    }
    children_.push_back(pid);
}

void completion_command::reap(bool wait) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (!children_.empty()) {
        for (size_t i = 0; i < children_.size();) {
            int status = 0;
            const pid_t r = ::waitpid(children_[i], &status, WNOHANG);
            if (r == 0) {
                ++i;
                continue;
            }
            if (r < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                live_counters::bump(counters_.commands_failed);
                log::event(log::level::warning, "recording command failed")
                    .field("pid", static_cast<int64_t>(children_[i]))
                    .field("status", static_cast<int64_t>(status));
            }
            children_.erase(children_.begin() + static_cast<std::ptrdiff_t>(i));
        }
        if (!wait || children_.empty() || std::chrono::steady_clock::now() >= deadline) {
            return;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
}

}  // namespace rtprelay::recording
