#pragma once
// What the recording controller (controller.h) knows of one call's recording, and two of the
// forms it takes outside the controller: the metadata's "call" object (call_json: the
// recorder writes it into the state file and the finisher into BASE.json), and the record a
// group carries to the node that adopts the call (carried: ha::recording_record). The NG
// query reply's form is ng_recording.h's. Control thread only.
//
// Memory: the SDPs from the start of the recording (at most controller::max_sdps, their
// SDES keys removed: the metadata never holds a media key) and its events.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "control/ha/record.h"
#include "control/recording/file_names.h"
#include "control/recording/policy.h"

namespace rtprelay {
struct call;
}

namespace rtprelay::recording {

struct call_recording {
    enum class state : uint8_t { pending, recording, paused, stopped };
    struct event {
        int64_t ns;
        std::string what;  // start, pause, resume, stop
        std::string by;    // policy, record-call, start recording, deleted, ...
    };
    struct sdp_record {
        int64_t ns;
        bool offer;
        std::string from_tag, to_tag;
        std::string received, sent;
        // Received by the node this one adopted the call from (its record carried it, without
        // the sent SDP): that node's name and the part it wrote (0: none open).
        std::string carried_from;
        uint16_t carried_part = 0;
    };

    state st = state::pending;
    mode when = mode::off;  // what the policy says for this call
    channels layout = channels::dual;
    bool refused = false;  // record-call no/off: the policy stays off
    name_request names;    // from the latest request that gave any
    uint16_t id = 0;       // the open recording's, 0 = none
    std::string base;
    std::string started_by;
    std::vector<event> events;
    std::vector<sdp_record> sdps;
    size_t sdps_dropped = 0;
    // The latest offer's and answer's SDP as received: the call's record carries them, so
    // that a node that adopts the call has the SDPs in effect for its part's metadata.
    std::optional<sdp_record> last_offer, last_answer;
    std::vector<std::string> previous;  // bases of earlier recordings of this call
    // The open recording across nodes: its id (16 hex digits), first part's base and
    // the part written here (1 unless it continues another node's).
    std::string rec_id;
    std::string first_base;
    uint16_t part = 0;
    bool from_first_packet = false;
    int64_t started_ns = 0;
    std::string continues_node;  // the node whose part this one continues; empty = none
    int64_t adopted_ns = 0;      // when this node adopted the call
};

// An SDP as the metadata keeps it: the SDES keys (a=crypto ... inline:KEY) replaced, so that
// a recording's files never hold a media key.
std::string without_keys(std::string sdp);

// The base path of part `part` of a recording whose first part is `first`.
std::string part_base(const std::string& first, uint16_t part);

// The call's record's recording part: its state, policy and names, the SDPs in effect (as
// many as a record carries), and the open recording's id, base and part.
ha::recording_record carried(const call_recording& s);

// The metadata's "call" object: the call's legs and streams, the recording's events, its
// SDPs and the codecs in effect.
std::string call_json(const call_recording& s, const call& c);

}  // namespace rtprelay::recording
