#include "bench/loadgen/dpdk_stream.h"

#include <algorithm>
#include <cstdio>
#include <exception>
#include <memory>
#include <vector>

#include "bench/loadgen/clock.h"
#include "bench/loadgen/dpdk_streamer.h"
#include "bench/loadgen/relay_usage.h"
#include "bench/loadgen/srtp_streams.h"

namespace rtprelay::loadgen {

bool run_dpdk_stream_phase(dpdk_link& link, const packet_store& store, const stream_set& streams, const options& opt,
                           ng::ng_client* client, progress_line* progress, run_summary* out, std::string* error) {
    std::unique_ptr<srtp_receiver> srtp_rx;
    if (opt.any_srtp()) {
        try {
            srtp_rx = std::make_unique<srtp_receiver>(streams, opt.srtp_check_streams);
        } catch (const std::exception& e) {
            *error = std::string("SRTP contexts: ") + e.what();
            return false;
        }
    }
    auto streamer = std::make_unique<dpdk_detail::dpdk_streamer>(link, store, streams, opt, srtp_rx.get());
    if (!streamer->resolve(error)) {
        return false;
    }

    relay_usage usage;
    if (client != nullptr) {
        usage.start(opt.relay_pid, client, opt.ng_timeout_ms);
    }
    const int64_t start = mono_ns() + dpdk_detail::start_delay_ns;
    const int64_t end = start + static_cast<int64_t>(opt.duration_s * 1e9);
    const int64_t drain = static_cast<int64_t>(opt.drain_s * 1e9);
    const std::vector<uint64_t> taken_before = link.taken_per_queue();
    streamer->run(start, end, end + drain, drain, progress);
    if (client != nullptr) {
        usage.finish(out);
    }
    // Per relay worker, the packets put on its queues (one queue pair per worker).
    if (out->relay_busy && out->relay_busy->busy_seconds.size() == link.n_queues()) {
        const std::vector<uint64_t> taken = link.taken_per_queue();
        for (size_t q = 0; q < taken.size(); ++q) {
            out->relay_busy->worker_packets.push_back(taken[q] - taken_before[q]);
        }
    } else if (out->relay_busy && link.n_queues() > 1) {
        // The relay's workers are not the generator's queues: streams went to queues no owner
        // polls as its own, and the relay handed them off (its handed_off count says how many).
        std::fprintf(stderr, "rtprelay-loadgen: --dpdk-queues %u but the relay has %zu worker(s)\n",
                     static_cast<unsigned>(link.n_queues()), out->relay_busy->busy_seconds.size());
    }
    progress->finish();

    add_streams(streamer->sent(), streamer->stats(), streamer->latency(), out);
    out->stream_seconds = static_cast<double>(std::max<int64_t>(streamer->stopped_ns() - start, 0)) / 1e9;
    out->send_errors = streamer->alloc_failed();
    out->sender_max_lag_ns = streamer->max_lag_ns();
    out->sender_skipped = streamer->skipped();
    out->sender_late = streamer->late();
    out->late_threshold_ns = static_cast<int64_t>(opt.late_us) * 1000;
    out->foreign = streamer->foreign();
    out->misrouted = streamer->misrouted();
    out->dpdk = true;
    out->dpdk_wire = opt.dpdk_wire;
    out->tx_ring_full = streamer->tx_ring_full();
    out->arp_answered = streamer->arp_answered();
    out->verified = streamer->verified();
    out->verify_failed = streamer->verify_failed();
    out->identities = store.identities();
    out->generator_busy_seconds = streamer->busy_seconds();
    out->generator_handled = streamer->handled();
    out->generator_clean_busy_seconds = streamer->clean_busy_seconds();
    out->generator_clean_handled = streamer->clean_handled();
    if (opt.any_srtp()) {
        out->srtp = true;
        out->srtp_unprotect_failed = streamer->verify_failed();
        out->srtp_checked_sent = store.checked();
        out->srtp_mismatched_sent = store.mismatched();
        out->srtp_checked_received = srtp_rx->checks().checked;
        out->srtp_mismatched_received = srtp_rx->checks().mismatched;
    }
    return true;
}

}  // namespace rtprelay::loadgen
