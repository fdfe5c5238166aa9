#pragma once
// Which SRTP indices a group's call record carries, and when a record must be written for
// them (control/ha). RFC 3711 9.1: a (key, SSRC, index) must never be used twice, and a
// receiver must never go back to a ROC it left; a node that takes a call over makes its SRTP
// contexts again from the same keys, so it must start from indices the record gives it.
//
// Per SRTP stream, for each of its four contexts (RTP in, RTCP in, RTP out, RTCP out) and
// each SSRC, the record holds one index the taker seeds the context with
// (srtp::context::seed):
//  - received (in) and sent RTP (out): the highest index seen when the record was written.
//    The taker's ROC estimate is right as long as that is within 2^15 of the real index, so
//    a record is written whenever the stream has moved 2^14 since (~5.5 minutes at 50
//    packets/s), and before a sent RTP stream's sequence number wraps: once it is in the
//    last quarter of its range (>= 0xC000), the record must already hold an index from which
//    the taker reaches ROC + 1. That is the ROC reservation: the move to ROC + 1 is written
//    ~5.5 minutes before the first packet under it.
//  - sent RTCP: SRTCP indices are the relay's own (a counter per SSRC), so the record holds
//    a reservation, the highest index the node may use: 64 above the last one used, renewed
//    when fewer than 16 are left (SRTCP is ~1 packet per 5 s: a write every ~4 minutes).
//    The taker starts above it.
// The workers never wait for any of this: a worker that passes what Redis has acknowledged
// (a write late because Redis is slow or down) still sends the packet, and the scan counts
// the indices so used as `exposed` (rtprelay_srtp_unreserved_indices_total). A context made
// anew (a re-key) starts over.
//
// Control thread only; reads the indices the owner workers publish (context::indices).

#include <cstdint>

#include "control/session/session.h"

namespace rtprelay::ha {

inline constexpr uint64_t rtp_progress_step = uint64_t{1} << 14;  // indices between records
inline constexpr uint16_t rtp_reserve_from_seq = 0xC000;          // last quarter: ROC + 1 must be reachable
inline constexpr uint64_t srtcp_block = 64;                       // SRTCP indices reserved at a time
inline constexpr uint64_t srtcp_margin = 16;                      // renewed when fewer are left
inline constexpr uint64_t srtcp_in_step = 64;

struct scan_result {
    bool write = false;    // the record must be written (with what `written` holds now)
    uint64_t exposed = 0;  // indices sent past what Redis has acknowledged, since the last scan
};

// Looks at one stream's contexts; updates s.contexts->progress (creating it) and says
// whether to write. `written` then holds the values the next record must carry.
scan_result scan_srtp(stream& s);

// Redis acknowledged the record written with `token`: what it held is now safe.
void srtp_acked(stream& s, uint64_t token);

}  // namespace rtprelay::ha
