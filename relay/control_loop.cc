#include "relay/control_loop.h"

#include <poll.h>

#include <cstring>

#include <rte_cycles.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "control/address.h"
#include "control/ha/group.h"
#include "control/log.h"
#include "control/ng/server.h"
#include "control/session/manager.h"
#include "dataplane/arp.h"
#include "dataplane/nd.h"
#include "dataplane/rewrite.h"
#include "relay/counter_report.h"
#include "relay/link_monitor.h"
#include "relay/metrics.h"

namespace rtprelay {

namespace {
// Whether the data plane's entry is `addr` (either family).
bool same_address(const dp::local_address& a, const ip_address& addr) {
    if (addr.is_v4()) {
        return !a.v6 && a.addr == addr.v4_be();
    }
    return a.v6 && std::memcmp(a.addr6, addr.bytes.data(), 16) == 0;
}
}  // namespace

using clock = std::chrono::steady_clock;

dp::worker_counters control_loop::totals() const {
    const std::vector<dp::worker_counters> b = blocks();
    return dp::sum(b.data(), b.size());
}

void control_loop::transmit(rte_mbuf* m) {
    if (rte_ring_enqueue(ctx_.control_tx, m) != 0) {
        rte_pktmbuf_free(m);
    }
}

bool control_loop::link_up(uint16_t port_id) const {
    const link_monitor::port_link* p = ctx_.links != nullptr ? ctx_.links->find(port_id) : nullptr;
    return p == nullptr || p->up;
}

const dp::local_address* control_loop::source_for(const dp::neighbour& n) const {
    const dp::local_addresses& l = *ctx_.shared->locals;
    for (uint32_t i = 0; i < l.n; ++i) {
        if (l.items[i].port_id == n.port_id && l.items[i].v6 == n.v6 && l.is_active(i)) {
            return &l.items[i];
        }
    }
    return nullptr;
}

void control_loop::announce(int port_id, const ip_address* addr) {
    announce_now(port_id, addr, false);
    repeats_.push_back(
        repeat{port_id, addr != nullptr, addr != nullptr ? *addr : ip_address{}, clock::now() + repeat_announce});
}

void control_loop::announce_now(int port_id, const ip_address* addr, bool again) {
    const dp::local_addresses& l = *ctx_.shared->locals;
    for (uint32_t i = 0; i < l.n; ++i) {
        const dp::local_address& a = l.items[i];
        if ((port_id >= 0 && a.port_id != port_id) || (addr != nullptr && !same_address(a, *addr)) || !l.is_active(i)) {
            continue;
        }
        const ip_address shown = a.v6 ? ip_address::from_v6(a.addr6) : ip_address::from_v4_be(a.addr);
        if (!link_up(a.port_id)) {
            if (!again) {  // the repeat finds the link still down: said once is enough
                RLOG_INFO("media address %s on DPDK port %u: announced when its link comes up",
                          shown.to_string().c_str(), a.port_id);
            }
            continue;
        }
        const rte_ether_addr& mac = ctx_.shared->port_macs[a.port_id];
        rte_mbuf* m = a.v6 ? dp::make_neighbour_advert(ctx_.pool, a.port_id, mac, a.addr6, nullptr, mac, false, a.vlan)
                           : dp::make_arp_request(ctx_.pool, a.port_id, mac, a.addr, a.addr, a.vlan);
        if (m != nullptr) {
            transmit(m);
        }
        RLOG_INFO("media address %s on DPDK port %u announced%s", shown.to_string().c_str(), a.port_id,
                  again ? " again" : "");
    }
}

void control_loop::handle_neighbour_frames(clock::time_point now) {
    void* items[32];
    unsigned n = 0;
    while ((n = rte_ring_dequeue_burst(ctx_.to_control, items, 32, nullptr)) > 0) {
        for (unsigned i = 0; i < n; ++i) {
            auto* m = static_cast<rte_mbuf*>(items[i]);
            // classify() sent ARP (l3_len untouched) or ND (l3_len = the IPv6 header).
            const auto* frame = rte_pktmbuf_mtod(m, const uint8_t*);
            if (m->l2_len != 0 && rte_pktmbuf_data_len(m) > m->l2_len && (frame[m->l2_len] >> 4) == 6) {
                handle_nd(m, now);
            } else {
                handle_arp(m, now);
            }
        }
    }
}

void control_loop::handle_arp(rte_mbuf* m, clock::time_point now) {
    dp::arp_info info;
    if (!dp::parse_arp(m, &info)) {
        rte_pktmbuf_free(m);
        return;
    }
    const uint16_t port = m->port;
    const dp::local_address* ours = ctx_.shared->locals->find(port, info.target_ip);
    if (info.sender_ip != 0) {
        // Learn whoever talks to us, refresh whoever we already know.
        ctx_.neighbours->learn(port, info.sender_ip, dp::pack_mac(info.sender_mac), ours != nullptr, now);
    }
    if (info.op == 1 && ours != nullptr && info.sender_ip != info.target_ip) {
        dp::make_arp_reply(m, ctx_.shared->port_macs[port]);
        m->port = port;
        transmit(m);
    } else {
        rte_pktmbuf_free(m);
    }
}

// RFC 4861: a solicitation for one of our addresses is answered (to its source, or to all
// nodes when it probes from ::) and teaches us the solicitor's MAC; an advertisement
// refreshes (or, sent to us, resolves) its target. Everything else is dropped here.
void control_loop::handle_nd(rte_mbuf* m, clock::time_point now) {
    dp::nd_info info;
    const uint16_t port = m->port;
    const bool ok = dp::parse_nd(m, &info);
    rte_pktmbuf_free(m);
    if (!ok) {
        return;
    }
    static constexpr uint8_t unspecified[16] = {};
    const bool from_unspecified = std::memcmp(info.src, unspecified, 16) == 0;
    const rte_ether_addr& our_mac = ctx_.shared->port_macs[port];
    if (info.type == 135) {
        const dp::local_address* ours = ctx_.shared->locals->find6(port, info.target);
        if (ours == nullptr) {
            return;
        }
        if (!from_unspecified && info.has_lladdr) {
            ctx_.neighbours->learn6(port, info.src, dp::pack_mac(info.lladdr), true, now);
        }
        const rte_ether_addr to_mac = info.has_lladdr ? info.lladdr : info.eth_src;
        rte_mbuf* r =
            dp::make_neighbour_advert(ctx_.pool, port, our_mac, ours->addr6, from_unspecified ? nullptr : info.src,
                                      to_mac, !from_unspecified, ours->vlan);
        if (r != nullptr) {
            transmit(r);
        }
        return;
    }
    // An advertisement: its target is at the option's MAC (or the sender's, when a unicast
    // answer leaves the option out).
    const bool to_us = ctx_.shared->locals->find6(port, info.dst) != nullptr;
    ctx_.neighbours->learn6(port, info.target, dp::pack_mac(info.has_lladdr ? info.lladdr : info.eth_src), to_us, now);
}

void control_loop::resolve(clock::time_point now) {
    ctx_.neighbours->take_requests();
    for (const dp::neighbour* n : ctx_.neighbours->due_for_request(now)) {
        const dp::local_address* la = source_for(*n);
        if (la == nullptr || !link_up(n->port_id)) {  // asked again at the next retry
            continue;
        }
        const rte_ether_addr& mac = ctx_.shared->port_macs[n->port_id];
        rte_mbuf* m = n->v6 ? dp::make_neighbour_solicit(ctx_.pool, n->port_id, mac, la->addr6, n->addr6, la->vlan)
                            : dp::make_arp_request(ctx_.pool, n->port_id, mac, la->addr, n->addr, la->vlan);
        if (m != nullptr) {
            transmit(m);
        }
    }
}

void control_loop::run(const std::atomic<bool>& stop, const std::function<bool(clock::time_point)>& done) {
    // The NG sockets: --ng-listen's, and floating ones that come and go with their leases
    // (the group's tick opens and closes them), so the set is read again every turn.
    std::vector<pollfd> pfds;
    auto last_stats = clock::now();
    auto last_resolve = clock::now();
    auto last_expire = clock::now();
    while (!stop.load(std::memory_order_relaxed)) {
        pfds.clear();
        for (size_t i = 0; i < ctx_.ng->listeners(); ++i) {
            pfds.push_back({ctx_.ng->fd(i), POLLIN, 0});
        }
        const int rc = poll(pfds.data(), pfds.size(), 1);
        const auto now = clock::now();
        bool signalled = false;
        for (size_t i = 0; rc > 0 && i < pfds.size(); ++i) {
            if ((pfds[i].revents & POLLIN) != 0) {
                ctx_.ng->on_readable(i, now);
                signalled = true;
            }
        }
        handle_neighbour_frames(now);
        latches_.drain(now);
        // Right after NG requests: an answer's peers get their ARP before their first packet.
        if (signalled || now - last_resolve >= std::chrono::milliseconds(10)) {
            resolve(now);
            last_resolve = now;
        }
        if (ctx_.sessions != nullptr && now - last_expire >= std::chrono::seconds(1)) {
            last_expire = now;
            if (const size_t n = ctx_.sessions->expire(now, rte_rdtsc(), rte_get_tsc_hz()); n != 0) {
                log::event(log::level::debug, "calls closed by timeout").field("calls", n);
            }
        }
        if (ctx_.group != nullptr) {
            for (const ip_address& addr : ctx_.group->tick(now)) {
                announce(-1, &addr);  // a lease taken: peers and switches learn where it is now
            }
        }
        for (size_t i = 0; i < repeats_.size();) {
            if (now < repeats_[i].due) {
                ++i;
                continue;
            }
            const repeat r = repeats_[i];
            repeats_.erase(repeats_.begin() + static_cast<std::ptrdiff_t>(i));
            announce_now(r.port_id, r.one_address ? &r.addr : nullptr, true);
        }
        ctx_.flows->reclaim();
        if (ctx_.links != nullptr) {
            for (uint16_t port : ctx_.links->poll(now)) {
                announce(port);  // peers and switches learn our addresses again
            }
        }
        if (ctx_.metrics != nullptr) {
            ctx_.metrics->tick(now);
        }
        if (ctx_.stats_interval != 0 && now - last_stats >= std::chrono::seconds(ctx_.stats_interval)) {
            last_stats = now;
            log::event e(log::level::info, "dataplane");
            add_counter_fields(e, totals(), rte_get_tsc_hz());
            e.field("flows", ctx_.flows->size())
                .field("neighbours_resolved", ctx_.neighbours->resolved())
                .field("neighbours", ctx_.neighbours->size());
        }
        if (done && done(now)) {
            break;
        }
    }
}

}  // namespace rtprelay
