#pragma once
// The HA agent's queue of Redis writes (agent.h): what the control thread hands over, in the
// order it happened, bounded, and coalesced per call.
//
// Coalescing: a put or delete of a call whose earlier put or delete is still queued (not yet
// taken by the agent) replaces that one in place instead of queueing a second. A call then
// costs one write per burst of changes (an offer and its answer a few microseconds apart: one
// record), and the queue never holds two states of one call, so Redis can never get an older
// state after a newer one: what the agent has taken is written before anything queued later,
// on one connection. The replaced operation's position and queue time are kept (the change
// waiting longest decides when the call's record is written, and the latency histogram
// measures from it); its SRTP acknowledgement token gives way to the newer one, whose record
// carries at least as much (srtp_progress.h). Clean-ups of another node's set (`forget`)
// are never coalesced.
//
// Not thread-safe: the agent holds its mutex around push() and take(). Costs the control
// thread one hash lookup and, for a call not queued yet, one deque append and hash insert.

#include <chrono>
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "control/ha/record.h"

namespace rtprelay::ha {

using steady = std::chrono::steady_clock;

struct write_op {
    enum class kind : uint8_t { put, del, forget };
    kind what = kind::put;
    std::string call_id;           // put, del
    call_record record;            // put: the call's state, sealed by the agent when it writes it
    std::string node;              // forget: the node whose set loses `ids`
    std::vector<std::string> ids;  // forget
    uint64_t token = 0;            // put: nonzero = report its acknowledgement (agent_event::written)
    steady::time_point queued{};   // when the oldest change it carries was queued
};

class write_queue {
 public:
    explicit write_queue(size_t limit) : limit_(limit) {}

    enum class result : uint8_t {
        queued,    // appended
        replaced,  // took the place of the call's queued operation
        full,      // refused: `limit` operations are queued
    };
    // `op.queued` is set here (`now`) unless it replaces an operation.
    result push(write_op op, steady::time_point now);
    // Everything queued, oldest first; the queue is empty after.
    std::deque<write_op> take();
    size_t size() const { return ops_.size(); }
    // When the oldest queued operation was queued (the queue must not be empty).
    steady::time_point oldest() const { return ops_.front().queued; }
    bool empty() const { return ops_.empty(); }

 private:
    size_t limit_;
    std::deque<write_op> ops_;
    // Call-id (a view of the queued operation's own call_id: deque appends move no element)
    // -> its index in ops_.
    std::unordered_map<std::string_view, size_t> by_call_;
};

}  // namespace rtprelay::ha
