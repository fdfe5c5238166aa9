#pragma once
// SDES offer/answer for one RTP stream (one m= line), as pure functions. The session
// manager keeps the state (stream_crypto, one per stream and leg) and calls four steps:
//
//   offer:  X --SDP--> relay --SDP--> Y      answer:  X <--SDP-- relay <--SDP-- Y
//     1. offer_received  on X's stream          3. answer_received on Y's stream
//     2. offer_to_send   on Y's stream          4. answer_to_send  on X's stream
//
// The relay terminates SRTP on each leg: every leg gets keys of its own and no a=crypto
// line of one side ever reaches the other (it carries that side's key), so steps 2 and 4
// always replace the a=crypto lines of a stream, with ours or with none; a stream that is
// not RTP (udptl, ...) gets none, even when the other side put a=crypto lines in it.
// Re-offers, forked answers and repeated answers (183 then 200) keep our keys as long as
// the suite does not change, so every branch and every copy of an SDP names the same key.
//
// Below the steps are the single decisions they are made of, usable on their own.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "control/sdes/crypto_attr.h"
#include "control/sdes/options.h"
#include "control/sdes/policy.h"

namespace rtprelay::sdes {

// Per stream and leg. The data plane keys for this leg come from here:
//   packets peer -> relay: authenticate/decrypt with from_peer (suite, key)
//   packets relay -> peer: encrypt/tag with to_peer (suite, key)
// and SRTCP is left unencrypted (still authenticated) when that line's unencrypted_srtcp
// is set. On the offerer's leg both are known after step 1; on the answerer's leg only
// after step 3 (SDES names the answerer's suite and key in the answer), so between offer
// and answer that leg has srtp set and no keys yet: its packets cannot be relayed.
struct stream_crypto {
    bool srtp = false;                     // this leg speaks SRTP (else plain RTP)
    std::optional<crypto_attr> from_peer;  // the peer's line: the key the peer sends with
    std::optional<crypto_attr> to_peer;    // our line: the key we send to the peer with
    std::vector<crypto_attr> offered;      // lines we offered this peer, for its answer
};

// What one step puts into the stream's sdp::media_plan.
struct media_crypto_plan {
    std::optional<std::string> proto;  // -> media_plan.proto
    bool replace_crypto = false;       // -> media_plan.replace_crypto
    std::vector<std::string> crypto;   // -> media_plan.crypto
};

struct step_result {
    stream_crypto state;     // the leg's new state (store it on the stream)
    media_crypto_plan plan;  // steps 2 and 4; empty otherwise
    std::string error;       // non-empty: refuse the request, this is the NG error-reason
};

// Step 1: X's offer arrives on interface `iface` (X's leg). `proto` and `crypto_values` are
// X's m= proto and a=crypto values. Picks X's first acceptable line (the offerer's
// preference) and our answer key for it, kept from `now` when the suite is unchanged.
// Non-RTP streams (udptl, ...) come back plain and without error.
step_result offer_received(std::string_view iface, const srtp_policy& policy, const sdes_request_options& opts,
                           std::string_view proto, const std::vector<std::string>& crypto_values,
                           const stream_crypto& now);

// Step 2: the offer we send to Y on interface `iface` (Y's leg). `in_proto` is X's m=
// proto, `x_srtp` what step 1 decided (the session manager passes Y's current state
// instead on a re-offer whose m= proto X kept), `transport_protocol` the NG key (empty
// if absent). SRTP or not: required -> SRTP, off -> plain, optional -> transport-protocol
// if given, else `x_srtp`. The new state keeps `now`'s from_peer/to_peer (an earlier
// answer's keys stay valid until the next answer) and replaces `offered`, reusing the keys
// of `now.to_peer` and `now.offered` suite by suite.
step_result offer_to_send(std::string_view iface, const srtp_policy& policy, const sdes_request_options& opts,
                          std::string_view in_proto, bool x_srtp, std::string_view transport_protocol,
                          const stream_crypto& now);

// Step 3: Y's answer arrives on interface `iface` (Y's leg). `now` is Y's state after step 2.
// Matches Y's line to one we offered, by suite (an answerer may renumber the tag).
step_result answer_received(std::string_view iface, const srtp_policy& policy, std::string_view answer_proto,
                            const std::vector<std::string>& crypto_values, const stream_crypto& now);

// Step 4: the answer we send back to X. `x` is X's state from step 1, `x_offer_proto` the
// proto X offered (the answer repeats it: RFC 3264), `opts` the answer request's options
// (pad, lifetime). Never fails.
media_crypto_plan answer_to_send(const stream_crypto& x, std::string_view x_offer_proto,
                                 const sdes_request_options& opts);

// --- The decisions the steps are made of ---

struct chosen_crypto {
    crypto_attr line;  // tag, suite, and the key the offerer sends with
    size_t index = 0;  // position among the offer's a=crypto lines
};

// The offerer's first line that parses, that `accepting_side` accepts and that the
// request's SDES-no-/only- allow; if those flags rule out every acceptable line, the first
// acceptable one (as rtpengine: the flags shape our offers, they do not fail a call).
// Null when none is acceptable; *error then lists why, line by line
// ("a=crypto tag 1: MKI is not supported; a=crypto tag 2: ...") or says "no a=crypto line".
std::optional<chosen_crypto> choose_inbound(const std::vector<std::string>& crypto_values,
                                            const srtp_policy& accepting_side, const sdes_request_options& opts,
                                            std::string* error);

// Our offer: policy offer_suites (only narrowed by SDES-only-/no-, reordered by
// SDES-order:), tags 1..n, fresh keys (no MKI) except where `previous` has a line of the
// same suite (and UNENCRYPTED_SRTCP setting), whose key is kept, with its MKI if it had one.
// UNENCRYPTED_SRTCP only when both the request and the policy allow it. Empty when nothing
// is left to offer.
// Throws std::runtime_error if the random generator fails.
std::vector<crypto_attr> make_offer_lines(const srtp_policy& offering_side, const sdes_request_options& opts,
                                          const std::vector<crypto_attr>& previous = {});

struct answer_choice {
    crypto_attr peer;          // the answerer's line: the key it sends to us with
    size_t offered_index = 0;  // we_offered[offered_index] is the key we send to it with
};

// Matches the answer's line to our offer by suite, not by tag only (rtpengine issue #2098:
// answerers that renumber tags). UNENCRYPTED_SRTCP must be as we offered it; an MKI on the
// answerer's key is taken when `allow_mki` (the interface's mki=accept). Null with *error
// when no line matches.
std::optional<answer_choice> choose_answer(const std::vector<std::string>& answer_crypto_values,
                                           const std::vector<crypto_attr>& we_offered, bool allow_mki,
                                           std::string* error);

// Our answer line: the offer's tag and suite, a fresh key (with an MKI of value 1 and the
// offered line's MKI length when that line has one), or `keep`'s key when `keep` has the
// same suite, UNENCRYPTED_SRTCP setting and MKI length. Throws std::runtime_error if the
// random generator fails.
crypto_attr make_answer_line(const chosen_crypto& offered_choice, const srtp_policy& answering_side,
                             const crypto_attr* keep = nullptr);

// m= protocols. RTP/AVP(F) is plain, RTP/SAVP(F) is SDES-SRTP, */TLS/RTP/* is DTLS-SRTP.
bool is_plain_rtp_proto(std::string_view proto);
bool is_srtp_proto(std::string_view proto);
bool is_dtls_proto(std::string_view proto);
// RTP/AVP <-> RTP/SAVP and RTP/AVPF <-> RTP/SAVPF.
std::string_view bridged_proto(std::string_view proto, bool srtp);

}  // namespace rtprelay::sdes
