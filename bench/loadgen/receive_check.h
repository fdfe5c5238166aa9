#pragma once
// What the DPDK generator (dpdk_receive.cc) checks in full in a packet it receives, and
// which packets it checks: a full check costs an SRTP unprotect (~300 ns with SRTP, more
// than the rest of a packet's handling together), so only a sample is checked, chosen so
// that what a sample could miss is still caught.
//
// Threads: pure functions; the srtp_receiver passed in belongs to the calling thread.

#include <cstdint>

#include "bench/loadgen/srtp_streams.h"
#include "bench/loadgen/udp_frame.h"

namespace rtprelay::loadgen {

// Checked in full: every packet of the streams below `checked_streams` (the calls libsrtp2
// also checks), each stream's first packet (the receiving SRTP context learns the rollover
// counter from it: a sample that began after the wrap would guess ROC 0), and every packet
// whose sequence number has the bits of `mask` clear (1 in mask + 1 of each stream's
// packets, so every stream is sampled, across the wrap too).
inline bool full_check_due(uint32_t stream, uint32_t checked_streams, uint16_t seq, uint32_t mask, bool first) {
    return stream < checked_streams || (seq & mask) == 0 || first;
}

// The full check of one received frame (`v` its parsed headers, `rtp` and `len` its UDP
// payload): the UDP checksum when there is one; with `srtp`, authentication and decryption
// in place (the frame is not used afterwards); then the payload's magic and identity, which
// must be `identity`, the store identity stream `stream` sends.
bool check_received(const uint8_t* frame, const udp_frame_view& v, uint8_t* rtp, uint32_t len, srtp_receiver* srtp,
                    uint32_t stream, uint32_t identity);

}  // namespace rtprelay::loadgen
