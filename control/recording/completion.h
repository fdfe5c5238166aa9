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

// Step 2: fdatasyncs BASE.pcap (`pcap`) and BASE.wav (`wav`) under `dir`, then fsyncs the
// directory they are in and those above it up to `dir`. Empty on success, else the first
// error (the data may then not survive a power loss).
std::string sync_media(const std::string& dir, const std::string& base, bool pcap, bool wav);

// Step 3: `json` as BASE.json under `dir`, through BASE.json.tmp (fsync'ed, renamed; never
// over an existing BASE.json), then the directory fsync'ed. `stop` = metadata_written
// leaves the temporary file only. Empty when committed, else the error. A directory that
// could not be synced after the rename leaves it committed: `*unsynced` gets why (the commit
// may not survive a power loss).
std::string commit_metadata(const std::string& dir, const std::string& base, std::string_view json,
                            completion_step stop, std::string* unsynced = nullptr);

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

// Step 8.
void release_committed(const std::string& dir, const std::string& base);

// Whether a file of the open area needs to be looked at by recovery: the pcap of a
// recording left open, its committed metadata, a state or temporary file left behind.
// Sets *base to the file's base path.
bool base_of_left_file(std::string_view name, std::string* base);

}  // namespace rtprelay::recording
