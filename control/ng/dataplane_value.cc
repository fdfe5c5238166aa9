#include "control/ng/dataplane_value.h"

#include <string>

namespace rtprelay {

namespace {
ng::value integer(uint64_t v) { return ng::value::integer(static_cast<int64_t>(v)); }
}  // namespace

uint64_t tsc_to_ns(uint64_t cycles, uint64_t tsc_hz) {
    if (tsc_hz == 0) {
        return 0;
    }
    // Whole seconds and the remainder apart: cycles * 1e9 would overflow after ~5 s at 4 GHz.
    return cycles / tsc_hz * 1'000'000'000u + cycles % tsc_hz * 1'000'000'000u / tsc_hz;
}

uint64_t reported_value(const dp::counter_info& c, const dp::worker_counters& b, uint64_t tsc_hz) {
    const uint64_t v = b.*c.field;
    return c.unit == dp::counter_unit::tsc ? tsc_to_ns(v, tsc_hz) : v;
}

ng::value counters_value(const std::vector<dp::worker_counters>& blocks, uint64_t tsc_hz) {
    const dp::worker_counters t = dp::sum(blocks.data(), blocks.size());
    ng::value d = ng::value::dict();
    for (const dp::counter_info& c : dp::worker_counter_list) {
        d.set(std::string(c.key), integer(reported_value(c, t, tsc_hz)));
    }
    d.set("dropped", integer(t.total_drops()));
    ng::value drops = ng::value::dict();
    for (size_t r = 0; r < dp::drop_reason_count; ++r) {
        drops.set(std::string(dp::drop_reason_name(static_cast<dp::drop_reason>(r))), integer(t.drops[r]));
    }
    d.set("drops", std::move(drops));
    ng::value workers = ng::value::list();
    for (size_t w = 0; w < blocks.size(); ++w) {
        ng::value one = ng::value::dict();
        one.set("worker", integer(w));
        for (const dp::counter_info& c : dp::worker_counter_list) {
            if (c.scope == dp::counter_scope::worker) {
                one.set(std::string(c.key), integer(reported_value(c, blocks[w], tsc_hz)));
            }
        }
        workers.as_list().push_back(std::move(one));
    }
    d.set("workers", std::move(workers));
    return d;
}

ng::value latch_changes_value(const dp::worker_counters& t, const std::vector<std::string>& names) {
    ng::value out = ng::value::dict();
    for (size_t i = 0; i < names.size(); ++i) {
        ng::value kinds = ng::value::dict();
        for (size_t k = 0; k < dp::latch_kind_count; ++k) {
            kinds.set(std::string(dp::latch_kind_name(static_cast<dp::latch_kind>(k))),
                      integer(i < dp::counted_interfaces ? t.latch_changes[i][k] : 0));
        }
        out.set(names[i], std::move(kinds));
    }
    return out;
}

}  // namespace rtprelay
