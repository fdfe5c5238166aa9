#include "bench/pipeline/timed_loop.h"

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>
#include <rte_pause.h>
#include <rte_ring.h>

#include <sched.h>
#include <sys/resource.h>
#include <time.h>

#include <cstring>
#include <stdexcept>

#include "bench/pipeline/relay_under_test.h"

namespace rtprelay::pipeline {

namespace {

constexpr uint32_t window_bursts = 8;
// A lane stops injecting while another worker's handoff ring is more than half full: the
// generator's flow control, not the relay's.
constexpr unsigned handoff_high_water = dp::plane::handoff_ring_size / 2;

int stamp_offset = -1;  // the arrival stamp's dynamic field, once registered

uint64_t thread_cpu_ns() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<uint64_t>(ts.tv_nsec);
}

uint64_t context_switches() {
    rusage ru{};
    getrusage(RUSAGE_THREAD, &ru);
    return static_cast<uint64_t>(ru.ru_nvcsw) + static_cast<uint64_t>(ru.ru_nivcsw);
}

uint64_t& stamp_of(rte_mbuf* m) { return *RTE_MBUF_DYNFIELD(m, stamp_offset, uint64_t*); }

// Runs inside rte_eth_tx_burst: arrival stamp -> cycles from arrival to departure.
uint16_t stamp_departure(uint16_t, uint16_t, rte_mbuf** pkts, uint16_t n, void*) {
    const uint64_t now = rte_rdtsc();
    for (uint16_t i = 0; i < n; ++i) {
        uint64_t& s = stamp_of(pkts[i]);
        s = now - s;
    }
    return n;
}

}  // namespace

void register_stamp_field() {
    if (stamp_offset >= 0) {
        return;
    }
    rte_mbuf_dynfield desc{};
    std::strncpy(desc.name, "rtprelay_pipe_arrival", sizeof(desc.name) - 1);
    desc.size = sizeof(uint64_t);
    desc.align = alignof(uint64_t);
    stamp_offset = rte_mbuf_dynfield_register(&desc);
    if (stamp_offset < 0) {
        throw std::runtime_error("rte_mbuf_dynfield_register failed");
    }
}

departure_stamps::departure_stamps(eal_env& env) : env_(env) {
    for (int side = 0; side < 2; ++side) {
        for (unsigned q = 0; q < env.lanes(); ++q) {
            const rte_eth_rxtx_callback* cb =
                rte_eth_add_tx_callback(env.port(side).id, static_cast<uint16_t>(q), stamp_departure, nullptr);
            if (cb == nullptr) {
                throw std::runtime_error("rte_eth_add_tx_callback failed (RTE_ETHDEV_RXTX_CALLBACKS off?)");
            }
            where_.emplace_back(env.port(side).id, static_cast<uint16_t>(q));
            callbacks_.push_back(cb);
        }
    }
}

departure_stamps::~departure_stamps() {
    // Called when no lane runs any more: the callbacks can be freed at once.
    for (size_t i = 0; i < callbacks_.size(); ++i) {
        const auto* cb = static_cast<const rte_eth_rxtx_callback*>(callbacks_[i]);
        if (rte_eth_remove_tx_callback(where_[i].first, where_[i].second, cb) == 0) {
            rte_free(const_cast<rte_eth_rxtx_callback*>(cb));
        }
    }
}

void loop_totals::add(const loop_totals& o) {
    for (int s = 0; s < 2; ++s) {
        injected[s] += o.injected[s];
        delivered[s] += o.delivered[s];
    }
    worker_cycles += o.worker_cycles;
    clean_cycles += o.clean_cycles;
    clean_packets += o.clean_packets;
    loop_cpu_ns += o.loop_cpu_ns;
    samples.insert(samples.end(), o.samples.begin(), o.samples.end());
    offered += o.offered;
    rx_lost += o.rx_lost;
    switches += o.switches;
    stalls += o.stalls;
    stall_cycles += o.stall_cycles;
    longest_turn = longest_turn > o.longest_turn ? longest_turn : o.longest_turn;
    paced_seconds = paced_seconds > o.paced_seconds ? paced_seconds : o.paced_seconds;
    latency.insert(latency.end(), o.latency.begin(), o.latency.end());
}

lane::lane(eal_env& env, relay_under_test& relay, uint32_t index, uint32_t sample_every, lane_sync& sync,
           uint32_t drain_us)
    : env_(env), relay_(relay), index_(index), sample_every_(sample_every), sync_(sync) {
    worker_rule_ = drain_us == drain_as_worker;
    drain_every_ = worker_rule_ ? 0 : (rte_get_tsc_hz() * drain_us + 999'999) / 1'000'000;
}

// Frames [first, first + n) of the chunk in fresh mbufs, on `side`'s RX queue of this lane;
// in paced mode frame i is stamped with arrival time stamp0 + i * interval.
void lane::inject(const frame_chunk& c, uint32_t first, uint32_t n, int side, uint64_t stamp0) {
    rte_mbuf* m[burst];
    if (rte_pktmbuf_alloc_bulk(env_.pool(), m, n) != 0) {
        throw std::runtime_error("mbuf pool exhausted: a packet was neither sent nor freed");
    }
    const ring_port& port = env_.port(side);
    for (uint32_t i = 0; i < n; ++i) {
        const uint16_t len = c.len[first + i];
        std::memcpy(rte_pktmbuf_mtod(m[i], void*), c.frame(first + i), len);
        m[i]->data_len = len;
        m[i]->pkt_len = len;
        m[i]->port = port.id;  // as a NIC's driver sets it; net_ring leaves it alone
    }
    if (paced_) {
        for (uint32_t i = 0; i < n; ++i) {
            stamp_of(m[i]) = stamp0 + static_cast<uint64_t>(static_cast<double>(first + i) * paced_interval_);
        }
    }
    if (rte_ring_enqueue_burst(port.rx[index_], reinterpret_cast<void**>(m), n, nullptr) != n) {
        throw std::runtime_error("RX ring full: the worker did not take the previous burst");
    }
    totals.injected[side] += n;
    all_injected_ += n;
}

void lane::sink() {
    for (int out = 0; out < 2; ++out) {
        void* objs[2 * burst];
        unsigned got = 0;
        while ((got = rte_ring_dequeue_burst(env_.port(out).tx[index_], objs, 2 * burst, nullptr)) != 0) {
            totals.delivered[out] += got;
            all_delivered_ += got;
            for (unsigned i = 0; i < got; ++i) {
                auto* m = static_cast<rte_mbuf*>(objs[i]);
                if (paced_) {
                    const uint64_t cycles = stamp_of(m);
                    totals.latency.push_back(cycles > UINT32_MAX ? UINT32_MAX : static_cast<uint32_t>(cycles));
                }
                if (++totals.outputs % sample_every_ == 0) {
                    output_sample& s = totals.samples.emplace_back();
                    s.side = static_cast<uint8_t>(out);
                    s.len = static_cast<uint16_t>(rte_pktmbuf_data_len(m) < s.bytes.size() ? rte_pktmbuf_data_len(m)
                                                                                           : s.bytes.size());
                    std::memcpy(s.bytes.data(), rte_pktmbuf_mtod(m, const void*), s.len);
                }
            }
            rte_pktmbuf_free_bulk(reinterpret_cast<rte_mbuf**>(objs), got);
        }
    }
}

bool lane::handoff_backlogged() const {
    for (uint32_t w = 0; w < relay_.n_workers(); ++w) {
        if (w != index_ && relay_.handoff_backlog(w) > handoff_high_water) {
            return true;
        }
    }
    return false;
}

void lane::untimed_turn() {
    dp::worker& w = relay_.worker(index_);
    const uint64_t now = rte_rdtsc();
    const uint32_t got = w.poll_once(now);
    if (paced_ && worker_rule_) {
        w.end_turn(got, now);
    } else if (!paced_ || now - last_drain_ >= drain_every_) {
        w.flush_tx();
        last_drain_ = now;
    }
    relay_.quiescent(index_);
    sink();
    if (got == 0) {
        sched_yield();  // lanes may share a CPU (fewer CPUs than workers): let the other run
    }
}

void lane::timed_pass(const frame_chunk& c) {
    dp::worker& w = relay_.worker(index_);
    paced_ = false;
    const uint64_t start = thread_cpu_ns();
    uint64_t window_switches = context_switches();
    uint64_t window_cycles = 0;
    uint64_t window_packets = 0;
    for (uint32_t b = 0; b < c.bursts(); ++b) {
        while (handoff_backlogged() && !sync_.abort.load(std::memory_order_relaxed)) {
            untimed_turn();
        }
        const int side = c.side[b];
        const uint32_t first = b * burst;
        const uint32_t n = first + burst < c.n ? burst : c.n - first;
        inject(c, first, n, side, 0);

        const uint64_t relayed = w.counters.relayed_rtp;
        const uint64_t t0 = rte_rdtsc();
        w.poll_once(t0);
        w.flush_tx();
        const uint64_t cycles = rte_rdtsc() - t0;
        relay_.quiescent(index_);
        totals.worker_cycles += cycles;
        window_cycles += cycles;
        window_packets += w.counters.relayed_rtp - relayed;
        if ((b + 1) % window_bursts == 0 || b + 1 == c.bursts()) {
            const uint64_t now_switches = context_switches();
            if (now_switches == window_switches) {
                totals.clean_cycles += window_cycles;
                totals.clean_packets += window_packets;
            }
            window_switches = now_switches;
            window_cycles = 0;
            window_packets = 0;
        }
        sink();
    }
    totals.loop_cpu_ns += thread_cpu_ns() - start;
}

void lane::paced_pass(const frame_chunk& c, double interval) {
    dp::worker& w = relay_.worker(index_);
    paced_ = true;
    paced_interval_ = interval;
    const uint64_t switches = context_switches();
    const uint64_t t0 = rte_rdtsc();
    last_drain_ = t0;
    const uint64_t stall = rte_get_tsc_hz() / 1'000'000 * loop_totals::stall_us;
    uint64_t prev = t0;
    uint32_t next = 0;
    while (next < c.n) {
        const uint64_t now = rte_rdtsc();
        const uint64_t turn = now - prev;
        prev = now;
        if (turn > stall) {
            ++totals.stalls;
            totals.stall_cycles += turn;
        }
        totals.longest_turn = turn > totals.longest_turn ? turn : totals.longest_turn;
        // Frames [next, limit) are due by now; on the RX queues a burst's worth (one side) at a time.
        const double arrived = static_cast<double>(now - t0) / interval + 1;
        const uint32_t limit = arrived >= c.n ? c.n : static_cast<uint32_t>(arrived);
        while (next < limit) {
            const uint32_t b = next / burst;
            const uint32_t end = (b + 1) * burst < limit ? (b + 1) * burst : limit;
            const uint32_t due = end;
            const int side = c.side[b];
            const uint32_t n = due - next;
            const unsigned room = rte_ring_free_count(env_.port(side).rx[index_]);
            const uint32_t k = n < room ? n : room;
            if (k != 0) {
                inject(c, next, k, side, t0);
            }
            totals.offered += n;
            totals.rx_lost += n - k;
            next = due;
        }
        const uint32_t got = w.poll_once(now);
        if (worker_rule_) {
            w.end_turn(got, now);
        } else if (now - last_drain_ >= drain_every_) {
            w.flush_tx();
            last_drain_ = now;
        }
        relay_.quiescent(index_);
        sink();
    }
    totals.paced_seconds += static_cast<double>(c.n) * interval / static_cast<double>(rte_get_tsc_hz());
    totals.switches += context_switches() - switches;
}

uint64_t lane::generator_pass(const frame_chunk& c) {
    paced_ = false;
    const uint64_t start = thread_cpu_ns();
    const uint64_t injected[2] = {totals.injected[0], totals.injected[1]};
    const uint64_t all_injected = all_injected_;
    for (uint32_t b = 0; b < c.bursts(); ++b) {
        const uint32_t first = b * burst;
        const uint32_t n = first + burst < c.n ? burst : c.n - first;
        inject(c, first, n, c.side[b], 0);
        void* objs[burst];
        const unsigned got = rte_ring_dequeue_burst(env_.port(c.side[b]).rx[index_], objs, burst, nullptr);
        rte_pktmbuf_free_bulk(reinterpret_cast<rte_mbuf**>(objs), got);
    }
    totals.injected[0] = injected[0];  // these never reached the relay
    totals.injected[1] = injected[1];
    all_injected_ = all_injected;
    return thread_cpu_ns() - start;
}

bool lane::barrier(bool drain) {
    sync_.injected.fetch_add(all_injected_ - reported_injected_);
    reported_injected_ = all_injected_;
    auto publish_delivered = [this] {
        const uint64_t d = all_delivered_;
        if (d != reported_delivered_) {
            sync_.delivered.fetch_add(d - reported_delivered_);
            reported_delivered_ = d;
        }
    };
    publish_delivered();
    ++barriers_;
    sync_.arrived.fetch_add(1);
    const uint64_t target = barriers_ * sync_.lanes;
    const uint64_t patience = rte_get_tsc_hz() * 10;
    uint64_t last_change = rte_rdtsc();
    uint64_t seen = sync_.arrived.load() + sync_.delivered.load();
    for (;;) {
        if (sync_.abort.load()) {
            return false;
        }
        if (sync_.arrived.load() >= target && (!drain || sync_.injected.load() == sync_.delivered.load())) {
            return true;
        }
        untimed_turn();
        publish_delivered();
        const uint64_t now_seen = sync_.arrived.load() + sync_.delivered.load();
        const uint64_t now = rte_rdtsc();
        if (now_seen != seen) {
            seen = now_seen;
            last_change = now;
        } else if (now - last_change > patience) {
            sync_.abort.store(true);
            return false;
        }
    }
}

}  // namespace rtprelay::pipeline
