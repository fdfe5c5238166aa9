// link_monitor on a net_ring ethdev, whose link state rte_eth_dev_set_link_down/up set.

#include "relay/link_monitor.h"

#include <gtest/gtest.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_ring.h>

namespace rtprelay {
namespace {

using namespace std::chrono_literals;

TEST(link_monitor, counts_changes_and_reports_links_that_come_up) {
    rte_ring* rx = rte_ring_create("ut_link_rx", 64, 0, RING_F_SP_ENQ | RING_F_SC_DEQ);
    rte_ring* tx = rte_ring_create("ut_link_tx", 64, 0, RING_F_SP_ENQ | RING_F_SC_DEQ);
    ASSERT_NE(rx, nullptr);
    ASSERT_NE(tx, nullptr);
    const int id = rte_eth_from_rings("ut_link", &rx, 1, &tx, 1, 0);
    ASSERT_GE(id, 0);
    const auto port = static_cast<uint16_t>(id);
    ASSERT_EQ(rte_eth_dev_set_link_up(port), 0);

    link_monitor m({port}, 100ms);
    ASSERT_NE(m.find(port), nullptr);
    EXPECT_EQ(m.find(static_cast<uint16_t>(port + 1)), nullptr);
    EXPECT_TRUE(m.find(port)->up) << "start-up state read at construction";
    EXPECT_EQ(m.find(port)->changes, 0u) << "the start-up state is not a change";

    const auto t0 = link_monitor::clock::now();
    EXPECT_TRUE(m.poll(t0).empty());
    EXPECT_EQ(m.find(port)->changes, 0u);

    ASSERT_EQ(rte_eth_dev_set_link_down(port), 0);
    EXPECT_TRUE(m.poll(t0 + 50ms).empty());
    EXPECT_TRUE(m.find(port)->up) << "not read again before the period is over";
    EXPECT_TRUE(m.poll(t0 + 150ms).empty()) << "a link going down is not reported as up";
    EXPECT_FALSE(m.find(port)->up);
    EXPECT_EQ(m.find(port)->changes, 1u);
    EXPECT_TRUE(m.poll(t0 + 300ms).empty());
    EXPECT_EQ(m.find(port)->changes, 1u) << "a steady state is counted once";

    ASSERT_EQ(rte_eth_dev_set_link_up(port), 0);
    const std::vector<uint16_t>& up = m.poll(t0 + 450ms);
    ASSERT_EQ(up.size(), 1u);
    EXPECT_EQ(up[0], port);
    EXPECT_TRUE(m.find(port)->up);
    EXPECT_EQ(m.find(port)->changes, 2u);
    EXPECT_TRUE(m.poll(t0 + 600ms).empty());
    EXPECT_EQ(m.find(port)->changes, 2u);

    rte_eth_dev_close(port);
    rte_ring_free(rx);
    rte_ring_free(tx);
}

}  // namespace
}  // namespace rtprelay
