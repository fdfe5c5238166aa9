#pragma once
// Whose packets a stream accepts, when it learns (latches) its peer's address, and how much
// crypto work a flood of forged SRTP can make it spend. Functions of the flow entry, the
// stream's state, the packet and a clock: called by the stream's owner worker only (stage 4,
// route.h), no lock, no allocation, a few compares per packet. The latch itself is stored
// after stage 5 (worker.cc): on SRTP legs only for an authentic packet.
//
// Plain RTP legs (nothing to authenticate, so the address is all there is):
//  - packets from the latched source, or from the SDP's address, are accepted, and mark the
//    stream's current source as heard (stream_state::heard_tsc);
//  - each offer/answer opens a learning window (flow_entry::learn_from_tsc..learn_until_tsc)
//    that the first packet from the latched source or the SDP address closes: a peer that
//    keeps sending keeps its leg, whatever a re-INVITE does;
//  - a stranger latches only inside an open window (or while the leg knows no address at
//    all), only after probation and only while the current source is silent:
//      probation: probation_packets consecutive packets from one source with one SSRC and
//        sequence numbers each one above the last (UDPTL: its own sequence number). The
//        packets of a candidate are dropped (latch_probation) until the last one, which
//        latches and is relayed: a NAT'd phone loses its first 3 packets (60 ms of audio).
//        A packet from another stranger, a gap or a repeat starts the count again, so one
//        packet, or a spray of unrelated ones, never latches; a flood of them at one port
//        can delay a NAT'd peer's latch while it lasts.
//      silence: the latched source (before any latch: the SDP address) has not been heard
//        for quiet_seconds (1 s). A 20 ms stream that pauses for a scheduling hiccup or a
//        lost burst still counts as sending; a phone that moved has stopped, and its
//        re-INVITE takes longer than that anyway. This is what protects the start of a
//        window, before the peer's next packet closes it.
//  - an RTCP port latches a stranger only from the address its RTP port latched to (a NAT'd
//    phone sends RTCP from another port of the same address), silence and window as above;
//    RTCP has no sequence numbers to run probation on. On an rtcp-mux port RTCP from a
//    stranger never latches (its RTP does);
//  - the SDP address latches while the latch is free: unset, or its source not heard since
//    the window opened, or won by probation inside the window still running (a stranger
//    that raced a silent peer gives the leg back at the peer's first packet). A spoofed SDP
//    address can therefore pull a NAT binding's media to the SDP address (a cut, not a
//    theft) only inside a window;
//  - strict source: strangers are dropped always (strict_source), the window notwithstanding;
//  - when the SDP gave no address and nothing has latched yet (c=0.0.0.0, no SDP yet),
//    a stranger may latch after probation, window or not: there is no other claim to protect.
//  Ports that several forked branches answered (flow_any_source) take every source, so
//  that each branch's early media reaches the caller: the media toward them goes to the
//  active branch's SDP address, never to this port's latch, so a stranger can inject
//  there but not draw media away. Probation still decides the (first) latch; strict source
//  still applies.
//
// SRTP legs: the source is never trusted, the tag is. Every source (but strangers under
// strict source) goes to authentication; an authenticated packet latches its source, also
// away from an earlier one (a phone changing networks) if it is its SSRC's newest so far (a
// late, reordered packet from the address the stream left does not pull it back). A packet
// that fails authentication or the replay check changes nothing: not the latch, the ROC, the
// replay window, the stream's counters of relayed packets or its last-packet time (the
// media timeout).
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
//
// Every latch change is counted per worker by interface and kind (counters.h, latch_kind)
// and passed to the control plane as a latch_event, which logs it with the call and leg.

#include <cstdint>

#include "dataplane/counters.h"
#include "dataplane/flow_entry.h"

namespace rtprelay::dp {

inline constexpr uint32_t auth_budget_burst = 32;  // HMACs on doubtful packets in one go
inline constexpr uint32_t auth_budget_rate = 100;  // HMACs per second after that (2x 50 pps)
inline constexpr uint32_t probation_packets = 4;   // sequential packets before a new source latches
inline constexpr uint64_t quiet_ms = 1000;         // the current source is silent after this long

// The clock the policy runs on, in TSC cycles: injected, so tests can drive it.
struct latch_clock {
    uint64_t now_tsc = 0;
    uint64_t quiet_cycles = 0;       // quiet_ms in cycles
    uint64_t auth_token_cycles = 0;  // cycles per authentication token (TSC Hz / auth_budget_rate)
};
inline latch_clock make_latch_clock(uint64_t now_tsc, uint64_t tsc_hz) {
    return {now_tsc, tsc_hz * quiet_ms / 1000, tsc_hz / auth_budget_rate};
}

// What a worker tells the control plane when a latch changes: one element of the ring
// dataplane_shared::latch_events (72 bytes, copied in; a full ring drops the event and
// counts it, never the packet). The control plane names the call and leg from the local
// address and port and logs the move. An IPv6 stream's words hold only folds of its
// addresses (flow_entry.h), so its event carries them whole: local6, and old6/new6 for the
// words that are IPv6 (endpoint_is_v6).
struct latch_event {
    uint64_t old_src = 0;     // packed endpoint, 0 = none (a first latch)
    uint64_t new_src = 0;     // packed endpoint
    uint32_t local_addr = 0;  // the stream's local IPv4 address (0 on an IPv6 stream: local6) and
    uint16_t local_port = 0;  // port, network order
    uint8_t kind = 0;         // latch_kind
    uint8_t iface = 0;        // flow_entry::iface
    uint8_t local6[16] = {};  // IPv6 stream: its local address
    uint8_t old6[16] = {};    // old_src's address when it is IPv6
    uint8_t new6[16] = {};    // new_src's address when it is IPv6
};
static_assert(sizeof(latch_event) == 72);

struct source_verdict {
    drop_reason why = drop_reason::count;  // count = accepted
    bool latch = false;                    // accepting it sets/moves the latch (SRTP: once authenticated)
    bool trusted = false;                  // the stream's known peer: exempt from the auth budget
};

// The fields of a plain packet probation compares: SSRC and sequence number (RTP), or the
// sequence number alone (UDPTL, flow_opaque). valid = long enough and (RTP) version 2.
struct probe {
    uint32_t ssrc = 0;
    uint16_t seq = 0;
    bool valid = false;
};

inline probe probe_of(const uint8_t* payload, uint32_t len, bool opaque) {
    probe p;
    if (opaque) {
        if (len >= 2) {
            p.seq = static_cast<uint16_t>(payload[0] << 8 | payload[1]);
            p.valid = true;
        }
        return p;
    }
    if (len >= 12 && (payload[0] >> 6) == 2) {
        p.seq = static_cast<uint16_t>(payload[2] << 8 | payload[3]);
        p.ssrc = static_cast<uint32_t>(payload[8]) << 24 | static_cast<uint32_t>(payload[9]) << 16 |
                 static_cast<uint32_t>(payload[10]) << 8 | payload[11];
        p.valid = true;
    }
    return p;
}

// A candidate's identity for probation: source endpoint and SSRC mixed into 32 bits, never 0.
// A collision only lets two strangers share one count, which either could earn alone.
inline uint32_t probation_key(uint64_t src, uint32_t ssrc) {
    uint64_t x = (src ^ (static_cast<uint64_t>(ssrc) << 32 | ssrc)) * 0x9e3779b97f4a7c15ull;
    x ^= x >> 29;
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 32;
    return static_cast<uint32_t>(x) | 1u;
}

// One packet of a candidate: true once it has probation_packets in a row. Owner only.
inline bool probation_step(stream_state& s, uint64_t src, const probe& p) {
    const uint32_t key = probation_key(src, p.ssrc);
    if (s.probation_key == key && s.probation_count != 0 && p.seq == static_cast<uint16_t>(s.probation_seq + 1)) {
        if (s.probation_count < probation_packets) {
            ++s.probation_count;
        }
    } else {
        s.probation_key = key;
        s.probation_count = 1;
    }
    s.probation_seq = p.seq;
    return s.probation_count >= probation_packets;
}

// check_plain_source for every packet but the latched source's (the rare ones): kept out of
// line so that the common case stays a compare and a store in the burst loop.
[[gnu::noinline]] inline source_verdict check_plain_other(const flow_entry& e, stream_state& s, uint64_t latched,
                                                          uint64_t src, const uint8_t* payload, uint32_t len,
                                                          uint8_t kind, const latch_clock& clock) {
    source_verdict v;
    const uint64_t now = clock.now_tsc;
    const bool learn = (e.flags & flow_learn) != 0;
    const bool strict = (e.flags & flow_strict_source) != 0;
    // Open: the window's time runs, and neither the latched source nor the SDP address has
    // been heard since it opened.
    const bool window_time = now < e.learn_until_tsc;
    const bool window = window_time && s.heard_tsc < e.learn_from_tsc;
    if (src == e.expected_src) {
        v.latch = learn && (latched == 0 || window || (s.latched_by_probation && window_time));
        if (v.latch) {
            s.latched_by_probation = 0;
            s.probation_count = 0;
        }
        s.heard_tsc = now;
        return v;
    }
    // A stranger.
    const bool nothing_known = latched == 0 && e.expected_src == 0;
    if (strict && !nothing_known) {
        v.why = drop_reason::strict_source;
        return v;
    }
    const bool any = (e.flags & flow_any_source) != 0;
    const drop_reason refuse = any ? drop_reason::count : drop_reason::unlatched_source;
    if (!(nothing_known || window || (any && latched == 0)) || !learn) {
        v.why = (nothing_known || window) && !learn ? drop_reason::count : refuse;
        return v;
    }
    const bool silent = s.heard_tsc == 0 || now - s.heard_tsc >= clock.quiet_cycles;
    if (e.kind == flow_kind::rtcp) {
        // RTCP port: vouched for by the RTP port's latch (same address, any port).
        const uint64_t rtp = e.rtp_of_leg != nullptr ? e.rtp_of_leg->latched.load(std::memory_order_relaxed) : 0;
        v.latch = silent && rtp != 0 && endpoint_addr(rtp) == endpoint_addr(src);
        v.why = v.latch ? drop_reason::count : refuse;
    } else if (kind == kind_rtcp) {
        v.why = refuse;  // RTCP from a stranger on an rtcp-mux port: its RTP decides
        return v;
    } else {
        const probe p = probe_of(payload, len, (e.flags & flow_opaque) != 0);
        if (!p.valid) {
            v.why = refuse;
            return v;
        }
        v.latch = probation_step(s, src, p) && silent;
        v.why = v.latch || any ? drop_reason::count : drop_reason::latch_probation;
        if (v.latch) {
            s.probation_count = 0;
            s.latched_by_probation = 1;
        }
    }
    if (v.latch) {
        s.heard_tsc = now;  // the new current source: closes the window behind it
    }
    return v;
}

// Plain RTP/UDPTL legs (see the header comment). Updates the stream's heard time and
// probation state; the latch itself is the caller's to store when the verdict says so.
// `kind`: packet_kind of the packet on this flow. The latched source's packets (nearly all
// of them) cost a compare and a store; an out-of-line call here cost plain RTP ~4% (pipeline
// benchmark).
[[gnu::always_inline]] inline source_verdict check_plain_source(const flow_entry& e, stream_state& s, uint64_t latched,
                                                                uint64_t src, const uint8_t* payload, uint32_t len,
                                                                uint8_t kind, const latch_clock& clock) {
    if (latched != 0 && src == latched) [[likely]] {
        s.heard_tsc = clock.now_tsc;
        source_verdict v;
        v.trusted = true;
        return v;
    }
    return check_plain_other(e, s, latched, src, payload, len, kind, clock);
}

// SRTP legs: who may try to authenticate, and whether an authentic packet latches. Reads
// only.
inline source_verdict check_srtp_source(const flow_entry& e, uint64_t latched, uint64_t src) {
    source_verdict v;
    if (latched != 0 && src == latched) {
        v.trusted = true;
        return v;
    }
    const bool nothing_known = latched == 0 && e.expected_src == 0;
    if ((e.flags & flow_strict_source) != 0 && src != e.expected_src && !nothing_known) {
        v.why = drop_reason::strict_source;
        return v;
    }
    v.latch = (e.flags & flow_learn) != 0;
    v.trusted = latched == 0 && src == e.expected_src;
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
            s.auth_budget = static_cast<uint8_t>(s.auth_budget + earned);
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
