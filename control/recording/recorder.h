#pragma once
// The recorder: a thread off the worker cores that empties the workers' record rings
// (dataplane/record_ring.h) and writes each recorded call's packets to its pcap file, a
// thread that creates the recordings' files (file_maker.h: the recorder never waits for the
// file system's metadata), and a finisher thread that completes a recording once it is
// closed (the WAV, the JSON metadata, the move into done/, the operator's command:
// finisher.h).
//
// The control plane opens a recording (its files created soon after, 0600; its packets wait
// in memory until then: at most max_waiting_flushes * flush_bytes of them, the rest dropped
// and counted in file_wait_drops), stamps the call's flow
// entries with its id (the workers then copy its packets), and to close it removes the
// stamp and passes an RCU token taken after that: once every worker has been quiescent
// since, no packet with the id can still be on its way into a ring, so the recorder reads
// the rings up to where they stand and closes the files with nothing missing.
//
// Bounds: packets are buffered per recording and appended in batches (at flush_bytes, up to
// an aligned 64 KiB of the file, or all of them every flush_every), at most max_open_files
// pcap files open at a time, buffers of at most flush_bytes and a record (pcap_store.h). A
// write error (disk full, ...) fails that recording only: counted, logged, its later
// packets dropped from it; the calls and the other recordings go on.
//
// Each open recording has a state file beside its pcap (state_file.h) so that, if the node
// dies, its next start finishes the recording (recovery.h): start() looks for recordings
// left open in the directory before anything new is opened there, and the finisher
// completes them with stop reason "node died".
//
// Threads: open(), close(), update(), counters(), failure() are for the control thread (a mutex
// guards the command queue and the failure list, never held while writing); everything
// else runs on the recorder's own thread, but the file creation (file_maker.h).

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "control/recording/completion.h"
#include "control/recording/live_counters.h"
#include "control/recording/policy.h"
#include "control/recording/wav_render.h"
#include "dataplane/record_ring.h"

struct rte_rcu_qsbr;

namespace rtprelay::recording {

class file_maker;
struct file_result;
class finisher;
class pcap_store;

struct recorder_config {
    std::string dir;                 // the recording directory, absolute, prepared (prepare_directory)
    std::string command;             // run with the paths of each finished recording; empty = none
    size_t max_open_files = 4096;    // pcap files open at once (relay/main.cc fits it to RLIMIT_NOFILE)
    size_t flush_bytes = 64 * 1024;  // a recording's buffered packets are written past this ...
    // ... or after this long (at most 17/16 of it): what a node killed (kill -9) loses of
    // each open recording, the kernel keeping what was written. At a call's rate (100
    // packets/s) every write is an age flush, which with more recordings than
    // max_open_files reopens the file: at 1,000 recordings 100 ms costs the recorder ~1.6x
    // the CPU per packet of 500 ms (bench/RESULTS.md, recorder/paced), hence 500.
    std::chrono::milliseconds flush_every{500};
    // The workers' clock: a TSC reading, the Unix time (ns) at that reading, and the rate.
    uint64_t tsc0 = 0;
    int64_t unix_ns0 = 0;
    uint64_t tsc_hz = 1'000'000'000;
};

struct open_request {
    uint32_t id = 0;   // what the workers put in record_slot::record_id
    std::string base;  // relative base path (file_names.h)
    channels layout = channels::dual;
    bool wav = false;  // the SDP offered G.711: a WAV even if no packet comes
    // from-ringing: the recording's time starts at its first packet; otherwise at start_ns.
    bool from_first_packet = false;
    int64_t start_ns = 0;  // Unix time (ns) the recording was started
    std::string rec_id;    // the recording's id across nodes (its state file keeps it)
};

// What the control plane knows of an open recording's call, for its state file.
struct update_request {
    uint32_t id = 0;
    std::string call_json;              // the call's part of the metadata (as close_request's)
    std::vector<wav_channel_map> legs;  // which WAV channel each relay address feeds
};

struct close_request {
    uint32_t id = 0;
    uint64_t rcu_token = 0;  // from rte_rcu_qsbr_start after the stamp was removed
    int64_t stop_ns = 0;     // Unix time (ns) it was stopped
    std::string reason;      // "stop recording", "deleted", "media timeout", "node stop", ...
    std::string call_json;   // the call's part of the metadata: one JSON object
};

struct recorder_counters {
    uint64_t started = 0;          // recordings opened (files created)
    uint64_t finished = 0;         // closed with every file written and moved to done/
    uint64_t failed = 0;           // could not create, write or finish a file
    uint64_t active = 0;           // opened and not yet finished
    uint64_t packets = 0;          // packets written to pcap files
    uint64_t bytes = 0;            // bytes written to recording files (pcap, WAV, JSON)
    uint64_t packets_lost = 0;     // packets of failed recordings (not written)
    uint64_t file_wait_drops = 0;  // packets dropped while their recording's file was being made
    uint64_t ring_full = 0;        // copies the workers' record rings refused (record_ring::refused)
    uint64_t commands_run = 0;     // completion commands started
    uint64_t commands_failed = 0;  // ... that could not start or exited non-zero
    uint64_t recovered = 0;        // left open by a node that died, finished at start-up
};

// Creates `dir` and `dir`/done (0700) if missing and checks that both are writable. Throws
// std::invalid_argument naming --recording-dir otherwise.
void prepare_directory(const std::string& dir);

class recorder {
 public:
    // `rings`: one per worker, read by this recorder only. `rcu`: the flow table's (null in
    // tests: closes need no grace period then).
    recorder(recorder_config cfg, std::vector<dp::record_ring*> rings, rte_rcu_qsbr* rcu);
    ~recorder();
    recorder(const recorder&) = delete;
    recorder& operator=(const recorder&) = delete;

    // Starts the three threads; they inherit the caller's CPU affinity (the relay's main
    // lcore, never a worker core). First looks for recordings left open in the directory by
    // a node that died (recover_left_open).
    void start();
    // Benchmarks that drive the recorder through poll(): the file creation on its thread,
    // as in a running node, rather than inline in poll().
    void start_file_thread();
    // Hands the recordings left open in the directory to the finisher (recovery.h); returns
    // how many. Before any open() (start() calls it). Only while this recorder holds the
    // directory's lock (DIR/.lock, flock, held until the recorder goes): a directory another
    // live process records into is not "left open", and is left alone (logged).
    size_t recover_left_open();
    // After the workers stopped: reads what is left in the rings, closes every open
    // recording ("node stop" unless closed before), finishes them all, joins the threads.
    void stop();

    void open(open_request r);
    void close(close_request r);
    // Rewrites the state file of open recording `id` (ignored once it is closed).
    void update(update_request r);
    recorder_counters counters() const;
    // Why recording `id` failed; empty while it has not, and once it is closed.
    std::string failure(uint32_t id) const;
    const recorder_config& config() const { return cfg_; }
    // Tests: finishes stop after `step` as a node that died there would (finisher.h).
    void die_after(completion_step step);
    // Tests: while on, the recordings' files wait to be made, as on a file system that
    // stalls (stop() makes them).
    void hold_files(bool on);

    // One pass of the thread's loop, for tests that run the recorder without its thread:
    // commands, rings, due flushes and closes (and, without the file thread, the files to
    // create: then a recording opened before a poll() has its files after it). Returns
    // packets read.
    size_t poll(std::chrono::steady_clock::time_point now);
    // Recordings opened and not yet handed to the finisher (recorder thread: tests, benchmarks).
    size_t open_recordings() const { return active_.size(); }

    // While a recording's pcap is being made its packets wait in memory, up to this many
    // flush_bytes (512 KiB at the default 64 KiB: ~24 s of a two-leg G.711 call, ~2,400
    // packets of any rate); past it they are dropped and counted (file_wait_drops). A start
    // waits behind at most the queue of starts before it: 64 at once take up to ~0.23 s on this
    // VM's ext4, well within the bound for a call; only a file system that stalls for
    // seconds reaches it, and then memory stays bounded at this much per recording (8x what
    // a recording holds between flushes anyway).
    static constexpr size_t max_waiting_flushes = 8;

 private:
    struct active;

    void run();
    // The thread's last pass, once stopping (or stop()'s, when it never started).
    void last_pass();
    void take_commands();
    // Opens the files of `r`; the recording, or null when it failed at once (its state
    // file is then never written).
    active* begin(open_request r);
    size_t drain(size_t max_per_ring);
    // The open recording `id`, or null.
    active* find(uint32_t id);
    // Writes batch_[0, k): the records grouped per recording (ring order kept within one), so
    // that a recording's state, statistics and buffer tail are fetched once per batch rather
    // than once per packet, and the next one's prefetched while one is written. At 1,000
    // recordings the per-packet misses on those were most of the recorder's time
    // (bench/RESULTS.md).
    void write_batch(uint32_t k);
    void handle(active& a, const dp::record_slot& s);
    // Writes what `a` gathered: all of it (`whole`: by age, at close), or for a flush by
    // size up to an aligned boundary of its file (pcap_store::write_align).
    void flush(active& a, bool whole);
    // Queues `a`'s state file for the file thread (after its pcap's creation: one FIFO).
    void write_state_file(active& a);
    // The file thread's results: recordings whose pcap now exists flush, the others fail.
    void take_file_results();
    void fail(active& a, const std::string& why);
    void close_due(bool all);
    void finish(active& a, close_request r);
    int64_t unix_ns(uint64_t tsc) const;

    recorder_config cfg_;
    std::vector<dp::record_ring*> rings_;
    rte_rcu_qsbr* rcu_;

    // Control thread -> recorder thread.
    mutable std::mutex mu_;
    std::condition_variable wake_;
    std::deque<open_request> opens_;            // guarded by mu_
    std::deque<close_request> closes_;          // guarded by mu_
    std::deque<update_request> updates_;        // guarded by mu_
    std::map<uint32_t, std::string> failures_;  // guarded by mu_: recorder writes, control reads
    bool stopping_ = false;                     // guarded by mu_

    // Recorder thread only.
    std::unordered_map<uint32_t, std::unique_ptr<active>> active_;
    // write_batch()'s grouping: the batch a recording was last seen in, and its last record
    // there.
    struct batch_mark {
        uint64_t seq = 0;
        uint32_t last = 0;
    };
    // Ids the workers carry are 16 bits (record_ids.h): the open ones by id, one load instead
    // of a hash lookup per packet, with their batch marks, so grouping a batch reads no
    // recording's own memory (1 MiB, of which 1,000 recordings touch ~16 KiB). Larger ids
    // (tests) go through active_.
    static constexpr uint32_t max_flat_id = 65535;
    struct by_id {
        active* a = nullptr;
        batch_mark mark;
    };
    std::vector<by_id> by_id_;
    // drain()'s batch: up to batch_records records, for each the next record of the same
    // recording; the recordings with their first record, in the order they first come.
    static constexpr uint32_t batch_records = 64;
    struct group {
        active* a;
        uint32_t first;
    };
    const dp::record_slot* batch_[batch_records] = {};
    uint32_t batch_next_[batch_records] = {};
    std::vector<group> order_;
    uint64_t batch_seq_ = 0;                                 // which batch write_batch() is at (batch_mark::seq)
    double ns_per_tick_;                                     // 1e9 / tsc_hz
    size_t max_waiting_bytes_;                               // max_waiting_flushes * flush_bytes
    std::vector<file_result> file_results_;                  // take_file_results()'s, reused
    std::chrono::steady_clock::time_point now_{};            // the time poll() was given
    std::chrono::steady_clock::time_point next_age_pass_{};  // poll()'s next look for old buffers
    std::vector<std::pair<close_request, std::vector<uint64_t>>> closing_;  // with the ring
                                                                            // positions to reach
    std::unique_ptr<pcap_store> store_;
    std::unique_ptr<file_maker> files_;
    std::unique_ptr<finisher> finisher_;
    int lock_fd_ = -1;  // DIR/.lock, flock'ed by recover_left_open
    std::thread thread_;

    live_counters counters_;  // recorder and finisher threads write, anyone reads
};

}  // namespace rtprelay::recording
