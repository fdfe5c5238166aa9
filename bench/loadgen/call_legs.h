#pragma once
// Which legs of a call speak SRTP, from the options that choose it (--srtp, --rtp-srtp,
// --srtp-mix): the call table offers and answers by it, and the DPDK mode's packet store
// protects by it only the packets of the SRTP legs (a sender identity k is call k / 2's side
// k % 2, packet_store.h).
//
// Threads: pure functions.

#include <cstdint>

namespace rtprelay::loadgen {

// plain: no SRTP; srtp: both legs (--srtp); rtp_srtp: A plain, B SRTP on every call, each
// bridged by the relay (--rtp-srtp, the pipeline bench's rtp-srtp mode); mix: call i takes
// the (i % 4)-th of plain, RTP<->SRTP, SRTP<->RTP, SRTP<->SRTP (--srtp-mix).
enum class leg_mode : uint8_t { plain, srtp, rtp_srtp, mix };

// Whether call `call_index`'s A and B legs speak SRTP.
struct call_legs {
    bool srtp_a = false;
    bool srtp_b = false;
};

inline call_legs legs_of(uint32_t call_index, leg_mode mode) {
    switch (mode) {
        case leg_mode::plain:
            return call_legs{false, false};
        case leg_mode::srtp:
            return call_legs{true, true};
        case leg_mode::rtp_srtp:
            return call_legs{false, true};
        case leg_mode::mix:
            break;
    }
    const uint32_t k = call_index % 4;
    return call_legs{k == 2 || k == 3, k == 1 || k == 3};
}

// How many consecutive calls make the pattern repeat (legs_of(i) == legs_of(i + period)).
inline uint32_t legs_period(leg_mode mode) { return mode == leg_mode::mix ? 4 : 1; }

// "plain", "rtp-srtp", "srtp-rtp" or "srtp-srtp" (A's leg first).
inline const char* legs_name(bool srtp_a, bool srtp_b) {
    if (srtp_a) {
        return srtp_b ? "srtp-srtp" : "srtp-rtp";
    }
    return srtp_b ? "rtp-srtp" : "plain";
}

// The mode's name in reports: its calls' legs_name, or "mix".
inline const char* leg_mode_name(leg_mode mode) {
    if (mode == leg_mode::mix) {
        return "mix";
    }
    const call_legs l = legs_of(0, mode);
    return legs_name(l.srtp_a, l.srtp_b);
}

}  // namespace rtprelay::loadgen
