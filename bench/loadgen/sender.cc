#include "bench/loadgen/sender.h"

#include <time.h>

#include <algorithm>

#include "bench/loadgen/clock.h"
#include "bench/loadgen/rtp_wire.h"
#include "bench/loadgen/stop_signal.h"

namespace rtprelay::loadgen {

namespace {

// 64-bit NTP time (RFC 3550 section 4) from the wall clock, for the SR's NTP field.
uint64_t ntp_now() {
    timespec ts{};
    clock_gettime(CLOCK_REALTIME, &ts);
    constexpr uint64_t unix_to_ntp_s = 2'208'988'800;
    const uint64_t seconds = static_cast<uint64_t>(ts.tv_sec) + unix_to_ntp_s;
    const uint64_t fraction = (static_cast<uint64_t>(ts.tv_nsec) << 32) / 1'000'000'000;
    return seconds << 32 | fraction;
}

}  // namespace

sender::sender(const stream_set& streams, const side_sockets& a, const side_sockets& b, const sender_config& config,
               live_counters* live)
    : streams_(streams),
      config_(config),
      live_(live),
      calls_(streams.streams.size() / 2),
      period_ns_(static_cast<int64_t>(config.ptime_ms) * 1'000'000),
      ticks_per_packet_(clock_rate_hz / 1000 * config.ptime_ms),
      sockets_(static_cast<uint32_t>(a.rtp.size())),
      sent_(streams.streams.size()) {
    const size_t rtp_bytes = rtp_header_bytes + config.payload_bytes;
    for (const side_sockets* s : {&a, &b}) {
        for (uint32_t i = 0; i < sockets_; ++i) {
            batches_.emplace_back(s->rtp[i].get(), rtp_bytes, false, config.srtp);
            const int rtcp_fd = s->rtcp.empty() ? -1 : s->rtcp[i].get();
            batches_.emplace_back(rtcp_fd, rtcp_sr_max_bytes, true);
        }
    }
}

// RTP slot k is call k % calls in round k / calls; call c's phase is c/calls of a period.
int64_t sender::rtp_due(uint64_t slot) const {
    const uint64_t round = slot / calls_;
    const uint64_t call = slot % calls_;
    return config_.start_ns + static_cast<int64_t>(round) * period_ns_ +
           static_cast<int64_t>(call) * period_ns_ / static_cast<int64_t>(calls_);
}

// Sender reports go out the same way, spread over the 5 s interval, the first one of each
// call after its share of the first interval (so not all at the start).
int64_t sender::rtcp_due(uint64_t slot) const {
    const uint64_t round = slot / calls_;
    const uint64_t call = slot % calls_;
    return config_.start_ns + static_cast<int64_t>(round) * rtcp_interval_ns +
           static_cast<int64_t>(call + 1) * rtcp_interval_ns / static_cast<int64_t>(calls_);
}

send_batch& sender::batch_for(side from, uint32_t socket, bool rtcp) {
    const size_t i = (static_cast<size_t>(from) * sockets_ + socket) * 2 + (rtcp ? 1 : 0);
    return batches_[i];
}

void sender::queue_rtp(uint32_t stream, uint64_t round) {
    const stream_plan& s = streams_.streams[stream];
    send_batch& batch = batch_for(s.from, s.socket_index, false);
    if (batch.full()) {
        flush(batch);
    }
    rtp_fields f;
    f.marker = round == 0;
    f.seq = static_cast<uint16_t>(s.first_seq + round);
    f.timestamp = static_cast<uint32_t>(s.first_ts + round * ticks_per_packet_);
    f.ssrc = s.ssrc;
    f.call_index = s.call_index;
    write_rtp(batch.slot_buffer(), config_.payload_bytes, f);
    batch.push(s.rtp_dst, stream, rtp_header_bytes + config_.payload_bytes, config_.payload_bytes);
}

void sender::queue_rtcp(uint32_t stream, int64_t now) {
    const stream_plan& s = streams_.streams[stream];
    send_batch& batch = batch_for(s.from, s.socket_index, true);
    if (batch.full()) {
        flush(batch);
    }
    // The RTP timestamp that corresponds to `now` on this stream's media clock.
    const int64_t elapsed_ticks = (now - config_.start_ns) / (1'000'000'000 / static_cast<int64_t>(clock_rate_hz));
    const stream_sent& so_far = sent_[stream];
    const size_t len = write_rtcp_sr(batch.slot_buffer(), rtcp_sr_max_bytes, s.ssrc, ntp_now(),
                                     static_cast<uint32_t>(s.first_ts + elapsed_ticks),
                                     static_cast<uint32_t>(so_far.packets), static_cast<uint32_t>(so_far.bytes));
    batch.push(s.rtcp_dst, stream, len, 0);
}

void sender::flush(send_batch& batch) {
    const send_batch::flush_result r = batch.flush(&sent_);
    send_errors_ += r.failed;
    (batch.is_rtcp() ? rtcp_sent_ : rtp_sent_) += r.sent;
}

void sender::flush_all() {
    for (send_batch& b : batches_) {
        if (!b.empty()) {
            flush(b);
        }
    }
    live_->rtp_sent.store(rtp_sent_, std::memory_order_relaxed);
    live_->rtcp_sent.store(rtcp_sent_, std::memory_order_relaxed);
}

void sender::run() {
    uint64_t rtp_slot = 0;
    uint64_t rtcp_slot = 0;
    const int64_t end = config_.end_ns;
    int64_t now = mono_ns();
    while (calls_ > 0 && !stop_requested()) {
        now = mono_ns();
        if (now >= end) {
            break;
        }
        // More than a period behind (descheduled, or more load than this host can send):
        // drop the missed packets rather than burst them out late, which would overflow
        // the receiving queues and charge the relay with our own lateness. They count as
        // skipped, never as sent, so loss figures stay the relay's.
        for (int64_t due = rtp_due(rtp_slot); now - due > period_ns_; due = rtp_due(++rtp_slot)) {
            max_lag_ns_ = std::max(max_lag_ns_, now - due);
            skipped_ += 2;
        }
        for (int64_t due = rtp_due(rtp_slot); due <= now; due = rtp_due(++rtp_slot)) {
            max_lag_ns_ = std::max(max_lag_ns_, now - due);
            if (now - due > config_.late_ns) {
                late_ += 2;
            }
            const auto call = static_cast<uint32_t>(rtp_slot % calls_);
            const uint64_t round = rtp_slot / calls_;
            queue_rtp(2 * call, round);
            queue_rtp(2 * call + 1, round);
        }
        if (config_.rtcp) {
            for (int64_t due = rtcp_due(rtcp_slot); due <= now; due = rtcp_due(++rtcp_slot)) {
                const auto call = static_cast<uint32_t>(rtcp_slot % calls_);
                queue_rtcp(2 * call, now);
                queue_rtcp(2 * call + 1, now);
            }
        }
        flush_all();
        int64_t next = std::min(rtp_due(rtp_slot), end);
        if (config_.rtcp) {
            next = std::min(next, rtcp_due(rtcp_slot));
        }
        sleep_until_ns(next);
    }
    flush_all();
    stopped_ns_ = std::min(now, end);
    live_->sender_done.store(true, std::memory_order_release);
}

}  // namespace rtprelay::loadgen
