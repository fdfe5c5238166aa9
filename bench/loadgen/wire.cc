// rtprelay-wire: DPDK port 0 joined to port 1, frames passed on unchanged both ways, on one
// lcore, until SIGINT/SIGTERM. It stands where the relay stands (two net_memif servers the
// generator connects to) and does the least a relay could: receive a burst, send it out of
// the other port. Two uses:
// - the load generator alone (rtprelay-loadgen --dpdk --dpdk-wire): what it can send and
//   receive when the far side costs it nothing;
// - the floor of the transport: the wire's busy ns per packet is what net_memif's receive
//   and transmit cost a poll-mode core, the part of the relay's whole-daemon figure that is
//   not the relay's own work.
// Prints, at the end, frames passed and dropped (the other port full) each way and its busy
// time (loop turns that received something) per frame, over the whole run and over the
// windows in which it was not switched out.
//
//   rtprelay-wire EAL-ARGS...      e.g. -l 1 --no-pci --no-huge -m 512 --file-prefix w
//                                  --vdev=net_memif0,role=server,socket=/run/w.sock,id=0
//                                  --vdev=net_memif1,role=server,socket=/run/w.sock,id=1

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

#include <sys/resource.h>

#include <array>
#include <cinttypes>
#include <cstdio>
#include <exception>

#include "bench/loadgen/stop_signal.h"
#include "dataplane/port_setup.h"

namespace lg = rtprelay::loadgen;
namespace dp = rtprelay::dp;

namespace {

constexpr uint16_t burst = 32;

// Busy time is also summed over 1-ms windows in which the thread was not preempted (one
// getrusage a window): the wire's own cost per frame, without the time a shared host gave to
// other processes (busy turns that were descheduled).
uint64_t involuntary_switches() {
    rusage ru{};
    getrusage(RUSAGE_THREAD, &ru);
    return static_cast<uint64_t>(ru.ru_nivcsw);
}

struct direction {
    uint16_t from = 0;
    uint16_t to = 0;
    uint64_t passed = 0;
    uint64_t dropped = 0;  // the other port did not take them
};

int run(int argc, char** argv) {
    if (rte_eal_init(argc, argv) < 0) {
        std::fprintf(stderr, "rtprelay-wire: EAL initialisation failed: %s\n", rte_strerror(rte_errno));
        return 1;
    }
    if (rte_eth_dev_count_avail() != 2) {
        std::fprintf(stderr, "rtprelay-wire: needs exactly two DPDK ports (--vdev), has %u\n",
                     rte_eth_dev_count_avail());
        rte_eal_cleanup();
        return 1;
    }
    rte_mempool* pool = dp::create_mbuf_pool("wire_mbufs", 16383, static_cast<int>(rte_socket_id()));
    dp::port_params params;
    dp::setup_port(0, params, pool);
    dp::setup_port(1, params, pool);
    lg::install_stop_handler();
    std::fprintf(stderr, "rtprelay-wire: port 0 <-> port 1\n");

    std::array<direction, 2> dirs{direction{0, 1}, direction{1, 0}};
    std::array<rte_mbuf*, burst> pkts{};
    uint64_t busy_tsc = 0;
    uint64_t turn = rte_rdtsc();
    bool worked = false;
    const uint64_t window_tsc = rte_get_tsc_hz() / 1000;
    uint64_t window_end = turn + window_tsc;
    uint64_t window_switches = involuntary_switches();
    uint64_t window_busy = 0;
    uint64_t window_passed = 0;
    uint64_t clean_busy_tsc = 0;
    uint64_t clean_passed = 0;
    while (!lg::stop_requested()) {
        const uint64_t now = rte_rdtsc();
        if (worked) {
            busy_tsc += now - turn;
        }
        if (now >= window_end) {
            const uint64_t switches = involuntary_switches();
            const uint64_t passed_now = dirs[0].passed + dirs[1].passed;
            if (switches == window_switches) {
                clean_busy_tsc += busy_tsc - window_busy;
                clean_passed += passed_now - window_passed;
            }
            window_switches = switches;
            window_busy = busy_tsc;
            window_passed = passed_now;
            window_end = now + window_tsc;
        }
        turn = now;
        worked = false;
        for (direction& d : dirs) {
            const uint16_t n = rte_eth_rx_burst(d.from, 0, pkts.data(), burst);
            if (n == 0) {
                continue;
            }
            worked = true;
            const uint16_t sent = rte_eth_tx_burst(d.to, 0, pkts.data(), n);
            d.passed += sent;
            if (sent < n) {
                d.dropped += n - sent;
                rte_pktmbuf_free_bulk(pkts.data() + sent, n - sent);
            }
        }
    }
    const uint64_t passed = dirs[0].passed + dirs[1].passed;
    const double hz = static_cast<double>(rte_get_tsc_hz());
    const double busy_s = static_cast<double>(busy_tsc) / hz;
    const double clean_s = static_cast<double>(clean_busy_tsc) / hz;
    std::printf("wire: 0->1 passed %" PRIu64 " dropped %" PRIu64 ", 1->0 passed %" PRIu64 " dropped %" PRIu64
                ", busy %.3f s, %.1f ns per frame; %.1f ns in windows without a preemption (%.0f %% of the "
                "frames)\n",
                dirs[0].passed, dirs[0].dropped, dirs[1].passed, dirs[1].dropped, busy_s,
                passed == 0 ? 0.0 : busy_s * 1e9 / static_cast<double>(passed),
                clean_passed == 0 ? 0.0 : clean_s * 1e9 / static_cast<double>(clean_passed),
                passed == 0 ? 0.0 : 100.0 * static_cast<double>(clean_passed) / static_cast<double>(passed));
    dp::stop_port(0);
    dp::stop_port(1);
    rte_mempool_free(pool);
    rte_eal_cleanup();
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    try {
        return run(argc, argv);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "rtprelay-wire: %s\n", e.what());
        return 1;
    }
}
