#include "bench/loadgen/relay_cpu.h"

#include <unistd.h>

#include <fstream>
#include <iterator>
#include <sstream>
#include <string>

namespace rtprelay::loadgen {

std::optional<double> process_cpu_seconds(int pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    if (!in) {
        return std::nullopt;
    }
    const std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    // Field 2 (comm) is in parentheses and may itself contain spaces and ')': the fields
    // that follow start after the last ')'. utime and stime are fields 14 and 15.
    const size_t close = stat.rfind(')');
    if (close == std::string::npos) {
        return std::nullopt;
    }
    std::istringstream fields(stat.substr(close + 1));
    std::string skip;
    for (int field = 3; field <= 13; ++field) {
        fields >> skip;
    }
    unsigned long long utime = 0;
    unsigned long long stime = 0;
    if (!(fields >> utime >> stime)) {
        return std::nullopt;
    }
    const long ticks = ::sysconf(_SC_CLK_TCK);
    if (ticks <= 0) {
        return std::nullopt;
    }
    return static_cast<double>(utime + stime) / static_cast<double>(ticks);
}

}  // namespace rtprelay::loadgen
