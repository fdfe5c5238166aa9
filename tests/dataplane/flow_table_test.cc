#include "dataplane/flow_table.h"

#include <gtest/gtest.h>

#include <rte_byteorder.h>
#include <rte_rcu_qsbr.h>

#include <vector>

#include "tests/dataplane/test_packets.h"

namespace rtprelay::dp {
namespace {

flow_key key_of(uint32_t addr, uint16_t port) { return flow_key{addr, rte_cpu_to_be_16(port), 0}; }

std::unique_ptr<flow_entry> entry(uint16_t marker) {
    auto e = std::make_unique<flow_entry>();
    e->out_src_port = marker;  // tells entries apart
    return e;
}

// A table read by two workers; the test plays worker 1 (thread id 1) by hand. Worker 0
// never registers, so it does not hold up grace periods.
class flow_table_test : public ::testing::Test {
 protected:
    static constexpr uint32_t reader = 1;

    void SetUp() override {
        table_ = std::make_unique<flow_table>(64, 2, 0);
        ASSERT_EQ(rte_rcu_qsbr_thread_register(table_->rcu(), reader), 0);
        rte_rcu_qsbr_thread_online(table_->rcu(), reader);
    }
    void TearDown() override {
        rte_rcu_qsbr_thread_offline(table_->rcu(), reader);
        rte_rcu_qsbr_thread_unregister(table_->rcu(), reader);
        table_->reclaim_all();
        EXPECT_EQ(table_->pending(), 0u);
    }
    void quiescent() { rte_rcu_qsbr_quiescent(table_->rcu(), reader); }

    const uint32_t addr_ = test::ip4(198, 18, 1, 1);
    std::unique_ptr<flow_table> table_;
};

TEST_F(flow_table_test, publish_then_lookup) {
    EXPECT_EQ(table_->lookup(key_of(addr_, 30000)), nullptr);
    ASSERT_TRUE(table_->publish(key_of(addr_, 30000), entry(1)));
    const flow_entry* e = table_->lookup(key_of(addr_, 30000));
    ASSERT_NE(e, nullptr);
    EXPECT_EQ(e->out_src_port, 1);
    EXPECT_EQ(table_->lookup(key_of(addr_, 30001)), nullptr);
    EXPECT_EQ(table_->lookup(key_of(test::ip4(198, 18, 1, 2), 30000)), nullptr);
    EXPECT_EQ(table_->size(), 1u);
    EXPECT_EQ(table_->pending(), 0u);  // nothing replaced
}

TEST_F(flow_table_test, lookup_bulk_mixes_hits_and_misses) {
    std::vector<flow_key> keys;
    for (uint16_t i = 0; i < 40; ++i) {
        keys.push_back(key_of(addr_, static_cast<uint16_t>(30000 + i)));
        if (i % 3 == 0) {
            ASSERT_TRUE(table_->publish(keys.back(), entry(i)));
        }
    }
    std::vector<const flow_key*> ptrs;
    for (const auto& k : keys) {
        ptrs.push_back(&k);
    }
    std::vector<const flow_entry*> out(keys.size(), reinterpret_cast<const flow_entry*>(1));
    table_->lookup_bulk(ptrs.data(), static_cast<uint32_t>(ptrs.size()), out.data());
    for (uint16_t i = 0; i < 40; ++i) {
        if (i % 3 == 0) {
            ASSERT_NE(out[i], nullptr) << i;
            EXPECT_EQ(out[i]->out_src_port, i);
        } else {
            EXPECT_EQ(out[i], nullptr) << i;
        }
    }
}

TEST_F(flow_table_test, replace_retires_old_entry_until_reader_is_quiescent) {
    ASSERT_TRUE(table_->publish(key_of(addr_, 30000), entry(1)));
    const flow_entry* old = table_->lookup(key_of(addr_, 30000));
    ASSERT_TRUE(table_->publish(key_of(addr_, 30000), entry(2)));
    EXPECT_EQ(table_->lookup(key_of(addr_, 30000))->out_src_port, 2);  // new one visible at once
    EXPECT_EQ(table_->size(), 1u);
    ASSERT_EQ(table_->pending(), 1u);
    table_->reclaim();
    EXPECT_EQ(table_->pending(), 1u) << "freed while a reader may still hold it";
    EXPECT_EQ(old->out_src_port, 1);  // still valid memory for the reader
    quiescent();
    table_->reclaim();
    EXPECT_EQ(table_->pending(), 0u);
}

TEST_F(flow_table_test, offline_reader_does_not_hold_up_reclaim) {
    ASSERT_TRUE(table_->publish(key_of(addr_, 30000), entry(1)));
    rte_rcu_qsbr_thread_offline(table_->rcu(), reader);
    table_->remove(key_of(addr_, 30000));
    table_->reclaim();
    EXPECT_EQ(table_->pending(), 0u);
    rte_rcu_qsbr_thread_online(table_->rcu(), reader);
}

TEST_F(flow_table_test, remove_hides_entry_at_once_and_frees_slot_after_grace_period) {
    // Fill the table; the key slot of a removed entry comes back only after reclaim().
    uint16_t published = 0;
    while (table_->publish(key_of(addr_, static_cast<uint16_t>(20000 + published)), entry(published))) {
        ++published;
        ASSERT_LT(published, 1000) << "table never fills";
    }
    EXPECT_GE(published, 64);
    EXPECT_EQ(table_->size(), published);

    table_->remove(key_of(addr_, 20000));
    EXPECT_EQ(table_->lookup(key_of(addr_, 20000)), nullptr);
    EXPECT_EQ(table_->pending(), 1u);
    EXPECT_FALSE(table_->publish(key_of(addr_, 10000), entry(9))) << "slot reused inside the grace period";
    table_->reclaim();
    EXPECT_EQ(table_->pending(), 1u);

    quiescent();
    table_->reclaim();
    EXPECT_EQ(table_->pending(), 0u);
    EXPECT_EQ(table_->size(), published - 1u);
    EXPECT_TRUE(table_->publish(key_of(addr_, 10000), entry(9)));
    EXPECT_EQ(table_->lookup(key_of(addr_, 10000))->out_src_port, 9);
}

TEST_F(flow_table_test, removing_an_absent_key_is_a_no_op) {
    table_->remove(key_of(addr_, 30000));
    EXPECT_EQ(table_->pending(), 0u);
}

TEST_F(flow_table_test, retired_state_waits_for_grace_period) {
    table_->retire(std::make_unique<stream_state>());
    table_->retire(std::unique_ptr<stream_state>());  // ignored
    EXPECT_EQ(table_->pending(), 1u);
    table_->reclaim();
    EXPECT_EQ(table_->pending(), 1u);
    quiescent();
    table_->reclaim();
    EXPECT_EQ(table_->pending(), 0u);
}

TEST_F(flow_table_test, reclaim_frees_in_order_up_to_the_last_due_token) {
    ASSERT_TRUE(table_->publish(key_of(addr_, 30000), entry(1)));
    ASSERT_TRUE(table_->publish(key_of(addr_, 30000), entry(2)));  // retires 1
    quiescent();                                                   // covers the first
    ASSERT_TRUE(table_->publish(key_of(addr_, 30000), entry(3)));  // retires 2
    table_->reclaim();
    EXPECT_EQ(table_->pending(), 1u);
    quiescent();
    table_->reclaim();
    EXPECT_EQ(table_->pending(), 0u);
}

}  // namespace
}  // namespace rtprelay::dp

namespace rtprelay::dp {
namespace {

// Flow entries and stream states come back from a per-thread cache of freed blocks (the
// control plane makes and retires a dozen per offer+answer): same block, zeroed by the new
// object's initialisers, 64-aligned.
TEST(BlockCache, FreedEntriesAndStatesAreReusedAligned) {
    auto e = std::make_unique<flow_entry>();
    e->owner = 7;
    e->sdp_dest = 42;
    const flow_entry* first = e.get();
    const std::size_t cached = block_cache<sizeof(flow_entry)>::cached();
    e.reset();
    EXPECT_EQ(block_cache<sizeof(flow_entry)>::cached(), cached + 1);
    auto again = std::make_unique<flow_entry>();
    EXPECT_EQ(again.get(), first);
    EXPECT_EQ(again->owner, 0);
    EXPECT_EQ(again->sdp_dest, 0u);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(again.get()) % 64, 0u);

    auto s = std::make_unique<stream_state>();
    s->errors = 3;
    const stream_state* sfirst = s.get();
    s.reset();
    auto s2 = std::make_unique<stream_state>();
    EXPECT_EQ(s2.get(), sfirst);
    EXPECT_EQ(s2->errors.load(), 0u);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(s2.get()) % 64, 0u);
}

}  // namespace
}  // namespace rtprelay::dp
