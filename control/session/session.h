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
// A group's bookkeeping of the SRTP indices its call records carry (control/ha/srtp_progress.h):
// per context (0 RTP in, 1 RTCP in, 2 RTP out, 3 RTCP out) and SSRC, the index the last
// record written holds, and the last one Redis acknowledged. Control thread only; exists
// only on nodes of a group, once an SRTP stream has carried packets.
struct srtp_progress {
    struct entry {
        uint32_t ssrc = 0;
        uint64_t index = 0;  // what the record holds (sent RTCP: the reservation)
        uint64_t seen = 0;   // highest index the last scan read (exposure counting)
        bool seen_any = false;
    };
    std::vector<entry> written[4];
    std::vector<entry> acked[4];
    const void* made[4] = {};  // the context these are about (a re-key starts over)
    uint64_t token = 0;        // the written record's ack token; 0 = none awaited
};

struct srtp_contexts {
    // What a context was made from: suite, UNENCRYPTED_SRTCP and key (not the whole 80-byte
    // crypto_attr): the suite in bits 0-6 of suite_flags, UNENCRYPTED_SRTCP in bit 7. With a
    // group's `progress` pointer srtp_contexts is 152 bytes (144 without it). Its size no
    // longer moves the SRTP contexts: they come from blocks of their own
    // (dataplane/srtp/context_pool.h), not from the heap around it (bench/RESULTS.md).
    struct made_from {
        uint8_t suite_flags = 0;
        sdes::master_key key{};

        made_from() = default;
        made_from(sdes::suite s, bool unencrypted_srtcp, const sdes::master_key& k)
            : suite_flags(static_cast<uint8_t>(static_cast<uint8_t>(s) | (unencrypted_srtcp ? 0x80u : 0u))), key(k) {}
        sdes::suite crypto_suite() const { return static_cast<sdes::suite>(suite_flags & 0x7fu); }
        bool unencrypted_srtcp() const { return (suite_flags & 0x80u) != 0; }
    };
    std::unique_ptr<dp::srtp::context> in[2];
    std::unique_ptr<dp::srtp::context> out[2];
    std::optional<made_from> in_key;
    std::optional<made_from> out_key;
    std::unique_ptr<srtp_progress> progress;  // groups only (control/ha)
};
static_assert(sizeof(srtp_contexts::made_from) == 1 + sizeof(sdes::master_key),
              "made_from: the suite and flag in one byte");

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
    // In a group (control/ha): this node lost the lease of an address the call uses, so
    // its flows are withdrawn and it waits, untouched by timers and NG, until the lease
    // comes back (resume) or a peer is known to hold it (dropped here, kept in Redis).
    // Beside `answered`, in the padding before delete_at: a call is no larger (136 bytes)
    // than outside a group, so the heap holds every call's SRTP contexts where it would
    // (see srtp_contexts::made_from).
    bool suspended = false;
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
