#pragma once
// The run's result: what setup, streaming and the relay's own counters say, printed as a
// short table (default) or one JSON object (--json). Times in the printed output are in
// microseconds unless the name says otherwise.

#include <cstdint>
#include <cstdio>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "bench/loadgen/call_gaps.h"
#include "bench/loadgen/call_teardown.h"
#include "bench/loadgen/latency_histogram.h"
#include "bench/loadgen/send_batch.h"
#include "bench/loadgen/stream_stats.h"

namespace rtprelay::loadgen {

// rtprelay's workers over the streaming window (relay_usage.h).
struct relay_busy_time {
    std::vector<double> busy_seconds;  // per worker: time on loop turns that received packets
    uint64_t relayed = 0;              // packets the relay relayed (its own count, RTP + RTCP)

    double total_seconds() const;
    // Busy time over `seconds` of sending: each worker's utilisation, 0..1 (the busiest one's
    // and the mean over workers).
    double max_utilisation(double seconds) const;
    double mean_utilisation(double seconds) const;
    std::optional<double> ns_per_packet() const;  // all workers' busy time per relayed packet
    // With --relay-pid: the worker threads' time on a CPU over their runnable time (on a CPU
    // or waiting for one) in the window, from schedstat (relay_usage.h), and busy time per
    // packet scaled by it: an estimate of the workers' own cost on a shared host.
    std::optional<double> on_cpu_share;
    std::optional<double> on_cpu_ns_per_packet() const;
    // Packets handed from the worker that received them to the one that owns their flow
    // (0 when every stream arrives at its owner's queue), when the relay reports it.
    std::optional<uint64_t> handed_off;
    // --dpdk with as many queues as the relay has workers: per worker, the packets the
    // generator put on that worker's queue (both ports). With nothing handed off that is
    // what the worker received, which makes each worker's busy ns per packet; empty
    // otherwise.
    std::vector<uint64_t> worker_packets;
    std::optional<double> worker_ns_per_packet(size_t w) const;
};

struct run_summary {
    std::string ng;
    std::string teardown_ng;  // where the queries and deletes went (--ng list), "" = ng
    uint32_t calls_requested = 0;
    uint32_t calls_set_up = 0;
    uint32_t calls_failed = 0;
    std::string first_error;
    std::map<std::string, uint32_t> failures;  // reason -> calls
    double setup_seconds = 0;
    bool interrupted = false;  // a stop signal ended the run early

    double stream_seconds = 0;      // sending time, drain excluded
    uint64_t packets_sent = 0;      // RTP, both directions
    uint64_t packets_received = 0;  // unique
    uint64_t packets_lost = 0;      // per stream: sent - unique received
    uint64_t duplicates = 0;
    uint64_t reordered = 0;
    uint64_t too_old = 0;    // arrived after 1024 newer ones: not counted as received
    uint64_t misrouted = 0;  // ours, but at the wrong side or with the wrong call index
    uint64_t foreign = 0;    // not ours at all
    uint64_t send_errors = 0;
    uint64_t sender_skipped = 0;    // packets the sender dropped for running a period late
    int64_t sender_max_lag_ns = 0;  // how late the sender ran behind its schedule at worst
    uint64_t sender_late = 0;       // packets sent more than late_threshold_ns after their due time
    int64_t late_threshold_ns = 0;
    uint64_t rtcp_sent = 0;
    uint64_t rtcp_received = 0;
    int64_t latency_p50_ns = 0;
    int64_t latency_p99_ns = 0;
    int64_t latency_max_ns = 0;
    double jitter_mean_ns = 0;    // RFC 3550 jitter, mean over streams that received >= 2
    uint64_t streams = 0;         // RTP streams of the set-up calls (two per call)
    uint64_t streams_silent = 0;  // ... of which nothing arrived at the other end
    // Per call, the longest time between two arrivals in either direction (call_gaps.h;
    // kernel-socket mode); the rows are printed with --per-call.
    std::vector<call_gap_row> call_rows;
    gap_figures gaps;
    bool per_call_rows = false;
    // A SIGUSR1 during streaming (mark_signal.h): when, and per call media again after it.
    int64_t mark_ns = 0;
    gap_figures resume;

    // --dpdk: the transport's own figures.
    bool dpdk = false;
    uint64_t tx_ring_full = 0;   // frames the relay's port did not take (TX ring full):
                                 // counted as sent, hence as lost
    uint64_t arp_answered = 0;   // ARP requests for our addresses answered
    bool dpdk_wire = false;      // --dpdk-wire: no relay, a wire between the two ports
    uint32_t identities = 0;     // sender identities the precomputed packets have
    uint64_t verified = 0;       // received packets checked in full (a sample)
    uint64_t verify_failed = 0;  // ... that failed (not counted as received)
    // The generator's own busy time (loop turns that sent or received) and the packets it
    // sent and received in it: how much of its core the run took.
    std::optional<double> generator_busy_seconds;
    uint64_t generator_handled = 0;
    // The same over the 1-ms windows in which the generator's thread was not preempted:
    // its own cost per packet, without the time a shared host gave to other processes.
    double generator_clean_busy_seconds = 0;
    uint64_t generator_clean_handled = 0;

    // --srtp: transform errors and libsrtp2's checks (srtp_streams.h).
    bool srtp = false;
    uint64_t srtp_protect_errors = 0;
    uint64_t srtp_unprotect_failed = 0;  // received, but failed authentication or replay
    uint64_t srtp_checked_sent = 0;
    uint64_t srtp_mismatched_sent = 0;
    uint64_t srtp_checked_received = 0;
    uint64_t srtp_mismatched_received = 0;
    uint64_t srtp_refused_received = 0;  // libsrtp2 refused a checked stream's packet

    // The generator's own CPU (all its threads) over the streaming phase: says whether it,
    // rather than the relay, was the limit.
    double generator_cpu_seconds = 0;

    std::optional<relay_totals> relay;  // absent when nothing was queried
    // What the relay spent over the streaming window: rtprelay's workers' busy time, or,
    // for a relay that does not report it (rtpengine), its process CPU from /proc.
    std::optional<relay_busy_time> relay_busy;
    std::optional<double> relay_cpu_seconds;
    std::optional<delete_result> deleted;  // absent with --keep

    double loss_percent() const;
    // The generator's busy share of the streaming time (0..1) and its busy ns per packet
    // sent or received, when it measures busy time (--dpdk).
    std::optional<double> generator_utilisation() const;
    std::optional<double> generator_ns_per_packet() const;
    std::optional<double> generator_clean_ns_per_packet() const;  // clean windows only
    // Late and skipped packets over the packets scheduled, in percent.
    double sender_behind_percent() const;
    std::optional<double> relay_us_per_packet() const;  // process CPU per packet that came through
};

// Adds the per-stream figures of the streaming phase into *s.
void add_streams(const std::vector<stream_sent>& sent, const std::vector<stream_stats>& stats,
                 const latency_histogram& latency, run_summary* s);

class srtp_sender;
class srtp_receiver;
// Marks *s as an SRTP run and adds the transform's errors and libsrtp2's sample checks.
void add_srtp_checks(const srtp_sender& tx, const srtp_receiver& rx, uint64_t unprotect_failed, run_summary* s);

void print_table(const run_summary& s, std::FILE* out);
void print_json(const run_summary& s, std::FILE* out);

}  // namespace rtprelay::loadgen
