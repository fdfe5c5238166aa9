#pragma once
// Latch changes as log lines: the workers put a latch_event on a ring (dataplane/latch.h);
// the control thread drains it every loop turn and writes, for each event the rate limit
// lets through, the call and leg that own the local port, the kind of change and the old
// and new source:
//
//   level=info msg="latch moved" call-id=a84b4c76e6 leg=1928301774 kind=plain_move local=198.18.1.1:21000 old=198.18.1.2:4000 new=198.18.1.66:45000
//
// Moves (plain_move, srtp_relatch) are logged at info: they are rare, and each one is a
// phone that changed networks or someone taking a leg. First latches happen on every call,
// so they are logged at debug only. A flood of moves shows as a few lines and a
// `messages suppressed` count; the counters (rtprelay_latch_changes_total) have them all.
// Control thread only.

#include <chrono>
#include <cstdint>

#include "control/log_limiter.h"

struct rte_ring;

namespace rtprelay {

class session_manager;

namespace dp {
struct latch_event;
}

class latch_log {
 public:
    using clock = std::chrono::steady_clock;

    // `events`: the data plane's latch ring (may be null: nothing to do); `sessions` names
    // the call and leg (may be null: the line has the local address only).
    latch_log(rte_ring* events, const session_manager* sessions) : events_(events), sessions_(sessions) {}

    // Takes everything queued, writes what the limits allow. Returns the events taken.
    unsigned drain(clock::time_point now);
    // One event (drain's body; tests call it directly).
    void write(const dp::latch_event& ev, clock::time_point now);

 private:
    rte_ring* events_;
    const session_manager* sessions_;
    // 20 lines at once, then 10/s, for moves; the same for first latches at debug level.
    log::rate_limiter moves_{"latch moves", 10.0, 20.0};
    log::rate_limiter firsts_{"first latches", 10.0, 20.0};
};

}  // namespace rtprelay
