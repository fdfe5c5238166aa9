#pragma once
// CPU time of another process (the relay under test) from /proc/PID/stat: user + system,
// all its threads, in seconds. Sampled at the start and end of the streaming window.

#include <optional>

namespace rtprelay::loadgen {

// std::nullopt if the process does not exist or the file cannot be parsed.
std::optional<double> process_cpu_seconds(int pid);

}  // namespace rtprelay::loadgen
