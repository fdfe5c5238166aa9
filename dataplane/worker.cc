#include "dataplane/worker.h"

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_prefetch.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring.h>
#include <rte_udp.h>

#include <cstring>
#include <stdexcept>

#include "dataplane/arp.h"
#include "dataplane/classify.h"
#include "dataplane/latch.h"
#include "dataplane/nd.h"
#include "dataplane/record_stage.h"
#include "dataplane/rewrite.h"
#include "dataplane/rewrite6.h"
#include "dataplane/route.h"
#include "dataplane/srtp/batch.h"
#include "dataplane/srtp/srtp.h"

namespace rtprelay::dp {

namespace {
// What a buffered TX packet is, kept in mbuf->hash.usr (unused on TX) so that the TX error
// callback can move it from "relayed" to "tx_full" and the accounting stays exact.
// Bits 0..7: tx_kind; for relayed media also bits 8..15: egress port, 16..23: media_kind
// as sent (the traffic counter to take back). The control plane's frames do not go through
// the buffers (control_tx.h).
enum tx_kind : uint32_t { tx_rtp = 0, tx_rtcp = 1, tx_icmp = 2 };
constexpr uint32_t tx_media_tag(tx_kind k, uint16_t port, media_kind mk) {
    return k | (static_cast<uint32_t>(port) << 8) | (static_cast<uint32_t>(mk) << 16);
}

constexpr uint32_t idle_turns_before_sleep = 64;

// The lines forwarding touches for a flow: its stream state, the sibling's (for the latched
// destination) and the RTP SRTP contexts' hot lines.
inline void prefetch_stream(const flow_entry* e) {
    if (e == nullptr) {
        return;
    }
    rte_prefetch0(reinterpret_cast<const char*>(e) + 64);  // flags, source policy, rewrite target
    rte_prefetch0(e->self);
    rte_prefetch0(e->sibling);
    if (e->srtp_in[kind_rtp] != nullptr) {
        e->srtp_in[kind_rtp]->prefetch();
    }
    if (e->srtp_out[kind_rtp] != nullptr) {
        e->srtp_out[kind_rtp]->prefetch();
    }
}

// The rewrite of a packet on a flow with an IPv6 side (rewrite6.h).
rewrite_target6 rewrite_target_of(const flow_entry& e, const route& r, const rte_ether_addr& our_mac) {
    rewrite_target6 t;
    const flow_entry_v6& v6 = *e.v6;
    t.out6 = v6.out6;
    if (v6.out6) {
        std::memcpy(t.src, v6.out_src_addr, 16);
        std::memcpy(t.dst, r.dest6, 16);
    } else {
        const uint32_t dst = endpoint_addr(r.dest);
        std::memcpy(t.src, &e.out_src_addr, 4);
        std::memcpy(t.dst, &dst, 4);
    }
    t.src_port = e.out_src_port;
    t.dst_port = endpoint_port(r.dest);
    t.vlan = e.vlan;
    t.src_mac = our_mac;
    t.dst_mac = unpack_mac(r.mac);
    t.payload_changed = r.crypto;
    return t;
}

// An IPv6 flow's latch slots: this stream's (its source check) and the other leg's (the
// destination). Their pointers are in the flow's IPv6 block, prefetched when the packet
// passed the owner check (handle_burst); each is a line of its own, so a miss (~100 ns at
// 10k calls) that the route would otherwise wait for.
inline void prefetch_v6_states(const flow_entry* e) {
    if (const flow_entry_v6* v = e->v6.get(); v != nullptr) [[unlikely]] {
        if (v->self6 != nullptr) {
            rte_prefetch0(v->self6);
        }
        if (v->sibling6 != nullptr) {
            rte_prefetch0(v->sibling6);
        }
    }
}

inline void bump(std::atomic<uint64_t>& c, uint64_t by) {
    // Single writer (the owning worker): a plain load+store, no locked instruction.
    c.store(c.load(std::memory_order_relaxed) + by, std::memory_order_relaxed);
}
}  // namespace

void tx_error_callback(rte_mbuf** pkts, uint16_t unsent, void* userdata) {
    auto* c = static_cast<worker_counters*>(userdata);
    for (uint16_t i = 0; i < unsent; ++i) {
        rte_mbuf* m = pkts[i];
        const uint32_t tag = m->hash.usr;
        switch (tag & 0xff) {
            case tx_rtp:
            case tx_rtcp: {
                --((tag & 0xff) == tx_rtp ? c->relayed_rtp : c->relayed_rtcp);
                c->relayed_bytes -= rte_pktmbuf_pkt_len(m);
                traffic_counter& t =
                    c->traffic[(tag >> 8) & 0xff][static_cast<size_t>(traffic_dir::tx)][(tag >> 16) & 0xff];
                --t.packets;
                t.bytes -= rte_pktmbuf_pkt_len(m);
                ++c->drops[static_cast<size_t>(drop_reason::tx_full)];
                break;
            }
            default:  // tx_icmp
                --c->icmp_echo_replies;
                ++c->drops[static_cast<size_t>(drop_reason::tx_full)];
                break;
        }
        rte_pktmbuf_free(m);
    }
}

void worker::init(uint16_t worker_index, const dataplane_shared* s, rte_ring* control_tx) {
    index = worker_index;
    shared = s;
    from_control = control_tx;
    const latch_clock clock = make_latch_clock(0, rte_get_tsc_hz());
    auth_token_cycles = clock.auth_token_cycles;
    quiet_cycles = clock.quiet_cycles;
    drain_every_tsc = (rte_get_tsc_hz() + 9999) / 10000;  // 100 µs
    control.init(rte_get_tsc_hz());
    for (uint16_t i = 0; i < s->n_ports; ++i) {
        const uint16_t port = s->port_ids[i];
        auto* b = static_cast<rte_eth_dev_tx_buffer*>(
            rte_zmalloc_socket("tx_buffer", RTE_ETH_TX_BUFFER_SIZE(burst_size), 0,
                               rte_eth_dev_socket_id(port) < 0 ? 0 : rte_eth_dev_socket_id(port)));
        if (b == nullptr) {
            throw std::runtime_error("worker " + std::to_string(index) + ": no memory for TX buffers");
        }
        rte_eth_tx_buffer_init(b, burst_size);
        rte_eth_tx_buffer_set_err_callback(b, tx_error_callback, &counters);
        tx[port] = b;
    }
    if (s->record[worker_index] != nullptr) {
        recording = new record_stage();
        recording->ring = s->record[worker_index];
    }
    if (s->srtp_batch_min != 0) {
        try {
            crypto = new srtp::burst_crypto();
            crypto->set_min_batch(s->srtp_batch_min);
        } catch (const std::runtime_error&) {
            // A CPU intel-ipsec-mb cannot run (no AES-NI): SRTP goes packet by packet.
            crypto = nullptr;
        }
    }
}

void worker::release() {
    control.drop_all(counters);
    for (auto*& b : tx) {
        rte_free(b);
        b = nullptr;
    }
    delete crypto;
    crypto = nullptr;
    delete recording;
    recording = nullptr;
}

int worker::run() {
    rte_rcu_qsbr* rcu = shared->flows->rcu();
    rte_rcu_qsbr_thread_register(rcu, index);
    rte_rcu_qsbr_thread_online(rcu, index);
    last_drain_tsc = rte_rdtsc();
    uint32_t idle_turns = 0;
    // Busy time: a turn that received packets lasts from its start to the next turn's start
    // (its TX flush and quiescent state included), so the rdtsc every turn takes anyway
    // measures it: no extra rdtsc, one add per busy turn. 0 = the last turn was idle.
    uint64_t busy_since = 0;
    while (!shared->stop.load(std::memory_order_relaxed)) {
        const uint64_t now = rte_rdtsc();
        if (busy_since != 0) {
            counters.busy_tsc += now - busy_since;
        }
        const uint32_t n = poll_once(now);
        end_turn(n, now);
        busy_since = n != 0 ? now : 0;
        // Nothing from the flow table is held across turns: a quiescent state every turn.
        rte_rcu_qsbr_quiescent(rcu, index);
        if (n != 0 || shared->idle_sleep_us == 0) {
            idle_turns = 0;
            continue;
        }
        if (++idle_turns >= idle_turns_before_sleep) {
            flush_tx();
            rte_rcu_qsbr_thread_offline(rcu, index);
            rte_delay_us_sleep(shared->idle_sleep_us);
            rte_rcu_qsbr_thread_online(rcu, index);
            idle_turns = 0;
        }
    }
    flush_tx();
    control.drop_all(counters);  // what its TX queue still refused is not sent
    if (busy_since != 0) {
        counters.busy_tsc += rte_rdtsc() - busy_since;
    }
    rte_rcu_qsbr_thread_offline(rcu, index);
    rte_rcu_qsbr_thread_unregister(rcu, index);
    return 0;
}

void worker::end_turn(uint32_t received, uint64_t now_tsc) {
    // Holding packets back only pays while the RX queues are backlogged (every port gave a
    // full burst): then the TX buffers fill and go out by themselves in bursts. Otherwise
    // waiting for more adds latency for nothing, so send now; and at least every 100 µs.
    const bool backlogged = received >= uint32_t{burst_size} * shared->n_ports;
    if (!backlogged || now_tsc - last_drain_tsc >= drain_every_tsc) {
        flush_tx();
        last_drain_tsc = now_tsc;
    }
}

// Stage 1: rx_burst from every port, then the handoff ring (packets another worker received
// for streams this one owns) and the control plane's frames to send.
uint32_t worker::poll_once(uint64_t now_tsc) {
    rte_mbuf* pkts[burst_size];
    uint32_t total = 0;
    for (uint16_t i = 0; i < shared->n_ports; ++i) {
        const uint16_t n = rte_eth_rx_burst(shared->port_ids[i], index, pkts, burst_size);
        if (n != 0) {
            counters.rx_packets += n;
            handle_burst(pkts, n, now_tsc, false);
            total += n;
        }
    }
    if (shared->handoff[index] != nullptr) {
        const auto n = static_cast<uint16_t>(
            rte_ring_dequeue_burst(shared->handoff[index], reinterpret_cast<void**>(pkts), burst_size, nullptr));
        if (n != 0) {
            handle_burst(pkts, n, now_tsc, true);
            total += n;
        }
    }
    if (from_control != nullptr) {
        control.poll(from_control, index, now_tsc, counters);
    }
    ++counters.polls;
    if (total != 0) {
        ++counters.busy_polls;
    }
    return total;
}

// Stage 7: TX. Packets wait in per-port buffers (send) and leave in bursts; flush_tx drains
// them (end_turn decides when).
void worker::flush_tx() {
    for (uint16_t i = 0; i < shared->n_ports; ++i) {
        const uint16_t port = shared->port_ids[i];
        rte_eth_tx_buffer_flush(port, index, tx[port]);
    }
}

// A latch set or moved: counted by interface and kind, and passed to the control plane (which
// logs it with the call) unless its ring is full. Once per stream and move, not per packet.
// m still has its received headers: the local address and port are its destination.
void worker::note_latch(const rte_mbuf* m, const flow_entry* e, const route& r, uint64_t new_src) {
    const latch_kind k = r.latched == 0                  ? latch_kind::first
                         : e->srtp_in[r.kind] != nullptr ? latch_kind::srtp_relatch
                                                         : latch_kind::plain_move;
    ++counters.latch_changes[e->iface < counted_interfaces ? e->iface : counted_interfaces - 1][static_cast<size_t>(k)];
    if (shared->latch_events == nullptr) {
        return;
    }
    const auto* uh = rte_pktmbuf_mtod_offset(m, const rte_udp_hdr*, m->l2_len + m->l3_len);
    latch_event ev;
    ev.old_src = r.latched;
    ev.new_src = new_src;
    ev.local_port = uh->dst_port;
    ev.kind = static_cast<uint8_t>(k);
    ev.iface = e->iface;
    if (e->v6 != nullptr && e->v6->in6) {
        const auto* ip6 = rte_pktmbuf_mtod_offset(m, const rte_ipv6_hdr*, m->l2_len);
        std::memcpy(ev.local6, ip6->dst_addr, sizeof(ev.local6));
        std::memcpy(ev.new6, ip6->src_addr, sizeof(ev.new6));
        uint16_t port_be = 0;
        if (endpoint_is_v6(r.latched) && !e->v6->self6->load(ev.old6, &port_be)) {
            std::memset(ev.old6, 0, sizeof(ev.old6));  // (cannot happen: the owner is the writer)
        }
    } else {
        ev.local_addr = rte_pktmbuf_mtod_offset(m, const rte_ipv4_hdr*, m->l2_len)->dst_addr;
    }
    if (rte_ring_mp_enqueue_elem(shared->latch_events, &ev, sizeof(ev)) != 0) {
        ++counters.latch_events_dropped;
    }
}

// An IPv6 source latches: the event first (it reads the old address from the slot), then
// the address (other readers find it through the word), then the word, whose fold is the
// address's own (route.h may have marked or changed the one it compared). Out of line:
// IPv4 latches do not carry it.
void worker::latch6(const rte_mbuf* m, const flow_entry* e, const route& r) {
    const auto* ip6 = rte_pktmbuf_mtod_offset(m, const rte_ipv6_hdr*, m->l2_len);
    const uint64_t word = pack_endpoint6(ip6->src_addr, endpoint_port(r.src));
    note_latch(m, e, r, word);
    e->v6->self6->store(ip6->src_addr, endpoint_port(r.src));
    e->self->latched.store(word, std::memory_order_relaxed);
}

void worker::drop(rte_mbuf* m, drop_reason why) {
    ++counters.drops[static_cast<size_t>(why)];
    rte_pktmbuf_free(m);
}

void worker::send(rte_mbuf* m, uint16_t port_id, uint32_t kind) {
    m->hash.usr = kind;
    rte_eth_tx_buffer(port_id, index, tx[port_id], m);
}

void worker::handle_burst(rte_mbuf** pkts, uint16_t n, uint64_t now_tsc, bool from_handoff) {
    flow_key keys[burst_size];
    const flow_key* key_ptrs[burst_size];
    rte_mbuf* udp[burst_size];
    const flow_entry* entries[burst_size];
    uint16_t nu = 0;

    for (uint16_t i = 0; i < n; ++i) {
        if (i + 3 < n) {
            rte_prefetch0(rte_pktmbuf_mtod(pkts[i + 3], void*));
        }
        rte_mbuf* m = pkts[i];
        if (!from_handoff) {
            counters.rx_bytes += rte_pktmbuf_pkt_len(m);
        }
        // Stage 2: classify (classify.h).
        const classified c = classify(m, *shared->locals, &keys[nu]);
        switch (c.cls) {
            case packet_class::udp:
                key_ptrs[nu] = &keys[nu];
                udp[nu++] = m;
                break;
            case packet_class::arp:
            case packet_class::nd:
                // ARP and IPv6 neighbour discovery alike: the control plane answers and learns.
                if (rte_ring_enqueue(shared->to_control, m) != 0) {
                    drop(m, drop_reason::control_full);
                } else {
                    ++counters.arp_to_control;
                }
                break;
            case packet_class::icmp_echo:
                make_icmp_echo_reply(m, shared->port_macs[m->port]);
                ++counters.icmp_echo_replies;
                send(m, m->port, tx_icmp);
                break;
            case packet_class::icmp6_echo:
                make_icmp6_echo_reply(m, shared->port_macs[m->port]);
                ++counters.icmp_echo_replies;
                send(m, m->port, tx_icmp);
                break;
            case packet_class::drop:
                drop(m, c.why);
                break;
        }
    }
    if (nu == 0) {
        return;
    }
    // Stage 3: lookup, for the whole burst at once, then the owner check.
    shared->flows->lookup_bulk(key_ptrs, nu, entries);
    // The entries of 10k+ calls are not in cache: start every load now, and each stream's
    // state a few packets ahead of its use (~2x at 10k calls in the pipeline benchmark).
    for (uint16_t j = 0; j < nu; ++j) {
        if (entries[j] != nullptr) {
            rte_prefetch0(entries[j]);
        }
    }
    for (uint16_t j = 0; j < nu && j < 3; ++j) {
        prefetch_stream(entries[j]);
    }
    rte_mbuf* mine[burst_size];
    const flow_entry* mine_entries[burst_size];
    uint16_t nm = 0;
    for (uint16_t j = 0; j < nu; ++j) {
        if (j + 3 < nu) {
            prefetch_stream(entries[j + 3]);
        }
        rte_mbuf* m = udp[j];
        const flow_entry* e = entries[j];
        if (e == nullptr) {
            // An IPv6 key (v6_slot) names one of our addresses (classify() checked); ours means
            // served now (a group's address a peer holds is not for us).
            const dp::local_addresses& l = *shared->locals;
            const bool ours = keys[j].v6_slot != 0 ? l.is_active(keys[j].v6_slot - 1u)
                                                   : l.find(m->port, keys[j].local_addr) != nullptr;
            drop(m, ours ? drop_reason::unknown_port : not_ours(rte_pktmbuf_mtod(m, const uint8_t*)));
            continue;
        }
        if (e->in_port_id != m->port) {
            drop(m, drop_reason::wrong_port);
            continue;
        }
        if (e->owner != index) {
            // The stream's state has one writer: pass the packet to it.
            if (e->owner >= shared->n_workers || rte_ring_enqueue(shared->handoff[e->owner], m) != 0) {
                drop(m, drop_reason::handoff_full);
            } else {
                ++counters.handed_off;
            }
            continue;
        }
        if (e->v6 != nullptr) [[unlikely]] {
            // The line the owner check just read holds the pointer; its block is read by the
            // route a few packets on (forward_burst).
            rte_prefetch0(e->v6.get());
        }
        mine[nm] = m;
        mine_entries[nm++] = e;
    }
    forward_burst(mine, mine_entries, nm, now_tsc);
}

namespace {
drop_reason srtp_drop(srtp::result r) {
    switch (r) {
        case srtp::result::auth_failed:
            return drop_reason::srtp_auth_failed;
        case srtp::result::replay:
            return drop_reason::srtp_replay;
        case srtp::result::ssrc_limit:
            return drop_reason::srtp_ssrc_limit;
        case srtp::result::index_reuse:
            return drop_reason::srtp_index_reuse;
        case srtp::result::no_room:
            return drop_reason::srtp_no_room;
        case srtp::result::bad_mki:
            return drop_reason::srtp_bad_mki;
        default:
            return drop_reason::srtp_malformed;
    }
}

}  // namespace

// The packets of a burst this worker owns. Their SRTP work runs as one batch when enough of
// them need it (srtp/batch.h, ~25% less per SRTP packet), otherwise packet by packet: the
// checks before the crypto (source policy, precheck, authentication budget) run first for
// a round of packets, then the round's crypto, then authentication results, latching,
// rewrite and TX in packet order. A round ends before a packet whose checks read state an
// earlier packet of the round may still change (its stream's latch and budget, its
// destination's latch, its SRTP contexts), so drops and state changes are exactly those of
// handling the packets one at a time; with many streams a burst is one round.
//
// Grouping by stream: a packet of a stream already in the round stays in it when the
// earlier ones are quiet (no token taken, nothing to latch) and its own checks cannot come
// out otherwise after theirs (may_join_run), so a burst holding runs of one stream's packets
// is one round, and the crypto batches them in order (srtp/batch.cc, layers).
//
// One pass without crypto: a packet with no SRTP work that is routed while the round is empty
// finishes at once (plain RTP never builds a round: ~7 ns/pkt less at 100 calls, 8%).
void worker::forward_burst(rte_mbuf** pkts, const flow_entry** entries, uint16_t n, uint64_t now_tsc) {
    route routes[burst_size];
    srtp::batch_item items[burst_size];
    uint8_t item_of[burst_size];
    uint16_t go[burst_size];  // routed packets of the round, in order
    // What the round's routed packets may change in their finish.
    const stream_state* round_self[burst_size];
    const srtp::context* round_in[burst_size];
    const srtp::context* round_out[burst_size];
    bool round_quiet[burst_size];
    bool run_quiet = false;  // every packet of the run of one stream the round ends with is quiet
    uint16_t ng = 0;
    uint16_t ni = 0;
    const srtp::batch_item none;
    const latch_clock clock{now_tsc, quiet_cycles, auth_token_cycles};
    bool recorded = false;  // the round holds a packet of a recorded flow (record_stage.h)
    bool copied = false;    // a recorded packet without crypto was copied (record_plain)
    // Inlined as it is without the recording branch: left to itself GCC made it a call
    // (bench/RESULTS.md: plain RTP 8% slower with nothing recorded).
    auto finish_round = [&]() __attribute__((always_inline)) {
        if (recorded) [[unlikely]] {
            // Stage 5 with the recording's copies around it.
            record_crypto(*recording, pkts, entries, items, ni, crypto, now_tsc);
            recorded = false;
        } else if (crypto != nullptr && ni >= crypto->min_batch()) {
            // Stage 5: the round's SRTP, batched (srtp/batch.h) or one by one.
            crypto->run(items, ni);
        } else {
            for (uint16_t k = 0; k < ni; ++k) {
                srtp::run_item(items[k]);
            }
        }
        for (uint16_t g = 0; g < ng; ++g) {
            const uint16_t i = go[g];
            forward_finish(pkts[i], entries[i], routes[i], routes[i].crypto ? items[item_of[i]] : none, now_tsc);
        }
        ng = 0;
        ni = 0;
    };
    // A 512-bit filter of the round's stream states and contexts: the exact scan (which cost
    // ~20 ns/pkt at burst 32 when done for every packet) runs only when the filter hits.
    uint64_t seen[8] = {};
    auto mark = [&](const void* p) {
        const auto h = static_cast<uint32_t>((reinterpret_cast<uintptr_t>(p) >> 6) * 0x9e3779b1u) >> 23;
        const uint64_t bit = uint64_t{1} << (h & 63);
        const bool hit = (seen[h >> 6] & bit) != 0;
        seen[h >> 6] |= bit;
        return hit;
    };
    auto maybe_in_round = [&](const void* p) {
        const auto h = static_cast<uint32_t>((reinterpret_cast<uintptr_t>(p) >> 6) * 0x9e3779b1u) >> 23;
        return (seen[h >> 6] & (uint64_t{1} << (h & 63))) != 0;
    };
    // IPv6 flows: every packet's latch slots at once (their blocks were prefetched by the
    // owner check), so that the route finds them in cache; an IPv4 packet tests a pointer.
    for (uint16_t i = 0; i < n; ++i) {
        prefetch_v6_states(entries[i]);
    }
    for (uint16_t i = 0; i < n; ++i) {
        const flow_entry* e = entries[i];
        const uint8_t kind = kind_on_flow(pkts[i], *e);
        const srtp::context* in = e->srtp_in[kind];
        const srtp::context* out = e->srtp_out[kind];
        // The next packet of the run the round ends with: the run's first packet passed the
        // full check, and nothing but this stream joined since, so only its own checks and
        // the run's quietness decide.
        // A round that so far holds only this stream gains nothing from it: its crypto would
        // be one packet per batch layer anyway, and one by one keeps the packet in L1 (a burst
        // that is one stream's run measured ~10% slower grouped).
        if (ng != 0 && e->self == round_self[ng - 1] && run_quiet) {
            if (round_self[0] == e->self || !may_join_run(pkts[i], e, kind)) {
                finish_round();
                std::memset(seen, 0, sizeof(seen));
            }
        } else if (ng != 0 && (maybe_in_round(e->self) || (e->sibling != nullptr && maybe_in_round(e->sibling)) ||
                               (in != nullptr && maybe_in_round(in)) || (out != nullptr && maybe_in_round(out)))) {
            int joins = -1;  // same stream as an earlier packet of the round: -1 = not decided yet
            for (uint16_t g = 0; g < ng; ++g) {
                bool cut = round_self[g] == e->sibling;
                if (!cut && round_self[g] == e->self) {
                    if (joins < 0) {
                        joins = round_self[0] != e->self && may_join_run(pkts[i], e, kind) ? 1 : 0;
                    }
                    cut = joins == 0 || !round_quiet[g];
                } else if (!cut) {
                    cut = (in != nullptr && round_in[g] == in) || (out != nullptr && round_out[g] == out);
                }
                if (cut) {
                    finish_round();
                    std::memset(seen, 0, sizeof(seen));
                    break;
                }
            }
        }
        // Stage 4: source check and route (route.h).
        const drop_reason why = route_packet(*e, pkts[i], kind, clock, *shared->neighbours, &routes[i]);
        if (why != drop_reason::count) {
            bump(e->self->errors, 1);
            drop(pkts[i], why);
            continue;
        }
        if (ng == 0 && !routes[i].crypto && (e->flags & flow_recorded) == 0) {
            // Nothing of the round waits for its crypto: a packet without any finishes now,
            // in order, as it would alone (plain RTP: one pass, no round bookkeeping, its
            // lines still in L1).
            forward_finish(pkts[i], e, routes[i], none, now_tsc);
            continue;
        }
        round_self[ng] = e->self;
        round_in[ng] = in;
        round_out[ng] = out;
        // Its finish changes nothing a later packet's checks read: no token to give back, no
        // latch to set or move.
        round_quiet[ng] = !routes[i].budgeted && !(routes[i].latch && routes[i].src != routes[i].latched);
        run_quiet = round_quiet[ng] && (ng == 0 || round_self[ng - 1] != e->self || run_quiet);
        mark(e->self);
        if (in != nullptr) {
            mark(in);
        }
        if (out != nullptr) {
            mark(out);
        }
        go[ng++] = i;
        if (routes[i].crypto) {
            items[ni] = crypto_item(pkts[i], e, routes[i]);
            item_of[i] = static_cast<uint8_t>(ni++);
        }
        if ((e->flags & flow_recorded) != 0) [[unlikely]] {
            if (routes[i].crypto) {
                recorded |= record_join(recording, i, static_cast<int16_t>(item_of[i]), items);
            } else {
                copied |= record_plain_inline(recording, pkts[i], *e, routes[i], now_tsc);
            }
        }
    }
    finish_round();
    if (copied) [[unlikely]] {
        recording->ring->commit();  // record_plain's copies (record_crypto commits its own)
    }
}

// Whether a packet's checks give the same answer before and after earlier quiet packets of
// its stream finish: they leave the latch and the budget alone, so what is left is the
// precheck against SRTP state they may advance. From the latched source (trusted: no token
// unless doubtful), a packet that is plausible for an SSRC the context already knows stays
// plausible or becomes a free drop (a replay of one of them) once they are recorded: neither
// takes a token. Reads only, no side effect.
bool worker::may_join_run(const rte_mbuf* m, const flow_entry* e, uint8_t kind) const {
    if (e->forward != forward_on) {
        return false;
    }
    const auto* uh = rte_pktmbuf_mtod_offset(m, const rte_udp_hdr*, m->l2_len + m->l3_len);
    const uint64_t latched = e->self->latched.load(std::memory_order_relaxed);
    uint32_t frame_len = 0;
    if (latched == 0 || source_of(*e, m, latched, &frame_len) != latched) {
        return false;
    }
    const srtp::context* c = e->srtp_in[kind];
    if (c == nullptr) {
        return true;
    }
    if (c->ssrc_count() == 0) {
        return false;  // the first SSRC is plausible now, a second one would not be after
    }
    const auto* payload = reinterpret_cast<const uint8_t*>(uh + 1);
    const uint32_t plen = rte_be_to_cpu_16(uh->dgram_len) - static_cast<uint32_t>(sizeof(rte_udp_hdr));
    const srtp::precheck pre =
        kind == kind_rtp ? srtp::precheck_rtp(*c, payload, plen) : srtp::precheck_rtcp(*c, payload, plen);
    return pre == srtp::precheck::plausible;
}

srtp::batch_item worker::crypto_item(rte_mbuf* m, const flow_entry* e, const route& r) {
    srtp::batch_item it;
    it.in = e->srtp_in[r.kind];
    it.out = e->srtp_out[r.kind];
    it.pkt = r.payload;
    it.len = r.received_len;
    it.room = rte_pktmbuf_tailroom(m);
    it.rtcp = r.kind == kind_rtcp;
    // The crypto reads and writes every byte of the packet, the tag after it included; the
    // RX loop only prefetched its first line.
    for (uint32_t off = 64; off < r.received_len + srtp::max_overhead + 64; off += 64) {
        rte_prefetch0(r.payload + off - (reinterpret_cast<uintptr_t>(r.payload) & 63));
    }
    return it;
}

// After the round's crypto, in packet order: stage 5's result (authentic or not, and only
// then the latch), stage 6 (rewrite) and stage 7 (into the TX buffer).
void worker::forward_finish(rte_mbuf* m, const flow_entry* e, const route& r, const srtp::batch_item& it,
                            uint64_t now_tsc) {
    stream_state* self = e->self;
    const uint64_t dest = r.dest;
    const uint64_t mac = r.mac;
    const uint8_t kind = r.kind;
    const bool crypto = r.crypto;
    const uint32_t received_len = r.received_len;
    // A packet that failed authentication or the replay check changes nothing (its token
    // stays spent). Only an authentic packet latches (a failed protect after a good
    // unprotect still does).
    if (it.in != nullptr && !it.unprotected) {
        bump(self->errors, 1);
        drop(m, srtp_drop(it.res));
        return;
    }
    if (r.budgeted) {
        return_auth_token(*self);
    }
    bool latch = r.latch;
    if (r.moving) {
        latch = !r.top || it.in->highest_index(r.ssrc) > r.top;
    }
    if (latch && r.src != r.latched) {
        if (endpoint_is_v6(r.src)) [[unlikely]] {
            latch6(m, e, r);
        } else {
            self->latched.store(r.src, std::memory_order_relaxed);
            note_latch(m, e, r, r.src);
        }
        if (it.in != nullptr) {
            self->heard_tsc = now_tsc;
        }
    }
    if (it.res != srtp::result::ok) {
        bump(self->errors, 1);
        drop(m, srtp_drop(it.res));
        return;
    }
    const uint32_t plen = crypto ? it.len : received_len;
    if (plen != received_len) {
        if (plen > received_len) {
            rte_pktmbuf_append(m, static_cast<uint16_t>(plen - received_len));
        } else {
            rte_pktmbuf_trim(m, static_cast<uint16_t>(received_len - plen));
        }
        if (e->v6 != nullptr && e->v6->in6) {
            set_udp6_payload_len(m, plen);
        } else {
            set_udp_payload_len(m, plen);
        }
    }

    // Stage 6: rewrite (rewrite.h; rewrite6.h with an IPv6 side).
    bool rewritten = false;
    if (e->v6 == nullptr) [[likely]] {
        rewrite_target t{e->out_src_addr,     e->out_src_port, endpoint_addr(dest),
                         endpoint_port(dest), e->vlan,         shared->port_macs[e->out_port_id],
                         unpack_mac(mac)};
        t.payload_changed = crypto;
        rewritten = rewrite_udp(m, t);
    } else {
        rewritten = rewrite_udp6(m, rewrite_target_of(*e, r, shared->port_macs[e->out_port_id]));
    }
    if (!rewritten) {
        bump(self->errors, 1);
        drop(m, drop_reason::no_headroom);
        return;
    }
    bump(self->packets, 1);
    bump(self->bytes, received_len);
    self->last_rx_tsc.store(now_tsc, std::memory_order_relaxed);
    // Counted before send(): a flush inside it may free m.
    const uint32_t sent_frame = rte_pktmbuf_pkt_len(m);
    counters.relayed_bytes += sent_frame;
    const media_kind mk_in = media_kind_of(kind == kind_rtcp, e->srtp_in[kind] != nullptr);
    const media_kind mk_out = media_kind_of(kind == kind_rtcp, e->srtp_out[kind] != nullptr);
    traffic_counter& t_in =
        counters.traffic[e->in_port_id][static_cast<size_t>(traffic_dir::rx)][static_cast<size_t>(mk_in)];
    traffic_counter& t_out =
        counters.traffic[e->out_port_id][static_cast<size_t>(traffic_dir::tx)][static_cast<size_t>(mk_out)];
    ++t_in.packets;
    t_in.bytes += r.received_frame;
    ++t_out.packets;
    t_out.bytes += sent_frame;
    // Stage 7: TX.
    if (kind == kind_rtp) {
        ++counters.relayed_rtp;
        send(m, e->out_port_id, tx_media_tag(tx_rtp, e->out_port_id, mk_out));
    } else {
        ++counters.relayed_rtcp;
        send(m, e->out_port_id, tx_media_tag(tx_rtcp, e->out_port_id, mk_out));
    }
}

}  // namespace rtprelay::dp
