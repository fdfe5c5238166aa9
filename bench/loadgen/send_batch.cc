#include "bench/loadgen/send_batch.h"

#include <cerrno>

#include "bench/loadgen/clock.h"
#include "bench/loadgen/rtp_wire.h"

namespace rtprelay::loadgen {

send_batch::send_batch(int fd, size_t max_packet_bytes, bool rtcp)
    : fd_(fd),
      max_bytes_(max_packet_bytes),
      rtcp_(rtcp),
      buffers_(capacity * max_packet_bytes),
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
