// call_positions (control/ha/call_positions.h): the control thread's call -> queued position
// map, checked against std::unordered_map through random insertions, updates and removals,
// in a table half full and through its growths.

#include "control/ha/call_positions.h"

#include <gtest/gtest.h>

#include <random>
#include <unordered_map>
#include <vector>

namespace rtprelay::ha {
namespace {

const call* addr(uintptr_t i) { return reinterpret_cast<const call*>(0x10000 + 136 * i); }

TEST(call_positions, a_new_call_is_nowhere_and_keeps_what_is_set) {
    call_positions m;
    EXPECT_EQ(m.at(addr(1)), 0u);
    m.at(addr(1)) = 42;
    EXPECT_EQ(m.at(addr(1)), 42u);
    EXPECT_EQ(m.size(), 1u);
    EXPECT_EQ(m.take(addr(1)), 42u);
    EXPECT_EQ(m.take(addr(1)), 0u) << "gone";
    EXPECT_EQ(m.size(), 0u);
    EXPECT_EQ(m.take(addr(2)), 0u);  // never there: nothing happens
    EXPECT_EQ(m.size(), 0u);
}

TEST(call_positions, agrees_with_unordered_map_through_random_changes_and_growth) {
    std::mt19937_64 rng(7);
    call_positions m;
    std::unordered_map<const call*, uint64_t> ref;
    // First at most 31 distinct addresses, so the table stays at its first 64 slots, up to
    // half full: long probe runs with removals inside them (the back shift); then many,
    // through the growths.
    for (int round = 0; round < 200000; ++round) {
        const uintptr_t range = round < 100000 ? 31 : 20000;
        const call* c = addr(rng() % range);
        switch (rng() % 3) {
            case 0:
            case 1: {
                const uint64_t v = rng() % 1000 + 1;
                m.at(c) = v;
                ref[c] = v;
                break;
            }
            case 2: {
                const auto it = ref.find(c);
                const uint64_t want = it == ref.end() ? 0 : it->second;
                if (it != ref.end()) {
                    ref.erase(it);
                }
                ASSERT_EQ(m.take(c), want) << "round " << round;
                break;
            }
        }
        ASSERT_EQ(m.size(), ref.size()) << "round " << round;
    }
    for (const auto& [c, v] : ref) {
        EXPECT_EQ(m.at(c), v);
    }
}

}  // namespace
}  // namespace rtprelay::ha
