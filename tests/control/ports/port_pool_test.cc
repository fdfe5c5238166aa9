#include "control/ports/port_pool.h"

#include <gtest/gtest.h>

#include <set>

namespace rtprelay {
namespace {

TEST(port_pool, hands_out_every_even_port_once_then_runs_out) {
    port_pool pool(10000, 10011, 1);  // 10000..10010 even, 10010+1 = 10011 fits
    EXPECT_EQ(pool.total(), 6u);
    std::set<uint16_t> seen;
    for (int i = 0; i < 6; ++i) {
        auto p = pool.take();
        ASSERT_TRUE(p.has_value());
        EXPECT_EQ(*p % 2, 0);
        EXPECT_GE(*p, 10000);
        EXPECT_LE(*p + 1, 10011);
        EXPECT_TRUE(seen.insert(*p).second);
    }
    EXPECT_FALSE(pool.take().has_value());
    EXPECT_EQ(pool.free(), 0u);
    EXPECT_EQ(pool.used(), 6u);
}

TEST(port_pool, odd_bounds_keep_rtcp_inside_the_range) {
    port_pool pool(10001, 10006, 1);  // 10002, 10004; 10006 would need 10007
    EXPECT_EQ(pool.total(), 2u);
}

TEST(port_pool, returned_port_goes_to_the_tail) {
    port_pool pool(10000, 10099, 7);
    const uint16_t first = *pool.take();
    pool.give_back(first);
    // Every other free port comes out before `first` does again.
    for (size_t i = 0; i + 1 < pool.total(); ++i) {
        EXPECT_NE(*pool.take(), first);
    }
    EXPECT_EQ(*pool.take(), first);
}

TEST(port_pool, recovers_after_exhaustion) {
    port_pool pool(20000, 20003, 3);
    auto a = pool.take();
    auto b = pool.take();
    ASSERT_TRUE(a && b);
    EXPECT_FALSE(pool.take());
    pool.give_back(*b);
    EXPECT_EQ(pool.take(), b);
}

TEST(port_pool, order_is_shuffled) {
    port_pool pool(10000, 20000, 42);
    int ascending = 0;
    uint16_t prev = *pool.take();
    for (int i = 0; i < 100; ++i) {
        const uint16_t p = *pool.take();
        ascending += p == prev + 2;
        prev = p;
    }
    EXPECT_LT(ascending, 10);
}

// A call adopted from another node claims the ports its SDP named.
TEST(port_pool, take_exact_claims_one_port_which_take_then_skips) {
    port_pool pool(10000, 10019, 5);  // 10 pairs
    EXPECT_TRUE(pool.take_exact(10008));
    EXPECT_FALSE(pool.take_exact(10008)) << "in use";
    EXPECT_FALSE(pool.take_exact(10009)) << "odd: an RTCP port";
    EXPECT_FALSE(pool.take_exact(10020)) << "outside the pool";
    EXPECT_FALSE(pool.take_exact(9998));
    EXPECT_EQ(pool.used(), 1u);
    EXPECT_EQ(pool.free(), 9u);
    std::set<uint16_t> seen;
    while (auto p = pool.take()) {
        EXPECT_NE(*p, 10008);
        EXPECT_TRUE(seen.insert(*p).second) << *p << " handed out twice";
    }
    EXPECT_EQ(seen.size(), 9u);
    EXPECT_EQ(pool.free(), 0u);
}

TEST(port_pool, a_port_taken_exactly_and_returned_goes_to_the_tail_once) {
    port_pool pool(10000, 10099, 9);
    ASSERT_TRUE(pool.take_exact(10050));
    pool.give_back(10050);
    pool.give_back(10050);  // twice: ignored
    EXPECT_EQ(pool.free(), pool.total());
    std::set<uint16_t> seen;
    uint16_t last = 0;
    for (size_t i = 0; i < pool.total(); ++i) {
        auto p = pool.take();
        ASSERT_TRUE(p);
        EXPECT_TRUE(seen.insert(*p).second) << *p << " handed out twice";
        last = *p;
    }
    EXPECT_EQ(last, 10050) << "it comes back from the tail, not from its old place";
    EXPECT_FALSE(pool.take());
}

}  // namespace
}  // namespace rtprelay
