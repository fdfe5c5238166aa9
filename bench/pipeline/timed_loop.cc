#include "bench/pipeline/timed_loop.h"

#include <rte_cycles.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include <sys/resource.h>
#include <time.h>

#include <cstring>
#include <stdexcept>

#include "bench/pipeline/relay_under_test.h"

namespace rtprelay::pipeline {

namespace {

constexpr uint32_t window_bursts = 8;

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

// Frames [first, first + n) of the chunk in fresh mbufs, on `port`'s RX ring.
void inject(eal_env& env, const frame_chunk& c, uint32_t first, uint32_t n, const ring_port& port) {
    rte_mbuf* m[burst];
    if (rte_pktmbuf_alloc_bulk(env.pool(), m, n) != 0) {
        throw std::runtime_error("mbuf pool exhausted: a packet was neither sent nor freed");
    }
    for (uint32_t i = 0; i < n; ++i) {
        const uint16_t len = c.len[first + i];
        std::memcpy(rte_pktmbuf_mtod(m[i], void*), c.frame(first + i), len);
        m[i]->data_len = len;
        m[i]->pkt_len = len;
        m[i]->port = port.id;  // as a NIC's driver sets it; net_ring leaves it alone
    }
    if (rte_ring_enqueue_burst(port.rx, reinterpret_cast<void**>(m), n, nullptr) != n) {
        throw std::runtime_error("RX ring full: the worker did not take the previous burst");
    }
}

}  // namespace

void worker_pass(eal_env& env, relay_under_test& relay, const frame_chunk& c, uint32_t sample_every, loop_totals* t) {
    dp::worker& w = relay.worker();
    const uint64_t start = thread_cpu_ns();
    uint64_t window_switches = context_switches();
    uint64_t window_cycles = 0;
    uint64_t window_packets = 0;
    for (uint32_t b = 0; b < c.bursts(); ++b) {
        const int side = c.side[b];
        const uint32_t first = b * burst;
        const uint32_t n = first + burst < c.n ? burst : c.n - first;
        inject(env, c, first, n, env.port(side));
        t->injected[side] += n;

        const uint64_t t0 = rte_rdtsc();
        w.poll_once(t0);
        w.flush_tx();
        const uint64_t cycles = rte_rdtsc() - t0;
        relay.quiescent();
        t->worker_cycles += cycles;
        window_cycles += cycles;
        window_packets += n;
        if ((b + 1) % window_bursts == 0 || b + 1 == c.bursts()) {
            const uint64_t now_switches = context_switches();
            if (now_switches == window_switches) {
                t->clean_cycles += window_cycles;
                t->clean_packets += window_packets;
            }
            window_switches = now_switches;
            window_cycles = 0;
            window_packets = 0;
        }

        for (int out = 0; out < 2; ++out) {
            void* objs[2 * burst];
            unsigned got = 0;
            while ((got = rte_ring_dequeue_burst(env.port(out).tx, objs, 2 * burst, nullptr)) != 0) {
                t->delivered[out] += got;
                for (unsigned i = 0; i < got; ++i) {
                    if (++t->outputs % sample_every == 0) {
                        const auto* m = static_cast<const rte_mbuf*>(objs[i]);
                        output_sample& s = t->samples.emplace_back();
                        s.side = static_cast<uint8_t>(out);
                        s.len = static_cast<uint16_t>(
                            rte_pktmbuf_data_len(m) < s.bytes.size() ? rte_pktmbuf_data_len(m) : s.bytes.size());
                        std::memcpy(s.bytes.data(), rte_pktmbuf_mtod(m, const void*), s.len);
                    }
                }
                rte_pktmbuf_free_bulk(reinterpret_cast<rte_mbuf**>(objs), got);
            }
        }
    }
    t->loop_cpu_ns += thread_cpu_ns() - start;
}

uint64_t generator_pass(eal_env& env, const frame_chunk& c) {
    const uint64_t start = thread_cpu_ns();
    for (uint32_t b = 0; b < c.bursts(); ++b) {
        const uint32_t first = b * burst;
        const uint32_t n = first + burst < c.n ? burst : c.n - first;
        const ring_port& port = env.port(c.side[b]);
        inject(env, c, first, n, port);
        void* objs[burst];
        const unsigned got = rte_ring_dequeue_burst(port.rx, objs, burst, nullptr);
        rte_pktmbuf_free_bulk(reinterpret_cast<rte_mbuf**>(objs), got);
    }
    return thread_cpu_ns() - start;
}

}  // namespace rtprelay::pipeline
