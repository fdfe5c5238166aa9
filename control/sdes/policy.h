#pragma once
// A logical interface's SRTP policy, from words on its config line:
//
//   interface = jp1 address=... dpdk-port=0 srtp=required offer-suites=AES_CM_128_HMAC_SHA1_80
//
//   srtp=off|optional|required   off: the leg is plain RTP; an RTP/SAVP offer is refused.
//                                optional (default): SRTP when the peer or the request asks.
//                                required: secure trunking, unencrypted calls are refused.
//   offer-suites=S1,S2           suites we offer, in this order. Default: exactly
//                                AES_CM_128_HMAC_SHA1_80 (the trunk's origination rule).
//   accept-suites=S1,S2          suites we accept in an offer we receive; the offerer's order
//                                decides among them. Default: every suite rtprelay has
//                                (dataplane/srtp/suites.def), so a peer that prefers AES-256
//                                or AES-GCM gets it, as with rtpengine.
//   unencrypted-srtcp=allow|refuse   accept/offer UNENCRYPTED_SRTCP. Default: refuse.
//   mki=accept|refuse            accept a=crypto lines with an MKI (1..4 bytes) from peers
//                                that send them; their packets must carry it, and our answer
//                                to such a line carries an MKI of the same length (value 1),
//                                which our packets then carry. Our offers never have one.
//                                Default: refuse (the trunk does not support MKI).

#include <cstdint>
#include <iterator>
#include <string_view>
#include <vector>

#include "control/sdes/suite.h"

namespace rtprelay::sdes {

enum class srtp_mode : uint8_t { off, optional, required };

struct srtp_policy {
    srtp_mode mode = srtp_mode::optional;
    std::vector<suite> offer_suites{suite::aes_cm_128_hmac_sha1_80};
    std::vector<suite> accept_suites{std::begin(all_suites), std::end(all_suites)};
    bool allow_unencrypted_srtcp = false;
    bool accept_mki = false;

    bool accepts(suite s) const;
};

// Applies one key=value word of an interface line. Returns false for keys it does not own
// (the caller handles or rejects them). Throws std::invalid_argument naming the key and the
// value ("offer-suites 'AES_192_CM_HMAC_SHA1_80': unknown suite 'AES_192_CM_HMAC_SHA1_80'
// (known: AES_CM_128_HMAC_SHA1_80, ...)"); the caller prefixes the interface name.
bool apply_policy_option(srtp_policy& p, std::string_view key, std::string_view value);

}  // namespace rtprelay::sdes
