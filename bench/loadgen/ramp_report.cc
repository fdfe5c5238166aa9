#include "bench/loadgen/ramp_report.h"

#include <spawn.h>
#include <sys/wait.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>

#include "bench/loadgen/ramp_plot_gp.h"  // ramp_plot.gp as a string (generated at build time)

extern char** environ;

namespace rtprelay::loadgen {

std::optional<double> relay_load_percent(const run_summary& s) {
    if (s.stream_seconds <= 0) {
        return std::nullopt;
    }
    if (s.relay_busy) {
        return 100.0 * s.relay_busy->max_utilisation(s.stream_seconds);
    }
    if (s.relay_cpu_seconds) {
        return 100.0 * *s.relay_cpu_seconds / s.stream_seconds;
    }
    return std::nullopt;
}

std::string relay_load_kind(const std::vector<ramp_step>& steps) {
    for (const ramp_step& st : steps) {
        if (st.summary.relay_busy) {
            return "worker busy time";
        }
        if (st.summary.relay_cpu_seconds) {
            return "process CPU";
        }
    }
    return "";
}

std::optional<double> relay_ns_per_packet(const run_summary& s) {
    if (s.relay_busy) {
        return s.relay_busy->ns_per_packet();
    }
    if (std::optional<double> us = s.relay_us_per_packet()) {
        return *us * 1000.0;
    }
    return std::nullopt;
}

void print_ramp_table(const options& opt, const std::vector<ramp_step>& steps, const ramp_search& search,
                      std::FILE* out) {
    std::fprintf(out, "ramp         %s  loss threshold %.4g %%  %.1f s per step\n", opt.ng.c_str(),
                 opt.loss_threshold_percent, opt.duration_s);
    std::fprintf(out, "%8s %8s %10s %9s %9s %9s %8s %9s %8s  %s\n", "calls", "set up", "loss %", "p50 us", "p99 us",
                 "jitter us", "load %", "ns/pkt", "behind %", "verdict");
    for (const ramp_step& st : steps) {
        const run_summary& s = st.summary;
        char load[32] = "-";
        char per[32] = "-";
        if (std::optional<double> l = relay_load_percent(s)) {
            std::snprintf(load, sizeof load, "%.2f", *l);
        }
        if (std::optional<double> p = relay_ns_per_packet(s)) {
            std::snprintf(per, sizeof per, "%.0f", *p);
        }
        std::fprintf(out, "%8u %8u %10.4f %9.1f %9.1f %9.1f %8s %9s %8.2f  %s\n", s.calls_requested, s.calls_set_up,
                     s.loss_percent(), static_cast<double>(s.latency_p50_ns) / 1e3,
                     static_cast<double>(s.latency_p99_ns) / 1e3, s.jitter_mean_ns / 1e3, load, per,
                     s.sender_behind_percent(), verdict_name(st.verdict));
    }
    std::fputs(
        "behind       the generator's packets sent over --late-us late or skipped, % of the schedule "
        "(over --skip-tolerance: 'generator behind', not the relay's knee)\n",
        out);
    const std::string kind = relay_load_kind(steps);
    if (kind == "worker busy time") {
        std::fputs(
            "load         the relay's busiest worker's busy time, % of its core; ns/pkt: all workers' busy "
            "time per packet relayed\n",
            out);
    } else if (kind == "process CPU") {
        std::fputs(
            "load         the relay's process CPU (/proc, --relay-pid; it reports no busy time), % of a core; "
            "ns/pkt: CPU per packet received\n",
            out);
    }
    std::fprintf(out, "result       largest good: %u calls", search.best());
    if (search.first_bad()) {
        std::fprintf(out, "  (%u calls: %s)", *search.first_bad(), search.stopped_by().c_str());
    } else if (!search.stopped_by().empty()) {
        std::fprintf(out, "  (stopped: %s)", search.stopped_by().c_str());
    }
    std::fputc('\n', out);
}

void print_ramp_json(const options& opt, const std::vector<ramp_step>& steps, const ramp_search& search,
                     std::FILE* out) {
    std::fprintf(out,
                 "{\"ramp\":{\"ng\":\"%s\",\"loss_threshold_percent\":%.6g,"
                 "\"step_seconds\":%.3f,\"srtp\":%s,\"legs\":\"%s\",\"best_calls\":%u,\"load_kind\":\"%s\",",
                 opt.ng.c_str(), opt.loss_threshold_percent, opt.duration_s, opt.any_srtp() ? "true" : "false",
                 leg_mode_name(opt.legs()), search.best(), relay_load_kind(steps).c_str());
    if (search.first_bad()) {
        std::fprintf(out, "\"first_bad_calls\":%u,", *search.first_bad());
    } else {
        std::fputs("\"first_bad_calls\":null,", out);
    }
    std::fprintf(out, "\"stopped_by\":\"%s\",\"steps\":[", search.stopped_by().c_str());
    for (size_t i = 0; i < steps.size(); ++i) {
        std::fprintf(out, "%s{\"verdict\":\"%s\",", i == 0 ? "" : ",", verdict_name(steps[i].verdict));
        if (std::optional<double> l = relay_load_percent(steps[i].summary)) {
            std::fprintf(out, "\"load_percent\":%.3f,", *l);
        }
        std::fputs("\"summary\":", out);
        print_json(steps[i].summary, out);  // one object and a newline
        std::fputc('}', out);
    }
    std::fputs("]}}\n", out);
}

std::string ramp_plot_data(const std::vector<ramp_step>& steps) {
    std::vector<const ramp_step*> by_calls;
    for (const ramp_step& st : steps) {
        by_calls.push_back(&st);
    }
    std::stable_sort(by_calls.begin(), by_calls.end(), [](const ramp_step* a, const ramp_step* b) {
        return a->summary.calls_requested < b->summary.calls_requested;
    });
    std::string out = "# calls loss_percent p99_us load_percent verdict\n";
    for (const ramp_step* st : by_calls) {
        const run_summary& s = st->summary;
        char line[160];
        const std::optional<double> load = relay_load_percent(s);
        std::string verdict = verdict_name(st->verdict);
        std::replace(verdict.begin(), verdict.end(), ' ', '_');
        std::snprintf(line, sizeof line, "%u %.6f %.1f %s %s\n", s.calls_requested, s.loss_percent(),
                      static_cast<double>(s.latency_p99_ns) / 1e3, load ? std::to_string(*load).c_str() : "NaN",
                      verdict.c_str());
        out += line;
    }
    return out;
}

namespace {

bool write_file(const std::string& path, const std::string& text, std::string* error) {
    std::ofstream f(path, std::ios::trunc);
    f << text;
    f.close();
    if (!f) {
        *error = "cannot write " + path;
        return false;
    }
    return true;
}

}  // namespace

bool write_ramp_plot(const std::string& plot, const std::string& title, const std::vector<ramp_step>& steps,
                     std::string* error) {
    const std::string base = plot.substr(0, plot.rfind('.'));
    const std::string data = base + ".dat";
    const std::string script = base + ".gp";
    const std::string kind = relay_load_kind(steps);
    const std::string key = kind.empty() ? title : title + " (" + kind + ")";
    if (!write_file(data, ramp_plot_data(steps), error) || !write_file(script, ramp_plot_gp, error)) {
        return false;
    }
    std::vector<std::string> args = {"gnuplot", "-c", script, plot, key, data};
    std::vector<char*> argv;
    for (std::string& a : args) {
        argv.push_back(a.data());
    }
    argv.push_back(nullptr);
    pid_t pid = 0;
    if (const int rc = posix_spawnp(&pid, "gnuplot", nullptr, nullptr, argv.data(), environ); rc != 0) {
        *error = std::string("cannot run gnuplot (Debian package gnuplot-nox): ") + std::strerror(rc) + "; data in " +
                 data + ", script in " + script;
        return false;
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        *error = "gnuplot failed on " + script + " with " + data;
        return false;
    }
    return true;
}

}  // namespace rtprelay::loadgen
