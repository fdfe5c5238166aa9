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

// One m= line on one leg: the relay's local port pair facing that leg's peer, and what the
// peer's SDP said.
struct stream {
    bool allocated = false;
    logical_interface::allocation alloc{};
    ip_address local_addr;
    std::optional<endpoint> peer_rtp;   // null: unknown or 0.0.0.0 (hold)
    std::optional<endpoint> peer_rtcp;
    bool rtcp_mux = false;
    bool disabled = false;               // this leg's SDP has port 0 for it
    bool hold = false;                   // this leg's SDP: sendonly/recvonly/inactive or c=0.0.0.0
    bool is_rtp = true;                  // proto RTP/*: RTCP on port+1 is relayed too
    std::string media_type;
    std::string proto;
    // SDES state of this leg (keys from and to its peer) and the data plane contexts made
    // from it, [0] RTP, [1] RTCP. in_ctx decrypts what the peer sends; out_ctx encrypts
    // what we send the peer. Rebuilt only when a key changes (ROC and replay state survive
    // a re-INVITE that keeps the keys).
    sdes::stream_crypto crypto;
    std::unique_ptr<dp::srtp::context> in_ctx[2];
    std::unique_ptr<dp::srtp::context> out_ctx[2];
    std::optional<sdes::crypto_attr> in_ctx_key;
    std::optional<sdes::crypto_attr> out_ctx_key;
    std::unique_ptr<dp::stream_state> rtp_state;
    std::unique_ptr<dp::stream_state> rtcp_state;
    bool published = false;
    // These ports were answered by more than one forked branch: all branches got the same
    // offer, so all of them send here, and the source latched here is whichever spoke
    // first. The other leg then sends to the active branch's SDP address instead, until
    // the call ends (a latch cannot be reset from the control plane).
    bool forked = false;

    uint16_t rtp_port() const { return alloc.rtp_port; }
    uint16_t rtcp_port() const { return static_cast<uint16_t>(alloc.rtp_port + 1); }
};

// A forked call (one offer, answers with several to-tags) has one leg per branch on the
// answerer's side. They share the local ports the offer allocated, because every branch
// got the same SDP: the ports (allocation, stream states, SRTP contexts) belong to the
// active branch, the one that answered last; the others are `parked` and keep only what
// their own SDP said, until they answer again or are deleted.
struct leg {
    std::string tag;                     // empty until the answer names it
    logical_interface* iface = nullptr;
    bool strict_source = false;          // NG flag strict-source seen for this call (or iface says so)
    std::vector<stream> streams;
    steady::time_point created;
    bool parked = false;                 // a forked branch whose ports went to a later answer
    const leg* offerer = nullptr;        // for forked branches: the leg whose offer they answered
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
    std::vector<size_t> admitted;        // interfaces holding this call's reservation

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
