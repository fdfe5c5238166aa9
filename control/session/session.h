#pragma once
// A call as the control plane keeps it: legs (one per SIP tag) with one stream per m= line.
// Plain C++ on the control plane only; the data plane sees flow entries built from this
// (publish/) and writes into each stream's stream_state.

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "control/address.h"
#include "control/interfaces.h"
#include "control/sdes/negotiate.h"
#include "dataplane/flow_entry.h"
#include "dataplane/srtp/srtp.h"

namespace rtprelay {

using steady = std::chrono::steady_clock;

// The data plane contexts made from one stream's SDES keys, [0] RTP, [1] RTCP: in[]
// decrypts what the peer sends, out[] encrypts what we send the peer. Each remembers the
// line it was made from, so that they are rebuilt only when a key changes (ROC and replay
// state survive a re-INVITE that keeps the keys). Only SRTP streams have one.
struct srtp_contexts {
    // What a context was made from: suite, UNENCRYPTED_SRTCP and key (33 bytes, not the
    // whole 64-byte crypto_attr).
    struct made_from {
        sdes::suite crypto_suite = sdes::suite::aes_cm_128_hmac_sha1_80;
        bool unencrypted_srtcp = false;
        sdes::master_key key{};
    };
    std::unique_ptr<dp::srtp::context> in[2];
    std::unique_ptr<dp::srtp::context> out[2];
    std::optional<made_from> in_key;
    std::optional<made_from> out_key;
};

// The SDES state of a plain RTP stream: nothing.
inline const sdes::stream_crypto no_crypto{};

// One m= line on one leg: the relay's local port pair facing that leg's peer, and what the
// peer's SDP said. Kept small (~200 bytes, two per m= line and call): what only SRTP
// streams need lives in separately allocated parts that plain streams do not have.
struct stream {
    bool allocated = false;
    bool rtcp_mux = false;  // RFC 5761 multiplexing in effect with this leg's peer
    // rtcp-mux as negotiated toward this leg when an offer was sent to it (see
    // session_manager's rtcp-mux steps): our offer had a=rtcp-mux; the answer must not
    // change the offerer's choice; this leg multiplexes whatever it answers (rtcp-mux require).
    bool mux_offered = false;
    bool mux_keep = false;
    bool mux_required = false;
    bool disabled = false;  // this leg's SDP has port 0 for it, or `refused`
    // Refused by the relay in this leg's offer (e.g. no usable a=crypto line): answered with
    // port 0 whatever the other side answers; set again by each offer.
    bool refused = false;
    bool hold = false;   // this leg's SDP: sendonly/recvonly/inactive or c=0.0.0.0
    bool is_rtp = true;  // proto RTP/*: RTCP on port+1 is relayed too
    bool published = false;
    // These ports were answered by more than one forked branch: all branches got the same
    // offer, so all of them send here, and the source latched here is whichever spoke
    // first. The other leg then sends to the active branch's SDP address instead, until
    // the call ends (a latch cannot be reset from the control plane).
    bool forked = false;
    logical_interface::allocation alloc{};
    ip_address local_addr;
    std::optional<endpoint> peer_rtp;  // null: unknown or 0.0.0.0 (hold)
    std::optional<endpoint> peer_rtcp;
    std::optional<ip_address::family> peer_family;  // of its SDP's c= (hold: only before ports); null: none
    std::string media_type;
    std::string proto;
    // The SDES state of this leg (keys from and to its peer): null on plain RTP.
    std::unique_ptr<sdes::stream_crypto> crypto_state;
    // The contexts made from it: null until the first SRTP key is published.
    std::unique_ptr<srtp_contexts> contexts;
    std::unique_ptr<dp::stream_state> rtp_state;
    std::unique_ptr<dp::stream_state> rtcp_state;
    // The latched IPv6 address of each port: only when local_addr is IPv6.
    std::unique_ptr<dp::stream_addr6> rtp_addr6;
    std::unique_ptr<dp::stream_addr6> rtcp_addr6;

    const sdes::stream_crypto& crypto() const { return crypto_state ? *crypto_state : no_crypto; }
    // Stores `c`; a state that says nothing (plain RTP, nothing offered) takes no memory.
    void set_crypto(sdes::stream_crypto c) {
        if (!c.srtp && !c.from_peer && !c.to_peer && c.offered.empty()) {
            crypto_state.reset();
        } else if (crypto_state) {
            *crypto_state = std::move(c);
        } else {
            crypto_state = std::make_unique<sdes::stream_crypto>(std::move(c));
        }
    }
    dp::srtp::context* in_ctx(size_t k) const { return contexts ? contexts->in[k].get() : nullptr; }
    dp::srtp::context* out_ctx(size_t k) const { return contexts ? contexts->out[k].get() : nullptr; }

    uint16_t rtp_port() const { return alloc.rtp_port; }
    uint16_t rtcp_port() const { return static_cast<uint16_t>(alloc.rtp_port + 1); }
};

// A forked call (one offer, answers with several to-tags) has one leg per branch on the
// answerer's side. They share the local ports the offer allocated, because every branch
// got the same SDP: the ports (allocation, stream states, SRTP contexts) belong to the
// active branch, the one that answered last; the others are `parked` and keep only what
// their own SDP said, until they answer again or are deleted.
struct leg {
    std::string tag;  // empty until the answer names it
    logical_interface* iface = nullptr;
    bool strict_source = false;  // NG flag strict-source seen for this call (or iface says so)
    std::vector<stream> streams;
    steady::time_point created;
    bool parked = false;           // a forked branch whose ports went to a later answer
    const leg* offerer = nullptr;  // for forked branches: the leg whose offer they answered
    // Call recording (control/recording/controller.h) sets these; publishing copies them into
    // the leg's flow entries. record_id 0 = its packets are not recorded.
    uint16_t record_id = 0;      // dp::flow_entry::record_id
    uint8_t record_channel = 0;  // 0 = the leg of the call's first offer, 1 = the other
};

struct call {
    std::string call_id;
    std::vector<std::unique_ptr<leg>> legs;
    steady::time_point created;
    steady::time_point last_signal;
    steady::time_point answered_at;
    int64_t created_unix = 0;
    bool answered = false;
    std::optional<steady::time_point> delete_at;  // delete with delete-delay pending
    // The interfaces holding this call's reservation (the legs' at the first offer), and
    // what each leg reserved there (bit/s per direction: call-bandwidth, or its wire cost).
    bool admitted = false;
    uint16_t admitted_ifs[2] = {};
    uint64_t admitted_bps[2] = {};

    leg* find_leg(std::string_view tag) {
        for (auto& l : legs) {
            if (!l->tag.empty() && l->tag == tag) {
                return l.get();
            }
        }
        return nullptr;
    }
    // The leg `x` exchanges media with: the first other leg that is not a parked branch.
    leg* partner_of(const leg* x) const {
        for (const auto& l : legs) {
            if (l.get() != x && !l->parked) {
                return l.get();
            }
        }
        return nullptr;
    }
};

}  // namespace rtprelay
