#include "control/recording/finisher.h"

#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "control/log.h"
#include "control/recording/json_writer.h"
#include "control/recording/record_files.h"
#include "control/recording/recovery.h"
#include "control/recording/time_text.h"

namespace rtprelay::recording {

finisher::finisher(std::string dir, const std::string& command, live_counters& counters)
    : dir_(std::move(dir)), counters_(counters), command_(command, counters) {}

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
    command_.reap(true);
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
        std::vector<finish_job> jobs;
        std::vector<std::string> left;
        {
            std::lock_guard<std::mutex> g(mu_);
            // Recovery first (it was queued at start-up, before any job), a batch at a time.
            while (!left_open_.empty() && left.size() < max_batch) {
                left.push_back(std::move(left_open_.front()));
                left_open_.pop_front();
            }
            while (left.empty() && !jobs_.empty() && jobs.size() < max_batch) {
                jobs.push_back(std::move(jobs_.front()));
                jobs_.pop_front();
            }
        }
        if (left.empty() && jobs.empty()) {
            return;
        }
        std::vector<to_complete> committed;
        for (const std::string& base : left) {
            recover_one(base, &committed, &jobs);
        }
        complete(committed);
        finish(jobs);
    }
}

void finisher::recover_one(const std::string& base, std::vector<to_complete>* committed,
                           std::vector<finish_job>* jobs) {
    committed_files files;
    if (read_committed(dir_, base, &files)) {
        log::event(log::level::warning, "recording left half-moved into done/ by a node that died")
            .field("recording", base);
        committed->push_back({base, files, true, {}, false});
        return;
    }
    const std::string pcap = dir_ + "/" + base + ".pcap";
    if (struct stat st{}; ::lstat(pcap.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
        // What a finish leaves behind once the pcap has gone (or that is no recording of
        // ours): nothing to finish.
        remove_leftovers(dir_, base);
        return;
    }
    recovery_report report;
    jobs->push_back(recover_recording(dir_, base, unix_now_ns(), &report));
    log::event(log::level::warning, "recording left open by a node that died")
        .field("recording", base)
        .field("packets", report.packets)
        .field("bytes_cut", report.bytes_cut)
        .field("state", report.state_error.empty() ? std::string("ok") : report.state_error);
}

void finisher::run() {
    while (true) {
        run_queued();
        command_.reap(false);
        std::unique_lock<std::mutex> lk(mu_);
        if (stopping_ && jobs_.empty()) {
            return;
        }
        wake_.wait_for(lk, std::chrono::milliseconds(200), [this] { return stopping_ || !jobs_.empty(); });
    }
}

void finisher::finish(std::vector<finish_job>& jobs) {
    if (jobs.empty()) {
        return;
    }
    std::vector<finishing> batch(jobs.size());
    std::vector<wav_result> wavs(jobs.size());  // those written: for their metadata
    // Step 1 (completion.h): the WAVs.
    for (size_t i = 0; i < jobs.size(); ++i) {
        finishing& f = batch[i];
        finish_job& job = jobs[i];
        f.base = job.base;
        f.pcap = job.have_pcap;
        f.error = job.error;
        if (job.wav) {
            job.audio.pcap_path = dir_ + "/" + job.base + ".pcap";
            job.audio.wav_path = dir_ + "/" + job.base + ".wav";
            const wav_result w = render_wav(job.audio);
            live_counters::bump(counters_.finish_bytes, w.bytes);
            if (w.error.empty()) {
                f.wav = true;
                wavs[i] = w;
            } else {
                ::unlink(job.audio.wav_path.c_str());
                f.error = f.error.empty() ? w.error : f.error;
            }
        }
    }
    if (die_after_ == completion_step::wav_written) {
        return;
    }
    // Step 2 for the whole batch: on the disk before any metadata names them. A pcap or WAV
    // the disk could not take is kept and named, but the recording is failed with the reason.
    sync_media(dir_, batch);
    if (die_after_ == completion_step::media_synced) {
        return;
    }
    // Step 3 for the whole batch: every metadata file written, synced, renamed, then their
    // directories synced once.
    for (size_t i = 0; i < batch.size(); ++i) {
        batch[i].json = metadata_of(jobs[i], batch[i], wavs[i]);
    }
    commit_metadata(dir_, batch, die_after_);
    for (const finishing& f : batch) {
        if (!f.unsynced.empty()) {
            log::event(log::level::warning, "recording metadata may not survive a power loss")
                .field("recording", f.base)
                .field("error", f.unsynced);
        }
    }
    if (die_after_ == completion_step::metadata_written || die_after_ == completion_step::committed) {
        return;  // a node that died here: recovery finishes them (those with an error too)
    }
    std::vector<to_complete> committed;
    for (size_t i = 0; i < batch.size(); ++i) {
        const finishing& f = batch[i];
        if (f.uncommitted.empty()) {
            live_counters::bump(counters_.finish_bytes, f.json.size());
            committed.push_back({f.base, {f.pcap, f.wav}, jobs[i].recovered, f.error, jobs[i].failed});
        }
    }
    complete(committed);
    for (size_t i = 0; i < batch.size(); ++i) {
        if (!batch[i].uncommitted.empty()) {
            finish_uncommitted(jobs[i], batch[i]);
        }
    }
}

std::string finisher::metadata_of(const finish_job& job, const finishing& f, const wav_result& wav) const {
    const std::string done = dir_ + "/done/" + job.base;
    json_writer w;
    w.begin_object();
    w.key("status").value(f.error.empty() ? "complete" : "failed");
    if (!f.error.empty()) {
        w.key("error").value(f.error);
    }
    w.key("files").begin_object();
    for (const auto& ext : named_files(f)) {
        w.key(ext.substr(1)).value(done + ext);
    }
    if (f.wav) {
        w.key("wav samples").value(wav.frames);
        w.key("wav rate").value(8000);
        if (wav.cut) {
            w.key("wav cut").value("the recording is longer than the WAV's limit; the pcap has all of it");
        }
    }
    w.end_object();
    w.key("call").raw(job.call_json.empty() ? "{}" : job.call_json);
    w.key("recording").raw(job.recording_json.empty() ? "{}" : job.recording_json);
    w.end_object();
    std::string json = w.take();
    json.push_back('\n');
    return json;
}

void finisher::finish_uncommitted(const finish_job& job, const finishing& f) {
    // No metadata (disk full, a name taken): the pcap and WAV still go to done/ if they can,
    // never over another recording's; the command runs with them.
    const std::string active = dir_ + "/" + job.base;
    const std::string done = dir_ + "/done/" + job.base;
    std::string error = f.error.empty() ? f.uncommitted : f.error;
    std::vector<std::string> files = named_files(f);
    files.pop_back();  // the metadata's
    std::vector<std::string> moved;
    std::string e = make_dirs(done.substr(0, done.rfind('/')));
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
        const std::string sub = sub_dir_of(job.base);
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
    if (command_.configured() && !moved.empty()) {
        command_.run(moved);
    }
}

void finisher::complete(const std::vector<to_complete>& batch) {
    // Steps 4 to 6 for each, their directories synced once for all of them, then 7 and 8.
    std::vector<moved> ms;
    std::vector<std::string> dirs;
    std::vector<size_t> dirs_from;
    for (const to_complete& c : batch) {
        dirs_from.push_back(dirs.size());
        ms.push_back(move_committed(dir_, c.base, c.files, die_after_, &dirs));
    }
    dirs_from.push_back(dirs.size());
    const std::vector<std::string> dir_errors = sync_dir_set(dir_, dirs);
    for (size_t i = 0; i < batch.size(); ++i) {
        for (size_t k = dirs_from[i]; k < dirs_from[i + 1] && ms[i].error.empty(); ++k) {
            if (!dir_errors[k].empty()) {
                ms[i].error = dir_errors[k];
                ms[i].paths.pop_back();  // the metadata: not announced
            }
        }
    }
    if (die_after_ >= completion_step::state_removed && die_after_ <= completion_step::metadata_linked) {
        return;
    }
    for (size_t i = 0; i < batch.size(); ++i) {
        const to_complete& c = batch[i];
        const moved& m = ms[i];
        const std::string& error = c.failure.empty() ? m.error : c.failure;
        count(c.recovered, error.empty(), c.failed_open);
        log::event(error.empty() ? log::level::info : log::level::error,
                   error.empty() ? "recording done" : "recording failed")
            .field("recording", c.base)
            .field("files", m.paths.size())
            .field("error", error);
        if (!m.error.empty()) {
            continue;  // the metadata stays here: the next start moves on from where this stopped
        }
        if (command_.configured()) {
            command_.run(m.paths);
        }
        if (die_after_ == completion_step::announced) {
            continue;
        }
        release_committed(dir_, c.base);
    }
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

}  // namespace rtprelay::recording
