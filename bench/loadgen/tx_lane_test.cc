// tx_lane on a net_ring port with two queue pairs: frames go out on the lane's own queue,
// what the port takes is counted, what it refuses waits the hold time and is then freed.

#include "bench/loadgen/tx_lane.h"

#include <gtest/gtest.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "dataplane/port_setup.h"

namespace lg = rtprelay::loadgen;

namespace {

// Two RX and two TX rings of 64 slots (63 usable) behind one net_ring port, started as the
// generator starts its ports (dataplane/port_setup.h).
struct ring_port {
    rte_ring* rx[2] = {};
    rte_ring* tx[2] = {};
    uint16_t id = 0;
    rte_mempool* pool = nullptr;

    explicit ring_port(const std::string& name) {
        for (int q = 0; q < 2; ++q) {
            const std::string n = name + std::to_string(q);
            rx[q] = rte_ring_create((n + "r").c_str(), 64, 0, RING_F_SP_ENQ | RING_F_SC_DEQ);
            tx[q] = rte_ring_create((n + "t").c_str(), 64, 0, RING_F_SP_ENQ | RING_F_SC_DEQ);
        }
        id = static_cast<uint16_t>(rte_eth_from_rings(name.c_str(), rx, 2, tx, 2, 0));
        pool = rte_pktmbuf_pool_create((name + "_mbufs").c_str(), 511, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, 0);
        rtprelay::dp::port_params pp;
        pp.n_queues = 2;
        pp.rx_desc = 64;
        pp.tx_desc = 64;
        rtprelay::dp::setup_port(id, pp, pool);
    }
    ~ring_port() {
        for (rte_ring* r : tx) {
            void* m = nullptr;
            while (rte_ring_dequeue(r, &m) == 0) {
                rte_pktmbuf_free(static_cast<rte_mbuf*>(m));
            }
        }
        rte_eth_dev_stop(id);
        rte_eth_dev_close(id);
        for (int q = 0; q < 2; ++q) {
            rte_ring_free(rx[q]);
            rte_ring_free(tx[q]);
        }
        rte_mempool_free(pool);
    }
    void push(lg::tx_lane& lane, int n, int64_t now) {
        for (int i = 0; i < n; ++i) {
            rte_mbuf* m = rte_pktmbuf_alloc(pool);
            ASSERT_NE(m, nullptr);
            lane.push(m, now);
        }
    }
};

}  // namespace

TEST(TxLane, SendsOnItsQueueCountsWhatWasTakenAndDropsWhatWaitedTooLong) {
    ring_port p("ut_lane1");
    ASSERT_NE(p.pool, nullptr);
    lg::tx_lane lane(1, 128);
    p.push(lane, 40, 0);
    EXPECT_EQ(lane.count(), 40u);
    EXPECT_EQ(lane.flush(p.id, 32, 0, 100), 0u);
    EXPECT_EQ(lane.count(), 0u);
    EXPECT_EQ(lane.taken(), 40u);
    EXPECT_EQ(rte_ring_count(p.tx[1]), 40u) << "queue 1's ring";
    EXPECT_EQ(rte_ring_count(p.tx[0]), 0u) << "nothing on queue 0";

    // 23 free slots left on the ring: the rest waits, and is freed once older than the hold.
    p.push(lane, 40, 10);
    EXPECT_EQ(lane.flush(p.id, 32, 50, 100), 0u) << "within the hold time nothing is dropped";
    EXPECT_EQ(lane.taken(), 63u);
    EXPECT_EQ(lane.count(), 17u);
    EXPECT_EQ(lane.oldest_ns(), 10);
    EXPECT_EQ(lane.flush(p.id, 32, 111, 100), 17u) << "built at 10, 101 ns before: past the hold";
    EXPECT_EQ(lane.count(), 0u);
    EXPECT_EQ(lane.taken(), 63u);
    const unsigned free_before = rte_mempool_avail_count(p.pool);
    EXPECT_EQ(free_before, 511u - 63u) << "the 17 dropped went back to the pool";
}

TEST(TxLane, AMovedLaneKeepsItsFramesAndTheDestructorFreesThem) {
    ring_port p("ut_lane2");
    ASSERT_NE(p.pool, nullptr);
    {
        lg::tx_lane a(0, 64);
        p.push(a, 10, 0);
        lg::tx_lane b(std::move(a));
        EXPECT_EQ(a.count(), 0u);  // NOLINT(bugprone-use-after-move): the moved-from state is the point
        EXPECT_EQ(b.count(), 10u);
        EXPECT_EQ(b.queue(), 0u);
    }
    EXPECT_EQ(rte_mempool_avail_count(p.pool), 511u) << "each frame freed once";
}

TEST(TxLane, CapacityIsAPowerOfTwo) {
    EXPECT_THROW(lg::tx_lane(0, 100), std::invalid_argument);
    EXPECT_THROW(lg::tx_lane(0, 0), std::invalid_argument);
    EXPECT_NO_THROW(lg::tx_lane(0, 8192));
}
