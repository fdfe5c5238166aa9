#pragma once
// Calls by call-id, and the offer/answer/delete/query logic behind the NG commands.
// Errors a proxy should see are thrown as session_error (its what() is the NG
// error-reason); nothing else escapes for bad input.

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "control/admission/admission.h"
#include "control/interfaces.h"
#include "control/publish/publisher.h"
#include "control/sdes/options.h"
#include "control/session/report.h"
#include "control/session/rtcp_mux.h"
#include "control/session/session.h"

namespace rtprelay {

struct session_error : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// The NG error-reason for a call whose address lease this node lost (control/ha).
inline constexpr const char* suspended_error = "Call suspended: this node lost its media address lease";

// No port pair left on a leg's interface ("Ran out of ports"). NG answers `load limit` to
// a proxy that supports it when the offer was for a new call (the proxy then places the
// call on its next node); a call that already lives here cannot move, so a re-INVITE gets
// the error.
struct ports_exhausted : session_error {
    ports_exhausted() : session_error("Ran out of ports") {}
    bool new_call = false;  // set by offer() on its way out
};

// What leg l of a call reserves (admission::leg_bps): the family and SRTP tag (+ MKI) of its
// first relayed stream, the audio of an everyday call. `crypto`: the SDES states of l's streams
// (at an offer: what the offer decided); the offerer's key names its suite, the answerer is
// reckoned at the first suite offered to it.
uint64_t leg_cost_of(const admission& adm, const leg& l, const std::vector<sdes::stream_crypto>& crypto, bool offerer);

// A new call refused by admission control; NG answers `load limit` (when the proxy says
// it supports it) or "Parallel session limit reached", and the proxy tries another node.
struct admission_refused : std::runtime_error {
    explicit admission_refused(refusal r) : std::runtime_error(refusal_name(r)), why(r) {}
    refusal why;
};

// What offer and answer take from an NG request.
struct sdp_request {
    std::string call_id;
    std::string from_tag;
    std::string to_tag;  // may be empty (initial offer)
    std::string sdp;
    std::vector<std::string> direction;  // interface names: [offerer side, answerer side]
    bool replace_origin = false;         // replace: ["origin"]
    bool ice_remove = false;             // ICE: "remove"
    std::string transport_protocol;      // NG transport-protocol: RTP/AVP <-> RTP/SAVP bridging
    sdes::sdes_request_options sdes;     // NG SDES list and SDES-* flags
    bool strict_source = false;          // NG flag strict-source: sticks to the call's legs
    // NG `address family` (IP4/IP6): the family of the relay's address in the SDP this request
    // sends on (offer: toward the answerer). Unset: the offer's own, where the interface has it.
    std::optional<ip_address::family> address_family;
    rtcp_mux_options rtcp_mux;  // NG rtcp-mux (offer only)
};

struct sdp_reply {
    std::string sdp;
    // Streams refused while the call went on ("m= line 2 (video): ..."), for the reply's
    // warning.
    std::vector<std::string> warnings;
};

// Timeouts like rtpengine's; zero turns one off.
struct session_timeouts {
    std::chrono::seconds media{60};        // answered call, no packet on any stream
    std::chrono::seconds silent{3600};     // the same while a leg is on hold
    std::chrono::seconds offer{3600};      // offer never answered
    std::chrono::seconds final{0};         // absolute call duration
    std::chrono::seconds delete_delay{0};  // delete takes effect this much later
};

// Why calls ended; the index is the metric label's position. `drain`: still open when the
// relay stopped (the drain time ran out, a second signal, or --drain-time=0).
enum class close_reason : uint8_t {
    deleted,
    media_timeout,
    silent_timeout,
    offer_timeout,
    final_timeout,
    drain,
    count
};
// "media timeout": NG statistics' key.
const char* close_reason_name(close_reason r);
// "media_timeout": the `reason` of the `call closed` log line.
const char* close_reason_label(close_reason r);

struct session_totals {
    uint64_t calls_created = 0;
    uint64_t calls_deleted = 0;  // every close, whatever the reason
    uint64_t closed[static_cast<size_t>(close_reason::count)] = {};
    uint64_t offers = 0;
    uint64_t answers = 0;
    uint64_t refused_ports = 0;
    uint64_t refused_capacity = 0;
    uint64_t refused_cps = 0;
    uint64_t refused_draining = 0;
    uint64_t refused_policy = 0;  // SDP/SDES/interface errors on a new call
    // a=crypto lines dropped from a relayed SDP that no SDES step owns: session-level ones
    // and those of streams that are not RTP. They carry the sender's key.
    uint64_t crypto_lines_stripped = 0;
    // m= lines refused on their own (answered with port 0) while their call went on.
    uint64_t streams_refused = 0;
    double call_seconds = 0;  // summed length of every call that ended
    // Groups (control/ha): calls taken over from a record, and calls let go here because
    // another node holds their address now.
    uint64_t calls_adopted = 0;
    uint64_t calls_dropped = 0;
};

// Told about every change another node of a group would need to rebuild a call
// (control/ha): after each offer, answer or delete that changed it, and when it ends.
// Control thread; must not throw.
class session_observer {
 public:
    virtual ~session_observer() = default;
    virtual void call_changed(const call& c) = 0;
    virtual void call_closed(const call& c) = 0;
};

// Told about a call just before it ends, while its legs and flows still exist (call
// recording closes its files: control/recording/controller.h). Control thread only.
class call_observer {
 public:
    virtual ~call_observer() = default;
    virtual void call_closing(call& c, close_reason why) = 0;
    // A group let the call go because another node serves its address now (drop_address):
    // it goes on there, not here. Not a close: no close_reason is counted.
    virtual void call_moved(call& c) = 0;
};

class session_manager {
 public:
    // `adm` may be null (no admission control: tests of other parts).
    session_manager(interface_set& interfaces, publisher& pub, session_timeouts t = {}, admission* adm = nullptr)
        : interfaces_(interfaces), pub_(pub), timeouts_(t), admission_(adm) {}
    admission* admission_control() { return admission_; }
    ~session_manager();

    sdp_reply offer(const sdp_request& r, steady::time_point now);
    sdp_reply answer(const sdp_request& r, steady::time_point now);
    // Deletes the call (the whole call: rtpengine's default when no to-tag/via-branch
    // narrows it), now or after `delay` (the NG request's delete-delay; without one the
    // configured delete delay). Until then the call relays and answers query as before. A
    // second delete can bring the end forward (a delay of 0 ends it now), never put it
    // later. Throws session_error("Unknown call-id") when absent.
    void remove(const std::string& call_id, steady::time_point now,
                std::optional<std::chrono::seconds> delay = std::nullopt);
    // NG delete naming one forked branch that lost (from-tag or to-tag is a parked branch's
    // tag): removes only that branch and returns true. False when no tag names a parked
    // branch (the caller then deletes the whole call). The call's other legs keep their
    // ports and flows.
    bool remove_branch(const std::string& call_id, const std::string& from_tag, const std::string& to_tag);
    // Ends calls whose timeout has passed; returns how many. Media activity comes from the
    // workers' stream_state::last_rx_tsc, compared with now_tsc at tsc_hz.
    size_t expire(steady::time_point now, uint64_t now_tsc, uint64_t tsc_hz);
    // Ends every call now, each with its `call closed` record and `why` (at shutdown:
    // drain), so that the closes add up to the calls created. Returns how many.
    size_t close_all(close_reason why);
    // What NG query and delete report (control/ng builds rtpengine's reply from it).
    // Throws session_error("Unknown call-id").
    call_report query(const std::string& call_id) const;
    std::vector<std::string> list(size_t limit) const;
    // The call, or null; for the control plane's own features (recording).
    call* find(std::string_view call_id);
    const call* find(std::string_view call_id) const;
    // At most one; null = none. Must outlive the manager's calls or be reset first.
    void set_observer(call_observer* o) { observer_ = o; }
    // Per interface and address: ports free and used (pairs), for statistics and capacity.
    std::vector<interface_report> interfaces_report() const;
    size_t size() const { return calls_.size(); }
    // The call and leg a local media address and port (RTP or RTCP) belong to, for log lines
    // about what the data plane saw there (latch moves). O(1) plus the call's streams.
    struct port_owner {
        std::string call_id;
        std::string tag;
    };
    std::optional<port_owner> owner_of(const ip_address& addr, uint16_t port) const;
    std::optional<port_owner> owner_of(uint32_t addr_be, uint16_t port) const {
        return owner_of(ip_address::from_v4_be(addr_be), port);
    }
    const session_totals& totals() const { return totals_; }

    // --- Groups (control/ha; implemented in adopt.cc) ---
    // At most one; null = none (a group's record writer: control/ha/group.h).
    void set_group_observer(session_observer* o) { group_observer_ = o; }
    // A part of the call that the group's record carries changed outside offer/answer (its
    // recording: control/recording/controller.h): the record is written again.
    void call_updated(const call& c) { changed(c); }
    template <typename F>
    void for_each_call(F&& f) const {
        for (const auto& [id, c] : calls_) {
            f(static_cast<const call&>(*c));
        }
    }
    template <typename F>
    void for_each_call(F&& f) {
        for (auto& [id, c] : calls_) {
            f(*c);
        }
    }
    // Up to `max` calls whose call-id sorts after `after` (from the first when `after` is
    // empty), in call-id order; returns how many. A caller that keeps the last id it saw
    // walks every call a few per turn: calls added or closed in between do not move its
    // place, and each call there from the first step to the last is visited once.
    template <typename F>
    size_t for_each_call_after(std::string_view after, size_t max, F&& f) {
        size_t n = 0;
        for (auto it = after.empty() ? calls_.begin() : calls_.upper_bound(after); it != calls_.end() && n < max;
             ++it, ++n) {
            f(*it->second);
        }
        return n;
    }
    // Takes over a call that another node (or this one, before a restart) held: claims its
    // ports, reserves its bandwidth (never refused: the call exists already), and publishes
    // its flows with the sources they had latched and no learning window. Throws
    // session_error when the call-id is held here already or one of its ports is in use.
    void adopt(std::unique_ptr<call> c);
    // Every call with a stream on `addr` (any leg): suspend withdraws their flows (nothing
    // is received on or sent from the address afterwards) and returns how many; resume
    // publishes them again; drop forgets them without telling the group's observer (the
    // record stays for the node that holds the address now); the call observer hears
    // call_moved (its recording's part here ends: the node that holds the call now records
    // the next part).
    size_t suspend_address(const ip_address& addr);
    size_t resume_address(const ip_address& addr);
    size_t drop_address(const ip_address& addr);
    // Calls with a stream on `addr`.
    std::vector<std::string> calls_on(const ip_address& addr) const;

 private:
    call& find_call(const std::string& call_id);
    // What choosing an answer's branch changed, so that a refused answer can undo it.
    struct branch_change {
        leg* from = nullptr;                // the branch that had the ports
        leg* to = nullptr;                  // the branch that got them
        bool created = false;               // `to` is a new leg (the last in call::legs)
        const leg* from_offerer = nullptr;  // `from`'s offerer before
    };
    sdp_reply answer_unchecked(const sdp_request& r, call& c, steady::time_point now, branch_change& change);
    leg& answering_branch(call& c, leg& x, const std::string& to_tag, branch_change& change);
    void move_ports(leg& from, leg& to);
    void undo(call& c, const branch_change& change);
    leg& new_leg(call& c, std::string tag, const std::string& iface_name);
    void ensure_streams(leg& l, size_t n);
    // Ports for stream `s` (m= line i) of leg l of call c on an address of family `fam`;
    // throws when the interface has none, or the stream already has ports of the other family.
    void allocate(call& c, leg& l, stream& s, ip_address::family fam, size_t i);
    void release_stream(leg& l, stream& s);
    void destroy(call& c);
    // By call-id; the key views the call's own call_id (one copy of the id per call).
    using call_map = std::map<std::string_view, std::unique_ptr<call>>;
    void close(call_map::iterator it, close_reason why);
    std::optional<close_reason> due(const call& c, steady::time_point now, uint64_t now_tsc, uint64_t tsc_hz) const;

    interface_set& interfaces_;
    publisher& pub_;
    session_timeouts timeouts_;
    admission* admission_;
    call_map calls_;
    // Allocated port pairs -> their call (port_key in manager.cc): kept by allocate and
    // release_stream, so it holds exactly the pairs streams hold.
    std::unordered_map<uint64_t, call*> by_port_;
    session_totals totals_;
    call_observer* observer_ = nullptr;
    session_observer* group_observer_ = nullptr;
    void changed(const call& c) {
        if (group_observer_ != nullptr) {
            group_observer_->call_changed(c);
        }
    }
    void publish_call(call& c);
};

}  // namespace rtprelay
