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
std::string endpoint_text(uint32_t addr_be, uint16_t port_be) {
    return ip_address::from_v4_be(addr_be).to_string() + ":" + std::to_string(ntohs(port_be));
}
std::string endpoint_text(uint64_t packed) {
    if (packed == 0) {
        return "none";
    }
    return endpoint_text(dp::endpoint_addr(packed), dp::endpoint_port(packed));
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
    std::optional<session_manager::port_owner> owner;
    if (sessions_ != nullptr) {
        owner = sessions_->owner_of(ev.local_addr, ntohs(ev.local_port));
    }
    log::event e(l, first ? "latched" : "latch moved");
    if (owner) {
        e.field("call-id", owner->call_id).field("leg", owner->tag);
    }
    e.field("kind", kind < dp::latch_kind::count ? dp::latch_kind_name(kind) : "unknown")
        .field("local", endpoint_text(ev.local_addr, ev.local_port))
        .field("old", endpoint_text(ev.old_src))
        .field("new", endpoint_text(ev.new_src));
}

}  // namespace rtprelay
