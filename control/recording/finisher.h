#pragma once
// Completes closed recordings on a thread of its own, so that the recorder thread never
// waits for it: writes the WAV (wav_render.h) and the JSON metadata beside the pcap, moves
// the files into done/ (rename: atomic, the JSON last, so a watcher that sees the JSON sees
// the others), then starts the configured command with their paths as arguments and
// collects its exit status later, in the order completion.h gives, which a node that dies
// at any point leaves finishable: at start-up recover() finishes what it left, whether
// still open (recovery.h) or half-moved.
//
// Jobs are taken in batches of up to max_batch, and each step of completion.h is made for
// the whole batch before the next: the WAVs, then every file's writeback started and each
// fdatasync'ed, each directory fsync'ed once, then every metadata file written, synced and
// renamed and the directories synced once, then the moves and done/'s syncs once. Each
// recording's own order is the one completion.h needs (its media durable before its
// metadata, its commit before its moves, its moves before the command), and the disk
// flushes and journal commits are shared: on a shared VM disk one recording alone waits
// 5-40 ms for its ~5 commits, a batch of 64 about as long as a few recordings
// (bench/RESULTS.md). One recording at a time finishes as before (a batch of one). At most
// 2 * max_batch file descriptors open (step 2).
//
// Once a recording is in done/, the operator's command runs with its paths
// (completion_command.h).
//
// Once its metadata is committed a recording's state file (state_file.h) goes, and once it
// is in done/ nothing of it is left in the open area.

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "control/recording/completion.h"
#include "control/recording/completion_command.h"
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
    // Jobs finished together (see above): what a node's stop with 1,000 open recordings
    // makes of its waits; a batch's last recording waits for the whole batch's WAVs.
    static constexpr size_t max_batch = 64;

    finisher(std::string dir, const std::string& command, live_counters& counters);
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
    // A recording whose metadata is committed, for steps 4 to 8.
    struct to_complete {
        std::string base;
        committed_files files;
        bool recovered = false;
        std::string failure;       // why it failed before (its metadata says so)
        bool failed_open = false;  // ... counted already
    };

    void run();
    // Adds what `base`, left by a node that died, needs: its moves if its metadata is
    // committed, else the job that finishes it again.
    void recover_one(const std::string& base, std::vector<to_complete>* committed, std::vector<finish_job>* jobs);
    // The steps of completion.h for a batch of jobs, each step for all before the next.
    void finish(std::vector<finish_job>& jobs);
    // Its metadata (completion.h step 3), once its media is synced (step 2: its error).
    std::string metadata_of(const finish_job& job, const finishing& f, const wav_result& wav) const;
    // A recording whose metadata could not be committed: its files moved without it.
    void finish_uncommitted(const finish_job& job, const finishing& f);
    // Steps 4 to 8, step 6's directory syncs once for the batch.
    void complete(const std::vector<to_complete>& batch);
    void count(bool recovered, bool complete, bool failed_open);

    std::string dir_;
    live_counters& counters_;
    completion_command command_;  // finisher thread only
    std::mutex mu_;
    std::condition_variable wake_;
    std::deque<finish_job> jobs_;                        // guarded by mu_
    std::deque<std::string> left_open_;                  // guarded by mu_: bases to recover
    bool stopping_ = false;                              // guarded by mu_
    completion_step die_after_ = completion_step::none;  // tests: set before start()
    std::thread thread_;
};

}  // namespace rtprelay::recording
