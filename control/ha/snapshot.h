#pragma once
// A session's call to its Redis record and back. Control plane only.
//
// snapshot_call reads the call as the session manager holds it, and the live counters the
// workers publish for it (latched sources; atomics, read relaxed). rebuild_call makes a
// call from a record a peer (or this node, before a restart) wrote, checking everything
// against this node's interfaces first: an interface it does not have, an address or port
// outside them, a parked branch holding ports, an offerer index out of range: the record
// is refused with a reason and no call is built. The rebuilt call holds no ports and
// publishes nothing yet: session_manager::adopt does both.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "control/ha/flat_record.h"
#include "control/ha/record.h"
#include "control/ha/srtp_progress.h"
#include "control/session/session.h"

namespace rtprelay {
class interface_set;
}

namespace rtprelay::ha {

// Wall-clock now in milliseconds since the epoch (what records carry: a peer's steady
// clock means nothing here).
int64_t unix_now_ms();

call_record snapshot_call(const call& c, std::string_view owner, steady::time_point now, int64_t now_unix_ms);
// The same into `out` without allocating (flat_record.h): expand(out, owner) is what
// snapshot_call returns. False when the call is past the flat capacity (`out` then holds
// part of it: not to be used).
bool snapshot_flat(const call& c, steady::time_point now, int64_t now_unix_ms, flat_record& out);

// nullptr with *why set when the record cannot become a call on this node. SRTP streams
// get their contexts here, made with `engine` from the record's keys and seeded with its
// indices (srtp_progress.h); the publisher keeps them since they match the keys.
std::unique_ptr<call> rebuild_call(const call_record& r, interface_set& interfaces, steady::time_point now,
                                   int64_t now_unix_ms, std::string* why,
                                   dp::srtp::engine engine = dp::srtp::engine::native);

}  // namespace rtprelay::ha
