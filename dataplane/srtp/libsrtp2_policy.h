#pragma once
// The libsrtp2 crypto policies of a suite (suites.def's last two columns), for code that
// drives libsrtp2 itself: the libsrtp2 engine and the pipeline benchmark's output checker.

#include "dataplane/srtp/suite.h"

struct srtp_crypto_policy_t;  // libsrtp2's

namespace rtprelay::dp::srtp {

// Sets `rtp` and `rtcp` to suite `s`'s SRTP and SRTCP policies.
void set_libsrtp2_policies(suite s, srtp_crypto_policy_t* rtp, srtp_crypto_policy_t* rtcp);

}  // namespace rtprelay::dp::srtp
