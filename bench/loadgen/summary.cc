#include "bench/loadgen/summary.h"

#include "bench/loadgen/srtp_streams.h"
#include "control/json_string.h"

#include <algorithm>
#include <cinttypes>
#include <functional>
#include <utility>

namespace rtprelay::loadgen {

namespace {

double us(int64_t ns) { return static_cast<double>(ns) / 1000.0; }

}  // namespace

double run_summary::loss_percent() const {
    if (packets_sent == 0) {
        return 0;
    }
    return 100.0 * static_cast<double>(packets_lost) / static_cast<double>(packets_sent);
}

std::optional<double> run_summary::relay_us_per_packet() const {
    const uint64_t relayed = packets_received + rtcp_received;
    if (!relay_cpu_seconds || relayed == 0) {
        return std::nullopt;
    }
    return *relay_cpu_seconds * 1e6 / static_cast<double>(relayed);
}

double relay_busy_time::total_seconds() const {
    double t = 0;
    for (double b : busy_seconds) {
        t += b;
    }
    return t;
}

double relay_busy_time::max_utilisation(double seconds) const {
    double m = 0;
    for (double b : busy_seconds) {
        m = std::max(m, b);
    }
    return seconds > 0 ? m / seconds : 0;
}

double relay_busy_time::mean_utilisation(double seconds) const {
    return seconds > 0 && !busy_seconds.empty() ? total_seconds() / seconds / static_cast<double>(busy_seconds.size())
                                                : 0;
}

std::optional<double> relay_busy_time::ns_per_packet() const {
    if (relayed == 0) {
        return std::nullopt;
    }
    return total_seconds() * 1e9 / static_cast<double>(relayed);
}

std::optional<double> relay_busy_time::on_cpu_ns_per_packet() const {
    const std::optional<double> per = ns_per_packet();
    if (!per || !on_cpu_share) {
        return std::nullopt;
    }
    return *per * *on_cpu_share;
}

std::optional<double> relay_busy_time::worker_ns_per_packet(size_t w) const {
    if (w >= worker_packets.size() || w >= busy_seconds.size() || worker_packets[w] == 0) {
        return std::nullopt;
    }
    return busy_seconds[w] * 1e9 / static_cast<double>(worker_packets[w]);
}

void add_srtp_checks(const srtp_sender& tx, const srtp_receiver& rx, uint64_t unprotect_failed, run_summary* s) {
    s->srtp = true;
    s->srtp_protect_errors = tx.errors();
    s->srtp_unprotect_failed = unprotect_failed;
    s->srtp_checked_sent = tx.checks().checked;
    s->srtp_mismatched_sent = tx.checks().mismatched;
    s->srtp_checked_received = rx.checks().checked;
    s->srtp_mismatched_received = rx.checks().mismatched;
    s->srtp_refused_received = rx.checks().refused;
}

void add_streams(const std::vector<stream_sent>& sent, const std::vector<stream_stats>& stats,
                 const latency_histogram& latency, run_summary* s) {
    double jitter_sum = 0;
    uint64_t jitter_streams = 0;
    for (size_t i = 0; i < stats.size() && i < sent.size(); ++i) {
        const stream_stats& st = stats[i];
        s->packets_sent += sent[i].packets;
        s->rtcp_sent += sent[i].rtcp;
        s->packets_received += st.received();
        s->packets_lost += sent[i].packets > st.received() ? sent[i].packets - st.received() : 0;
        s->duplicates += st.duplicates();
        s->reordered += st.reordered();
        s->too_old += st.too_old();
        s->rtcp_received += st.rtcp_received();
        ++s->streams;
        if (st.received() == 0) {
            ++s->streams_silent;
        }
        if (st.received() >= 2) {
            jitter_sum += st.jitter_ns();
            ++jitter_streams;
        }
    }
    s->jitter_mean_ns = jitter_streams == 0 ? 0 : jitter_sum / static_cast<double>(jitter_streams);
    s->latency_p50_ns = latency.percentile(0.50);
    s->latency_p99_ns = latency.percentile(0.99);
    s->latency_max_ns = latency.max();
}

std::optional<double> run_summary::generator_utilisation() const {
    if (!generator_busy_seconds || stream_seconds <= 0) {
        return std::nullopt;
    }
    return *generator_busy_seconds / stream_seconds;
}

std::optional<double> run_summary::generator_ns_per_packet() const {
    if (!generator_busy_seconds || generator_handled == 0) {
        return std::nullopt;
    }
    return *generator_busy_seconds * 1e9 / static_cast<double>(generator_handled);
}

std::optional<double> run_summary::generator_clean_ns_per_packet() const {
    if (!generator_busy_seconds || generator_clean_handled == 0) {
        return std::nullopt;
    }
    return generator_clean_busy_seconds * 1e9 / static_cast<double>(generator_clean_handled);
}

double run_summary::sender_behind_percent() const {
    const double scheduled = static_cast<double>(packets_sent + sender_skipped);
    if (scheduled == 0) {
        return 0;
    }
    return 100.0 * static_cast<double>(sender_late + sender_skipped) / scheduled;
}

void print_table(const run_summary& s, std::FILE* out) {
    std::fprintf(out, "relay        %s%s\n", s.ng.c_str(), s.interrupted ? "  (interrupted)" : "");
    std::fprintf(out, "calls        requested %u  set up %u  failed %u  (setup %.2f s)\n", s.calls_requested,
                 s.calls_set_up, s.calls_failed, s.setup_seconds);
    if (!s.first_error.empty()) {
        std::fprintf(out, "  first      %s\n", s.first_error.c_str());
    }
    // The commonest reasons are the story; a long tail of distinct ones is noise here
    // (the JSON output has them all).
    std::vector<std::pair<uint32_t, std::string>> reasons;
    for (const auto& [reason, count] : s.failures) {
        reasons.emplace_back(count, reason);
    }
    std::sort(reasons.begin(), reasons.end(), std::greater<>());
    for (size_t i = 0; i < reasons.size() && i < 5; ++i) {
        std::fprintf(out, "  failed     %u x %s\n", reasons[i].first, reasons[i].second.c_str());
    }
    std::fprintf(out, "packets      sent %" PRIu64 "  received %" PRIu64 "  lost %" PRIu64 " (%.3f %%)  over %.1f s\n",
                 s.packets_sent, s.packets_received, s.packets_lost, s.loss_percent(), s.stream_seconds);
    std::fprintf(out,
                 "             duplicates %" PRIu64 "  reordered %" PRIu64 "  too old %" PRIu64 "  misrouted %" PRIu64
                 "  foreign %" PRIu64 "  send errors %" PRIu64 "\n",
                 s.duplicates, s.reordered, s.too_old, s.misrouted, s.foreign, s.send_errors);
    if (s.sender_skipped > 0 || s.sender_late > 0) {
        std::fprintf(out,
                     "  warning    sender fell behind: %" PRIu64 " packets skipped (not counted as sent), %" PRIu64
                     " sent more than %.0f us late (%.2f %% of the schedule); where this is over\n"
                     "             --skip-tolerance the generator, not the relay, is the bound\n",
                     s.sender_skipped, s.sender_late, us(s.late_threshold_ns), s.sender_behind_percent());
    }
    std::fprintf(out, "latency      p50 %.1f us  p99 %.1f us  max %.1f us  (sender lag max %.1f us)\n",
                 us(s.latency_p50_ns), us(s.latency_p99_ns), us(s.latency_max_ns), us(s.sender_max_lag_ns));
    std::fprintf(out, "jitter       mean %.1f us\n", s.jitter_mean_ns / 1000.0);
    std::fprintf(out, "streams      %" PRIu64 "  without media %" PRIu64 "\n", s.streams, s.streams_silent);
    if (s.gaps.measured > 0) {
        std::fprintf(out, "gaps         per call, longest between arrivals: p50 %.1f ms  p99 %.1f ms  max %.1f ms",
                     static_cast<double>(s.gaps.p50_ns) / 1e6, static_cast<double>(s.gaps.p99_ns) / 1e6,
                     static_cast<double>(s.gaps.max_ns) / 1e6);
        std::fprintf(out, "  (%u calls; %u with a direction of under 2 packets)\n", s.gaps.measured, s.gaps.unmeasured);
    }
    if (s.mark_ns != 0) {
        std::fprintf(out,
                     "mark         per call, media again after SIGUSR1: p50 %.1f ms  p99 %.1f ms  max %.1f ms  (%u "
                     "calls; %u with a direction silent since)\n",
                     static_cast<double>(s.resume.p50_ns) / 1e6, static_cast<double>(s.resume.p99_ns) / 1e6,
                     static_cast<double>(s.resume.max_ns) / 1e6, s.resume.measured, s.resume.unmeasured);
    }
    const uint64_t handled = s.packets_sent + s.packets_received;
    std::fprintf(out, "generator    cpu %.3f s  %.3f us per packet sent or received (%s)\n", s.generator_cpu_seconds,
                 handled == 0 ? 0.0 : s.generator_cpu_seconds * 1e6 / static_cast<double>(handled),
                 s.dpdk ? "DPDK ports" : "kernel sockets");
    if (std::optional<double> u = s.generator_utilisation()) {
        std::fprintf(out,
                     "generator    busy %.3f s: utilisation %.2f %%  %.0f ns per packet sent or received; %.0f ns"
                     " in windows without a preemption (%.0f %% of the packets)\n",
                     *s.generator_busy_seconds, 100.0 * *u, s.generator_ns_per_packet().value_or(0),
                     s.generator_clean_ns_per_packet().value_or(0),
                     s.generator_handled == 0 ? 0.0
                                              : 100.0 * static_cast<double>(s.generator_clean_handled) /
                                                    static_cast<double>(s.generator_handled));
    }
    if (s.dpdk) {
        std::fprintf(out,
                     "dpdk         tx ring full %" PRIu64 " (counted as sent and lost)  ARP answered %" PRIu64
                     "  verified %" PRIu64 " (%" PRIu64 " failed)  sender identities %u%s\n",
                     s.tx_ring_full, s.arp_answered, s.verified, s.verify_failed, s.identities,
                     s.dpdk_wire ? "  (wire: no relay)" : "");
    }
    if (s.srtp) {
        std::fprintf(out,
                     "srtp         protect errors %" PRIu64 "  unprotect failed %" PRIu64
                     "  libsrtp2 checked: sent %" PRIu64 " (%" PRIu64 " mismatched)  received %" PRIu64 " (%" PRIu64
                     " mismatched, %" PRIu64 " refused)\n",
                     s.srtp_protect_errors, s.srtp_unprotect_failed, s.srtp_checked_sent, s.srtp_mismatched_sent,
                     s.srtp_checked_received, s.srtp_mismatched_received, s.srtp_refused_received);
    }
    if (s.rtcp_sent > 0) {
        std::fprintf(out, "rtcp         sent %" PRIu64 "  received %" PRIu64 "\n", s.rtcp_sent, s.rtcp_received);
    }
    if (s.relay) {
        const relay_totals& r = *s.relay;
        std::fprintf(out,
                     "relay count  RTP %" PRIu64 " pkts  RTCP %" PRIu64 " pkts  errors %" PRIu64
                     "  (query ok %u, failed %u)\n",
                     r.rtp_packets, r.rtcp_packets, r.rtp_errors + r.rtcp_errors, r.queried, r.query_failed);
        if (!r.first_query_error.empty()) {
            std::fprintf(out, "  query      %s\n", r.first_query_error.c_str());
        }
    }
    if (s.relay_busy) {
        const relay_busy_time& b = *s.relay_busy;
        std::fprintf(out, "relay busy   %.3f s over %zu worker(s): utilisation %.2f %% (busiest %.2f %%)",
                     b.total_seconds(), b.busy_seconds.size(), 100.0 * b.mean_utilisation(s.stream_seconds),
                     100.0 * b.max_utilisation(s.stream_seconds));
        if (std::optional<double> per = b.ns_per_packet()) {
            std::fprintf(out, "  %.0f ns per relayed packet (%" PRIu64 ")", *per, b.relayed);
        }
        if (std::optional<double> per = b.on_cpu_ns_per_packet()) {
            std::fprintf(
                out, "\n             workers on a CPU %.1f %% of their runnable time: ~%.0f ns per packet of their own",
                100.0 * *b.on_cpu_share, *per);
        }
        if (b.handed_off) {
            std::fprintf(out, "\n             handed off between workers: %" PRIu64, *b.handed_off);
        }
        for (size_t w = 0; w < b.worker_packets.size(); ++w) {
            std::fprintf(out, "\n             worker %zu: %" PRIu64 " packets on its queues, %.0f ns busy per packet",
                         w, b.worker_packets[w], b.worker_ns_per_packet(w).value_or(0));
        }
        std::fputc('\n', out);
    }
    if (s.relay_cpu_seconds) {
        std::fprintf(out, "relay cpu    %.3f s of process CPU (/proc; no busy-time figure from this relay)",
                     *s.relay_cpu_seconds);
        if (std::optional<double> per = s.relay_us_per_packet()) {
            std::fprintf(out, "  %.3f us per packet received", *per);
        }
        std::fputc('\n', out);
    }
    if (s.deleted) {
        std::fprintf(out, "delete       ok %u  failed %u%s%s\n", s.deleted->deleted, s.deleted->failed,
                     s.deleted->first_error.empty() ? "" : "  ", s.deleted->first_error.c_str());
    }
}

void print_json(const run_summary& s, std::FILE* out) {
    std::string failures;
    for (const auto& [reason, count] : s.failures) {
        failures += (failures.empty() ? "" : ",") + json_string(reason) + ":" + std::to_string(count);
    }
    std::fprintf(out,
                 "{\"ng\":%s,\"interrupted\":%s,"
                 "\"calls\":{\"requested\":%u,\"set_up\":%u,\"failed\":%u,"
                 "\"first_error\":%s,\"failures\":{%s},\"setup_seconds\":%.3f},",
                 json_string(s.ng).c_str(), s.interrupted ? "true" : "false", s.calls_requested, s.calls_set_up,
                 s.calls_failed, json_string(s.first_error).c_str(), failures.c_str(), s.setup_seconds);
    if (!s.teardown_ng.empty() && s.teardown_ng != s.ng) {
        std::fprintf(out, "\"teardown_ng\":%s,", json_string(s.teardown_ng).c_str());
    }
    std::fprintf(out,
                 "\"packets\":{\"sent\":%" PRIu64 ",\"received\":%" PRIu64 ",\"lost\":%" PRIu64
                 ",\"loss_percent\":%.6f,\"duplicates\":%" PRIu64 ",\"reordered\":%" PRIu64 ",\"too_old\":%" PRIu64
                 ",\"misrouted\":%" PRIu64 ",\"foreign\":%" PRIu64 ",\"send_errors\":%" PRIu64
                 ",\"sender_skipped\":%" PRIu64 ",\"sender_late\":%" PRIu64
                 ",\"late_threshold_us\":%.1f,\"sender_behind_percent\":%.4f"
                 ",\"stream_seconds\":%.3f},",
                 s.packets_sent, s.packets_received, s.packets_lost, s.loss_percent(), s.duplicates, s.reordered,
                 s.too_old, s.misrouted, s.foreign, s.send_errors, s.sender_skipped, s.sender_late,
                 us(s.late_threshold_ns), s.sender_behind_percent(), s.stream_seconds);
    std::fprintf(out,
                 "\"latency_us\":{\"p50\":%.1f,\"p99\":%.1f,\"max\":%.1f},"
                 "\"jitter_mean_us\":%.2f,\"sender_max_lag_us\":%.1f,"
                 "\"rtcp\":{\"sent\":%" PRIu64 ",\"received\":%" PRIu64
                 "},"
                 "\"streams\":{\"total\":%" PRIu64 ",\"silent\":%" PRIu64 "}",
                 us(s.latency_p50_ns), us(s.latency_p99_ns), us(s.latency_max_ns), s.jitter_mean_ns / 1000.0,
                 us(s.sender_max_lag_ns), s.rtcp_sent, s.rtcp_received, s.streams, s.streams_silent);
    std::fprintf(out, ",\"gaps_ms\":{\"calls\":%u,\"unmeasured\":%u,\"p50\":%.1f,\"p99\":%.1f,\"max\":%.1f}",
                 s.gaps.measured, s.gaps.unmeasured, static_cast<double>(s.gaps.p50_ns) / 1e6,
                 static_cast<double>(s.gaps.p99_ns) / 1e6, static_cast<double>(s.gaps.max_ns) / 1e6);
    std::fprintf(out, ",\"transport\":\"%s\",\"generator_cpu_seconds\":%.3f", s.dpdk ? "dpdk" : "sockets",
                 s.generator_cpu_seconds);
    if (std::optional<double> u = s.generator_utilisation()) {
        std::fprintf(out, ",\"generator_busy\":{\"busy_seconds\":%.6f,\"utilisation\":%.5f,\"handled\":%" PRIu64,
                     *s.generator_busy_seconds, *u, s.generator_handled);
        if (std::optional<double> per = s.generator_ns_per_packet()) {
            std::fprintf(out, ",\"ns_per_packet\":%.1f", *per);
        }
        if (std::optional<double> per = s.generator_clean_ns_per_packet()) {
            std::fprintf(out, ",\"clean_ns_per_packet\":%.1f,\"clean_handled\":%" PRIu64, *per,
                         s.generator_clean_handled);
        }
        std::fputc('}', out);
    }
    if (s.dpdk) {
        std::fprintf(out,
                     ",\"dpdk\":{\"tx_ring_full\":%" PRIu64 ",\"arp_answered\":%" PRIu64
                     ",\"wire\":%s"
                     ",\"identities\":%u,\"verified\":%" PRIu64 ",\"verify_failed\":%" PRIu64 "}",
                     s.tx_ring_full, s.arp_answered, s.dpdk_wire ? "true" : "false", s.identities, s.verified,
                     s.verify_failed);
    }
    if (s.relay) {
        const relay_totals& r = *s.relay;
        std::fprintf(out,
                     ",\"relay_counted\":{\"rtp\":{\"packets\":%" PRIu64 ",\"bytes\":%" PRIu64 ",\"errors\":%" PRIu64
                     "},\"rtcp\":{\"packets\":%" PRIu64 ",\"bytes\":%" PRIu64 ",\"errors\":%" PRIu64
                     "},\"queried\":%u,\"query_failed\":%u,\"first_query_error\":%s}",
                     r.rtp_packets, r.rtp_bytes, r.rtp_errors, r.rtcp_packets, r.rtcp_bytes, r.rtcp_errors, r.queried,
                     r.query_failed, json_string(r.first_query_error).c_str());
    }
    if (s.relay_busy) {
        const relay_busy_time& b = *s.relay_busy;
        std::string per_worker;
        for (double w : b.busy_seconds) {
            char buf[32];
            std::snprintf(buf, sizeof buf, "%s%.6f", per_worker.empty() ? "" : ",", w);
            per_worker += buf;
        }
        std::fprintf(out,
                     ",\"relay_busy\":{\"workers\":%zu,\"busy_seconds\":[%s],\"relayed\":%" PRIu64
                     ",\"utilisation\":%.5f,\"max_utilisation\":%.5f",
                     b.busy_seconds.size(), per_worker.c_str(), b.relayed, b.mean_utilisation(s.stream_seconds),
                     b.max_utilisation(s.stream_seconds));
        if (std::optional<double> per = b.ns_per_packet()) {
            std::fprintf(out, ",\"ns_per_packet\":%.1f", *per);
        }
        if (std::optional<double> per = b.on_cpu_ns_per_packet()) {
            std::fprintf(out, ",\"on_cpu_share\":%.5f,\"on_cpu_ns_per_packet\":%.1f", *b.on_cpu_share, *per);
        }
        if (b.handed_off) {
            std::fprintf(out, ",\"handed_off\":%" PRIu64, *b.handed_off);
        }
        if (!b.worker_packets.empty()) {
            std::fputs(",\"worker_packets\":[", out);
            for (size_t w = 0; w < b.worker_packets.size(); ++w) {
                std::fprintf(out, "%s%" PRIu64, w == 0 ? "" : ",", b.worker_packets[w]);
            }
            std::fputs("],\"worker_ns_per_packet\":[", out);
            for (size_t w = 0; w < b.worker_packets.size(); ++w) {
                std::fprintf(out, "%s%.1f", w == 0 ? "" : ",", b.worker_ns_per_packet(w).value_or(0));
            }
            std::fputc(']', out);
        }
        std::fputc('}', out);
    }
    if (s.relay_cpu_seconds) {
        std::fprintf(out, ",\"relay_cpu_seconds\":%.3f", *s.relay_cpu_seconds);
        if (std::optional<double> per = s.relay_us_per_packet()) {
            std::fprintf(out, ",\"relay_us_per_packet\":%.4f", *per);
        }
    }
    if (s.srtp) {
        std::fprintf(out,
                     ",\"srtp\":{\"protect_errors\":%" PRIu64 ",\"unprotect_failed\":%" PRIu64
                     ",\"libsrtp2_checked_sent\":%" PRIu64 ",\"libsrtp2_mismatched_sent\":%" PRIu64
                     ",\"libsrtp2_checked_received\":%" PRIu64 ",\"libsrtp2_mismatched_received\":%" PRIu64
                     ",\"libsrtp2_refused_received\":%" PRIu64 "}",
                     s.srtp_protect_errors, s.srtp_unprotect_failed, s.srtp_checked_sent, s.srtp_mismatched_sent,
                     s.srtp_checked_received, s.srtp_mismatched_received, s.srtp_refused_received);
    }
    if (s.deleted) {
        std::fprintf(out, ",\"delete\":{\"ok\":%u,\"failed\":%u,\"first_error\":%s}", s.deleted->deleted,
                     s.deleted->failed, json_string(s.deleted->first_error).c_str());
    }
    if (s.mark_ns != 0) {
        print_mark_json(s.mark_ns, s.resume, out);
    }
    if (s.per_call_rows) {
        print_rows_json(s.call_rows, s.mark_ns != 0, out);
    }
    std::fputs("}\n", out);
}

}  // namespace rtprelay::loadgen
