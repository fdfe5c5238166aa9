#pragma once
// Per call, how long each direction went without media: the longest time between two
// consecutive arrivals of a stream (arrival_gaps.h), and the call's figure, the longer of
// its two directions. A relay's failover shows here as one long gap per call; the run
// reports their p50/p99/max and, with --per-call, a row per call.

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "bench/loadgen/arrival_gaps.h"
#include "bench/loadgen/call_table.h"
#include "bench/loadgen/send_batch.h"
#include "bench/loadgen/stream_stats.h"

namespace rtprelay::loadgen {

struct stream_gap {
    uint64_t sent = 0;
    uint64_t received = 0;        // unique packets
    int64_t longest_gap_ns = 0;   // 0 with fewer than two arrivals
    int64_t gap_end_ns = 0;       // CLOCK_MONOTONIC arrival that ended the longest gap
    int64_t last_arrival_ns = 0;  // CLOCK_MONOTONIC, 0 = nothing arrived
    // After a mark (mark_signal.h): the longest gap that ended after it, and its end (0 =
    // nothing arrived after the mark).
    int64_t mark_gap_ns = 0;
    int64_t mark_gap_end_ns = 0;
};

struct call_gap_row {
    uint32_t call_index = 0;  // the payload's call index (make_calls)
    std::string call_id;
    const char* legs = "plain";  // legs_name()
    stream_gap a_to_b;
    stream_gap b_to_a;

    // Both directions had two arrivals or more, so both gaps are measured.
    bool measured() const { return a_to_b.received >= 2 && b_to_a.received >= 2; }
    int64_t longest_gap_ns() const;
};

struct gap_figures {
    uint32_t measured = 0;    // calls whose both directions had two arrivals or more
    uint32_t unmeasured = 0;  // ... the others (silent in a direction, or nearly)
    int64_t p50_ns = 0;       // of the measured calls' figures, nearest rank
    int64_t p99_ns = 0;
    int64_t max_ns = 0;
};

// Rows for the set-up calls from the streams' figures (kernel-socket mode: its receiver
// keeps the gaps): streams 2k and 2k+1 are the k-th call's (call_table.h); name_rows() then
// fills in which call that is.
std::vector<call_gap_row> gap_rows(const std::vector<stream_sent>& sent, const std::vector<stream_stats>& stats,
                                   const std::vector<arrival_gaps>& gaps);
void name_rows(const std::vector<call_record>& calls, std::vector<call_gap_row>* rows);
gap_figures summarise_gaps(const std::vector<call_gap_row>& rows);
// Per call, media again after the mark: the later of its two directions' ends of their
// longest gap that ended after the mark, minus the mark. A call with a direction that had
// nothing after the mark is unmeasured (it never resumed).
gap_figures summarise_resume(const std::vector<call_gap_row>& rows, int64_t mark_ns);

// ,"per_call":[{"call":0,"id":"lg-...","legs":"plain","a_to_b":{...},"b_to_a":{...}},...]
// Times in ms (gaps) and seconds of CLOCK_MONOTONIC (gap_end_s, last_arrival_s), so a test
// can set them against when it killed a node; with a mark, mark_gap_ms and mark_gap_end_s.
void print_rows_json(const std::vector<call_gap_row>& rows, bool marked, std::FILE* out);
// ,"mark":{"at_s":...,"resume_ms":{"calls":..,"unmeasured":..,"p50":..,"p99":..,"max":..}}
void print_mark_json(int64_t mark_ns, const gap_figures& resume, std::FILE* out);

}  // namespace rtprelay::loadgen
