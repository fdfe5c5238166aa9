// Recording ids (control/recording/record_ids.h): 16 bits, 0 never given, all 65,535 usable,
// none given twice while in use, and one given back comes back only after the others.

#include "control/recording/record_ids.h"

#include <gtest/gtest.h>

#include <vector>

namespace rtprelay::recording {
namespace {

TEST(record_ids, every_id_once_then_none) {
    record_ids ids;
    std::vector<bool> seen(record_ids::max_ids + 1, false);
    for (uint32_t k = 0; k < record_ids::max_ids; ++k) {
        const uint16_t id = ids.take();
        ASSERT_NE(id, 0) << "after " << k;
        ASSERT_FALSE(seen[id]) << id << " given twice";
        seen[id] = true;
    }
    EXPECT_EQ(ids.in_use(), record_ids::max_ids);
    EXPECT_EQ(ids.take(), 0) << "all 65,535 in use: no id";
    EXPECT_EQ(ids.take(), 0);
    EXPECT_EQ(ids.in_use(), record_ids::max_ids);
}

TEST(record_ids, a_freed_id_is_reused_when_all_others_are_taken) {
    record_ids ids;
    for (uint32_t k = 0; k < record_ids::max_ids; ++k) {
        ids.take();
    }
    ids.give_back(4242);
    ids.give_back(17);
    EXPECT_EQ(ids.in_use(), record_ids::max_ids - 2u);
    // Round robin from where it stopped (after 65535, back at 1): 17 comes before 4242.
    EXPECT_EQ(ids.take(), 17);
    EXPECT_EQ(ids.take(), 4242);
    EXPECT_EQ(ids.take(), 0);
}

TEST(record_ids, round_robin_does_not_hand_back_a_just_freed_id) {
    record_ids ids;
    const uint16_t a = ids.take();
    const uint16_t b = ids.take();
    ids.give_back(a);
    const uint16_t c = ids.take();
    EXPECT_NE(c, a) << "a freed id waits for the others";
    EXPECT_NE(c, b);
    // Wrapping: every other id taken once, then the first free one is `a` again.
    for (uint32_t k = 3; k < record_ids::max_ids; ++k) {
        ids.take();
    }
    EXPECT_EQ(ids.take(), a);
    EXPECT_EQ(ids.take(), 0);
}

TEST(record_ids, giving_back_zero_or_a_free_id_changes_nothing) {
    record_ids ids;
    const uint16_t a = ids.take();
    ids.give_back(0);
    ids.give_back(static_cast<uint16_t>(a + 1));
    EXPECT_EQ(ids.in_use(), 1u);
    ids.give_back(a);
    ids.give_back(a);
    EXPECT_EQ(ids.in_use(), 0u);
}

}  // namespace
}  // namespace rtprelay::recording
