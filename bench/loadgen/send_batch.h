#pragma once
// Up to 64 datagrams for one socket, handed to the kernel with one sendmmsg(): one system
// call per batch instead of per packet. Buffers are allocated once; queuing a packet only
// fills a slot.

#include <sys/socket.h>

#include <cstdint>
#include <vector>

#include "bench/loadgen/net_address.h"

namespace rtprelay::loadgen {

class srtp_sender;

struct stream_sent {  // per stream, owned by the sender thread
    uint64_t packets = 0;
    uint64_t bytes = 0;  // RTP payload bytes
    uint64_t rtcp = 0;
};

class send_batch {
 public:
    static constexpr int capacity = 64;

    // With `srtp` (RTP batches only), every packet is protected right after its send time is
    // stamped; slots then have room for the tag.
    send_batch(int fd, size_t max_packet_bytes, bool rtcp, srtp_sender* srtp = nullptr);

    bool full() const { return count_ == capacity; }
    bool empty() const { return count_ == 0; }
    bool is_rtcp() const { return rtcp_; }
    // The buffer of the next slot (max_packet_bytes long); fill it, then push().
    uint8_t* slot_buffer() { return buffers_.data() + static_cast<size_t>(count_) * max_bytes_; }
    void push(const net_address& dst, uint32_t stream, size_t len, size_t payload_bytes);

    struct flush_result {
        uint32_t sent = 0;
        uint32_t failed = 0;
    };
    // Sends everything queued. RTP packets get the send time stamped right before the call
    // (and are then protected, with SRTP).
    // Successful sends are also counted into sent[stream].
    flush_result flush(std::vector<stream_sent>* sent);

 private:
    int fd_;
    size_t max_bytes_;  // slot size: the largest packet plus the SRTP tag room
    bool rtcp_;
    srtp_sender* srtp_;
    int count_ = 0;
    std::vector<uint8_t> buffers_;
    std::vector<mmsghdr> msgs_;
    std::vector<iovec> iovs_;
    std::vector<uint32_t> streams_;
    std::vector<uint32_t> payload_bytes_;
};

}  // namespace rtprelay::loadgen
