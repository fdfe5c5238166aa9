#include "bench/loadgen/ssrc_index.h"

#include <gtest/gtest.h>

namespace rtprelay::loadgen {
namespace {

TEST(ssrc_index, finds_what_was_inserted_and_grows) {
    ssrc_index idx(4);
    for (uint32_t i = 0; i < 10000; ++i) {
        ASSERT_TRUE(idx.insert(i * 7919u, i));
    }
    for (uint32_t i = 0; i < 10000; ++i) {
        ASSERT_EQ(idx.find(i * 7919u), i);
    }
    EXPECT_EQ(idx.find(1), ssrc_index::none);
    EXPECT_FALSE(idx.insert(7919u, 5));  // duplicate SSRC refused
    EXPECT_EQ(idx.find(7919u), 1u);
}

}  // namespace
}  // namespace rtprelay::loadgen
