#include "bench/loadgen/stream_index.h"

#include <gtest/gtest.h>

#include "bench/loadgen/call_table.h"

namespace rtprelay::loadgen {
namespace {

TEST(stream_index, finds_ssrcs_that_were_inserted_and_grows) {
    stream_index idx(4);
    for (uint32_t i = 0; i < 10000; ++i) {
        ASSERT_TRUE(idx.insert(i * 7919u, i));
    }
    for (uint32_t i = 0; i < 10000; ++i) {
        ASSERT_EQ(idx.find(i * 7919u), i);
    }
    EXPECT_EQ(idx.find(1), stream_index::none);
    EXPECT_FALSE(idx.insert(7919u, 5));  // duplicate SSRC refused
    EXPECT_EQ(idx.find(7919u), 1u);
}

TEST(stream_index, finds_each_side_address_and_port_and_grows) {
    stream_index idx(4);
    for (uint32_t i = 0; i < 20000; ++i) {
        const auto port = static_cast<uint16_t>(10000 + i % 25000);
        ASSERT_TRUE(idx.insert(endpoint_key(side::a, 0x0101a8c0u + (i / 25000), port), 2 * i));
        ASSERT_TRUE(idx.insert(endpoint_key(side::b, 0x0101a8c0u + (i / 25000), port), 2 * i + 1))
            << "the side is part of the key";
    }
    for (uint32_t i = 0; i < 20000; ++i) {
        const auto port = static_cast<uint16_t>(10000 + i % 25000);
        ASSERT_EQ(idx.find(endpoint_key(side::a, 0x0101a8c0u, port)), 2 * i);
        ASSERT_EQ(idx.find(endpoint_key(side::b, 0x0101a8c0u, port)), 2 * i + 1);
    }
    EXPECT_EQ(idx.find(endpoint_key(side::a, 0x0201a8c0u, 10000)), stream_index::none) << "another address";
    EXPECT_EQ(idx.find(endpoint_key(side::a, 0x0101a8c0u, 9999)), stream_index::none) << "another port";
    EXPECT_FALSE(idx.insert(endpoint_key(side::a, 0x0101a8c0u, 10000), 7)) << "a key is inserted once";
    EXPECT_EQ(idx.find(endpoint_key(side::a, 0x0101a8c0u, 10000)), 0u);
}

}  // namespace
}  // namespace rtprelay::loadgen
