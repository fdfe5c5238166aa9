#pragma once
// The data plane's counters as an operator reads them outside /metrics: the "dataplane"
// part of NG `statistics` (what `rtprelay-ctl statistics` shows) and the counter log lines
// (every --stats-interval seconds, and once at exit). Both walk worker_counter_list
// (dataplane/worker_counters.def), so a counter added there appears here by itself.
// Control thread only; allocates freely (a statistics request, a log line).

#include <cstdint>
#include <vector>

#include "control/log.h"
#include "control/ng/bencode.h"
#include "dataplane/counters.h"

namespace rtprelay {

class control_loop;
class interface_set;
class link_monitor;
namespace dp {
class flow_table;
}

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
// (first, plain_move, srtp_relatch; dataplane/latch.h), summed over `t`'s workers.
ng::value latch_changes_value(const dp::worker_counters& t, const interface_set& interfaces);

// NG `statistics` "dataplane" of the running relay: counters_value() of its workers, plus
// "latch changes", "flows" (published flow entries) and "links" (per DPDK port: up, changes).
ng::value dataplane_stats(const control_loop& loop, const dp::flow_table& flows, const link_monitor& links,
                          const interface_set& interfaces);

// Appends every listed counter of `t` to a log line (key with '_' for ' ': rx_packets=...,
// busy_ns=...), then dropped=.
void add_counter_fields(log::event& e, const dp::worker_counters& t, uint64_t tsc_hz);

// At exit: one "final counters" line, and one "final drops" line per reason that dropped
// anything.
void print_summary(const dp::worker_counters& t);

}  // namespace rtprelay
