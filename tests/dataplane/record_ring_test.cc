#include "dataplane/record_ring.h"

#include <gtest/gtest.h>

#include <cstring>
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
    EXPECT_EQ(record_slot::size_for(172), 208u) << "a G.711 packet's record: 3.25 lines";
    EXPECT_EQ(reinterpret_cast<const uint8_t*>(got[1]) - reinterpret_cast<const uint8_t*>(got[0]), 48)
        << "a record starts right after the one before, in 16-byte steps";
}

TEST(record_ring, a_full_ring_refuses_and_wraps_once_read) {
    record_ring r(65536);
    uint32_t n = 0;
    while (put(r, n + 1, 172) != nullptr) {
        ++n;
    }
    EXPECT_EQ(n, 65536u / 208) << "records follow each other in 16-byte steps";
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

// The consumer of the two-thread cases: reads the n records put(r, i, 16 + i % 300) made, as
// they are committed, and checks each is the next in order. After a failure it reads on
// without checking, so that the producer finishes and the test can join it (a test that
// returned with a joinable thread would end the whole binary).
void read_in_order(record_ring& r, uint32_t n) {
    uint32_t read = 0;
    bool ok = true;
    while (read < n) {
        uint64_t pos = r.consumed();
        const uint64_t limit = r.committed();
        while (const record_slot* s = r.next(&pos, limit)) {
            ++read;
            if (ok && (s->record_id != read || s->len != 16 + read % 300 ||
                       s->data()[s->len - 1] != static_cast<uint8_t>(read + s->len - 1))) {
                ADD_FAILURE() << "record " << read << ": id " << s->record_id << ", " << s->len << " bytes";
                ok = false;
            }
        }
        r.release(pos);
    }
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
    read_in_order(r, n);
    producer.join();
    EXPECT_TRUE(read_all(r).empty());
}

const uint8_t src6[16] = {0x20, 0x01, 0x00, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10};
const uint8_t dst6[16] = {0x20, 0x01, 0x00, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01};

record_slot* put6(record_ring& r, uint32_t id, uint32_t len, bool rtcp = false) {
    for (uint32_t i = 0; i < len && i < sizeof big; ++i) {
        big[i] = static_cast<uint8_t>(id + i);
    }
    return record_copy6(r, 100 + id, id, 1, rtcp, src6, 0x1111, dst6, 0x2222, big, len);
}

TEST(record_ring, ipv6_records_carry_both_addresses_before_the_packet) {
    record_ring r(65536);
    ASSERT_NE(put(r, 1, 172), nullptr);
    ASSERT_NE(put6(r, 2, 172, true), nullptr);
    ASSERT_NE(put6(r, 3, 5), nullptr);
    r.commit();
    const auto got = read_all(r);
    ASSERT_EQ(got.size(), 3u);
    // IPv4 records stay as they were: no flag, the packet at data().
    EXPECT_FALSE(got[0]->ipv6());
    EXPECT_EQ(got[0]->packet(), got[0]->data());
    EXPECT_EQ(got[0]->packet_len(), 172u);
    EXPECT_EQ(got[0]->src_addr, 0x01020304u);
    const record_slot& s = *got[1];
    EXPECT_TRUE(s.ipv6());
    EXPECT_EQ(s.flags, record_ipv6 | record_rtcp);
    EXPECT_EQ(s.record_id, 2u);
    EXPECT_EQ(s.tsc, 102u);
    EXPECT_EQ(s.channel, 1);
    EXPECT_EQ(s.src_addr, 0u);
    EXPECT_EQ(s.dst_addr, 0u);
    EXPECT_EQ(s.src_port, 0x1111);
    EXPECT_EQ(s.dst_port, 0x2222);
    EXPECT_EQ(std::memcmp(s.src6(), src6, 16), 0);
    EXPECT_EQ(std::memcmp(s.dst6(), dst6, 16), 0);
    EXPECT_EQ(s.len, record_addr6_bytes + 172);
    EXPECT_EQ(s.orig_len, 172);
    EXPECT_EQ(s.packet_len(), 172u);
    EXPECT_EQ(s.packet()[0], 2);
    EXPECT_EQ(s.packet()[171], static_cast<uint8_t>(2 + 171));
    EXPECT_EQ(record_slot::size_for(s.len), 240u) << "an IPv6 G.711 record: half a line more than IPv4's 208";
    EXPECT_EQ(got[2]->packet_len(), 5u);
    EXPECT_EQ(got[2]->packet()[4], static_cast<uint8_t>(3 + 4));
    EXPECT_EQ(got[2]->flags, record_ipv6);
}

TEST(record_ring, long_ipv6_packets_are_cut_after_the_addresses) {
    record_ring r(65536);
    record_slot* s = put6(r, 1, 1600);
    ASSERT_NE(s, nullptr);
    r.commit();
    EXPECT_EQ(s->packet_len(), record_slot_data);
    EXPECT_EQ(s->len, record_addr6_bytes + record_slot_data);
    EXPECT_EQ(s->orig_len, 1600);
    EXPECT_EQ(s->packet()[record_slot_data - 1], static_cast<uint8_t>(1 + record_slot_data - 1));
}

TEST(record_ring, mixed_families_wrap_and_lose_nothing) {
    record_ring r(65536);
    for (uint32_t round = 0; round < 20; ++round) {
        uint32_t put_n = 0;
        for (uint32_t i = 0; i < 100; ++i) {
            const uint32_t id = round * 100 + i + 1;
            record_slot* s = (id % 2 != 0) ? put6(r, id, 20 + id % 200) : put(r, id, 20 + id % 200);
            ASSERT_NE(s, nullptr) << "read every round: room enough";
            ++put_n;
        }
        r.commit();
        uint64_t pos = r.consumed();
        uint32_t expect = round * 100 + 1;
        while (const record_slot* s = r.next(&pos, r.committed())) {
            ASSERT_EQ(s->record_id, expect);
            ASSERT_EQ(s->ipv6(), expect % 2 != 0);
            ASSERT_EQ(s->packet_len(), 20 + expect % 200);
            ASSERT_EQ(s->packet()[s->packet_len() - 1], static_cast<uint8_t>(expect + s->packet_len() - 1));
            ++expect;
        }
        EXPECT_EQ(expect, round * 100 + 1 + put_n);
        r.release(pos);
    }
}

// While the recorder keeps up, the worker writes the hot area's lines again and again, every
// record in order and as written.
TEST(record_ring, the_worker_rewrites_the_hot_area_while_the_recorder_keeps_up) {
    constexpr uint32_t hot = 65536;
    record_ring r(1u << 20, hot);
    const auto* base = reinterpret_cast<const uint8_t*>(put(r, 1, 172));
    ASSERT_NE(base, nullptr);
    r.commit();
    uint32_t expect = 1;
    for (uint32_t id = 2; id <= 20000; ++id) {
        const auto* s = reinterpret_cast<const uint8_t*>(put(r, id, 100 + id % 150));
        ASSERT_NE(s, nullptr);
        ASSERT_TRUE(s >= base && s < base + hot) << "record " << id << " outside the hot area";
        if (id % 8 == 0) {  // the recorder reads every 8 records
            r.commit();
            uint64_t pos = r.consumed();
            while (const record_slot* got = r.next(&pos, r.committed())) {
                ASSERT_EQ(got->record_id, expect);
                ASSERT_EQ(got->data()[got->len - 1], static_cast<uint8_t>(expect + got->len - 1));
                ++expect;
            }
            r.release(pos);
        }
    }
    EXPECT_EQ(expect, 20000u - 20000 % 8 + 1) << "every record committed was read, in order";
    EXPECT_EQ(r.refused(), 0u);
}

// A recorder that falls behind has both areas: the worker goes on in the large one once the
// hot one is full (each keeps room for the switch: a header and the 16 bytes a header may not
// fit in before the end), in order, and comes back to the hot
// area once the recorder has read it.
TEST(record_ring, a_recorder_behind_has_both_areas) {
    constexpr uint32_t hot = 65536;
    record_ring r(1u << 20, hot);
    EXPECT_EQ(r.capacity(), (1u << 20) + hot);
    const auto* base = reinterpret_cast<const uint8_t*>(put(r, 1, 172));
    uint32_t n = 1;
    while (put(r, n + 1, 172) != nullptr) {
        ++n;
    }
    EXPECT_EQ(n, (hot - 48) / 208 + ((1u << 20) - 48) / 208) << "all of both areas but a switch's room each";
    EXPECT_EQ(r.refused(), 1u);
    r.commit();
    auto got = read_all(r);
    ASSERT_EQ(got.size(), n);
    for (uint32_t i = 0; i < n; ++i) {
        ASSERT_EQ(got[i]->record_id, i + 1);
    }
    r.release(r.committed());
    // Caught up: the next records go to the hot area again, and the recorder reads them after
    // the large area's last.
    uint32_t expect = n + 1;
    for (uint32_t id = n + 1; id <= n + 2000; ++id) {
        const auto* s = reinterpret_cast<const uint8_t*>(put(r, id, 172));
        ASSERT_NE(s, nullptr);
        EXPECT_TRUE(s >= base && s < base + hot) << "back in the hot area: " << id;
        r.commit();
        if (id % 3 == 0) {
            uint64_t pos = r.consumed();
            while (const record_slot* g = r.next(&pos, r.committed())) {
                ASSERT_EQ(g->record_id, expect);
                ++expect;
            }
            r.release(pos);
        }
    }
    EXPECT_EQ(r.refused(), 1u);
    for (const record_slot* g : read_all(r)) {
        ASSERT_EQ(g->record_id, expect);
        ++expect;
    }
    EXPECT_EQ(expect, n + 2001);
}

// reserve_hot, the worker's inlined fast path, gives what reserve() would while the hot area
// has room, and nothing (leaving the switch to reserve()) once it is full or the worker writes
// the large area; records of both stay in one order.
TEST(record_ring, reserve_hot_is_reserve_while_the_hot_area_has_room) {
    constexpr uint32_t hot = 65536;
    record_ring r(1u << 20, hot);
    uint32_t n = 0;
    const uint8_t* base = nullptr;
    while (record_slot* s = r.reserve_hot(172)) {
        base = base == nullptr ? reinterpret_cast<const uint8_t*>(s) : base;
        EXPECT_TRUE(reinterpret_cast<const uint8_t*>(s) >= base && reinterpret_cast<const uint8_t*>(s) < base + hot);
        s->record_id = ++n;
        s->len = 172;
        s->flags = 0;
    }
    EXPECT_EQ(n, (hot - 48) / 208) << "all of the hot area but the switch's room";
    ASSERT_NE(put(r, n + 1, 172), nullptr) << "reserve() switches to the large area";
    EXPECT_EQ(r.reserve_hot(172), nullptr) << "the worker writes the large area now";
    ASSERT_NE(put(r, n + 2, 172), nullptr);
    EXPECT_EQ(r.refused(), 0u);
    r.commit();
    const auto got = read_all(r);
    ASSERT_EQ(got.size(), n + 2);
    for (uint32_t i = 0; i < n + 2; ++i) {
        ASSERT_EQ(got[i]->record_id, i + 1);
    }
}

// A switch due where 16 bytes are left before the hot area's end, too few for its header:
// both sides skip them, the switch goes at the area's start, and nothing is lost or reordered.
TEST(record_ring, a_switch_skips_an_end_too_short_for_a_header) {
    constexpr uint32_t hot = 4096;
    record_ring r(1u << 20, hot);
    const auto* base = reinterpret_cast<const uint8_t*>(put(r, 1, 240));  // 272 bytes a record
    r.commit();
    ASSERT_EQ(read_all(r).size(), 1u);
    r.release(r.committed());                // the area's first 272 bytes are free again
    for (uint32_t id = 2; id <= 15; ++id) {  // 15 * 272 = hot - 16
        ASSERT_NE(put(r, id, 240), nullptr) << id;
    }
    EXPECT_EQ(r.reserve_hot(240), nullptr) << "16 bytes left at the end: full";
    const auto* s = reinterpret_cast<const uint8_t*>(put(r, 16, 240));
    ASSERT_NE(s, nullptr);
    EXPECT_TRUE(s < base || s >= base + hot) << "after the switch: the large area";
    ASSERT_NE(put(r, 17, 4), nullptr);
    r.commit();
    uint32_t expect = 2;
    for (const record_slot* g : read_all(r)) {
        ASSERT_EQ(g->record_id, expect);
        ++expect;
    }
    EXPECT_EQ(expect, 18u);
    r.release(r.committed());
    const auto* back = reinterpret_cast<const uint8_t*>(put(r, 18, 4));
    EXPECT_TRUE(back >= base && back < base + hot) << "back in the hot area after its switch";
    r.commit();
    const auto last = read_all(r);
    ASSERT_EQ(last.size(), 1u);
    EXPECT_EQ(last[0]->record_id, 18u);
    EXPECT_EQ(r.refused(), 0u);
}

// The recorder behind and catching up again and again, reading at its own pace on another
// thread: the worker's switches between the areas lose and reorder nothing.
TEST(record_ring, switching_areas_with_a_concurrent_reader_loses_nothing) {
    record_ring r(1u << 20, 4096);
    constexpr uint32_t n = 300000;
    std::thread producer([&] {
        for (uint32_t i = 1; i <= n;) {
            if (put(r, i, 16 + i % 300) == nullptr) {
                r.commit();  // full: hand over what is there
                continue;
            }
            if (++i % 16 == 0) {
                r.commit();
            }
        }
        r.commit();
    });
    read_in_order(r, n);
    producer.join();
    EXPECT_TRUE(read_all(r).empty());
}

}  // namespace
}  // namespace rtprelay::dp
