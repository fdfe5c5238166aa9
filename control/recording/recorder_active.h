#pragma once
// The recorder's (recorder.h) state of one open recording, private to its two source files:
// recorder.cc (the thread and the drain of the workers' rings, which writes the packets)
// and recorder_lifecycle.cc (a recording opened, its state file, a failure, its close).
// Recorder thread only.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "control/recording/pcap_store.h"
#include "control/recording/recorder.h"
#include "control/recording/state_file.h"
#include "control/recording/stream_stats.h"

namespace rtprelay::recording {

// What a packet touches comes first, in one cache line (drain() prefetches it, then what
// it points to, before the packet is written).
struct alignas(64) recorder::active {
    pcap_store::writer* out = nullptr;   // null once closed or failed
    FILE* mem = nullptr;                 // out->mem: the stream pcap_dump writes to
    const char* next_byte = nullptr;     // where the stream writes next (pcap_store::writer)
    stream_stats* streams_at = nullptr;  // streams.data()
    size_t pending = 0;                  // bytes dumped, not yet written to the file
    std::chrono::steady_clock::time_point buffered_since{};
    int64_t first_ns = 0;  // first packet's time, 0 = none yet
    batch_mark mark;       // for an id past max_flat_id (by_id_ has the others')
    bool failed = false;
    // Its pcap is being made (file_maker.h): flushes wait, packets gather in memory up to
    // max_waiting_bytes_ and count in waiting_packets, not yet in the written ones.
    bool file_pending = false;
    bool g711 = false;     // a PCMU/PCMA packet was seen
    bool created = false;  // the pcap file is ours
    uint32_t waiting_packets = 0;
    uint64_t create_seq = 0;  // the file job that makes its pcap (file_result::seq)
    uint64_t file_seq = 0;    // its last file job: a close waits until the file thread did it
    std::vector<stream_stats> streams;
    stream_hints hints;  // where its last packets' streams were
    open_request info;
    std::string pcap_path;
    std::string error;
    recording_state state;   // what its state file holds
    bool state_due = false;  // take_commands() writes the state file at the end of its pass
};

}  // namespace rtprelay::recording
