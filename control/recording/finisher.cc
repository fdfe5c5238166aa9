#include "control/recording/finisher.h"

#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
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
            recover_one(left);
        } else {
            finish(job);
        }
    }
}

void finisher::recover_one(const std::string& base) {
    committed_files files;
    if (read_committed(dir_, base, &files)) {
        log::event(log::level::warning, "recording left half-moved into done/ by a node that died")
            .field("recording", base);
        complete(base, files, true, {}, false);
        return;
    }
    const std::string pcap = dir_ + "/" + base + ".pcap";
    if (struct stat st{}; ::lstat(pcap.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
        // What a finish leaves behind once the pcap has gone (or that is no recording of
        // ours): nothing to finish.
        for (const char* ext : {".state", ".state.tmp", ".json.tmp"}) {
            ::unlink((dir_ + "/" + base + ext).c_str());
        }
        return;
    }
    recovery_report report;
    finish_job job = recover_recording(dir_, base, unix_now_ns(), &report);
    log::event(log::level::warning, "recording left open by a node that died")
        .field("recording", base)
        .field("packets", report.packets)
        .field("bytes_cut", report.bytes_cut)
        .field("state", report.state_error.empty() ? std::string("ok") : report.state_error);
    finish(job);
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
    if (die_after_ == completion_step::wav_written) {
        return;
    }
    // On the disk before the metadata names them (completion.h, step 2). A pcap or WAV the
    // disk could not take is kept and named, but the recording is failed with the reason.
    if (std::string e = sync_media(dir_, job.base, job.have_pcap, wrote_wav); !e.empty()) {
        error = error.empty() ? e : error;
    }
    if (die_after_ == completion_step::media_synced) {
        return;
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
    // Names taken in done/ are refused before the commit, so that after it a file found in
    // done/ and gone from here is one this finish moved (completion.h).
    std::string e;
    for (const auto& ext : files) {
        if (struct stat st{}; e.empty() && ::lstat((done + ext).c_str(), &st) == 0) {
            e = done + ext + " exists: an earlier recording has this name";
        }
    }
    std::string unsynced;
    if (e.empty()) {
        e = commit_metadata(dir_, job.base, json, die_after_, &unsynced);
    }
    if (!unsynced.empty()) {
        log::event(log::level::warning, "recording metadata may not survive a power loss")
            .field("recording", job.base)
            .field("error", unsynced);
    }
    if (e.empty() && (die_after_ == completion_step::metadata_written || die_after_ == completion_step::committed)) {
        return;
    }
    if (e.empty()) {
        live_counters::bump(counters_.finish_bytes, json.size());
        complete(job.base, {job.have_pcap, wrote_wav}, job.recovered, error, job.failed);
        return;
    }
    // No metadata (disk full, a name taken): the pcap and WAV still go to done/ if they can,
    // never over another recording's; the command runs with them.
    error = error.empty() ? e : error;
    files.pop_back();
    std::vector<std::string> moved;
    e = make_dirs(done.substr(0, done.rfind('/')));
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
    if (!moved.empty() || !job.have_pcap) {
        ::unlink((active + ".state").c_str());  // in done/ now (or nothing to move): not left open
        ::unlink((active + ".state.tmp").c_str());
    }
    if (!moved.empty()) {
        // As a committed recording's (completion.h step 6): on the disk before the command.
        const size_t slash = job.base.rfind('/');
        const std::string sub = slash == std::string::npos ? std::string() : job.base.substr(0, slash);
        if (std::string s = sync_dirs(dir_, sub.empty() ? std::string("done") : "done/" + sub); !s.empty()) {
            log::event(log::level::warning, "recording files may not survive a power loss")
                .field("recording", job.base)
                .field("error", s);
        }
    }
    count(job.recovered, false, job.failed);
    log::event(log::level::error, "recording failed")
        .field("recording", job.base)
        .field("files", moved.size())
        .field("error", error);
    if (!command_.empty() && !moved.empty()) {
        run_command(moved);
    }
}

void finisher::complete(const std::string& base, const committed_files& files, bool recovered,
                        const std::string& failure, bool failed_open) {
    const moved m = move_committed(dir_, base, files, die_after_);
    if (die_after_ >= completion_step::state_removed && die_after_ <= completion_step::metadata_linked) {
        return;
    }
    const std::string& error = failure.empty() ? m.error : failure;
    count(recovered, error.empty(), failed_open);
    log::event(error.empty() ? log::level::info : log::level::error,
               error.empty() ? "recording done" : "recording failed")
        .field("recording", base)
        .field("files", m.paths.size())
        .field("error", error);
    if (!m.error.empty()) {
        return;  // the metadata stays here: the next start moves on from where this stopped
    }
    if (!command_.empty()) {
        run_command(m.paths);
    }
    if (die_after_ == completion_step::announced) {
        return;
    }
    release_committed(dir_, base);
}

void finisher::count(bool recovered, bool complete, bool failed_open) {
    if (recovered) {
        // Never started by this process: neither active nor finished here.
        live_counters::bump(complete ? counters_.recovered : counters_.finish_failed);
        return;
    }
    if (complete) {
        live_counters::bump(counters_.finished);
    } else if (!failed_open) {
        live_counters::bump(counters_.finish_failed);  // a failure while open is counted already
    }
    live_counters::bump(counters_.done);
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
