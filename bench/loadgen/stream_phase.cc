#include "bench/loadgen/stream_phase.h"

#include <algorithm>
#include <atomic>
#include <cinttypes>
#include <cstdio>
#include <exception>
#include <memory>
#include <optional>
#include <thread>

#include "bench/loadgen/clock.h"
#include "bench/loadgen/live_counters.h"
#include "bench/loadgen/mark_signal.h"
#include "bench/loadgen/receiver.h"
#include "bench/loadgen/relay_usage.h"
#include "bench/loadgen/sender.h"
#include "bench/loadgen/srtp_streams.h"

namespace rtprelay::loadgen {

namespace {

// Lets both threads start and the receiver reach epoll_wait before the first packet.
constexpr int64_t start_delay_ns = 50'000'000;

std::string progress_text(const live_counters& live, int64_t start_ns, int64_t now) {
    const double t = static_cast<double>(now - start_ns) / 1e9;
    const uint64_t sent = live.rtp_sent.load(std::memory_order_relaxed);
    const uint64_t received = live.rtp_received.load(std::memory_order_relaxed);
    char line[160];
    std::snprintf(line, sizeof line,
                  "stream: %.0f s  sent %" PRIu64 "  received %" PRIu64 "  in flight or lost %" PRId64, t < 0 ? 0 : t,
                  sent, received, static_cast<int64_t>(sent) - static_cast<int64_t>(received));
    return line;
}

}  // namespace

bool run_stream_phase(const stream_set& streams, const side_sockets& a, const side_sockets& b, const options& opt,
                      ng::ng_client* client, progress_line* progress, run_summary* out, std::string* error) {
    std::unique_ptr<srtp_sender> srtp_tx;
    std::unique_ptr<srtp_receiver> srtp_rx;
    if (opt.any_srtp()) {
        try {
            srtp_tx = std::make_unique<srtp_sender>(streams, opt.srtp_check_streams);
            srtp_rx = std::make_unique<srtp_receiver>(streams, opt.srtp_check_streams);
        } catch (const std::exception& e) {
            *error = std::string("SRTP contexts: ") + e.what();
            return false;
        }
    }
    live_counters live;
    sender_config sc;
    sc.payload_bytes = opt.payload_bytes;
    sc.ptime_ms = opt.ptime_ms;
    sc.rtcp = opt.rtcp;
    sc.srtp = srtp_tx.get();
    sc.late_ns = static_cast<int64_t>(opt.late_us) * 1000;
    sc.start_ns = mono_ns() + start_delay_ns;
    sc.end_ns = sc.start_ns + static_cast<int64_t>(opt.duration_s * 1e9);
    const int64_t drain = static_cast<int64_t>(opt.drain_s * 1e9);
    const int64_t deadline = sc.end_ns + drain;

    // Both are large (per-stream state, batch buffers): built here, on the main thread,
    // so the threads only run loops that neither allocate nor throw.
    auto tx = std::make_unique<sender>(streams, a, b, sc, &live);
    auto rx = std::make_unique<receiver>(streams, a, b, &live, srtp_rx.get());
    if (!rx->init(error)) {
        return false;
    }

    relay_usage usage;
    usage.start(opt.relay_pid, client, opt.ng_timeout_ms);
    std::atomic<bool> receiver_done{false};
    std::thread rx_thread([&] {
        rx->run(deadline, drain);
        receiver_done.store(true, std::memory_order_release);
    });
    std::thread tx_thread([&] { tx->run(); });

    while (!receiver_done.load(std::memory_order_acquire)) {
        const int64_t now = mono_ns();
        if (progress->due()) {
            progress->show(progress_text(live, sc.start_ns, now));
        }
        // The receiver stops itself by the deadline; this only paces the progress line.
        sleep_until_ns(std::min(now + 100'000'000, deadline));
        if (now >= deadline) {
            break;
        }
    }
    rx_thread.join();
    tx_thread.join();
    usage.finish(out);
    progress->finish();

    add_streams(tx->sent(), rx->stats(), rx->latency(), out);
    out->call_rows = gap_rows(tx->sent(), rx->stats(), rx->gaps());
    out->gaps = summarise_gaps(out->call_rows);
    out->mark_ns = mark_ns();
    if (out->mark_ns != 0) {
        out->resume = summarise_resume(out->call_rows, out->mark_ns);
    }
    const int64_t sending_ns = std::max<int64_t>(tx->stopped_ns() - sc.start_ns, 0);
    out->stream_seconds = static_cast<double>(sending_ns) / 1e9;
    out->send_errors = tx->send_errors();
    out->sender_max_lag_ns = tx->max_lag_ns();
    out->sender_skipped = tx->skipped();
    out->sender_late = tx->late();
    out->late_threshold_ns = sc.late_ns;
    out->foreign = rx->foreign();
    out->misrouted = rx->misrouted();
    if (opt.any_srtp()) {
        add_srtp_checks(*srtp_tx, *srtp_rx, rx->srtp_failed(), out);
    }
    return true;
}

}  // namespace rtprelay::loadgen
