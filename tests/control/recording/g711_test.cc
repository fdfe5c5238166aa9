#include "control/recording/g711.h"

#include <gtest/gtest.h>

namespace rtprelay::recording {
namespace {

// Values from ITU-T G.711's tables: the decoder output for the byte on the line.
TEST(g711, mu_law_reference_points) {
    EXPECT_EQ(ulaw_to_linear(0xff), 0);
    EXPECT_EQ(ulaw_to_linear(0x7f), 0);
    EXPECT_EQ(ulaw_to_linear(0x80), 32124);
    EXPECT_EQ(ulaw_to_linear(0x00), -32124);
    EXPECT_EQ(ulaw_to_linear(0xfe), 8);
    EXPECT_EQ(ulaw_to_linear(0x7e), -8);
    EXPECT_EQ(ulaw_to_linear(0xef), 132);  // segment 1 starts at 132
}

TEST(g711, a_law_reference_points) {
    EXPECT_EQ(alaw_to_linear(0xd5), 8);
    EXPECT_EQ(alaw_to_linear(0x55), -8);
    EXPECT_EQ(alaw_to_linear(0xaa), 32256);
    EXPECT_EQ(alaw_to_linear(0x2a), -32256);
}

TEST(g711, decoding_is_monotonic_and_symmetric) {
    for (int b = 0; b < 128; ++b) {
        EXPECT_EQ(ulaw_to_linear(static_cast<uint8_t>(b)), -ulaw_to_linear(static_cast<uint8_t>(b | 0x80)));
        EXPECT_EQ(alaw_to_linear(static_cast<uint8_t>(b)), -alaw_to_linear(static_cast<uint8_t>(b | 0x80)));
    }
    for (int b = 0x81; b < 0xff; ++b) {  // mu-law positive half: larger byte, smaller value
        EXPECT_GE(ulaw_to_linear(static_cast<uint8_t>(b)), ulaw_to_linear(static_cast<uint8_t>(b + 1)));
    }
    const uint8_t in[3] = {0xff, 0x80, 0x00};
    int16_t out[3];
    g711_decode(0, in, 3, out);
    EXPECT_EQ(out[1], 32124);
    g711_decode(8, in, 3, out);
    EXPECT_EQ(out[0], alaw_to_linear(0xff));
}

}  // namespace
}  // namespace rtprelay::recording
