#pragma once
// The SDES options of one NG offer/answer, as Kamailio's and OpenSIPS's rtpengine modules
// send them (rtpengine's meanings): either in the "SDES" list without prefix, or in
// "flags" with the prefix "SDES-" (rtpengine_offer("SDES-no-AES_CM_128_HMAC_SHA1_32")).
//
//   off | no | disable         offer no SDES: the outgoing leg is plain RTP
//   no-<SUITE>                 leave SUITE out of the offer we make
//   only-<SUITE>               offer only these suites (wins over no-)
//   order:<S1>;<S2>;...        put these suites first in the offer we make
//   pad                        keep base64 '=' padding (also the flag "pad-crypto")
//   lifetime                   write |2^31 after our keys
//   unencrypted_srtcp          offer UNENCRYPTED_SRTCP (refused unless the policy allows)
//   encrypted_srtcp            cancels unencrypted_srtcp
//   unencrypted_srtp, unauthenticated_srtp   refused: rtprelay always encrypts and
//                              authenticates RTP
//   encrypted_srtp, authenticated_srtp       accepted, nothing to do (our default)
// Session-parameter options are accepted in all lower or all upper case, as rtpengine.
// The request can narrow the interface policy (suites), never widen it.
// rtpengine options without meaning here (nonew, static, prefer, offerer_pref:) and unknown
// ones are collected in `unsupported` for the NG reply's warning.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "control/sdes/suite.h"

namespace rtprelay::sdes {

struct sdes_request_options {
    bool off = false;
    std::vector<suite> no;
    // Set when any only-<SUITE> was given, even if none of its suites exists here: then
    // nothing is left to offer, which the caller reports.
    std::optional<std::vector<suite>> only;
    std::vector<suite> order;
    bool pad = false;
    bool lifetime = false;
    bool unencrypted_srtcp = false;
    std::vector<std::string> unsupported;  // as written, with the SDES- prefix for flags

    // no-/only- applied to one suite.
    bool allows(suite s) const;
};

// Parses the NG "SDES" list and the SDES entries of "flags". Returns std::nullopt with
// *error for options rtprelay refuses ("SDES-unencrypted_srtp is not supported: rtprelay
// always encrypts and authenticates RTP").
std::optional<sdes_request_options> parse_sdes_options(const std::vector<std::string>& sdes_list,
                                                       const std::vector<std::string>& flags, std::string* error);

// True for flags parse_sdes_options() takes from "flags" ("SDES-...", "pad-crypto"), so the
// NG layer does not also report them as unknown.
bool is_sdes_flag(std::string_view flag);

}  // namespace rtprelay::sdes
