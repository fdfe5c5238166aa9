#include "relay/latch_log.h"

#include <arpa/inet.h>

#include <rte_ring.h>

#include <string>

#include "control/address.h"
#include "control/log.h"
#include "control/session/manager.h"
#include "dataplane/latch.h"

namespace rtprelay {

namespace {
// A packed endpoint as text; an IPv6 one (whose word holds a fold) from its whole address.
std::string endpoint_text(uint64_t packed, const uint8_t* addr6) {
    if (packed == 0) {
        return "none";
    }
    const ip_address a =
        dp::endpoint_is_v6(packed) ? ip_address::from_v6(addr6) : ip_address::from_v4_be(dp::endpoint_addr(packed));
    return endpoint{a, ntohs(dp::endpoint_port(packed))}.to_string();
}
}  // namespace

unsigned latch_log::drain(clock::time_point now) {
    if (events_ == nullptr) {
        return 0;
    }
    dp::latch_event evs[32];
    unsigned total = 0;
    unsigned n = 0;
    while ((n = rte_ring_dequeue_burst_elem(events_, evs, sizeof(dp::latch_event), 32, nullptr)) != 0) {
        for (unsigned i = 0; i < n; ++i) {
            write(evs[i], now);
        }
        total += n;
    }
    return total;
}

void latch_log::write(const dp::latch_event& ev, clock::time_point now) {
    const auto kind = static_cast<dp::latch_kind>(ev.kind);
    const bool first = kind == dp::latch_kind::first;
    const log::level l = first ? log::level::debug : log::level::info;
    // The owner lookup only for lines that will be written.
    if (!log::enabled(l) || !(first ? firsts_ : moves_).allow(now, l)) {
        return;
    }
    // An IPv6 stream's event has local_addr 0 and its address in local6.
    const bool local_v6 = ev.local_addr == 0 && dp::endpoint_is_v6(ev.new_src);
    const ip_address local = local_v6 ? ip_address::from_v6(ev.local6) : ip_address::from_v4_be(ev.local_addr);
    std::optional<session_manager::port_owner> owner;
    if (sessions_ != nullptr) {
        owner = sessions_->owner_of(local, ntohs(ev.local_port));
    }
    log::event e(l, first ? "latched" : "latch moved");
    if (owner) {
        e.field("call-id", owner->call_id).field("leg", owner->tag);
    }
    e.field("kind", kind < dp::latch_kind::count ? dp::latch_kind_name(kind) : "unknown")
        .field("local", endpoint{local, ntohs(ev.local_port)}.to_string())
        .field("old", endpoint_text(ev.old_src, ev.old6))
        .field("new", endpoint_text(ev.new_src, ev.new6));
}

}  // namespace rtprelay
