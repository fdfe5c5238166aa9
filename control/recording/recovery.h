#pragma once
// Recordings a node left open when it died (kill -9, power loss): at start-up the recorder
// finds every pcap still in the open area of its directory (not under done/) and the
// finisher completes each as far as what is on disk allows, then moves it into done/ with
// stop reason "node died" and runs the completion command, as for any recording. A
// recording whose finish the death cut short after its metadata was committed (BASE.json
// in the open area, completion.h) is not made again: its files are moved on into done/
// with that metadata. State and temporary files with nothing left to finish are removed.
//
//  - The pcap: a last record cut short by the death (a write that did not finish) is cut
//    off, so that libpcap and tshark read the file; every whole record before it stays.
//  - The state file (state_file.h): the call's metadata, the WAV's channel map, the layout
//    and start time. Without it (lost, torn, refused) the pcap and a metadata file with the
//    recording's packet counts still go to done/, without a WAV or the call's details.
//  - The recording's stop is its last packet's time.
//
// Only regular files inside the directory are touched: symlinks are never followed, other
// kinds of file are skipped, names are used as found (they never leave the directory: the
// walk does not follow directory symlinks and stays under the directory). The walk is
// bounded (max_left_open files, max_depth levels) so a start-up never hangs on a huge tree.
// Finisher thread (recover) and the recorder's start (find_left_open).

#include <cstdint>
#include <string>
#include <vector>

#include "control/recording/finisher.h"

namespace rtprelay::recording {

constexpr size_t max_left_open = 100'000;
constexpr int max_depth = 16;

// The base paths (relative to `dir`) of the recordings left behind under `dir`, outside
// done/: those with a pcap, committed metadata, a state or temporary file (completion.h:
// base_of_left_file), each once.
std::vector<std::string> find_left_open(const std::string& dir);

struct recovery_report {
    uint64_t bytes_cut = 0;   // of a partial last pcap record
    uint64_t packets = 0;     // whole records kept
    std::string state_error;  // why the state file was not used; empty = it was
};

// Repairs BASE.pcap under `dir` and makes the job that finishes it (finisher.h). `now_ns`:
// when recovery ran (the metadata says so). A pcap libpcap cannot read even after the cut
// (its file header is gone) still goes to done/, with the job failed and saying why.
finish_job recover_recording(const std::string& dir, const std::string& base, int64_t now_ns, recovery_report* report);

}  // namespace rtprelay::recording
