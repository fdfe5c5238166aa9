#pragma once

// The operator's completion command (--recording-command): run once a recording is in done/,
// with its files' paths, the hook for an upload to object storage. The command is the words of
// the option (split at spaces, no shell), then the paths (pcap, WAV when there is one, JSON).
// It starts with the default signal dispositions and an empty signal mask, and its output goes
// to the relay's. Children are reaped without waiting while the finisher runs and waited for
// (up to 5 s) when it stops; a command that cannot start or exits non-zero is counted in
// commands_failed and logged.
//
// Used by the finisher thread only (no lock).

#include <sys/types.h>

#include <string>
#include <vector>

#include "control/recording/live_counters.h"

namespace rtprelay::recording {

class completion_command {
 public:
    completion_command(const std::string& command, live_counters& counters);

    bool configured() const { return !words_.empty(); }
    // Starts the command with `paths` after its own words (counted in commands_run).
    void run(const std::vector<std::string>& paths);
    // Collects the commands that ended; with `wait`, until all did or 5 s passed.
    void reap(bool wait);

 private:
    std::vector<std::string> words_;
    live_counters& counters_;
    std::vector<pid_t> children_;
};

}  // namespace rtprelay::recording
