#pragma once
// Command-line options of rtprelay-pipeline-bench (command line only, no config file).

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "dataplane/srtp/suite.h"

namespace rtprelay::pipeline {

// --drain-us not given: the paced loop ends each turn with worker::end_turn(), as run() does.
inline constexpr uint32_t drain_as_worker = std::numeric_limits<uint32_t>::max();

// What the two legs of every call speak. Packets go both ways unless --one-way.
enum class scenario : uint8_t {
    plain,      // RTP <-> RTP: classify, lookup, rewrite
    rtp_srtp,   // caller RTP, callee SRTP: protect toward the callee, unprotect back
    srtp_srtp,  // SRTP on both legs, each with its own keys: unprotect + protect (re-key)
};
const char* scenario_name(scenario s);

// The IP version of each side: both IPv4 (the default), both IPv6, or the callers on IPv4
// and the callees on IPv6 (every packet bridged between families, both ways).
enum class ip_mode : uint8_t { v4, v6, v4_v6 };
const char* ip_mode_name(ip_mode m);

struct options {
    std::vector<scenario> scenarios{scenario::plain, scenario::rtp_srtp, scenario::srtp_srtp};
    ip_mode ip = ip_mode::v4;
    uint32_t calls = 10'000;
    uint64_t packets = 4'000'000;  // per timed run, rounded up to whole bursts of 32
    uint32_t runs = 1;             // timed runs per scenario; the median is reported
    uint32_t chunk = 1u << 19;     // packets generated (outside the timed region) at a time
    uint32_t sample_every = 997;   // 1 output packet in this many is kept and checked (prime:
                                   // round-robin over 2 * calls streams still hits them all)
    bool one_way = false;          // only caller -> callee (rtp-srtp then measures protect alone)
    uint32_t mem_mb = 1024;        // EAL memory
    bool no_huge = false;          // skip hugepages even when the machine has enough free
    bool json = false;
    uint32_t srtp_batch_min = 2;  // dataplane_shared::srtp_batch_min (0 = single-packet SRTP)
    dp::srtp::suite suite = dp::srtp::suite::aes_cm_128_hmac_sha1_80;  // of every SRTP leg
    uint32_t floor_keys = 1024;  // contexts the batched crypto floor draws keys from (0 = skip it)
    uint32_t stream_run = 1;     // consecutive packets of one stream in a burst (1 = every packet
                                 // another call; 32 = a burst is one stream's run)
    uint32_t workers = 1;        // > 1: each run with 1 worker, then with this many (interleaved)
    uint32_t misroute_pct = 0;   // share of streams whose packets land on a queue not their owner's
    uint32_t record_pct = 0;     // share of calls recorded: their packets copied to the record ring
    // With record_pct: -1 = the lanes read the record rings between timed turns on the worker's
    // own core; else a reader thread pinned to this CPU reads them concurrently (as the
    // daemon's recorder thread does).
    int32_t recorder_cpu = -1;
    // With record_pct: bytes of each record ring's hot area (plane_config::record_hot); 0 = the
    // daemon's (dp::record_hot_bytes).
    uint32_t record_hot = 0;
    // Paced mode (latency): off unless rate or load is set. load: share of the ceiling the
    // throughput runs measured just before (whole loop: generator + worker + sink).
    uint64_t rate_pps = 0;
    double load = 0;
    uint64_t paced_packets = 1'000'000;  // per paced run, all workers together
    uint32_t drain_us =
        drain_as_worker;    // paced: flush rule of worker::run() (end_turn), or every N us (0 = every turn)
    bool realtime = false;  // paced runs at SCHED_FIFO (stands in for isolated cores)
    std::string perf_ctl;   // perf's control FIFO(s), "CTL[,ACK]" (perf_control.h); empty = none
    bool paced() const { return rate_pps != 0 || load > 0; }
};

enum class parse_outcome : uint8_t { run, exit_ok, exit_error };

// Parses argv into *out; prints --help to stdout and errors (naming the option) to stderr.
parse_outcome parse_options(int argc, char** argv, options* out);

}  // namespace rtprelay::pipeline
