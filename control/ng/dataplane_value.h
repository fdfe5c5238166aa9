#pragma once
// The data plane's counters as NG `statistics` reports them ("dataplane"): every counter of
// worker_counter_list (dataplane/worker_counters.def) summed, drops by reason, and per
// worker its worker-scope counters. A counter added to that list appears here by itself.
// Also what the counter log lines print (relay/counter_report.h uses reported_value()).

#include <cstdint>
#include <string>
#include <vector>

#include "control/ng/bencode.h"
#include "dataplane/counters.h"

namespace rtprelay {

// TSC cycles as nanoseconds, exact (no overflow below 2^64 cycles).
uint64_t tsc_to_ns(uint64_t cycles, uint64_t tsc_hz);

// The value a counter is reported as outside /metrics: its count, or nanoseconds for TSC
// cycles (the unit the key then names).
uint64_t reported_value(const dp::counter_info& c, const dp::worker_counters& b, uint64_t tsc_hz);

// Every listed counter summed over `blocks` (one per worker) under its key, "dropped" and
// "drops" by reason (every reason of drop_reasons.def, zero included), and "workers": one
// dict per worker with its index and its worker-scope counters.
ng::value counters_value(const std::vector<dp::worker_counters>& blocks, uint64_t tsc_hz);

// "latch changes": per logical interface name, the latches set or moved by kind
// (first, plain_move, srtp_relatch; dataplane/latch.h), from `t` (the workers' sum).
// `names` are the interfaces in index order; one past dp::counted_interfaces reports zeros
// (its workers do not count it).
ng::value latch_changes_value(const dp::worker_counters& t, const std::vector<std::string>& names);

}  // namespace rtprelay
