#include "bench/loadgen/send_batch.h"

#include <cerrno>

#include "bench/loadgen/clock.h"
#include "bench/loadgen/rtp_wire.h"
#include "bench/loadgen/srtp_streams.h"

namespace rtprelay::loadgen {

send_batch::send_batch(int fd, size_t max_packet_bytes, bool rtcp, srtp_sender* srtp)
    : fd_(fd),
      max_bytes_(max_packet_bytes + (srtp != nullptr ? dp::srtp::max_overhead : 0)),
      rtcp_(rtcp),
      srtp_(rtcp ? nullptr : srtp),
      buffers_(capacity * max_bytes_),
      msgs_(capacity),
      iovs_(capacity),
      streams_(capacity),
      payload_bytes_(capacity) {}

void send_batch::push(const net_address& dst, uint32_t stream, size_t len, size_t payload_bytes) {
    const auto i = static_cast<size_t>(count_);
    iovs_[i] = iovec{slot_buffer(), len};
    msghdr& h = msgs_[i].msg_hdr;
    h = msghdr{};
    // sendmmsg() only reads the address; msghdr just has no const member for it.
    h.msg_name = const_cast<sockaddr*>(dst.sa());
    h.msg_namelen = dst.len;
    h.msg_iov = &iovs_[i];
    h.msg_iovlen = 1;
    streams_[i] = stream;
    payload_bytes_[i] = static_cast<uint32_t>(payload_bytes);
    ++count_;
}

send_batch::flush_result send_batch::flush(std::vector<stream_sent>* sent) {
    const auto n = static_cast<size_t>(count_);
    count_ = 0;
    if (!rtcp_) {
        const int64_t now = mono_ns();
        for (size_t i = 0; i < n; ++i) {
            stamp_send_time(static_cast<uint8_t*>(iovs_[i].iov_base), now);
        }
        if (srtp_ != nullptr) {
            for (size_t i = 0; i < n; ++i) {
                auto* buf = static_cast<uint8_t*>(iovs_[i].iov_base);
                auto len = static_cast<uint32_t>(iovs_[i].iov_len);
                // A refusal (counted by srtp_sender) leaves the packet plain: the relay
                // drops it and it shows as lost.
                if (srtp_->protect(streams_[i], buf, &len, static_cast<uint32_t>(max_bytes_ - len))) {
                    iovs_[i].iov_len = len;
                }
            }
        }
    }
    flush_result result;
    size_t done = 0;
    while (done < n) {
        const int r = ::sendmmsg(fd_, &msgs_[done], static_cast<unsigned>(n - done), 0);
        if (r < 0 && errno == EINTR) {
            continue;
        }
        // On an error the kernel reports the messages before it; the failing one is skipped
        // (counted) so one unroutable destination cannot stall the others.
        const size_t ok = r < 0 ? 0 : static_cast<size_t>(r);
        for (size_t i = done; i < done + ok; ++i) {
            stream_sent& s = (*sent)[streams_[i]];
            if (rtcp_) {
                ++s.rtcp;
            } else {
                ++s.packets;
                s.bytes += payload_bytes_[i];
            }
        }
        done += ok;
        result.sent += static_cast<uint32_t>(ok);
        if (r <= 0) {
            ++result.failed;
            ++done;
        }
    }
    return result;
}

}  // namespace rtprelay::loadgen
