#include "bench/loadgen/receiver.h"

#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>

#include "bench/loadgen/clock.h"
#include "bench/loadgen/mark_signal.h"
#include "bench/loadgen/rtp_wire.h"
#include "bench/loadgen/srtp_streams.h"
#include "bench/loadgen/stop_signal.h"

namespace rtprelay::loadgen {

receiver::receiver(const stream_set& streams, const side_sockets& a, const side_sockets& b, live_counters* live,
                   srtp_receiver* srtp)
    : streams_(streams),
      live_(live),
      srtp_(srtp),
      stats_(streams.streams.size()),
      gaps_(streams.streams.size()),
      buffers_(static_cast<size_t>(batch) * buffer_bytes) {
    for (size_t i = 0; i < streams.streams.size(); ++i) {
        const stream_plan& s = streams.streams[i];
        stats_[i].start(s.first_seq, s.first_ts, clock_rate_hz);
    }
    for (side at : {side::a, side::b}) {
        const side_sockets& s = at == side::a ? a : b;
        for (const unique_fd& fd : s.rtp) {
            sources_.push_back(source{fd.get(), at, false});
        }
        for (const unique_fd& fd : s.rtcp) {
            sources_.push_back(source{fd.get(), at, true});
        }
    }
}

receiver::~receiver() {
    if (epoll_fd_ >= 0) {
        ::close(epoll_fd_);
    }
}

bool receiver::init(std::string* error) {
    epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
    if (epoll_fd_ < 0) {
        *error = std::string("epoll_create1: ") + std::strerror(errno);
        return false;
    }
    for (size_t i = 0; i < sources_.size(); ++i) {
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.u64 = i;
        if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, sources_[i].fd, &ev) != 0) {
            *error = std::string("epoll_ctl: ") + std::strerror(errno);
            return false;
        }
    }
    return true;
}

void receiver::on_rtp(side at, uint8_t* buf, size_t len, int64_t arrival_ns) {
    if (srtp_ != nullptr) {
        // The SSRC is in the clear (bytes 8..11): it names the stream, hence the key.
        if (len < rtp_header_bytes) {
            ++foreign_;
            return;
        }
        const uint32_t ssrc = static_cast<uint32_t>(buf[8]) << 24 | static_cast<uint32_t>(buf[9]) << 16 |
                              static_cast<uint32_t>(buf[10]) << 8 | buf[11];
        const uint32_t stream = streams_.by_ssrc.find(ssrc);
        if (stream == stream_index::none) {
            ++foreign_;
            return;
        }
        auto n = static_cast<uint32_t>(len);
        if (srtp_->unprotect(stream, buf, &n) != dp::srtp::result::ok) {
            ++srtp_failed_;
            return;
        }
        len = n;
    }
    rtp_view v;
    if (!parse_rtp(buf, len, &v)) {
        ++foreign_;
        return;
    }
    const uint32_t stream = streams_.by_ssrc.find(v.ssrc);
    if (stream == stream_index::none) {
        ++foreign_;
        return;
    }
    const stream_plan& plan = streams_.streams[stream];
    if (plan.from == at || plan.call_index != v.call_index) {
        ++misrouted_;
        return;
    }
    const stream_stats::verdict verdict = stats_[stream].on_rtp(v.seq, v.timestamp, arrival_ns);
    if (verdict == stream_stats::verdict::fresh || verdict == stream_stats::verdict::reordered) {
        gaps_[stream].on_arrival(arrival_ns);
        ++rtp_received_;
        latency_.record(arrival_ns - v.send_ns);
    }
}

void receiver::on_rtcp(side at, const uint8_t* buf, size_t len) {
    uint32_t ssrc = 0;
    if (!parse_rtcp_sr_ssrc(buf, len, &ssrc)) {
        ++foreign_;
        return;
    }
    const uint32_t stream = streams_.by_ssrc.find(ssrc);
    if (stream == stream_index::none) {
        ++foreign_;
        return;
    }
    if (streams_.streams[stream].from == at) {
        ++misrouted_;
        return;
    }
    stats_[stream].on_rtcp();
    ++rtcp_received_;
}

// Reads one socket until it is empty, at most 8 batches so a flooded socket cannot starve
// the others (epoll reports it again).
void receiver::drain(const source& src) {
    std::array<mmsghdr, batch> msgs{};
    std::array<iovec, batch> iovs{};
    for (int round = 0; round < 8; ++round) {
        for (size_t i = 0; i < batch; ++i) {
            iovs[i] = iovec{buffers_.data() + i * buffer_bytes, buffer_bytes};
            msgs[i].msg_hdr = msghdr{};
            msgs[i].msg_hdr.msg_iov = &iovs[i];
            msgs[i].msg_hdr.msg_iovlen = 1;
        }
        const int n = ::recvmmsg(src.fd, msgs.data(), batch, MSG_DONTWAIT, nullptr);
        if (n <= 0) {
            return;  // EAGAIN (empty) or an error the next epoll round will show again
        }
        // One clock read per batch: the packets of a batch arrived within microseconds.
        const int64_t arrival = mono_ns();
        if (!marked_ && mark_ns() != 0) {
            // Read after the stamp: a batch stamped after the mark always sees it (a thread
            // starved for a while still measures the failover's gap, not a later one).
            marked_ = true;
            const int64_t mark = mark_ns();
            for (arrival_gaps& g : gaps_) {
                g.set_mark(mark);
            }
        }
        for (int i = 0; i < n; ++i) {
            uint8_t* buf = buffers_.data() + static_cast<size_t>(i) * buffer_bytes;
            const size_t len = msgs[static_cast<size_t>(i)].msg_len;
            if (src.rtcp) {
                on_rtcp(src.at, buf, len);
            } else {
                on_rtp(src.at, buf, len, arrival);
            }
        }
        if (n < batch) {
            return;
        }
    }
}

bool receiver::all_arrived() const {
    return live_->sender_done.load(std::memory_order_acquire) &&
           rtp_received_ >= live_->rtp_sent.load(std::memory_order_relaxed) &&
           rtcp_received_ >= live_->rtcp_sent.load(std::memory_order_relaxed);
}

void receiver::run(int64_t deadline_ns, int64_t drain_ns) {
    std::array<epoll_event, 16> events{};
    bool stopping = false;
    for (;;) {
        const int64_t now = mono_ns();
        if (!stopping && stop_requested()) {
            stopping = true;
            deadline_ns = std::min(deadline_ns, now + drain_ns);
        }
        if (now >= deadline_ns || all_arrived()) {
            break;
        }

        // Wake at least every 50 ms to check the deadline and the early stop.
        const int64_t wait_ms = std::clamp<int64_t>((deadline_ns - now) / 1'000'000, 1, 50);
        const int n =
            ::epoll_wait(epoll_fd_, events.data(), static_cast<int>(events.size()), static_cast<int>(wait_ms));
        for (int i = 0; i < n; ++i) {
            drain(sources_[events[static_cast<size_t>(i)].data.u64]);
        }
        live_->rtp_received.store(rtp_received_, std::memory_order_relaxed);
        live_->rtcp_received.store(rtcp_received_, std::memory_order_relaxed);
    }
    live_->rtp_received.store(rtp_received_, std::memory_order_relaxed);
    live_->rtcp_received.store(rtcp_received_, std::memory_order_relaxed);
}

}  // namespace rtprelay::loadgen
