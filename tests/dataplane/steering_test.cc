// Flow steering (dataplane/steering.h): the queue a port's packets go to, the owner the control
// plane publishes for it, and a port without a flow API refusing the rules cleanly.
#include <gtest/gtest.h>

#include <array>
#include <map>
#include <set>

#include "control/publish/publisher.h"
#include "dataplane/flow_table.h"
#include "dataplane/neighbour_table.h"
#include "dataplane/steering.h"
#include "tests/dataplane/test_packets.h"

namespace rtprelay::dp {
namespace {

TEST(Steering, RtpAndRtcpOfAStreamShareAQueue) {
    for (uint16_t n : {2, 4, 8, 16}) {
        for (uint32_t port = 10000; port < 20000; port += 2) {
            EXPECT_EQ(steered_queue(static_cast<uint16_t>(port), n), steered_queue(static_cast<uint16_t>(port + 1), n));
            EXPECT_LT(steered_queue(static_cast<uint16_t>(port), n), n);
        }
    }
}

TEST(Steering, ConsecutiveLegsSpreadEvenlyOverQueues) {
    // The port allocator hands out even/odd pairs; 4,000 legs over 4 workers: 1,000 each.
    std::map<uint16_t, int> per_queue;
    for (uint32_t port = 10000; port < 18000; port += 2) {
        ++per_queue[steered_queue(static_cast<uint16_t>(port), 4)];
    }
    ASSERT_EQ(per_queue.size(), 4u);
    for (const auto& [q, n] : per_queue) {
        EXPECT_EQ(n, 1000) << "queue " << q;
    }
}

TEST(Steering, OnlyPowersOfTwoFromTwo) {
    EXPECT_FALSE(steerable(1));
    EXPECT_TRUE(steerable(2));
    EXPECT_FALSE(steerable(3));
    EXPECT_TRUE(steerable(4));
    EXPECT_FALSE(steerable(6));
    EXPECT_TRUE(steerable(16));
}

TEST(Steering, PublisherOwnerFollowsTheSteeredQueue) {
    flow_table flows(64, 4, 0);
    neighbour_table neighbours(64, 0);
    publisher pub(flows, neighbours, 4);
    // Unsteered: a mix of address and port (handoff does the rest); steered: the NIC's queue.
    std::set<uint8_t> unsteered;
    for (uint16_t port = 10000; port < 10064; port += 2) {
        unsteered.insert(pub.owner_of(0x0a000001, port));
    }
    EXPECT_GT(unsteered.size(), 1u);
    pub.set_steered(true);
    for (uint16_t port = 10000; port < 10064; port += 2) {
        EXPECT_EQ(pub.owner_of(0x0a000001, port), steered_queue(port, 4));
        EXPECT_EQ(pub.owner_of(0x0a000002, port), steered_queue(port, 4)) << "the address plays no part";
    }
}

TEST(Steering, APortWithoutFlowRulesIsRefusedWithAReason) {
    test::ring_port p;
    ASSERT_TRUE(test::open_ring_port("steer0", p));
    const std::string why = install_steering({p.id}, {}, 2);
    EXPECT_FALSE(why.empty());
    EXPECT_NE(why.find("port " + std::to_string(p.id)), std::string::npos) << why;
    EXPECT_NE(install_steering({p.id}, {}, 3).find("power of two"), std::string::npos);
    remove_steering({p.id});  // nothing to remove: harmless
    test::close_ring_port(p);
}

}  // namespace
}  // namespace rtprelay::dp
