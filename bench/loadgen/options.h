#pragma once
// Command-line options of rtprelay-loadgen. Every option is on the command line only; the
// load generator has no config file.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "bench/loadgen/call_legs.h"

namespace rtprelay::loadgen {

struct options {
    // NG control address of the relay (host:port). --ng takes a comma-separated list: calls
    // are set up through the first; the end-of-run queries and deletes go to the first one
    // that answers a ping (a group of nodes whose first one may be gone by then).
    std::string ng = "127.0.0.1:2223";
    std::vector<std::string> ng_more;  // the list's other addresses, in order
    uint32_t calls = 100;
    double duration_s = 10.0;          // streaming time, seconds
    double setup_rate = 0.0;           // offers per second; 0 = as fast as replies come
    std::string ns_a;                  // network namespace of the caller side ("" = ours)
    std::string ns_b;                  // network namespace of the callee side
    std::string addr_a = "127.0.0.1";  // written in A's SDP and bound by A's sockets
    std::string addr_b = "127.0.0.1";
    uint32_t sockets = 0;     // per side; 0 = from the call count, 1..4
    std::string interface_a;  // NG direction: [interface_a, interface_b]
    std::string interface_b;
    uint32_t payload_bytes = 160;  // RTP payload, bytes (G.711 at 20 ms)
    uint32_t ptime_ms = 20;
    bool rtcp = false;             // one sender report per stream every 5 s
    std::optional<int> relay_pid;  // report the relay's CPU time over the streaming window
    bool json = false;
    bool keep = false;              // leave the calls on the relay at the end
    uint32_t ng_timeout_ms = 1000;  // per NG attempt
    uint32_t ng_retries = 2;        // retransmits after the first attempt
    double drain_s = 0.5;           // receive-only time after the last packet is sent
    // SRTP: both endpoints offer/answer RTP/SAVP with an SDES key of their own and protect
    // and unprotect with rtprelay's native transform; libsrtp2 checks every packet of the
    // first srtp_check_streams streams in each direction (sent and received).
    bool srtp = false;
    uint32_t srtp_check_streams = 4;
    // --srtp-mix: call i is plain, RTP<->SRTP, SRTP<->RTP or SRTP<->SRTP by i % 4 (legs_of,
    // call_legs.h); the relay bridges the mixed ones, asked by the offer's
    // transport-protocol. libsrtp2 checks the first 2 * srtp_check_streams SRTP streams.
    bool srtp_mix = false;
    // --rtp-srtp: every call RTP at A and SRTP at B, bridged by the relay (what the pipeline
    // bench's rtp-srtp mode measures); only B's leg is protected and unprotected here.
    bool rtp_srtp = false;
    // --per-call (with --json): a row per call, both directions: packets, the longest gap
    // between arrivals and when it ended (CLOCK_MONOTONIC), the last arrival.
    bool per_call = false;
    // Ramp: runs of growing call counts from `calls` (x ramp_factor each) until loss passes
    // loss_threshold_percent, a call fails, or ramp_max; then ramp_refine bisection steps
    // between the last good and first bad count. Reports the largest good count.
    bool ramp = false;
    uint32_t ramp_max = 100000;
    double ramp_factor = 2.0;
    uint32_t ramp_refine = 2;
    double loss_threshold_percent = 0.1;
    double skip_tolerance_percent = 1.0;  // a step whose sender was late or skipped more is "generator behind"
    double ramp_pause_s = 1.0;            // between steps: let the relay settle
    // --plot FILE.svg|FILE.png: the ramp's loss, p99 latency and relay load against calls,
    // drawn by gnuplot (ramp_report.h); plot_title names the relay in its key.
    std::string plot;
    std::string plot_title;
    // DPDK mode (--dpdk): media goes over the generator's own DPDK ports (EAL arguments in
    // `eal`, e.g. a net_memif client of the relay's memif server, or net_af_packet on a
    // veth), frames built and parsed here; NG stays on a kernel socket. Side A's address
    // lives on DPDK port dpdk_port_a, B's on dpdk_port_b (the same port is fine); call i
    // uses UDP port dpdk_udp_port + 2 * (i % sockets) on both. IPv4 only, no --rtcp.
    bool dpdk = false;
    std::string eal;
    uint32_t dpdk_port_a = 0;
    uint32_t dpdk_port_b = 0;
    uint32_t dpdk_udp_port = 20000;
    std::string relay_mac;  // "" = resolve the relay's addresses with ARP
    uint32_t dpdk_mbufs = 16383;
    uint32_t dpdk_idle_sleep_us = 0;  // sleep when a loop turn had nothing to do (shared CPUs)
    uint32_t dpdk_store_mb = 256;     // precomputed packets (packet_store.h)
    uint32_t dpdk_verify_every = 64;  // full check of 1 in N received packets per stream
    bool dpdk_wire = false;           // no relay: a wire joins the two ports (dpdk_stream.h)
    // Queue pairs per DPDK port (1, 2, 4, 8 or 16): a stream's packets go out on the queue
    // of the relay worker that owns its relay port (dataplane/steering.h: steered_queue),
    // every RX queue is polled. For a relay with as many workers told the sender steers
    // (rtprelay --workers N --flow-steering=sender), e.g. on memif, which has no flow rules.
    uint32_t dpdk_queues = 1;
    // A packet sent more than late_us after its due time is late; late + skipped packets over
    // skip_tolerance_percent of the schedule make a run "generator behind" (ramp.h).
    uint32_t late_us = 1000;

    // Sockets per side actually used: the option, or 1 per 256 calls capped at 4 (for the
    // largest count a ramp may reach).
    uint32_t effective_sockets() const;
    // Which legs speak SRTP, from --srtp, --rtp-srtp and --srtp-mix (at most one is given).
    leg_mode legs() const;
    bool any_srtp() const { return srtp || rtp_srtp || srtp_mix; }
};

// The bytes of payload the receiver needs to measure a packet: magic, call index, send time.
inline constexpr uint32_t min_payload_bytes = 16;
inline constexpr uint32_t max_payload_bytes = 1400;

enum class parse_outcome : uint8_t { run, exit_ok, exit_error };

// Parses argv into *out. Prints --help to stdout (exit_ok) and errors to stderr (exit_error),
// naming the option and the reason.
parse_outcome parse_options(int argc, char** argv, options* out);

}  // namespace rtprelay::loadgen
