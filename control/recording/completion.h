#pragma once
// The order in which a closed recording's files reach done/, chosen so that a node that
// dies between any two steps leaves what its next start (recovery.h) finishes, with each
// file in done/ once and nothing left in the open area:
//
//   1. BASE.wav rendered beside the pcap (finisher.h)
//   2. BASE.pcap and BASE.wav fdatasync'ed, and their directory (with the ones above it,
//      up to the recording directory) fsync'ed: the media is on the disk before anything
//      names it as done
//   3. BASE.json written as BASE.json.tmp, fsync'ed, renamed to BASE.json, the directory
//      fsync'ed: the commit. Before it, recovery makes the finish again from the pcap and
//      the state file (WAV and metadata anew, stop reason "node died"); from it on the
//      metadata is final and recovery only carries on with the steps below.
//   4. BASE.state removed (the metadata holds everything the rest needs)
//   5. BASE.pcap, then BASE.wav renamed into done/
//   6. BASE.json linked into done/: last, so a watcher that sees it sees the others; then
//      done/'s directories and the open area's fsync'ed, so what is announced next is on
//      the disk under its done/ names
//   7. the completion command started with the paths in done/
//   8. BASE.json removed from the open area: the recording is complete
//
// A node that dies between 7 and 8 (microseconds) has the command run again at its next
// start: the command runs at least once per recording.
//
// Power loss: the same holds, as every step a later one depends on is on the disk before
// that later step (2 before 3, 3 before 4, 6 before 7 and 8; the renames of 5 need no sync
// of their own, as 8, which alone would make a lost rename unrecoverable, comes after 6's).
// The cost is on the finisher thread: the disk flushes of what the kernel had not yet
// written of the pcap (its last seconds) and of the WAV, and the journal commits of steps 2,
// 3 and 6 (up to five on ext4: the pcap's, the WAV's, the temporary JSON's, the rename's,
// done/'s): 5-40 ms of waiting for one recording on a shared VM disk (bench/RESULTS.md). The
// finisher makes each step for a batch of recordings before the next step (finisher.h), so
// a batch shares those waits; the recorder thread's writes of the other recordings go on
// meanwhile.
// Finisher thread only.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace rtprelay::recording {

// Where a finish stops when a test makes the node "die" there (finisher::die_after): the
// last step done. `none`: it runs to the end.
enum class completion_step : uint8_t {
    none,
    wav_written,
    media_synced,      // the pcap and WAV on the disk, not yet named by any metadata
    metadata_written,  // BASE.json.tmp complete, not yet renamed
    committed,
    state_removed,
    pcap_moved,
    wav_moved,
    metadata_linked,
    announced,  // the command started
};

// The files a committed metadata file names (its "files" object).
struct committed_files {
    bool pcap = false;
    bool wav = false;
};

// One recording of a batch on its way through steps 2 and 3 (the finisher makes the batch:
// finisher.h). Each step is made for the whole batch before the next, so that the batch
// shares the disk flushes and journal commits.
struct finishing {
    std::string base;   // relative base path
    bool pcap = false;  // BASE.pcap is there: synced, named, moved
    bool wav = false;   // BASE.wav was written: the same
    std::string error;  // why the recording failed (it is finished anyway, and says so)
    std::string json;   // its metadata (step 3 commits it), naming the files above
    // Step 3's outcome: why the metadata was not committed, empty = it was (or the step
    // stopped before the rename); and, once committed, why its directory could not be
    // synced (the commit may then not survive a power loss).
    std::string uncommitted;
    std::string unsynced;
};

// The extensions of the files `f`'s metadata names, in this order: ".pcap" (if any),
// ".wav" (if any), ".json".
std::vector<std::string> named_files(const finishing& f);

// Step 2 for a batch: every BASE.pcap (`pcap`) and BASE.wav (`wav`) under `dir`
// fdatasync'ed (sync_files: their writeback started together), then each directory they are
// in and those above it up to `dir` fsync'ed once. A recording whose file or directory could
// not be synced gets the first such error in `error`, unless it failed already (its data may
// then not survive a power loss; its files are kept and named).
void sync_media(const std::string& dir, std::vector<finishing>& batch);

// Step 3 for a batch: each `json` as BASE.json under `dir`, through BASE.json.tmp (written,
// then all fdatasync'ed together, then renamed; never over an existing BASE.json), then the
// directories fsync'ed once. A recording whose files' names (pcap, WAV, JSON) are taken in
// done/ is refused before its commit, so that after it a file found in done/ and gone from
// the open area is one this finish moved. `stop` = metadata_written leaves the temporary
// files only.
void commit_metadata(const std::string& dir, std::vector<finishing>& batch, completion_step stop);

// Whether BASE.json in the open area of `dir` is committed metadata this program wrote: a
// regular file (not through a symlink) that starts as the finisher writes one, and which
// files it names. Anything else is not ours to move.
bool read_committed(const std::string& dir, const std::string& base, committed_files* files);

// The files of a committed recording in done/: their paths (pcap, WAV, JSON, those it has),
// or why they could not all get there.
struct moved {
    std::vector<std::string> paths;
    std::string error;
};

// Steps 4 to 6 for a committed BASE, each skipped when an earlier run did it (a file in
// done/ and not in the open area has been moved; the JSON in done/ is the same file).
// Stops after `stop` when it is one of them. A directory that could not be synced is an
// error: nothing is announced, the next start carries on. `dirs_to_sync` (a batch): step
// 6's directories (relative to `dir`) are added there instead of synced, and the caller
// syncs them (sync_dir_set) before it announces anything.
moved move_committed(const std::string& dir, const std::string& base, const committed_files& files,
                     completion_step stop, std::vector<std::string>* dirs_to_sync = nullptr);

// Step 4, and what a finish leaves of a recording whose pcap has gone: BASE.state and the
// temporary files (BASE.state.tmp, BASE.json.tmp) removed from the open area of `dir`.
void remove_leftovers(const std::string& dir, const std::string& base);

// Step 8.
void release_committed(const std::string& dir, const std::string& base);

// Whether a file of the open area needs to be looked at by recovery: the pcap of a
// recording left open, its committed metadata, a state or temporary file left behind.
// Sets *base to the file's base path.
bool base_of_left_file(std::string_view name, std::string* base);

}  // namespace rtprelay::recording
