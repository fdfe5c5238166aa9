#pragma once
// Whose packets a stream accepts, when it learns (latches) its peer's address, and how much
// crypto work a flood of forged SRTP can make it spend. Pure functions of the flow entry,
// the stream's state and the packet's source: called by the stream's owner worker only,
// no lock, no allocation, a few compares per packet.
//
// Plain RTP legs (nothing to authenticate, so the address is all there is):
//  - packets from the latched source, or from the SDP's address, are accepted;
//  - a stranger is accepted (and latched) only inside the learning window that each
//    offer/answer opens (flow_entry::learn_from_tsc..learn_until_tsc), and only by the first
//    packet of that window: once the leg latched in this window, strangers are dropped
//    (unlatched_source) until the next offer/answer;
//  - strict source: strangers are dropped always (strict_source), the window notwithstanding;
//  - when the SDP gave no address and nothing has latched yet (c=0.0.0.0, no SDP yet),
//    the first source is taken, window or not: there is no other claim to protect.
//  Ports that several forked branches answered (flow_any_source) take every source, so
//  that each branch's early media reaches the caller: the media toward them goes to the
//  active branch's SDP address, never to this port's latch, so a stranger can inject
//  there but not draw media away. Strict source still applies.
//  A packet from the SDP address latches only while the latch is free (unset, or set
//  before the current window opened): a spoofed SDP address cannot pull media away from a
//  NAT binding that latched.
//
// SRTP legs: the source is never trusted, the tag is. Every source (but strangers under
// strict source) goes to authentication; an authenticated packet latches its source, also
// away from an earlier one (a phone changing networks) if it is its SSRC's newest so far (a
// late, reordered packet from the address the stream left does not pull it back). A packet that fails authentication
// or the replay check changes nothing: not the latch, the ROC, the replay window, the
// stream's counters of relayed packets or its last-packet time (the media timeout).
//
// Authentication budget (SRTP legs). A packet is "trusted" when it comes from the latched
// source (or, before latching, from the SDP address) and srtp::precheck says its SSRC and
// index are plausible for the established stream. Trusted packets are always authenticated.
// Every other packet that would need an HMAC spends a token of the stream's budget first:
// auth_budget_burst tokens, topped up at auth_budget_rate per second; no token = dropped
// (srtp_auth_capped) without an HMAC. An authenticated packet gives its token back, so
// authentic traffic never drains the budget; forged traffic from strangers costs at most
// burst + rate x seconds HMACs per stream. A storm therefore cannot make the stream drop an
// authentic packet of its established flow (trusted ones never ask the budget); what it can
// delay, while it lasts, is a move to a new address or a new SSRC (those are doubtful).

#include <cstdint>

#include "dataplane/counters.h"
#include "dataplane/flow_entry.h"

namespace rtprelay::dp {

inline constexpr uint32_t auth_budget_burst = 32;  // HMACs on doubtful packets in one go
inline constexpr uint32_t auth_budget_rate = 100;  // HMACs per second after that (2x 50 pps)

struct source_verdict {
    drop_reason why = drop_reason::count;  // count = accepted
    bool latch = false;                    // accepting it sets/moves the latch (SRTP: once authenticated)
    bool trusted = false;                  // the stream's known peer: exempt from the auth budget
};

inline source_verdict check_source(const flow_entry& e, const stream_state& s, uint64_t latched, uint64_t src,
                                   uint64_t now_tsc, bool srtp) {
    source_verdict v;
    const bool learn = (e.flags & flow_learn) != 0;
    const bool strict = (e.flags & flow_strict_source) != 0;
    if (latched != 0 && src == latched) {
        v.trusted = true;
        return v;
    }
    const bool nothing_known = latched == 0 && e.expected_src == 0;
    if (srtp) {
        if (strict && src != e.expected_src && !nothing_known) {
            v.why = drop_reason::strict_source;
            return v;
        }
        v.latch = learn;
        v.trusted = latched == 0 && src == e.expected_src;
        return v;
    }
    // The window is open, and this leg has not latched in it yet.
    const bool window = now_tsc < e.learn_until_tsc && s.latched_tsc < e.learn_from_tsc;
    const bool latch_free = latched == 0 || window;
    if (src == e.expected_src) {
        v.latch = learn && latch_free;
        return v;
    }
    if (nothing_known || (!strict && window)) {
        v.latch = learn;
        return v;
    }
    if (!strict && (e.flags & flow_any_source) != 0) {
        v.latch = learn && latched == 0;
        return v;
    }
    v.why = strict ? drop_reason::strict_source : drop_reason::unlatched_source;
    return v;
}

// Takes one token of the stream's authentication budget; false = none left. cycles_per_token
// = TSC Hz / auth_budget_rate.
inline bool take_auth_token(stream_state& s, uint64_t now_tsc, uint64_t cycles_per_token) {
    if (cycles_per_token == 0) {
        return true;  // no clock: no budget
    }
    if (s.auth_budget >= auth_budget_burst) {
        s.auth_budget_tsc = now_tsc;  // full: earning starts when the first token goes
    } else {
        const uint64_t earned = (now_tsc - s.auth_budget_tsc) / cycles_per_token;
        if (s.auth_budget + earned >= auth_budget_burst) {
            s.auth_budget = auth_budget_burst;  // (also the first use: a zeroed state is full)
            s.auth_budget_tsc = now_tsc;
        } else if (earned != 0) {
            s.auth_budget += static_cast<uint32_t>(earned);
            s.auth_budget_tsc += earned * cycles_per_token;
        }
    }
    if (s.auth_budget == 0) {
        return false;
    }
    --s.auth_budget;
    return true;
}

// An authenticated packet returns the token it took.
inline void return_auth_token(stream_state& s) {
    if (s.auth_budget < auth_budget_burst) {
        ++s.auth_budget;
    }
}

}  // namespace rtprelay::dp
