#pragma once
// The order in which a closed recording's files reach done/, chosen so that a node that
// dies between any two steps leaves what its next start (recovery.h) finishes, with each
// file in done/ once and nothing left in the open area:
//
//   1. BASE.wav rendered beside the pcap (finisher.h)
//   2. BASE.json written as BASE.json.tmp, fsync'ed, renamed to BASE.json: the commit.
//      Before it, recovery makes the finish again from the pcap and the state file (WAV
//      and metadata anew, stop reason "node died"); from it on the metadata is final and
//      recovery only carries on with the steps below.
//   3. BASE.state removed (the metadata holds everything the rest needs)
//   4. BASE.pcap, then BASE.wav renamed into done/
//   5. BASE.json linked into done/: last, so a watcher that sees it sees the others
//   6. the completion command started with the paths in done/
//   7. BASE.json removed from the open area: the recording is complete
//
// A node that dies between 6 and 7 (microseconds) has the command run again at its next
// start: the command runs at least once per recording.
//
// Only the metadata is fsync'ed (a few KB on the finisher thread): the pcap and WAV are
// not forced to the disk (seconds of a slow disk per recording). A process that dies loses
// nothing the kernel has; a power loss may lose data of files the metadata names.
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

// Step 2: `json` as BASE.json under `dir`, through BASE.json.tmp (fsync'ed, renamed; never
// over an existing BASE.json). `stop` = metadata_written leaves the temporary file only.
// Empty on success, else the error.
std::string commit_metadata(const std::string& dir, const std::string& base, std::string_view json,
                            completion_step stop);

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

// Steps 3 to 5 for a committed BASE, each skipped when an earlier run did it (a file in
// done/ and not in the open area has been moved; the JSON in done/ is the same file).
// Stops after `stop` when it is one of them.
moved move_committed(const std::string& dir, const std::string& base, const committed_files& files,
                     completion_step stop);

// Step 7.
void release_committed(const std::string& dir, const std::string& base);

// Whether a file of the open area needs to be looked at by recovery: the pcap of a
// recording left open, its committed metadata, a state or temporary file left behind.
// Sets *base to the file's base path.
bool base_of_left_file(std::string_view name, std::string* base);

}  // namespace rtprelay::recording
