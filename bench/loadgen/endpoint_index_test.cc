#include "bench/loadgen/endpoint_index.h"

#include <gtest/gtest.h>

namespace rtprelay::loadgen {
namespace {

TEST(endpoint_index, finds_each_side_address_and_port_and_grows) {
    endpoint_index idx(4);
    for (uint32_t i = 0; i < 20000; ++i) {
        const auto port = static_cast<uint16_t>(10000 + i % 25000);
        ASSERT_TRUE(idx.insert(side::a, 0x0101a8c0u + (i / 25000), port, 2 * i));
        ASSERT_TRUE(idx.insert(side::b, 0x0101a8c0u + (i / 25000), port, 2 * i + 1)) << "the side is part of the key";
    }
    for (uint32_t i = 0; i < 20000; ++i) {
        const auto port = static_cast<uint16_t>(10000 + i % 25000);
        ASSERT_EQ(idx.find(side::a, 0x0101a8c0u, port), 2 * i);
        ASSERT_EQ(idx.find(side::b, 0x0101a8c0u, port), 2 * i + 1);
    }
    EXPECT_EQ(idx.find(side::a, 0x0201a8c0u, 10000), endpoint_index::none) << "another address";
    EXPECT_EQ(idx.find(side::a, 0x0101a8c0u, 9999), endpoint_index::none) << "another port";
    EXPECT_FALSE(idx.insert(side::a, 0x0101a8c0u, 10000, 7)) << "a key is inserted once";
    EXPECT_EQ(idx.find(side::a, 0x0101a8c0u, 10000), 0u);
}

}  // namespace
}  // namespace rtprelay::loadgen
