#include "dataplane/neighbour_table.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>

#include "dataplane/rewrite.h"
#include "tests/dataplane/test_packets.h"
#include "tests/dataplane/test_packets6.h"

namespace rtprelay::dp {
namespace {

using namespace std::chrono_literals;
using clock_type = neighbour_table::clock;

const uint32_t peer = test::ip4(198, 18, 1, 10);
const uint32_t other = test::ip4(198, 18, 1, 11);

bool contains(const std::vector<const neighbour*>& v, const neighbour* n) {
    return std::find(v.begin(), v.end(), n) != v.end();
}

class neighbour_table_test : public ::testing::Test {
 protected:
    void SetUp() override {
        table_ = std::make_unique<neighbour_table>(4, 0);
        table_->refresh_after = 30s;
        table_->expire_after = 60s;
        table_->retry_every = 1000ms;
    }
    // A fixed origin far from the clock's epoch: "never requested" must look long ago.
    const clock_type::time_point t0_ = clock_type::time_point(10h);
    const uint64_t mac_ = pack_mac(test::mac(0x77));
    std::unique_ptr<neighbour_table> table_;
};

TEST_F(neighbour_table_test, get_or_create_is_keyed_by_port_and_address) {
    neighbour* a = table_->get_or_create(0, peer);
    ASSERT_NE(a, nullptr);
    EXPECT_EQ(a->addr, peer);
    EXPECT_EQ(a->port_id, 0);
    EXPECT_EQ(a->mac.load(), 0u);
    EXPECT_EQ(table_->get_or_create(0, peer), a);
    neighbour* b = table_->get_or_create(1, peer);
    ASSERT_NE(b, nullptr);
    EXPECT_NE(b, a);
    EXPECT_EQ(table_->lookup(0, peer), a);
    EXPECT_EQ(table_->lookup(1, peer), b);
    EXPECT_EQ(table_->lookup(2, peer), nullptr);
    EXPECT_EQ(table_->size(), 2u);
    EXPECT_EQ(table_->resolved(), 0u);
}

TEST_F(neighbour_table_test, full_table_returns_null_but_keeps_existing) {
    for (uint8_t i = 0; i < 4; ++i) {
        ASSERT_NE(table_->get_or_create(0, test::ip4(198, 18, 1, static_cast<uint8_t>(100 + i))), nullptr);
    }
    EXPECT_EQ(table_->get_or_create(0, peer), nullptr);
    EXPECT_NE(table_->get_or_create(0, test::ip4(198, 18, 1, 100)), nullptr);
    EXPECT_EQ(table_->size(), 4u);
}

TEST_F(neighbour_table_test, learn_resolves_and_clears_wanted) {
    neighbour* n = table_->get_or_create(0, peer);
    n->wanted.store(1);
    table_->learn(0, peer, mac_, false, t0_);
    EXPECT_EQ(n->mac.load(), mac_ | neighbour_valid);
    EXPECT_EQ(n->wanted.load(), 0u);
    EXPECT_EQ(table_->resolved(), 1u);
    const rte_ether_addr m = unpack_mac(n->mac.load());
    const rte_ether_addr want = test::mac(0x77);
    EXPECT_TRUE(rte_is_same_ether_addr(&m, &want));
}

TEST_F(neighbour_table_test, learn_creates_only_when_asked) {
    table_->learn(0, peer, mac_, false, t0_);  // gossip about a stranger: ignored
    EXPECT_EQ(table_->lookup(0, peer), nullptr);
    table_->learn(0, peer, mac_, true, t0_);  // it talked to us: remembered
    const neighbour* n = table_->lookup(0, peer);
    ASSERT_NE(n, nullptr);
    EXPECT_NE(n->mac.load() & neighbour_valid, 0u);
}

TEST_F(neighbour_table_test, unwanted_unresolved_entry_is_not_requested) {
    table_->get_or_create(0, peer);
    EXPECT_TRUE(table_->due_for_request(t0_).empty());
}

TEST_F(neighbour_table_test, wanted_entry_is_requested_once_per_retry_interval) {
    neighbour* n = table_->get_or_create(0, peer);
    n->wanted.store(1);
    auto due = table_->due_for_request(t0_);
    ASSERT_EQ(due.size(), 1u);
    EXPECT_EQ(due[0], n);
    EXPECT_TRUE(table_->due_for_request(t0_ + 500ms).empty());
    EXPECT_TRUE(table_->due_for_request(t0_ + 999ms).empty());
    EXPECT_TRUE(contains(table_->due_for_request(t0_ + 1000ms), n));
    EXPECT_TRUE(table_->due_for_request(t0_ + 1500ms).empty());
    // Once wanted, an unresolved entry keeps being asked for even if the flag is cleared.
    n->wanted.store(0);
    EXPECT_TRUE(contains(table_->due_for_request(t0_ + 2000ms), n));
}

TEST_F(neighbour_table_test, resolved_entry_is_refreshed_then_expires) {
    // As in the relay: a flow wants it, the control loop asks, the reply is learned.
    neighbour* n = table_->get_or_create(0, peer);
    n->wanted.store(1);
    ASSERT_TRUE(contains(table_->due_for_request(t0_), n));
    table_->learn(0, peer, mac_, false, t0_);
    EXPECT_TRUE(table_->due_for_request(t0_ + 10s).empty());
    EXPECT_TRUE(table_->due_for_request(t0_ + 30s).empty());  // "not confirmed for more than 30 s"
    EXPECT_TRUE(contains(table_->due_for_request(t0_ + 31s), n));
    EXPECT_NE(n->mac.load() & neighbour_valid, 0u) << "still usable while being refreshed";
    EXPECT_TRUE(table_->due_for_request(t0_ + 31s + 500ms).empty());
    EXPECT_TRUE(contains(table_->due_for_request(t0_ + 32s), n));

    // A reply confirms it: quiet again until the next refresh.
    table_->learn(0, peer, mac_, false, t0_ + 40s);
    EXPECT_TRUE(table_->due_for_request(t0_ + 50s).empty());

    // No answer for more than expire_after: unusable, and requested again (it was wanted).
    EXPECT_TRUE(contains(table_->due_for_request(t0_ + 40s + 61s), n));
    EXPECT_EQ(n->mac.load() & neighbour_valid, 0u);
    EXPECT_EQ(table_->resolved(), 0u);
    EXPECT_TRUE(contains(table_->due_for_request(t0_ + 40s + 62s), n));
}

TEST_F(neighbour_table_test, expired_entry_nobody_wanted_is_left_alone) {
    table_->learn(0, peer, mac_, true, t0_);  // learned from its own ARP, never needed
    const neighbour* n = table_->lookup(0, peer);
    EXPECT_TRUE(contains(table_->due_for_request(t0_ + 61s), n));  // last try as it expires
    EXPECT_EQ(n->mac.load() & neighbour_valid, 0u);
    EXPECT_TRUE(table_->due_for_request(t0_ + 63s).empty());
    EXPECT_TRUE(table_->due_for_request(t0_ + 100s).empty());
}

TEST_F(neighbour_table_test, worker_requests_become_entries_to_resolve) {
    table_->request(1, peer);  // as a worker would for a latched peer with no entry
    table_->request(1, peer);  // a second packet asks again
    table_->request(0, other);
    EXPECT_EQ(table_->lookup(1, peer), nullptr) << "workers never create entries";
    EXPECT_EQ(table_->size(), 0u);
    table_->take_requests();
    EXPECT_EQ(table_->size(), 2u);
    const neighbour* a = table_->lookup(1, peer);
    const neighbour* b = table_->lookup(0, other);
    ASSERT_NE(a, nullptr);
    ASSERT_NE(b, nullptr);
    const auto due = table_->due_for_request(t0_);
    EXPECT_EQ(due.size(), 2u);
    EXPECT_TRUE(contains(due, a));
    EXPECT_TRUE(contains(due, b));
}

// IPv6 next hops share the entries (and the capacity) with IPv4 ones, under a key of
// their own: the same 16 bytes on another port, or an IPv4 address whose bytes happen to
// match, are other neighbours.
TEST_F(neighbour_table_test, ipv6_next_hops) {
    const test::addr6 p6 = test::ip6("2001:2:1::10");
    neighbour* a = table_->get_or_create6(0, p6.data());
    ASSERT_NE(a, nullptr);
    EXPECT_TRUE(a->v6);
    EXPECT_EQ(std::memcmp(a->addr6, p6.data(), 16), 0);
    EXPECT_EQ(table_->get_or_create6(0, p6.data()), a);
    EXPECT_EQ(table_->lookup6(0, p6.data()), a);
    EXPECT_EQ(table_->lookup6(1, p6.data()), nullptr);
    EXPECT_EQ(table_->lookup(0, peer), nullptr);
    neighbour* v4 = table_->get_or_create(0, peer);
    ASSERT_NE(v4, nullptr);
    EXPECT_FALSE(v4->v6);
    EXPECT_EQ(table_->size(), 2u);

    // Learnt from ND: resolved, no longer wanted; a stranger's advertisement creates nothing.
    a->wanted.store(1);
    table_->learn6(0, p6.data(), mac_, false, t0_);
    EXPECT_EQ(a->mac.load(), mac_ | neighbour_valid);
    EXPECT_EQ(a->wanted.load(), 0u);
    const test::addr6 other6 = test::ip6("2001:2:1::11");
    table_->learn6(0, other6.data(), mac_, false, t0_);
    EXPECT_EQ(table_->lookup6(0, other6.data()), nullptr);
    table_->learn6(0, other6.data(), mac_, true, t0_);
    EXPECT_NE(table_->lookup6(0, other6.data()), nullptr);

    // Aged like ARP entries: refreshed after 30 s, unresolved after 60 s.
    EXPECT_TRUE(contains(table_->due_for_request(t0_ + 31s), a));
    table_->due_for_request(t0_ + 61s);
    EXPECT_EQ(a->mac.load() & neighbour_valid, 0u);
}

TEST_F(neighbour_table_test, workers_ask_for_unknown_ipv6_next_hops) {
    const test::addr6 p6 = test::ip6("2001:2:1::20");
    table_->request6(1, p6.data());
    table_->request6(1, p6.data());  // asked twice: one entry
    EXPECT_EQ(table_->lookup6(1, p6.data()), nullptr) << "the control plane creates it";
    table_->take_requests();
    const neighbour* n = table_->lookup6(1, p6.data());
    ASSERT_NE(n, nullptr);
    EXPECT_EQ(table_->size(), 1u);
    const auto due = table_->due_for_request(t0_);
    EXPECT_TRUE(contains(due, n)) << "wanted, unresolved: a solicitation is due";
}

}  // namespace
}  // namespace rtprelay::dp
