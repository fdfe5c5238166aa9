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

#include <array>
#include <cinttypes>
#include <cstdio>
#include <exception>

#include "bench/loadgen/busy_meter.h"
#include "bench/loadgen/stop_signal.h"
#include "dataplane/port_setup.h"

namespace lg = rtprelay::loadgen;
namespace dp = rtprelay::dp;

namespace {

constexpr uint16_t burst = 32;

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
    lg::busy_meter busy;  // the wire's own cost per frame: busy_meter.h
    busy.start(rte_rdtsc(), 0);
    bool worked = false;
    while (!lg::stop_requested()) {
        busy.turn(rte_rdtsc(), worked, dirs[0].passed + dirs[1].passed);
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
    const double busy_s = static_cast<double>(busy.busy_tsc()) / hz;
    const double clean_s = static_cast<double>(busy.clean_busy_tsc()) / hz;
    const uint64_t clean_passed = busy.clean_handled();
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
