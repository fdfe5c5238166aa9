#include "bench/loadgen/options.h"

#include <algorithm>
#include <cstdio>
#include <iostream>

#include <boost/program_options.hpp>

namespace po = boost::program_options;

namespace rtprelay::loadgen {

uint32_t options::effective_sockets() const {
    if (sockets != 0) {
        return sockets;
    }
    const uint32_t most = ramp ? std::max(calls, ramp_max) : calls;
    return std::clamp<uint32_t>((most + 255) / 256, 1, 4);
}

leg_mode options::legs() const {
    if (srtp) {
        return leg_mode::srtp;
    }
    if (rtp_srtp) {
        return leg_mode::rtp_srtp;
    }
    return srtp_mix ? leg_mode::mix : leg_mode::plain;
}

namespace {

// Returns an error message, or "" when the combination is usable.
std::string validate(const options& o) {
    // Upper bounds also catch negative numbers, which Boost wraps into huge unsigned ones.
    if (o.calls == 0 || o.calls > 1000000) {
        return "--calls: must be between 1 and 1000000";
    }
    if (!(o.duration_s >= 0.0) || o.duration_s > 86400.0) {
        return "--duration: must be between 0 and 86400 seconds";
    }
    if (!(o.setup_rate >= 0.0)) {
        return "--setup-rate: must be 0 (unlimited) or positive";
    }
    if (o.sockets > 64) {
        return "--sockets: at most 64 per side";
    }
    if (o.payload_bytes < min_payload_bytes || o.payload_bytes > max_payload_bytes) {
        return "--payload: must be between " + std::to_string(min_payload_bytes) + " and " +
               std::to_string(max_payload_bytes) + " bytes";
    }
    if (o.ptime_ms == 0 || o.ptime_ms > 1000) {
        return "--ptime: must be between 1 and 1000 ms";
    }
    if (o.interface_a.empty() != o.interface_b.empty()) {
        return "--interface-a/--interface-b: give both or neither";
    }
    if (o.relay_pid && *o.relay_pid <= 0) {
        return "--relay-pid: must be a process id";
    }
    if (o.ng_timeout_ms == 0 || o.ng_timeout_ms > 60000) {
        return "--ng-timeout: must be between 1 and 60000 ms";
    }
    if (o.ng_retries > 10) {
        return "--ng-retries: at most 10";
    }
    if (o.srtp && o.rtcp) {
        return "--srtp with --rtcp: SRTCP is not generated yet; use one of them";
    }
    if (o.srtp_mix && (o.srtp || o.rtcp)) {
        return "--srtp-mix: not with --srtp (it mixes SRTP and plain calls) or --rtcp";
    }
    if (o.rtp_srtp && (o.srtp || o.srtp_mix || o.rtcp)) {
        return "--rtp-srtp: not with --srtp or --srtp-mix (each chooses the calls' legs) or --rtcp";
    }
    if (o.per_call && !o.json) {
        return "--per-call: the rows are JSON; use it with --json";
    }
    if (o.srtp_check_streams > 1000) {
        return "--srtp-check-streams: at most 1000";
    }
    if (o.ramp) {
        if (o.ramp_max < o.calls || o.ramp_max > 1000000) {
            return "--ramp-max: must be between --calls and 1000000";
        }
        if (!(o.ramp_factor > 1.0) || o.ramp_factor > 100.0) {
            return "--ramp-factor: must be above 1 and at most 100";
        }
        if (o.ramp_refine > 10) {
            return "--ramp-refine: at most 10";
        }
        if (!(o.ramp_pause_s >= 0.0) || o.ramp_pause_s > 60.0) {
            return "--ramp-pause: must be between 0 and 60 seconds";
        }
        if (o.keep) {
            return "--ramp with --keep: a ramp deletes every step's calls before the next";
        }
    }
    if (!o.plot.empty()) {
        if (!o.ramp) {
            return "--plot: draws a ramp; use it with --ramp";
        }
        const std::string& p = o.plot;
        const bool svg = p.size() > 4 && p.compare(p.size() - 4, 4, ".svg") == 0;
        const bool png = p.size() > 4 && p.compare(p.size() - 4, 4, ".png") == 0;
        if (!svg && !png) {
            return "--plot: '" + p + "' must end in .svg or .png";
        }
    }
    if (!(o.skip_tolerance_percent >= 0.0) || o.skip_tolerance_percent > 100.0) {
        return "--skip-tolerance: must be between 0 and 100 percent";
    }
    if (!(o.loss_threshold_percent >= 0.0) || o.loss_threshold_percent > 100.0) {
        return "--loss-threshold: must be between 0 and 100 percent";
    }
    if (o.dpdk) {
        if (!o.ns_a.empty() || !o.ns_b.empty()) {
            return "--dpdk with --ns-a/--ns-b: DPDK ports are not in a namespace; run the "
                   "generator where its EAL devices are";
        }
        if (o.rtcp) {
            return "--dpdk with --rtcp: the DPDK mode sends RTP only";
        }
        unsigned char b[4];
        char tail = 0;
        for (const std::string* a : {&o.addr_a, &o.addr_b}) {
            if (std::sscanf(a->c_str(), "%hhu.%hhu.%hhu.%hhu%c", &b[0], &b[1], &b[2], &b[3], &tail) != 4) {
                return "--dpdk: --addr-a/--addr-b must be IPv4 addresses (" + *a + ")";
            }
        }
        if (o.addr_a == o.addr_b) {
            return "--dpdk: --addr-a and --addr-b must differ (the receiver tells the sides apart by address)";
        }
        if (o.dpdk_port_a >= 64 || o.dpdk_port_b >= 64) {
            return "--dpdk-port-a/--dpdk-port-b: at most 63";
        }
        if (o.dpdk_udp_port == 0 || o.dpdk_udp_port + 2 * 64 > 65535) {
            return "--dpdk-udp-port: must be between 1 and 65407";
        }
        unsigned m[6];
        if (!o.relay_mac.empty() && std::sscanf(o.relay_mac.c_str(), "%x:%x:%x:%x:%x:%x%c", &m[0], &m[1], &m[2], &m[3],
                                                &m[4], &m[5], &tail) != 6) {
            return "--relay-mac: expected aa:bb:cc:dd:ee:ff";
        }
        if (o.dpdk_mbufs < 1023 || o.dpdk_mbufs > 1048575) {
            return "--dpdk-mbufs: must be between 1023 and 1048575";
        }
        if (o.dpdk_idle_sleep_us > 10000) {
            return "--dpdk-idle-sleep-us: at most 10000";
        }
        if (o.dpdk_store_mb < 1 || o.dpdk_store_mb > 65536) {
            return "--dpdk-store-mb: must be between 1 and 65536";
        }
        if (o.dpdk_verify_every == 0 || o.dpdk_verify_every > 65536 ||
            (o.dpdk_verify_every & (o.dpdk_verify_every - 1)) != 0) {
            return "--dpdk-verify-every: must be a power of two between 1 and 65536";
        }
        if (o.dpdk_queues == 0 || o.dpdk_queues > 16 || (o.dpdk_queues & (o.dpdk_queues - 1)) != 0) {
            return "--dpdk-queues: must be 1, 2, 4, 8 or 16 (a relay worker count flow steering takes)";
        }
        if (o.dpdk_wire && o.dpdk_queues != 1) {
            return "--dpdk-wire with --dpdk-queues: rtprelay-wire forwards one queue pair";
        }
        if (o.dpdk_wire && (o.rtp_srtp || o.srtp_mix)) {
            return "--dpdk-wire with --rtp-srtp/--srtp-mix: a wire passes packets as they are and "
                   "cannot bridge RTP and SRTP legs; use --srtp or plain";
        }
        if (o.dpdk_wire && o.dpdk_port_a == o.dpdk_port_b) {
            return "--dpdk-wire: sides A and B need ports of their own (the wire joins port A to port B)";
        }
    } else if (o.dpdk_wire) {
        return "--dpdk-wire: needs --dpdk";
    }
    if (o.late_us == 0 || o.late_us > 1000000) {
        return "--late-us: must be between 1 and 1000000";
    }
    if (o.ng.find(':') == std::string::npos) {
        return "--ng: expected HOST:PORT";
    }
    for (const std::string& a : o.ng_more) {
        if (a.find(':') == std::string::npos) {
            return "--ng: expected HOST:PORT[,HOST:PORT...] (" + a + ")";
        }
    }
    return "";
}

template <typename T>
po::typed_value<T>* arg(T* target, const char* name) {
    return po::value(target)->value_name(name);
}

// The target's initial value is the default shown by --help.
template <typename T>
po::typed_value<T>* with_default(T* target, const char* name) {
    return po::value(target)->default_value(*target)->value_name(name);
}

}  // namespace

parse_outcome parse_options(int argc, char** argv, options* out) {
    options o;
    int relay_pid = 0;
    po::options_description desc(
        "rtprelay-loadgen: sets up calls over the NG protocol (rtprelay or rtpengine), streams\n"
        "RTP both ways at the real packet rate, and reports loss, latency, jitter and the\n"
        "relay's own counters.\n\nOptions",
        100);
    // Boost option tables, one option per line (clang-format 14 wants the marker alone):
    // clang-format off
    desc.add_options()
        ("help,h", "show this help")
        ("ng", with_default(&o.ng, "HOST:PORT"),
         "relay's NG control address; a comma-separated list: setup through the first, the\n"
         "end-of-run queries and deletes through the first that answers a ping")
        ("calls", with_default(&o.calls, "N"), "number of calls")
        ("duration", with_default(&o.duration_s, "SECONDS"), "streaming time")
        ("setup-rate", with_default(&o.setup_rate, "N"),
         "offers per second (0 = as fast as replies come)")
        ("ns-a", arg(&o.ns_a, "NAME"),
         "network namespace (/var/run/netns/NAME) of the caller side's sockets")
        ("ns-b", arg(&o.ns_b, "NAME"), "network namespace of the callee side's sockets")
        ("addr-a", with_default(&o.addr_a, "IP"),
         "caller side address, bound and written in its SDP")
        ("addr-b", with_default(&o.addr_b, "IP"), "callee side address")
        ("sockets", with_default(&o.sockets, "K"),
         "UDP sockets per side, calls spread over them (0 = one per 256 calls, 1..4)")
        ("interface-a", arg(&o.interface_a, "NAME"),
         "relay interface facing A (sent as NG direction, with --interface-b)")
        ("interface-b", arg(&o.interface_b, "NAME"), "relay interface facing B")
        ("payload", with_default(&o.payload_bytes, "BYTES"), "RTP payload size")
        ("ptime", with_default(&o.ptime_ms, "MS"), "packet interval")
        ("rtcp", po::bool_switch(&o.rtcp), "also send an RTCP sender report per stream every 5 s")
        ("relay-pid", arg(&relay_pid, "PID"),
         "relay process: report its CPU seconds over the streaming window")
        ("json", po::bool_switch(&o.json), "print the summary as one JSON object")
        ("keep", po::bool_switch(&o.keep), "do not delete the calls at the end")
        ("ng-timeout", with_default(&o.ng_timeout_ms, "MS"), "NG reply timeout per attempt")
        ("ng-retries", with_default(&o.ng_retries, "N"),
         "NG retransmissions after the first attempt")
        ("srtp", po::bool_switch(&o.srtp),
         "SRTP both ways: SDES keys in offer and answer (AES_CM_128_HMAC_SHA1_80), packets\n"
         "protected with rtprelay's native transform")
        ("srtp-check-streams", with_default(&o.srtp_check_streams, "N"),
         "with --srtp: streams whose every packet libsrtp2 also checks, sent and received")
        ("srtp-mix", po::bool_switch(&o.srtp_mix),
         "calls cycle through plain, RTP<->SRTP, SRTP<->RTP and SRTP<->SRTP (the relay\n"
         "bridges the mixed ones); libsrtp2 checks 2 x --srtp-check-streams SRTP streams")
        ("rtp-srtp", po::bool_switch(&o.rtp_srtp),
         "every call RTP at A and SRTP at B (the relay bridges them): SRTP on B's leg only;\n"
         "libsrtp2 checks 2 x --srtp-check-streams SRTP streams")
        ("per-call", po::bool_switch(&o.per_call),
         "with --json: one row per call (packets, longest gap between arrivals, last arrival;\n"
         "kernel sockets only); SIGUSR1 during streaming marks a moment (a node killed): each\n"
         "call then also says when media came back after it")
        ("ramp", po::bool_switch(&o.ramp),
         "repeat the run with growing call counts (from --calls) and report the largest one\n"
         "whose loss stays under --loss-threshold")
        ("ramp-max", with_default(&o.ramp_max, "N"), "largest call count a ramp tries")
        ("ramp-factor", with_default(&o.ramp_factor, "X"), "call count growth per ramp step")
        ("ramp-refine", with_default(&o.ramp_refine, "N"),
         "bisection steps between the last good and the first bad count")
        ("ramp-pause", with_default(&o.ramp_pause_s, "SECONDS"), "pause between ramp steps")
        ("plot", arg(&o.plot, "FILE"),
         "with --ramp: also draw loss, p99 latency and relay load against calls into FILE\n"
         "(.svg or .png; needs gnuplot, Debian package gnuplot-nox); its data goes beside it\n"
         "in FILE without extension + .dat, the gnuplot script in + .gp")
        ("plot-title", arg(&o.plot_title, "TEXT"), "the relay's name in the plot's key (default: --ng)")
        ("loss-threshold", with_default(&o.loss_threshold_percent, "PERCENT"),
         "ramp: the most loss a step may have and still count as good")
        ("skip-tolerance", with_default(&o.skip_tolerance_percent, "PERCENT"),
         "ramp: share of the schedule the generator may send over --late-us late or skip (a\n"
         "period late) before a step ends the ramp as 'generator behind'; skipped packets\n"
         "never count as sent or lost")
        ("dpdk", po::bool_switch(&o.dpdk),
         "send and receive media on the generator's own DPDK ports (IPv4; NG stays on a socket),\n"
         "for rates kernel sockets cannot reach")
        ("eal", arg(&o.eal, "ARGS"),
         "with --dpdk: EAL arguments, e.g. \"-l 1 --no-pci --no-huge -m 256 --file-prefix lg\n"
         "--vdev=net_memif0,role=client,socket=/run/rtprelay-lg.sock\"")
        ("dpdk-port-a", with_default(&o.dpdk_port_a, "N"), "with --dpdk: DPDK port of --addr-a")
        ("dpdk-port-b", with_default(&o.dpdk_port_b, "N"), "with --dpdk: DPDK port of --addr-b")
        ("dpdk-udp-port", with_default(&o.dpdk_udp_port, "PORT"),
         "with --dpdk: first UDP port of each side (one even port per --sockets)")
        ("relay-mac", arg(&o.relay_mac, "MAC"),
         "with --dpdk: the relay's MAC on every port (default: ask for it with ARP)")
        ("dpdk-mbufs", with_default(&o.dpdk_mbufs, "N"), "with --dpdk: mbufs in the generator's pool")
        ("dpdk-idle-sleep-us", with_default(&o.dpdk_idle_sleep_us, "US"),
         "with --dpdk: sleep after a loop turn with nothing to do (0 = busy poll)")
        ("dpdk-store-mb", with_default(&o.dpdk_store_mb, "MB"),
         "with --dpdk: memory for the precomputed packets; streams beyond what it holds share\n"
         "sender identities (SSRC, key, sequence numbers) with others")
        ("dpdk-verify-every", with_default(&o.dpdk_verify_every, "N"),
         "with --dpdk: check every Nth received packet of each stream in full (UDP checksum,\n"
         "SRTP authentication and decryption, payload); a power of two")
        ("dpdk-queues", with_default(&o.dpdk_queues, "N"),
         "with --dpdk: queue pairs per port; each stream goes out on the queue of the relay\n"
         "worker that owns it, for rtprelay --workers N --flow-steering=sender (1, 2, 4, 8, 16)")
        ("dpdk-wire", po::bool_switch(&o.dpdk_wire),
         "with --dpdk: no relay; port A and port B are joined by a wire (rtprelay-wire): the\n"
         "generator alone, to show what it can send and receive")
        ("late-us", with_default(&o.late_us, "US"),
         "a packet sent more than this after its due time is late; a run with more than\n"
         "--skip-tolerance of its packets late or skipped is 'generator behind'");
    // clang-format on

    po::variables_map vm;
    try {
        po::store(po::command_line_parser(argc, argv).options(desc).run(), vm);
        po::notify(vm);
    } catch (const po::error& e) {
        std::fprintf(stderr, "rtprelay-loadgen: %s (see --help)\n", e.what());
        return parse_outcome::exit_error;
    }
    if (vm.count("help") != 0) {
        std::cout << desc << '\n';
        return parse_outcome::exit_ok;
    }
    if (vm.count("relay-pid") != 0) {
        o.relay_pid = relay_pid;
    }
    // --ng A,B,C: the first sets calls up, the others stand by (options.h).
    if (const size_t comma = o.ng.find(','); comma != std::string::npos) {
        const std::string rest = o.ng.substr(comma + 1);
        o.ng.resize(comma);
        for (size_t start = 0;;) {
            const size_t end = rest.find(',', start);
            o.ng_more.push_back(rest.substr(start, end == std::string::npos ? end : end - start));
            if (end == std::string::npos) {
                break;
            }
            start = end + 1;
        }
    }
    if (std::string err = validate(o); !err.empty()) {
        std::fprintf(stderr, "rtprelay-loadgen: %s\n", err.c_str());
        return parse_outcome::exit_error;
    }
    *out = std::move(o);
    return parse_outcome::run;
}

}  // namespace rtprelay::loadgen
