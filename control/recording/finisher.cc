#include "control/recording/finisher.h"

#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <sstream>

#include "control/log.h"
#include "control/recording/json_writer.h"
#include "control/recording/record_files.h"
#include "control/recording/recovery.h"
#include "control/recording/time_text.h"

extern char** environ;

namespace rtprelay::recording {

finisher::finisher(std::string dir, std::string command, live_counters& counters)
    : dir_(std::move(dir)), counters_(counters) {
    std::istringstream words(command);
    std::string w;
    while (words >> w) {
        command_.push_back(w);
    }
}

finisher::~finisher() { stop(); }

void finisher::start() {
    thread_ = std::thread([this] { run(); });
    pthread_setname_np(thread_.native_handle(), "rtprelay-recfin");
}

void finisher::stop() {
    {
        std::lock_guard<std::mutex> g(mu_);
        stopping_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) {
        thread_.join();
    } else {
        run_queued();
    }
    reap(true);
}

void finisher::push(finish_job job) {
    {
        std::lock_guard<std::mutex> g(mu_);
        jobs_.push_back(std::move(job));
    }
    wake_.notify_all();
}

void finisher::recover(std::vector<std::string> bases) {
    {
        std::lock_guard<std::mutex> g(mu_);
        left_open_.insert(left_open_.end(), bases.begin(), bases.end());
    }
    wake_.notify_all();
}

void finisher::run_queued() {
    while (true) {
        finish_job job;
        std::string left;
        {
            std::lock_guard<std::mutex> g(mu_);
            if (!left_open_.empty()) {
                left = std::move(left_open_.front());
                left_open_.pop_front();
            } else if (jobs_.empty()) {
                return;
            } else {
                job = std::move(jobs_.front());
                jobs_.pop_front();
            }
        }
        if (!left.empty()) {
            recovery_report report;
            job = recover_recording(dir_, left, unix_now_ns(), &report);
            log::event(log::level::warning, "recording left open by a node that died")
                .field("recording", left)
                .field("packets", report.packets)
                .field("bytes_cut", report.bytes_cut)
                .field("state", report.state_error.empty() ? std::string("ok") : report.state_error);
        }
        finish(job);
    }
}

void finisher::run() {
    while (true) {
        run_queued();
        reap(false);
        std::unique_lock<std::mutex> lk(mu_);
        if (stopping_ && jobs_.empty()) {
            return;
        }
        wake_.wait_for(lk, std::chrono::milliseconds(200), [this] { return stopping_ || !jobs_.empty(); });
    }
}

void finisher::finish(finish_job& job) {
    const std::string active = dir_ + "/" + job.base;
    const std::string done = dir_ + "/done/" + job.base;
    std::string error = job.error;
    bool wrote_wav = false;
    uint64_t wav_frames = 0;
    bool wav_cut = false;
    if (job.wav) {
        job.audio.pcap_path = active + ".pcap";
        job.audio.wav_path = active + ".wav";
        const wav_result w = render_wav(job.audio);
        live_counters::bump(counters_.finish_bytes, w.bytes);
        if (w.error.empty()) {
            wrote_wav = true;
            wav_frames = w.frames;
            wav_cut = w.cut;
        } else {
            ::unlink(job.audio.wav_path.c_str());
            error = error.empty() ? w.error : error;
        }
    }
    // The files as they will be named in done/.
    std::vector<std::string> files;
    if (job.have_pcap) {
        files.push_back(".pcap");
    }
    if (wrote_wav) {
        files.push_back(".wav");
    }
    files.push_back(".json");
    json_writer w;
    w.begin_object();
    w.key("status").value(error.empty() ? "complete" : "failed");
    if (!error.empty()) {
        w.key("error").value(error);
    }
    w.key("files").begin_object();
    for (const auto& ext : files) {
        w.key(ext.substr(1)).value(done + ext);
    }
    if (wrote_wav) {
        w.key("wav samples").value(wav_frames);
        w.key("wav rate").value(8000);
        if (wav_cut) {
            w.key("wav cut").value("the recording is longer than the WAV's limit; the pcap has all of it");
        }
    }
    w.end_object();
    w.key("call").raw(job.call_json.empty() ? "{}" : job.call_json);
    w.key("recording").raw(job.recording_json.empty() ? "{}" : job.recording_json);
    w.end_object();
    std::string json = w.take();
    json.push_back('\n');
    std::string e = write_new(active + ".json", json);
    if (e.empty()) {
        live_counters::bump(counters_.finish_bytes, json.size());
    } else {
        error = error.empty() ? e : error;
        files.pop_back();
    }
    // Into done/: the JSON last.
    const size_t slash = done.rfind('/');
    e = make_dirs(done.substr(0, slash));
    std::vector<std::string> moved;
    for (const auto& ext : files) {
        if (!e.empty()) {
            break;
        }
        if (std::string m = move_new(active + ext, done + ext); !m.empty()) {
            e = "cannot move " + active + ext + " to done/: " + m;
            break;
        }
        moved.push_back(done + ext);
    }
    if (!e.empty()) {
        error = error.empty() ? e : error;
    }
    const bool complete = error.empty();
    if (!moved.empty() || !job.have_pcap) {
        ::unlink((active + ".state").c_str());  // in done/ now (or nothing to move): not left open
        ::unlink((active + ".state.tmp").c_str());
    }
    if (job.recovered) {
        // Never started by this process: neither active nor finished here.
        live_counters::bump(complete ? counters_.recovered : counters_.finish_failed);
    } else {
        if (complete) {
            live_counters::bump(counters_.finished);
        } else if (!job.failed) {
            live_counters::bump(counters_.finish_failed);  // a failure while open is counted already
        }
        live_counters::bump(counters_.done);
    }
    log::event(complete ? log::level::info : log::level::error, complete ? "recording done" : "recording failed")
        .field("recording", job.base)
        .field("files", moved.size())
        .field("error", error);
    if (!command_.empty() && !moved.empty()) {
        run_command(moved);
    }
}

void finisher::run_command(const std::vector<std::string>& paths) {
    std::vector<std::string> args = command_;
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

void finisher::reap(bool wait) {
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
