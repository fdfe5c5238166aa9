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
#include <vector>

#include "control/interfaces.h"
#include "control/ng/bencode.h"
#include "control/publish/publisher.h"
#include "control/session/session.h"

namespace rtprelay {

struct session_error : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// What offer and answer take from an NG request.
struct sdp_request {
    std::string call_id;
    std::string from_tag;
    std::string to_tag;                   // may be empty (initial offer)
    std::string sdp;
    std::vector<std::string> direction;   // interface names: [offerer side, answerer side]
    bool replace_origin = false;          // replace: ["origin"]
    bool ice_remove = false;              // ICE: "remove"
};

struct sdp_reply {
    std::string sdp;
};

struct session_totals {
    uint64_t calls_created = 0;
    uint64_t calls_deleted = 0;
    uint64_t offers = 0;
    uint64_t answers = 0;
    uint64_t refused_ports = 0;
};

class session_manager {
 public:
    session_manager(interface_set& interfaces, publisher& pub) : interfaces_(interfaces), pub_(pub) {}
    ~session_manager();

    sdp_reply offer(const sdp_request& r, steady::time_point now);
    sdp_reply answer(const sdp_request& r, steady::time_point now);
    // Deletes the call (the whole call: rtpengine's default when no to-tag/via-branch
    // narrows it). Throws session_error("Unknown call-id") when absent.
    void remove(const std::string& call_id);
    // rtpengine's query reply: created, totals, tags -> medias -> streams with stats.
    ng::value query(const std::string& call_id) const;
    std::vector<std::string> list(size_t limit) const;
    // Per interface and address: ports free and used (pairs), for statistics and capacity.
    ng::value interfaces_report() const;
    size_t size() const { return calls_.size(); }
    const session_totals& totals() const { return totals_; }

 private:
    call& find_call(const std::string& call_id);
    leg& new_leg(call& c, std::string tag, const std::string& iface_name);
    void ensure_streams(leg& l, size_t n);
    void allocate(leg& l, stream& s);
    void release_stream(leg& l, stream& s);
    void destroy(call& c);

    interface_set& interfaces_;
    publisher& pub_;
    std::map<std::string, std::unique_ptr<call>, std::less<>> calls_;
    session_totals totals_;
};

}  // namespace rtprelay
