#pragma once
// For the load generator's unit tests: one SRTP call whose relay hands each side's packets
// on under the sender's own key (what a pass-through would do), so that a receiver can
// unprotect what a sender protected.

#include <cstdint>

#include "bench/loadgen/srtp_streams.h"
#include "control/sdes/crypto_attr.h"

namespace rtprelay::loadgen {

// A key of the suite the load generator offers (endpoint_sdp.cc).
inline dp::srtp::master_key offered_key() { return sdes::random_key(sdes::suite::aes_cm_128_hmac_sha1_80); }

// Stream 0 is A's (SSRC first_ssrc, key ka), stream 1 B's (first_ssrc + 1, key kb); both
// sent and received as SRTP.
inline stream_set one_srtp_call(uint32_t first_ssrc, const dp::srtp::master_key& ka, const dp::srtp::master_key& kb) {
    stream_set set{{}, stream_index(2)};
    for (uint32_t i = 0; i < 2; ++i) {
        stream_plan s;
        s.from = i == 0 ? side::a : side::b;
        s.ssrc = first_ssrc + i;
        s.send_srtp = true;
        s.recv_srtp = true;
        s.send_key = i == 0 ? ka : kb;
        s.recv_key = s.send_key;
        set.by_ssrc.insert(s.ssrc, i);
        set.streams.push_back(s);
    }
    return set;
}

}  // namespace rtprelay::loadgen
