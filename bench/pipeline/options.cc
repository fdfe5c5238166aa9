#include "bench/pipeline/options.h"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace rtprelay::pipeline {

namespace {

constexpr const char* usage =
    "usage: rtprelay-pipeline-bench [options]\n"
    "\n"
    "Runs rtprelay's own worker loop (dataplane::worker::poll_once) on two net_ring ports,\n"
    "with calls set up through the session manager and publisher, and feeds it distinct\n"
    "pre-generated 172-byte RTP/SRTP packets, round-robin over the calls, in bursts of 32.\n"
    "Exits non-zero unless every packet came out, the relay counted no drop and every\n"
    "sampled output packet checks out (libsrtp2 decrypts SRTP under the SDP's keys).\n"
    "\n"
    "  --mode M          plain | rtp-srtp | srtp-srtp | all (default all)\n"
    "  --ip V            4 | 6 | 4-6: both sides IPv4 (default), both IPv6, or callers IPv4 and\n"
    "                    callees IPv6 (bridged)\n"
    "  --calls N         calls set up (default 10000; 5000 per media address and side)\n"
    "  --packets N       packets per timed run (default 4000000)\n"
    "  --runs N          timed runs per mode, median reported (default 1)\n"
    "  --chunk N         packets generated at a time, outside the timed region (default 524288)\n"
    "  --sample-every N  check one output packet in N (default 997)\n"
    "  --one-way         caller -> callee only (default: both directions, alternating bursts)\n"
    "  --mem MB          EAL memory (default 1024)\n"
    "  --no-huge         do not use hugepages even if enough are free\n"
    "  --json            one JSON object on stdout instead of the table\n"
    "  --srtp-batch-min N  SRTP packets in a burst from which the worker batches their crypto\n"
    "                    (intel-ipsec-mb); 0 = packet by packet (default 2, as the relay)\n"
    "  --suite S         the SRTP legs' suite, offered by the callers and by the relay toward the\n"
    "                    callees: AES_CM_128_HMAC_SHA1_80 (default), AES_CM_128_HMAC_SHA1_32,\n"
    "                    AES_256_CM_HMAC_SHA1_80/_32, AEAD_AES_128_GCM, AEAD_AES_256_GCM\n"
    "  --floor-keys N    keys the batched crypto floor cycles through (default 1024; 0 = skip;\n"
    "                    AES_CM_128_HMAC_SHA1_80 keys: skipped with another --suite)\n"
    "  --stream-run N    N consecutive packets of one stream before the next call's (default 1:\n"
    "                    a burst is 32 calls; 32: a burst is one stream's run)\n"
    "  --workers N       also run N workers (1..16), each on its own lcore with its own RX/TX\n"
    "                    queue on both ports and its own generator + sink; every run is done\n"
    "                    with 1 worker and then N, interleaved (default 1)\n"
    "  --misroute P      P percent of the streams arrive on a queue whose worker does not own\n"
    "                    them (handed off, as unsteered RSS does; default 0: all on the owner's)\n"
    "  --record P        P percent of the calls are recorded (call recording: the workers copy their\n"
    "                    clear packets into the record ring, which the loop empties after each turn\n"
    "                    in place of the recorder thread; default 0; any --ip)\n"
    "  --recorder-cpu N  with --record: a thread pinned to CPU N reads the record rings concurrently,\n"
    "                    as the daemon's recorder thread does, instead of the lanes between turns\n"
    "  --record-hot B    with --record: B bytes of hot area in each record ring (a power of two,\n"
    "                    at least 4096; default the daemon's)\n"
    "  --rate PPS        paced mode after the throughput runs: offer PPS packets/s (all workers),\n"
    "                    stamp each with its arrival time, report added latency and loss\n"
    "  --load F          paced mode at F (0 < F <= 1) of the ceiling the throughput runs measured\n"
    "  --paced-packets N packets per paced run (default 1000000)\n"
    "  --drain-us N      paced: flush the TX buffers every N us instead of worker::run()'s rule\n"
    "                    (end_turn: flush unless every RX queue gave a full burst, and every 100 us;\n"
    "                    0 = after every poll, as the timed runs do)\n"
    "  --realtime        paced runs with the workers' threads at SCHED_FIFO 1, as if their cores\n"
    "                    were isolated (needs CAP_SYS_NICE and a CPU per worker; the kernel's RT\n"
    "                    throttling still leaves other processes 5 percent of each second)\n"
    "  --perf-ctl C[,A]  perf's control FIFO (and ack FIFO): 'enable' before each timed pass,\n"
    "                    'disable' after it, so that `perf record -D -1 --control fifo:C,A`\n"
    "                    samples the timed passes only (bench/pipeline/perf_control.h)\n"
    "  --help\n";

bool parse_u64(const char* text, uint64_t min, uint64_t max, uint64_t* out) {
    if (text == nullptr || *text == '\0' || *text == '-') {
        return false;
    }
    errno = 0;
    char* end = nullptr;
    const unsigned long long v = std::strtoull(text, &end, 10);
    if (errno != 0 || *end != '\0' || v < min || v > max) {
        return false;
    }
    *out = v;
    return true;
}

}  // namespace

const char* ip_mode_name(ip_mode m) {
    switch (m) {
        case ip_mode::v6:
            return "6";
        case ip_mode::v4_v6:
            return "4-6";
        default:
            return "4";
    }
}

const char* scenario_name(scenario s) {
    switch (s) {
        case scenario::plain:
            return "plain";
        case scenario::rtp_srtp:
            return "rtp-srtp";
        case scenario::srtp_srtp:
            return "srtp-srtp";
    }
    return "?";
}

parse_outcome parse_options(int argc, char** argv, options* out) {
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        const char* value = i + 1 < argc ? argv[i + 1] : nullptr;
        auto number = [&](uint64_t min, uint64_t max, uint64_t* v) {
            if (!parse_u64(value, min, max, v)) {
                std::fprintf(stderr, "rtprelay-pipeline-bench: option '%s' needs a number in %llu..%llu\n", argv[i],
                             static_cast<unsigned long long>(min), static_cast<unsigned long long>(max));
                return false;
            }
            ++i;
            return true;
        };
        uint64_t v = 0;
        if (arg == "--help" || arg == "-h") {
            std::fputs(usage, stdout);
            return parse_outcome::exit_ok;
        } else if (arg == "--mode") {
            const std::string_view m = value == nullptr ? "" : value;
            if (m == "all") {
                out->scenarios = {scenario::plain, scenario::rtp_srtp, scenario::srtp_srtp};
            } else if (m == "plain") {
                out->scenarios = {scenario::plain};
            } else if (m == "rtp-srtp") {
                out->scenarios = {scenario::rtp_srtp};
            } else if (m == "srtp-srtp") {
                out->scenarios = {scenario::srtp_srtp};
            } else {
                std::fprintf(stderr,
                             "rtprelay-pipeline-bench: option '--mode': '%s' is not one of plain, "
                             "rtp-srtp, srtp-srtp, all\n",
                             value == nullptr ? "" : value);
                return parse_outcome::exit_error;
            }
            ++i;
        } else if (arg == "--suite") {
            const auto s = dp::srtp::suite_from_name(value == nullptr ? "" : value);
            if (!s) {
                std::fprintf(stderr,
                             "rtprelay-pipeline-bench: option '--suite': '%s' is not an SRTP suite rtprelay "
                             "has\n",
                             value == nullptr ? "" : value);
                return parse_outcome::exit_error;
            }
            out->suite = *s;
            ++i;
        } else if (arg == "--ip") {
            const std::string_view m = value == nullptr ? "" : value;
            if (m == "4") {
                out->ip = ip_mode::v4;
            } else if (m == "6") {
                out->ip = ip_mode::v6;
            } else if (m == "4-6") {
                out->ip = ip_mode::v4_v6;
            } else {
                std::fprintf(stderr, "rtprelay-pipeline-bench: option '--ip': '%s' is not one of 4, 6, 4-6\n",
                             value == nullptr ? "" : value);
                return parse_outcome::exit_error;
            }
            ++i;
        } else if (arg == "--calls") {
            // 60 media addresses per side at most (local_addresses holds 64 in all).
            if (!number(1, 300'000, &v)) {
                return parse_outcome::exit_error;
            }
            out->calls = static_cast<uint32_t>(v);
        } else if (arg == "--packets") {
            if (!number(32, 1'000'000'000, &v)) {
                return parse_outcome::exit_error;
            }
            out->packets = v;
        } else if (arg == "--runs") {
            if (!number(1, 100, &v)) {
                return parse_outcome::exit_error;
            }
            out->runs = static_cast<uint32_t>(v);
        } else if (arg == "--chunk") {
            if (!number(1024, 1u << 24, &v)) {
                return parse_outcome::exit_error;
            }
            out->chunk = static_cast<uint32_t>(v);
        } else if (arg == "--sample-every") {
            if (!number(1, 1'000'000'000, &v)) {
                return parse_outcome::exit_error;
            }
            out->sample_every = static_cast<uint32_t>(v);
        } else if (arg == "--mem") {
            if (!number(64, 65536, &v)) {
                return parse_outcome::exit_error;
            }
            out->mem_mb = static_cast<uint32_t>(v);
        } else if (arg == "--srtp-batch-min") {
            if (!number(0, 32, &v)) {
                return parse_outcome::exit_error;
            }
            out->srtp_batch_min = static_cast<uint32_t>(v);
        } else if (arg == "--floor-keys") {
            if (!number(0, 1'000'000, &v)) {
                return parse_outcome::exit_error;
            }
            out->floor_keys = static_cast<uint32_t>(v);
        } else if (arg == "--stream-run") {
            if (!number(1, 1024, &v)) {
                return parse_outcome::exit_error;
            }
            out->stream_run = static_cast<uint32_t>(v);
        } else if (arg == "--workers") {
            if (!number(1, 16, &v)) {
                return parse_outcome::exit_error;
            }
            out->workers = static_cast<uint32_t>(v);
        } else if (arg == "--misroute") {
            if (!number(0, 100, &v)) {
                return parse_outcome::exit_error;
            }
            out->misroute_pct = static_cast<uint32_t>(v);
        } else if (arg == "--record") {
            if (!number(0, 100, &v)) {
                return parse_outcome::exit_error;
            }
            out->record_pct = static_cast<uint32_t>(v);
        } else if (arg == "--recorder-cpu") {
            if (!number(0, 1023, &v)) {
                return parse_outcome::exit_error;
            }
            out->recorder_cpu = static_cast<int32_t>(v);
        } else if (arg == "--record-hot") {
            if (!number(4096, 1u << 30, &v)) {
                return parse_outcome::exit_error;
            }
            out->record_hot = static_cast<uint32_t>(v);  // the plane refuses what is not a power of two
        } else if (arg == "--rate") {
            if (!number(1, 1'000'000'000, &v)) {
                return parse_outcome::exit_error;
            }
            out->rate_pps = v;
        } else if (arg == "--paced-packets") {
            if (!number(32, 100'000'000, &v)) {
                return parse_outcome::exit_error;
            }
            out->paced_packets = v;
        } else if (arg == "--load") {
            char* end = nullptr;
            const double f = value == nullptr ? 0 : std::strtod(value, &end);
            if (value == nullptr || *end != '\0' || !(f > 0 && f <= 1)) {
                std::fprintf(stderr, "rtprelay-pipeline-bench: option '--load' needs a number in (0, 1]\n");
                return parse_outcome::exit_error;
            }
            out->load = f;
            ++i;
        } else if (arg == "--drain-us") {
            if (!number(0, 1'000'000, &v)) {
                return parse_outcome::exit_error;
            }
            out->drain_us = static_cast<uint32_t>(v);
        } else if (arg == "--perf-ctl") {
            if (value == nullptr || *value == '\0') {
                std::fprintf(stderr, "rtprelay-pipeline-bench: option '--perf-ctl' needs a FIFO path\n");
                return parse_outcome::exit_error;
            }
            out->perf_ctl = value;
            ++i;
        } else if (arg == "--realtime") {
            out->realtime = true;
        } else if (arg == "--one-way") {
            out->one_way = true;
        } else if (arg == "--no-huge") {
            out->no_huge = true;
        } else if (arg == "--json") {
            out->json = true;
        } else {
            std::fprintf(stderr, "rtprelay-pipeline-bench: unknown option '%s' (see --help)\n", argv[i]);
            return parse_outcome::exit_error;
        }
    }
    return parse_outcome::run;
}

}  // namespace rtprelay::pipeline
