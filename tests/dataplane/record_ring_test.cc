#include "dataplane/record_ring.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace rtprelay::dp {
namespace {

const uint8_t payload[4] = {1, 2, 3, 4};

record_slot* put(record_ring& r, uint32_t id, uint32_t len = 4) {
    static uint8_t big[2000] = {};
    return record_copy(r, 100 + id, id, 1, false, 0x01020304, 0x1111, 0x05060708, 0x2222,
                       len <= 4 ? payload : big, len);
}

TEST(record_ring, slots_are_handed_over_at_commit_in_order) {
    record_ring r(64);
    ASSERT_NE(put(r, 1), nullptr);
    ASSERT_NE(put(r, 2), nullptr);
    EXPECT_EQ(r.ready(), 0u);  // nothing visible before the commit
    r.commit();
    ASSERT_EQ(r.ready(), 2u);
    EXPECT_EQ(r.peek(0).record_id, 1u);
    EXPECT_EQ(r.peek(1).record_id, 2u);
    EXPECT_EQ(r.peek(0).tsc, 101u);
    EXPECT_EQ(r.peek(0).len, 4u);
    EXPECT_EQ(r.peek(0).data[3], 4);
    EXPECT_EQ(r.peek(0).channel, 1);
    r.release(1);
    EXPECT_EQ(r.ready(), 1u);
    EXPECT_EQ(r.peek(0).record_id, 2u);
}

TEST(record_ring, a_full_ring_refuses_and_recovers) {
    record_ring r(64);
    for (uint32_t i = 0; i < 64; ++i) {
        ASSERT_NE(put(r, i + 1), nullptr);
    }
    EXPECT_EQ(put(r, 99), nullptr);
    r.commit();
    r.release(10);
    for (uint32_t i = 0; i < 10; ++i) {
        ASSERT_NE(put(r, 200 + i), nullptr);
    }
    EXPECT_EQ(put(r, 99), nullptr);
    r.commit();
    EXPECT_EQ(r.ready(), 64u);
    EXPECT_EQ(r.peek(63).record_id, 209u);
}

TEST(record_ring, long_packets_are_cut_and_say_so) {
    record_ring r(64);
    record_slot* s = put(r, 1, 1600);
    ASSERT_NE(s, nullptr);
    EXPECT_EQ(s->len, record_slot_data);
    EXPECT_EQ(s->orig_len, 1600);
}

TEST(record_ring, one_producer_one_consumer_lose_nothing) {
    record_ring r(128);
    constexpr uint32_t n = 200000;
    std::thread producer([&] {
        for (uint32_t i = 1; i <= n;) {
            if (put(r, i) != nullptr) {
                ++i;
            }
            r.commit();
        }
    });
    uint32_t expect = 1;
    while (expect <= n) {
        const uint64_t k = r.ready();
        for (uint64_t i = 0; i < k; ++i) {
            ASSERT_EQ(r.peek(i).record_id, expect);
            ++expect;
        }
        r.release(k);
    }
    producer.join();
    EXPECT_EQ(r.ready(), 0u);
}

}  // namespace
}  // namespace rtprelay::dp
