#include "bench/loadgen/relay_usage.h"

#include <dirent.h>
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

std::optional<sched_times> parse_schedstat(const std::string& line) {
    std::istringstream in(line);
    unsigned long long run = 0;
    unsigned long long wait = 0;
    unsigned long long slices = 0;
    if (!(in >> run >> wait >> slices)) {
        return std::nullopt;
    }
    return sched_times{run, wait};
}

std::optional<sched_times> worker_sched_times(int pid) {
    const std::string tasks = "/proc/" + std::to_string(pid) + "/task";
    DIR* dir = ::opendir(tasks.c_str());
    if (dir == nullptr) {
        return std::nullopt;
    }
    sched_times sum;
    bool any = false;
    bool ok = true;
    while (const dirent* e = ::readdir(dir)) {
        if (e->d_name[0] == '.') {
            continue;
        }
        const std::string task = tasks + "/" + e->d_name;
        std::ifstream comm_file(task + "/comm");
        std::string comm;
        std::getline(comm_file, comm);
        if (comm.rfind("rte-worker-", 0) != 0 && comm.rfind("lcore-worker-", 0) != 0) {
            continue;
        }
        std::ifstream stat_file(task + "/schedstat");
        std::string line;
        std::getline(stat_file, line);
        const std::optional<sched_times> t = parse_schedstat(line);
        if (!t) {
            ok = false;
            break;
        }
        sum.run_ns += t->run_ns;
        sum.wait_ns += t->wait_ns;
        any = true;
    }
    ::closedir(dir);
    if (!ok || !any) {
        return std::nullopt;
    }
    return sum;
}

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

std::optional<worker_sample> sample_from_statistics(const ng::value& reply) {
    const ng::value* stats = reply.is_dict() ? reply.find("statistics") : nullptr;
    const ng::value* dp = stats != nullptr && stats->is_dict() ? stats->find("dataplane") : nullptr;
    if (dp == nullptr || !dp->is_dict()) {
        return std::nullopt;
    }
    auto count = [](const ng::value& d, std::string_view key) -> std::optional<uint64_t> {
        const ng::value* v = d.find(key);
        if (v == nullptr || !v->is_integer() || v->as_integer() < 0) {
            return std::nullopt;
        }
        return static_cast<uint64_t>(v->as_integer());
    };
    const ng::value* workers = dp->find("workers");
    const std::optional<uint64_t> rtp = count(*dp, "relayed rtp");
    const std::optional<uint64_t> rtcp = count(*dp, "relayed rtcp");
    if (workers == nullptr || !workers->is_list() || workers->as_list().empty() || !rtp || !rtcp) {
        return std::nullopt;
    }
    worker_sample s;
    s.relayed = *rtp + *rtcp;
    s.handed_off = count(*dp, "handed off");
    for (const ng::value& w : workers->as_list()) {
        const std::optional<uint64_t> busy = w.is_dict() ? count(w, "busy ns") : std::nullopt;
        if (!busy) {
            return std::nullopt;
        }
        s.busy_ns.push_back(*busy);
    }
    return s;
}

std::optional<worker_sample> query_worker_sample(ng::ng_client& client, uint32_t timeout_ms) {
    ng::value req = ng::value::dict();
    req.set("command", ng::value::str("statistics"));
    std::optional<ng::value> reply = client.request(req, std::chrono::milliseconds(timeout_ms), 0, nullptr);
    if (!reply) {
        return std::nullopt;
    }
    return sample_from_statistics(*reply);
}

void relay_usage::start(std::optional<int> relay_pid, ng::ng_client* client, uint32_t timeout_ms) {
    pid_ = relay_pid;
    client_ = client;
    timeout_ms_ = timeout_ms;
    if (client_ != nullptr) {
        workers_start_ = query_worker_sample(*client_, timeout_ms_);
    }
    if (pid_ && workers_start_) {
        sched_start_ = worker_sched_times(*pid_);
    }
    if (pid_ && !workers_start_) {
        cpu_start_ = process_cpu_seconds(*pid_);
        if (!cpu_start_) {
            std::fprintf(stderr, "rtprelay-loadgen: --relay-pid %d: cannot read /proc/%d/stat\n", *pid_, *pid_);
        }
    }
}

void relay_usage::finish(run_summary* out) const {
    if (workers_start_) {
        const std::optional<worker_sample> end = query_worker_sample(*client_, timeout_ms_);
        if (end && end->busy_ns.size() == workers_start_->busy_ns.size()) {
            relay_busy_time b;
            for (size_t w = 0; w < end->busy_ns.size(); ++w) {
                b.busy_seconds.push_back(static_cast<double>(end->busy_ns[w] - workers_start_->busy_ns[w]) / 1e9);
            }
            b.relayed = end->relayed - workers_start_->relayed;
            if (end->handed_off && workers_start_->handed_off) {
                b.handed_off = *end->handed_off - *workers_start_->handed_off;
            }
            const std::optional<sched_times> sched_end = sched_start_ ? worker_sched_times(*pid_) : std::nullopt;
            if (sched_end && sched_end->run_ns >= sched_start_->run_ns && sched_end->wait_ns >= sched_start_->wait_ns) {
                const double run = static_cast<double>(sched_end->run_ns - sched_start_->run_ns);
                const double wait = static_cast<double>(sched_end->wait_ns - sched_start_->wait_ns);
                if (run + wait > 0) {
                    b.on_cpu_share = run / (run + wait);
                }
            }
            out->relay_busy = std::move(b);
        }
    }
    if (cpu_start_) {
        if (std::optional<double> cpu_end = process_cpu_seconds(*pid_)) {
            out->relay_cpu_seconds = *cpu_end - *cpu_start_;
        }
    }
}

}  // namespace rtprelay::loadgen
