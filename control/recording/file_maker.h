#pragma once
// The recordings' file creation, on a thread of its own so that the recorder's thread
// (recorder.h) never waits for the file system's metadata: a new recording's directories,
// the check that done/ has no recording of its name, its pcap created with the file header
// libpcap made, and its state file written and later replaced (state_file.h). That work costs
// 0.1-2.4 ms of CPU per recording on the bench VM's ext4 (inode allocation), ~60-70 us on
// tmpfs (bench/RESULTS.md, recorder/start): on the recorder's thread a burst of 64 starts
// left the workers' rings unread for up to ~200 ms, long enough for a ring at a high
// recorded rate to overflow; the recorder now pays 4-7 us a start. The recorder queues the work here and goes on reading the rings; a
// recording's packets wait in its memory buffer until its file exists (recorder_active.h).
//
// One FIFO for every job of every recording: a recording's state file is written after its
// pcap was created and its updates in the order they came, so a node that dies leaves what
// recover_left_open expects (a pcap, with or without the state file beside it). A death
// between the queueing and the creation leaves nothing on disk, hence nothing to recover;
// that loses only packets held in memory, as the recorder writes nothing of a recording
// before its file exists.
//
// Not the finisher's thread (finisher.h): its batched fdatasyncs can take seconds, and a
// start must not wait behind them.
//
// Threads: push(), done_through() and take_results() are the recorder thread's; the jobs run
// on this class's own thread once start() ran, else inline in run_queued() (tests and
// benchmarks that drive the recorder through poll()).

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

#include "control/recording/state_file.h"

namespace rtprelay::recording {

struct file_job {
    enum class kind : uint8_t { create, state };
    kind what = kind::create;
    uint32_t id = 0;        // the recording's (record ids are reused once a recording is closed)
    uint64_t seq = 0;       // push() numbers the jobs 1, 2, ... in queue order
    std::string base;       // the recording's base name, for the log
    std::string path;       // create: the pcap; state: the state file
    std::string dir;        // create: made first (mkdir -p, 0700)
    std::string done_path;  // create: refused if this exists (an earlier recording of the name)
    std::string header;     // create: the pcap file header, as libpcap wrote it into memory
    recording_state state;  // state: what the file holds
};

// The outcome of a create job (state jobs have none: a state file that cannot be written is
// logged, and the recording goes on without it, as recorder.h says).
struct file_result {
    uint32_t id = 0;
    uint64_t seq = 0;
    std::string error;  // empty: the pcap exists, with its header
};

class file_maker {
 public:
    file_maker() = default;
    ~file_maker();
    file_maker(const file_maker&) = delete;
    file_maker& operator=(const file_maker&) = delete;

    // The thread ("rtprelay-recfile"), inheriting the caller's CPU affinity.
    void start();
    // Runs every job still queued (on the thread, or here if it never started), then joins.
    // Jobs pushed afterwards wait for run_queued().
    void stop();
    bool threaded() const { return thread_.joinable(); }

    // Queues `j`; returns its sequence number. A mutex and a notify: per recording, not per
    // packet.
    uint64_t push(file_job j);
    // Every job up to this sequence number is done, its result published before.
    uint64_t done_through() const { return done_.load(std::memory_order_acquire); }
    // Appends the create jobs' results published since the last call to *out; when there are
    // none (the recorder's every pass), one load and no lock.
    bool take_results(std::vector<file_result>* out);
    // Without a thread: runs the queued jobs here and now. Nothing to do costs a compare.
    void run_queued();
    // Tests: while on, queued jobs wait (thread or not), as on a file system that stalls.
    // stop() turns it off.
    void hold(bool on);

 private:
    void run();
    void work(const file_job& j);

    std::mutex mu_;
    std::condition_variable wake_;
    std::deque<file_job> jobs_;              // guarded by mu_
    std::vector<file_result> results_;       // guarded by mu_
    bool stopping_ = false;                  // guarded by mu_
    bool held_ = false;                      // guarded by mu_
    std::atomic<bool> have_results_{false};  // results_ is not empty: maker writes, recorder reads
    std::atomic<uint64_t> done_{0};          // maker writes, recorder reads
    uint64_t pushed_ = 0;                    // recorder thread: the last sequence number given
    // Ids whose pcap could not be created since their last create job: their state jobs are
    // skipped, as no state file is written for a recording that failed at once. The maker's.
    std::unordered_set<uint32_t> failed_;
    std::thread thread_;
};

}  // namespace rtprelay::recording
