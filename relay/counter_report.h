#pragma once
// The data plane's counters as an operator reads them outside /metrics: the counter log
// lines (every --stats-interval seconds, and once at exit), and what NG `statistics` gets of
// them (control/ng/dataplane_value.h makes its "dataplane" dict). Both walk
// worker_counter_list (dataplane/worker_counters.def), so a counter added there appears here
// by itself.
// Control thread only; allocates freely (a statistics request, a log line).

#include <cstdint>
#include <vector>

#include "control/log.h"
#include "control/ng/dataplane_value.h"
#include "control/ng/replies.h"
#include "dataplane/counters.h"

namespace rtprelay {

class control_loop;
class interface_set;
class link_monitor;
namespace dp {
class flow_table;
}

// What NG `statistics` reports of the running relay's data plane (control/ng/replies.h
// builds the dict): its workers' counter blocks, the published flow entries, the links and
// the logical interfaces' names (for "latch changes").
ng::dataplane_report dataplane_stats(const control_loop& loop, const dp::flow_table& flows, const link_monitor& links,
                                     const interface_set& interfaces);

// Appends every listed counter of `t` to a log line (key with '_' for ' ': rx_packets=...,
// busy_ns=...), then dropped=.
void add_counter_fields(log::event& e, const dp::worker_counters& t, uint64_t tsc_hz);

// At exit: one "final counters" line, and one "final drops" line per reason that dropped
// anything.
void print_summary(const dp::worker_counters& t);

}  // namespace rtprelay
