#pragma once
// SRTP for the load generator's streams (--srtp). Every stream is protected by its sender
// with the key of the sender's own SDP and unprotected by its receiver with the key of the
// relay's SDP toward the receiver, both with rtprelay's native transform (dataplane/srtp):
// Debian's libsrtp2 costs ~4-5 us a packet and would make the generator the bottleneck.
//
// With --rtp-srtp or --srtp-mix only the SRTP legs are protected and unprotected; the others
// pass as they are (a null context).
//
// libsrtp2 is the independent check: for the first `check_calls` calls (both directions; with
// --rtp-srtp or --srtp-mix, the first 2 * check_calls SRTP streams each way) every packet
// sent is also unprotected by libsrtp2 with the sender's key and must give back the
// plaintext, and every packet received is unprotected by libsrtp2 too, which must agree with
// the native result byte for byte. A mismatch means one of the two transforms (or the keys
// the relay announced) is wrong; it is counted, never fatal.
//
// Threads: an srtp_sender belongs to the sender thread, an srtp_receiver to the receiver
// thread; both are built (contexts made, which may throw) on the main thread before.

#include <cstdint>
#include <memory>
#include <vector>

#include "bench/loadgen/call_table.h"
#include "dataplane/srtp/srtp.h"

namespace rtprelay::loadgen {

struct srtp_check_counts {
    uint64_t checked = 0;     // packets libsrtp2 also processed
    uint64_t mismatched = 0;  // ... and disagreed with the native transform
    uint64_t refused = 0;     // received: ... and libsrtp2 refused (authentication, replay)
};

class srtp_sender {
 public:
    // Throws std::runtime_error when a context cannot be made. Streams without send_srtp
    // stay plain.
    srtp_sender(const stream_set& streams, uint32_t check_calls);

    // Protects stream `stream`'s RTP packet in place (*len grows by the tag; `room` bytes
    // are writable after it). False when the native transform refused it (counted).
    bool protect(uint32_t stream, uint8_t* pkt, uint32_t* len, uint32_t room);

    uint64_t errors() const { return errors_; }
    const srtp_check_counts& checks() const { return checks_; }

 private:
    std::vector<std::unique_ptr<dp::srtp::context>> ctx_;    // per stream: native, protect
    std::vector<std::unique_ptr<dp::srtp::context>> check_;  // per stream: libsrtp2 with the
                                                             // send key, or null
    std::vector<uint8_t> plain_;
    std::vector<uint8_t> copy_;
    uint64_t errors_ = 0;
    srtp_check_counts checks_;
};

class srtp_receiver {
 public:
    // Throws std::runtime_error when a context cannot be made. Streams without recv_srtp
    // stay plain (unprotect() leaves them and says ok).
    srtp_receiver(const stream_set& streams, uint32_t check_calls);

    // Unprotects stream `stream`'s packet in place (*len shrinks by the tag).
    dp::srtp::result unprotect(uint32_t stream, uint8_t* pkt, uint32_t* len);

    uint64_t failures() const { return failures_; }  // auth failed, replay, bad header
    const srtp_check_counts& checks() const { return checks_; }

 private:
    std::vector<std::unique_ptr<dp::srtp::context>> ctx_;    // per stream: native, unprotect
    std::vector<std::unique_ptr<dp::srtp::context>> check_;  // per stream: libsrtp2, or null
    std::vector<uint8_t> copy_;
    uint64_t failures_ = 0;
    srtp_check_counts checks_;
};

}  // namespace rtprelay::loadgen
