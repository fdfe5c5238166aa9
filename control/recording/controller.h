#pragma once
// Call recording on the control plane: decides when a call's recording starts, pauses and
// stops (policy per node and interface, NG record-call on offer/answer, the NG commands
// `start recording`, `stop recording`, `pause recording`), stamps the call's flow entries so
// the workers copy its packets, and tells the recorder (recorder.h) to open and close files.
//
//   from-ringing   a recording opens at the offer; its time starts at its first packet
//   from-answer    it opens at the answer
//   record-call    yes/on in an offer: as from-ringing; in an answer: from then on;
//                  no/off: stops it, and the policy does not start it again for the call
//   start recording   starts one (or resumes a paused one); names from recording-file,
//                     recording-dir, recording-pattern (file_names.h), checked before use
//   stop recording    closes it (files to done/); with flag `pause` or `pause: yes`, pauses
//   pause recording   stops copying packets, keeps the files open: silence in the WAV
//
// A call stopped and started again gets a new recording (new files). A call that ends
// closes its recording (delete, timeouts); the node's stop closes all of them.
//
// In a group (control/ha) the recording moves with its call: the call's record carries its
// state (recording_of), and the node that adopts the call (takeover, handover) opens the
// recording's next part in its own directory (adopted): the first part's base path with
// "-partN", the same recording id, and metadata naming the node and part it continues. The
// node that let the call go closes its part with stop reason "moved"; a node that died has
// its part finished when it starts again (recorder.h: "node died").
//
// Memory: nothing for calls that are not and will not be recorded; for the others the SDPs
// from the start of the recording (at most max_sdps, their SDES keys removed: the metadata
// never holds a media key) and its events. The call's record carries the latest offer's and
// answer's SDP as received (ha::recording_sdp_record), so the part a taker writes lists them
// too, marked as carried. Control thread only.
//
// Here: the state machine (start, pause, stop, adopt) and what it tells the workers (the
// flow entries' stamps) and the recorder. What it keeps per call, and that state's forms in
// the metadata and the group's record: call_recording.h. The NG keys it reads and the
// replies that show recording: ng_recording.h.

#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "control/ha/recording_hook.h"
#include "control/ng/bencode.h"
#include "control/ng/request.h"
#include "control/publish/publisher.h"
#include "control/recording/call_recording.h"
#include "control/recording/file_names.h"
#include "control/recording/policy.h"
#include "control/recording/record_ids.h"
#include "control/session/manager.h"

struct rte_rcu_qsbr;

namespace rtprelay::recording {

class recorder;

class controller final : public call_observer, public ha::recording_hook {
 public:
    static constexpr size_t max_sdps = 16;

    // `rec` null: recording is not configured (no --recording-dir); NG requests for it get an
    // error. `rcu`: the flow table's (null in tests without workers).
    controller(session_manager& sessions, publisher& pub, policy node, recorder* rec, rte_rcu_qsbr* rcu);
    ~controller() override;
    controller(const controller&) = delete;
    controller& operator=(const controller&) = delete;

    // Before an offer or answer changes anything: throws session_error when the request's
    // recording keys are unacceptable (a file name outside the directory, ...).
    void check(const ng::request& req) const;
    // After the session manager accepted an offer or answer: SDPs in and out, record-call,
    // the policy. Returns a warning for the reply, or empty.
    std::string after_offer_answer(bool offer, const ng::request& req, const std::string& sdp_in,
                                   const std::string& sdp_out);

    // `start recording`, `stop recording`, `pause recording` (the reply is rtpengine's: result
    // ok, nothing else). Throws session_error for an unknown call-id or bad names.
    void command(ng::command command, const ng::request& req);
    // The call's "recording" dictionary for a query reply; none when it has not had one.
    std::optional<ng::value> describe(std::string_view call_id) const;

    void call_closing(call& c, close_reason why) override;
    // A group let the call go to the node that serves its address now: its part of the
    // recording is closed here ("moved"; its files are finished as for a delete); the node
    // that adopted the call records the next part.
    void call_moved(call& c) override;
    // ha::recording_hook: the call's recording for its record, and a call adopted here.
    ha::recording_record recording_of(const call& c) const override;
    void adopted(call& c, const ha::recording_record& r, const std::string& node) override;
    // The node stops: closes every open recording (its calls stay).
    void close_all(const char* reason);
    // Calls with an open recording (recording or paused).
    size_t open_recordings() const;
    // The recorder's counters for NG statistics ("recording"); empty dict when unconfigured.
    ng::value statistics() const;

 private:
    using state = call_recording::state;
    using sdp_record = call_recording::sdp_record;

    call_recording* state_of(std::string_view call_id);
    void take_names(call_recording& s, const ng::request& req) const;
    std::string start(call_recording& s, call& c, bool from_first_packet, const char* by);
    std::string open_part(call_recording& s, call& c, std::string base, const std::string& rec_id,
                          bool from_first_packet, const std::string& by);
    // Tells the recorder what its state file should hold now (recorder::update), and the
    // group that the call's record changed when `before` differs from what it carries now.
    void changed(call_recording& s, call& c, const ha::recording_record& before);
    void stop(call_recording& s, call& c, const std::string& by);
    void sync(call_recording& s, call& c);

    session_manager& sessions_;
    publisher& pub_;
    policy node_;
    recorder* rec_;
    rte_rcu_qsbr* rcu_;
    std::unordered_map<std::string, call_recording> calls_;
    record_ids ids_;
    std::mt19937_64 random_;
};

}  // namespace rtprelay::recording
