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
        for (const char* ext : {".state", ".state.tmp", ".json.tmp"}) {
            ::unlink((dir_ + "/" + base + ext).c_str());
        }
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

// One job's way through a batch.
struct finisher::in_batch {
    finish_job* job = nullptr;
    std::string error;  // why the recording failed (it is finished anyway, and says so)
    bool wrote_wav = false;
    uint64_t wav_frames = 0;
    bool wav_cut = false;
    std::vector<std::string> files;  // as they will be named in done/: ".pcap", ".wav", ".json"
    std::string json;                // its metadata
    std::string uncommitted;         // why its metadata could not be committed; empty = it was
};

void finisher::finish(std::vector<finish_job>& jobs) {
    if (jobs.empty()) {
        return;
    }
    std::vector<in_batch> batch(jobs.size());
    // Step 1 (completion.h): the WAVs.
    for (size_t i = 0; i < jobs.size(); ++i) {
        in_batch& b = batch[i];
        finish_job& job = jobs[i];
        b.job = &job;
        b.error = job.error;
        if (job.wav) {
            job.audio.pcap_path = dir_ + "/" + job.base + ".pcap";
            job.audio.wav_path = dir_ + "/" + job.base + ".wav";
            const wav_result w = render_wav(job.audio);
            live_counters::bump(counters_.finish_bytes, w.bytes);
            if (w.error.empty()) {
                b.wrote_wav = true;
                b.wav_frames = w.frames;
                b.wav_cut = w.cut;
            } else {
                ::unlink(job.audio.wav_path.c_str());
                b.error = b.error.empty() ? w.error : b.error;
            }
        }
    }
    if (die_after_ == completion_step::wav_written) {
        return;
    }
    // Step 2 for the whole batch: on the disk before any metadata names them. A pcap or WAV
    // the disk could not take is kept and named, but the recording is failed with the reason.
    sync_batch_media(batch);
    if (die_after_ == completion_step::media_synced) {
        return;
    }
    // Step 3 for the whole batch: every metadata file written, synced, renamed, then their
    // directories synced once.
    commit_batch_metadata(batch);
    if (die_after_ == completion_step::metadata_written || die_after_ == completion_step::committed) {
        return;  // a node that died here: recovery finishes them (those with an error too)
    }
    std::vector<to_complete> committed;
    for (in_batch& b : batch) {
        if (b.uncommitted.empty()) {
            live_counters::bump(counters_.finish_bytes, b.json.size());
            committed.push_back(
                {b.job->base, {b.job->have_pcap, b.wrote_wav}, b.job->recovered, b.error, b.job->failed});
        }
    }
    complete(committed);
    for (in_batch& b : batch) {
        if (!b.uncommitted.empty()) {
            finish_uncommitted(b);
        }
    }
}

void finisher::sync_batch_media(std::vector<in_batch>& batch) {
    std::vector<std::string> paths;
    std::vector<size_t> owner;
    std::vector<std::string> dirs;
    for (size_t i = 0; i < batch.size(); ++i) {
        const finish_job& job = *batch[i].job;
        const std::string open_area = dir_ + "/" + job.base;
        if (job.have_pcap) {
            paths.push_back(open_area + ".pcap");
            owner.push_back(i);
        }
        if (batch[i].wrote_wav) {
            paths.push_back(open_area + ".wav");
            owner.push_back(i);
        }
        dirs.push_back(sub_dir_of(job.base));
    }
    const std::vector<std::string> file_errors = sync_files(paths);
    for (size_t k = 0; k < paths.size(); ++k) {
        std::string& error = batch[owner[k]].error;
        error = error.empty() ? file_errors[k] : error;
    }
    const std::vector<std::string> dir_errors = sync_dir_set(dir_, dirs);
    for (size_t i = 0; i < batch.size(); ++i) {
        batch[i].error = batch[i].error.empty() ? dir_errors[i] : batch[i].error;
    }
}

void finisher::commit_batch_metadata(std::vector<in_batch>& batch) {
    std::vector<std::string> tmps;
    std::vector<size_t> owner;
    for (size_t i = 0; i < batch.size(); ++i) {
        in_batch& b = batch[i];
        const std::string done = dir_ + "/done/" + b.job->base;
        if (b.job->have_pcap) {
            b.files.push_back(".pcap");
        }
        if (b.wrote_wav) {
            b.files.push_back(".wav");
        }
        b.files.push_back(".json");
        b.json = metadata_of(b);
        // Names taken in done/ are refused before the commit, so that after it a file found
        // in done/ and gone from here is one this finish moved (completion.h).
        for (const auto& ext : b.files) {
            if (struct stat st{}; b.uncommitted.empty() && ::lstat((done + ext).c_str(), &st) == 0) {
                b.uncommitted = done + ext + " exists: an earlier recording has this name";
            }
        }
        if (!b.uncommitted.empty()) {
            continue;
        }
        const std::string tmp = dir_ + "/" + b.job->base + ".json.tmp";
        ::unlink(tmp.c_str());  // a leftover of a finish that died: made again (unlink follows no symlink)
        b.uncommitted = write_new(tmp, b.json);
        if (b.uncommitted.empty()) {
            tmps.push_back(tmp);
            owner.push_back(i);
        }
    }
    const std::vector<std::string> sync_errors = sync_files(tmps);
    std::vector<std::string> dirs;
    std::vector<size_t> renamed;
    for (size_t k = 0; k < tmps.size(); ++k) {
        in_batch& b = batch[owner[k]];
        if (!sync_errors[k].empty()) {
            ::unlink(tmps[k].c_str());
            b.uncommitted = sync_errors[k];
            continue;
        }
        if (die_after_ == completion_step::metadata_written) {
            continue;  // the temporary file only
        }
        const std::string path = dir_ + "/" + b.job->base + ".json";
        if (std::string m = move_new(tmps[k], path); !m.empty()) {
            ::unlink(tmps[k].c_str());
            b.uncommitted = "cannot rename " + tmps[k] + ": " + m;
            continue;
        }
        dirs.push_back(sub_dir_of(b.job->base));
        renamed.push_back(owner[k]);
    }
    // Committed once renamed: a directory that could not be synced leaves the commit, which
    // then may not survive a power loss.
    const std::vector<std::string> dir_errors = sync_dir_set(dir_, dirs);
    for (size_t k = 0; k < dirs.size(); ++k) {
        if (!dir_errors[k].empty()) {
            log::event(log::level::warning, "recording metadata may not survive a power loss")
                .field("recording", batch[renamed[k]].job->base)
                .field("error", dir_errors[k]);
        }
    }
}

std::string finisher::metadata_of(const in_batch& b) const {
    const std::string done = dir_ + "/done/" + b.job->base;
    json_writer w;
    w.begin_object();
    w.key("status").value(b.error.empty() ? "complete" : "failed");
    if (!b.error.empty()) {
        w.key("error").value(b.error);
    }
    w.key("files").begin_object();
    for (const auto& ext : b.files) {
        w.key(ext.substr(1)).value(done + ext);
    }
    if (b.wrote_wav) {
        w.key("wav samples").value(b.wav_frames);
        w.key("wav rate").value(8000);
        if (b.wav_cut) {
            w.key("wav cut").value("the recording is longer than the WAV's limit; the pcap has all of it");
        }
    }
    w.end_object();
    w.key("call").raw(b.job->call_json.empty() ? "{}" : b.job->call_json);
    w.key("recording").raw(b.job->recording_json.empty() ? "{}" : b.job->recording_json);
    w.end_object();
    std::string json = w.take();
    json.push_back('\n');
    return json;
}

void finisher::finish_uncommitted(in_batch& b) {
    // No metadata (disk full, a name taken): the pcap and WAV still go to done/ if they can,
    // never over another recording's; the command runs with them.
    const finish_job& job = *b.job;
    const std::string active = dir_ + "/" + job.base;
    const std::string done = dir_ + "/done/" + job.base;
    std::string error = b.error.empty() ? b.uncommitted : b.error;
    std::vector<std::string> files = b.files;
    files.pop_back();
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
