#pragma once
// Completes closed recordings on a thread of its own, so that the recorder thread never
// waits for it: writes the WAV (wav_render.h) and the JSON metadata beside the pcap, moves
// the files into done/ (rename: atomic, the JSON last, so a watcher that sees the JSON sees
// the others), then starts the configured command with their paths as arguments and
// collects its exit status later, in the order completion.h gives, which a node that dies
// at any point leaves finishable: at start-up recover() finishes what it left, whether
// still open (recovery.h) or half-moved. One recording at a time, a few file descriptors
// at most.
//
// The command is the words of --recording-command (split at spaces, no shell), then the
// paths of the files in done/ (pcap, WAV when there is one, JSON). It starts with the
// default signal dispositions and its output goes to the relay's.
//
// Once its metadata is committed a recording's state file (state_file.h) goes, and once it
// is in done/ nothing of it is left in the open area.

#include <sys/types.h>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "control/recording/completion.h"
#include "control/recording/live_counters.h"
#include "control/recording/wav_render.h"

namespace rtprelay::recording {

struct finish_job {
    uint32_t id = 0;
    std::string base;        // relative base path
    bool have_pcap = false;  // the recorder created the pcap (only then is it moved)
    bool failed = false;     // the recorder could not create or write the pcap
    std::string error;       // why
    bool wav = false;        // write a WAV
    wav_job audio;           // its parameters (paths filled in by the finisher)
    // The metadata file's two parts, each one JSON object: the call as the control plane
    // describes it, and the recording as the recorder saw it. The finisher adds the status
    // and the files.
    std::string call_json;
    std::string recording_json;
    // Left open by a node that died and recovered at start-up (recovery.h): counted as
    // recovered, not as finished.
    bool recovered = false;
};

class finisher {
 public:
    finisher(std::string dir, std::string command, live_counters& counters);
    ~finisher();
    finisher(const finisher&) = delete;
    finisher& operator=(const finisher&) = delete;

    void start();
    // Finishes every queued job, waits up to 5 s for running commands, joins the thread.
    void stop();
    void push(finish_job job);
    // Recordings a node that died left behind (recovery.h: base paths): left open ones are
    // repaired and finished, committed ones moved on into done/, leftover state and
    // temporary files removed; on this thread, before the jobs queued after them.
    void recover(std::vector<std::string> bases);
    // Runs queued jobs on the calling thread (tests without the thread).
    void run_queued();
    // Tests: every finish from now on stops after `step`, as a node that died there would
    // leave it (nothing after it runs, nothing counted). Before start().
    void die_after(completion_step step) { die_after_ = step; }

 private:
    void run();
    void recover_one(const std::string& base);
    void finish(finish_job& job);
    // Steps 3 to 7 of completion.h for committed metadata; `failure`: why the recording
    // failed before (its metadata says so), `failed_open`: counted already.
    void complete(const std::string& base, const committed_files& files, bool recovered, const std::string& failure,
                  bool failed_open);
    void count(bool recovered, bool complete, bool failed_open);
    void run_command(const std::vector<std::string>& paths);
    void reap(bool wait);

    std::string dir_;
    std::vector<std::string> command_;
    live_counters& counters_;
    std::mutex mu_;
    std::condition_variable wake_;
    std::deque<finish_job> jobs_;                        // guarded by mu_
    std::deque<std::string> left_open_;                  // guarded by mu_: bases to recover
    bool stopping_ = false;                              // guarded by mu_
    std::vector<pid_t> children_;                        // finisher thread only
    completion_step die_after_ = completion_step::none;  // tests: set before start()
    std::thread thread_;
};

}  // namespace rtprelay::recording
