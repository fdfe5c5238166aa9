#include "dataplane/record_ring.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace rtprelay::dp {
namespace {

uint8_t big[2000];

record_slot* put(record_ring& r, uint32_t id, uint32_t len = 4) {
    for (uint32_t i = 0; i < len && i < sizeof big; ++i) {
        big[i] = static_cast<uint8_t>(id + i);
    }
    return record_copy(r, 100 + id, id, 1, false, 0x01020304, 0x1111, 0x05060708, 0x2222, big, len);
}

std::vector<const record_slot*> read_all(record_ring& r) {
    std::vector<const record_slot*> out;
    uint64_t pos = r.consumed();
    const uint64_t limit = r.committed();
    while (const record_slot* s = r.next(&pos, limit)) {
        out.push_back(s);
    }
    return out;
}

TEST(record_ring, records_are_handed_over_at_commit_in_order) {
    record_ring r(65536);
    ASSERT_NE(put(r, 1), nullptr);
    ASSERT_NE(put(r, 2, 172), nullptr);
    EXPECT_TRUE(read_all(r).empty()) << "nothing visible before the commit";
    r.commit();
    const auto got = read_all(r);
    ASSERT_EQ(got.size(), 2u);
    EXPECT_EQ(got[0]->record_id, 1u);
    EXPECT_EQ(got[0]->tsc, 101u);
    EXPECT_EQ(got[0]->len, 4u);
    EXPECT_EQ(got[0]->data()[3], 4);
    EXPECT_EQ(got[0]->channel, 1);
    EXPECT_EQ(got[1]->record_id, 2u);
    EXPECT_EQ(got[1]->len, 172u);
    EXPECT_EQ(got[1]->data()[171], static_cast<uint8_t>(2 + 171));
    EXPECT_EQ(record_slot::size_for(172), 256u) << "a G.711 packet's record: 4 lines";
}

TEST(record_ring, a_full_ring_refuses_and_wraps_once_read) {
    record_ring r(65536);
    uint32_t n = 0;
    while (put(r, n + 1, 172) != nullptr) {
        ++n;
    }
    EXPECT_EQ(n, 65536u / 256);
    EXPECT_EQ(r.refused(), 1u) << "the ring counts what it refused";
    r.commit();
    // Read a third, then fill again: the records that do not fit before the end start over.
    uint64_t pos = r.consumed();
    for (uint32_t i = 0; i < n / 3; ++i) {
        ASSERT_EQ(r.next(&pos, r.committed())->record_id, i + 1);
    }
    r.release(pos);
    uint32_t more = 0;
    while (put(r, 1000 + more, 172) != nullptr) {
        ++more;
    }
    EXPECT_GE(more, n / 3 - 1);
    EXPECT_EQ(r.refused(), 2u);
    r.commit();
    const auto got = read_all(r);
    ASSERT_EQ(got.size(), n - n / 3 + more);
    EXPECT_EQ(got.front()->record_id, n / 3 + 1);
    EXPECT_EQ(got[n - n / 3]->record_id, 1000u) << "after the wrap, in order";
    EXPECT_EQ(got.back()->record_id, 1000 + more - 1);
}

TEST(record_ring, long_packets_are_cut_and_say_so) {
    record_ring r(65536);
    record_slot* s = put(r, 1, 1600);
    ASSERT_NE(s, nullptr);
    EXPECT_EQ(s->len, record_slot_data);
    EXPECT_EQ(s->orig_len, 1600);
}

TEST(record_ring, one_producer_one_consumer_lose_nothing) {
    record_ring r(65536);
    constexpr uint32_t n = 300000;
    std::thread producer([&] {
        for (uint32_t i = 1; i <= n;) {
            if (put(r, i, 16 + i % 300) != nullptr) {  // sizes vary: records wrap at every place
                ++i;
            }
            r.commit();
        }
    });
    uint32_t expect = 1;
    while (expect <= n) {
        uint64_t pos = r.consumed();
        const uint64_t limit = r.committed();
        while (const record_slot* s = r.next(&pos, limit)) {
            ASSERT_EQ(s->record_id, expect);
            ASSERT_EQ(s->len, 16 + expect % 300);
            ASSERT_EQ(s->data()[s->len - 1], static_cast<uint8_t>(expect + s->len - 1));
            ++expect;
        }
        r.release(pos);
    }
    producer.join();
    EXPECT_TRUE(read_all(r).empty());
}

}  // namespace
}  // namespace rtprelay::dp
