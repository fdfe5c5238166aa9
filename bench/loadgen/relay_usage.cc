#include "bench/loadgen/relay_cpu.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>

#include "bench/loadgen/summary.h"
#include "control/ng/client.h"

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

std::optional<worker_polls> polls_from_statistics(const ng::value& reply) {
    const ng::value* stats = reply.is_dict() ? reply.find("statistics") : nullptr;
    const ng::value* dp = stats != nullptr && stats->is_dict() ? stats->find("dataplane") : nullptr;
    if (dp == nullptr || !dp->is_dict()) {
        return std::nullopt;
    }
    const ng::value* polls = dp->find("polls");
    const ng::value* busy = dp->find("busy polls");
    if (polls == nullptr || busy == nullptr || !polls->is_integer() || !busy->is_integer() ||
        polls->as_integer() < 0 || busy->as_integer() < 0) {
        return std::nullopt;
    }
    return worker_polls{static_cast<uint64_t>(polls->as_integer()),
                        static_cast<uint64_t>(busy->as_integer())};
}

std::optional<worker_polls> query_worker_polls(ng::ng_client& client, uint32_t timeout_ms) {
    ng::value req = ng::value::dict();
    req.set("command", ng::value::str("statistics"));
    std::optional<ng::value> reply =
        client.request(req, std::chrono::milliseconds(timeout_ms), 0, nullptr);
    if (!reply) {
        return std::nullopt;
    }
    return polls_from_statistics(*reply);
}

void relay_usage::start(std::optional<int> relay_pid, ng::ng_client* client, uint32_t timeout_ms) {
    pid_ = relay_pid;
    client_ = client;
    timeout_ms_ = timeout_ms;
    if (pid_) {
        cpu_start_ = process_cpu_seconds(*pid_);
        if (!cpu_start_) {
            std::fprintf(stderr, "rtprelay-loadgen: --relay-pid %d: cannot read /proc/%d/stat\n", *pid_, *pid_);
        }
    }
    if (client_ != nullptr) {
        polls_start_ = query_worker_polls(*client_, timeout_ms_);
    }
}

void relay_usage::finish(run_summary* out) const {
    if (cpu_start_) {
        if (std::optional<double> cpu_end = process_cpu_seconds(*pid_)) {
            out->relay_cpu_seconds = *cpu_end - *cpu_start_;
        }
    }
    if (polls_start_) {
        if (std::optional<worker_polls> end = query_worker_polls(*client_, timeout_ms_)) {
            out->relay_polls = end->polls - polls_start_->polls;
            out->relay_busy_polls = end->busy_polls - polls_start_->busy_polls;
        }
    }
}

}  // namespace rtprelay::loadgen
