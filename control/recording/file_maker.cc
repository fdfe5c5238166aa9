#include "control/recording/file_maker.h"

#include <pthread.h>
#include <unistd.h>

#include <utility>

#include "control/log.h"
#include "control/recording/record_files.h"

namespace rtprelay::recording {

file_maker::~file_maker() { stop(); }

void file_maker::start() {
    thread_ = std::thread([this] { run(); });
    pthread_setname_np(thread_.native_handle(), "rtprelay-recfile");
}

void file_maker::stop() {
    {
        std::lock_guard<std::mutex> g(mu_);
        stopping_ = true;
        held_ = false;
    }
    wake_.notify_all();
    if (thread_.joinable()) {
        thread_.join();
    }
    run_queued();
}

uint64_t file_maker::push(file_job j) {
    j.seq = ++pushed_;
    const uint64_t seq = j.seq;
    {
        std::lock_guard<std::mutex> g(mu_);
        jobs_.push_back(std::move(j));
    }
    wake_.notify_one();
    return seq;
}

bool file_maker::take_results(std::vector<file_result>* out) {
    if (!have_results_.load(std::memory_order_acquire)) {
        return false;
    }
    std::lock_guard<std::mutex> g(mu_);
    for (auto& r : results_) {
        out->push_back(std::move(r));
    }
    results_.clear();
    have_results_.store(false, std::memory_order_relaxed);
    return true;
}

void file_maker::run_queued() {
    if (threaded() || pushed_ == done_.load(std::memory_order_relaxed)) {
        return;
    }
    std::deque<file_job> jobs;
    {
        std::lock_guard<std::mutex> g(mu_);
        if (held_) {
            return;
        }
        jobs.swap(jobs_);
    }
    for (const file_job& j : jobs) {
        work(j);
    }
}

void file_maker::hold(bool on) {
    {
        std::lock_guard<std::mutex> g(mu_);
        held_ = on;
    }
    wake_.notify_all();
}

void file_maker::run() {
    while (true) {
        std::deque<file_job> jobs;
        {
            std::unique_lock<std::mutex> lk(mu_);
            wake_.wait(lk, [this] { return stopping_ || (!held_ && !jobs_.empty()); });
            if (jobs_.empty()) {
                return;  // stopping, and everything queued is done
            }
            jobs.swap(jobs_);
        }
        for (const file_job& j : jobs) {
            work(j);
        }
    }
}

void file_maker::work(const file_job& j) {
    if (j.what == file_job::kind::create) {
        std::string e = make_dirs(j.dir);
        if (e.empty() && ::access(j.done_path.c_str(), F_OK) == 0) {
            e = j.done_path + " exists: an earlier recording has this name";
        }
        if (e.empty()) {
            e = write_new(j.path, j.header);  // removed again on failure
        }
        if (e.empty()) {
            failed_.erase(j.id);
        } else {
            failed_.insert(j.id);
        }
        {
            std::lock_guard<std::mutex> g(mu_);
            results_.push_back({j.id, j.seq, std::move(e)});
            have_results_.store(true, std::memory_order_release);
        }
    } else if (failed_.count(j.id) == 0) {
        // A recording whose state file cannot be written is still recorded: only a death of
        // the node would find it without one (then it is finished without WAV or call details).
        if (std::string e = write_state(j.path, j.state); !e.empty()) {
            log::event(log::level::warning, "recording state file not written")
                .field("recording", j.base)
                .field("error", e);
        }
    }
    done_.store(j.seq, std::memory_order_release);
}

}  // namespace rtprelay::recording
