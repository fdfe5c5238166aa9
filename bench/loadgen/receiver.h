#pragma once
// The receiving thread: epoll over every socket of both sides, recvmmsg() in batches of 64,
// each packet demultiplexed by SSRC to its stream's statistics. Stops at the deadline, or
// earlier once the sender has finished and everything it sent has arrived.

#include <cstdint>
#include <string>
#include <vector>

#include "bench/loadgen/arrival_gaps.h"
#include "bench/loadgen/call_table.h"
#include "bench/loadgen/latency_histogram.h"
#include "bench/loadgen/live_counters.h"
#include "bench/loadgen/side_sockets.h"
#include "bench/loadgen/stream_stats.h"

namespace rtprelay::loadgen {

class srtp_receiver;

class receiver {
 public:
    // With `srtp` (--srtp), every RTP packet is unprotected before it is measured; one that
    // fails (authentication, replay) counts as srtp_failed and not as received.
    receiver(const stream_set& streams, const side_sockets& a, const side_sockets& b, live_counters* live,
             srtp_receiver* srtp = nullptr);
    ~receiver();
    receiver(const receiver&) = delete;
    receiver& operator=(const receiver&) = delete;

    bool init(std::string* error);  // creates the epoll set
    // Receives until deadline_ns; after a stop signal, for at most drain_ns more.
    void run(int64_t deadline_ns, int64_t drain_ns);

    // Valid after run() has returned.
    const std::vector<stream_stats>& stats() const { return stats_; }
    const std::vector<arrival_gaps>& gaps() const { return gaps_; }
    const latency_histogram& latency() const { return latency_; }
    uint64_t foreign() const { return foreign_; }      // not ours: bad magic or unknown SSRC
    uint64_t misrouted() const { return misrouted_; }  // ours, but on the wrong side or call
    uint64_t srtp_failed() const { return srtp_failed_; }
    uint64_t rtp_received() const { return rtp_received_; }  // unique, so far

    // Measures one RTP (or, with SRTP, SRTP) packet that arrived at side `at`'s address; the
    // socket loop above calls it, and so does the DPDK mode's own loop (dpdk_stream.h).
    void on_rtp(side at, uint8_t* buf, size_t len, int64_t arrival_ns);

 private:
    struct source {
        int fd;
        side at;  // the side whose socket this is
        bool rtcp;
    };
    static constexpr int batch = 64;
    static constexpr size_t buffer_bytes = 2048;

    void drain(const source& src);
    void on_rtcp(side at, const uint8_t* buf, size_t len);
    bool all_arrived() const;

    const stream_set& streams_;
    live_counters* live_;
    srtp_receiver* srtp_;
    std::vector<source> sources_;
    int epoll_fd_ = -1;
    std::vector<stream_stats> stats_;
    std::vector<arrival_gaps> gaps_;  // per stream, beside stats_
    latency_histogram latency_;
    uint64_t rtp_received_ = 0;
    uint64_t rtcp_received_ = 0;
    uint64_t foreign_ = 0;
    uint64_t misrouted_ = 0;
    uint64_t srtp_failed_ = 0;
    bool marked_ = false;  // the streams know the SIGUSR1 mark (mark_signal.h)
    std::vector<uint8_t> buffers_;
};

}  // namespace rtprelay::loadgen
