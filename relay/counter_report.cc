#include "relay/counter_report.h"

#include <string>

#include <rte_cycles.h>

#include "control/interfaces.h"
#include "dataplane/flow_table.h"
#include "relay/control_loop.h"
#include "relay/link_monitor.h"

namespace rtprelay {

namespace {

std::string log_key(std::string_view key) {
    std::string k(key);
    for (char& c : k) {
        if (c == ' ') {
            c = '_';
        }
    }
    return k;
}

}  // namespace

ng::dataplane_report dataplane_stats(const control_loop& loop, const dp::flow_table& flows, const link_monitor& links,
                                     const interface_set& interfaces) {
    ng::dataplane_report r;
    r.blocks = loop.blocks();
    r.tsc_hz = rte_get_tsc_hz();
    r.flows = flows.size();
    for (const logical_interface& li : interfaces.all()) {
        r.interface_names.push_back(li.name);
    }
    for (const auto& p : links.ports()) {
        r.links.push_back({p.port_id, p.up, p.changes});
    }
    return r;
}

void add_counter_fields(log::event& e, const dp::worker_counters& t, uint64_t tsc_hz) {
    for (const dp::counter_info& c : dp::worker_counter_list) {
        e.field(log_key(c.key), reported_value(c, t, tsc_hz));
    }
    e.field("dropped", t.total_drops());
}

void print_summary(const dp::worker_counters& t) {
    {
        log::event e(log::level::info, "final counters");
        add_counter_fields(e, t, rte_get_tsc_hz());
    }
    for (size_t r = 0; r < dp::drop_reason_count; ++r) {
        if (t.drops[r] != 0) {
            log::event(log::level::info, "final drops")
                .field("reason", dp::drop_reason_name(static_cast<dp::drop_reason>(r)))
                .field("packets", t.drops[r]);
        }
    }
}

}  // namespace rtprelay
