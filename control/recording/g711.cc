#include "control/recording/g711.h"

#include <array>
#include <cstddef>

namespace rtprelay::recording {

namespace {
// mu-law: the byte is sent inverted; 3 exponent bits and 4 mantissa bits of a value biased by
// 0x84 (132), then the bias is taken off again.
int16_t ulaw_formula(uint8_t u) {
    u = static_cast<uint8_t>(~u);
    const int exponent = (u >> 4) & 0x07;
    const int mantissa = u & 0x0f;
    const int magnitude = (((mantissa << 3) + 0x84) << exponent) - 0x84;
    return static_cast<int16_t>((u & 0x80) != 0 ? -magnitude : magnitude);
}

// A-law: even bits are sent inverted (xor 0x55); sign bit set means positive; segment 0 is
// linear, the others double per segment.
int16_t alaw_formula(uint8_t a) {
    a ^= 0x55;
    const int exponent = (a >> 4) & 0x07;
    const int mantissa = a & 0x0f;
    const int magnitude = exponent == 0 ? (mantissa << 4) + 8 : ((mantissa << 4) + 0x108) << (exponent - 1);
    return static_cast<int16_t>((a & 0x80) != 0 ? magnitude : -magnitude);
}

template <int16_t (*F)(uint8_t)>
std::array<int16_t, 256> table() {
    std::array<int16_t, 256> t{};
    for (int i = 0; i < 256; ++i) {
        t[static_cast<size_t>(i)] = F(static_cast<uint8_t>(i));
    }
    return t;
}

const std::array<int16_t, 256>& ulaw_table() {
    static const std::array<int16_t, 256> t = table<ulaw_formula>();
    return t;
}
const std::array<int16_t, 256>& alaw_table() {
    static const std::array<int16_t, 256> t = table<alaw_formula>();
    return t;
}
}  // namespace

int16_t ulaw_to_linear(uint8_t u) { return ulaw_table()[u]; }
int16_t alaw_to_linear(uint8_t a) { return alaw_table()[a]; }

void g711_decode(uint8_t pt, const uint8_t* in, uint32_t n, int16_t* out) {
    const std::array<int16_t, 256>& t = pt == 8 ? alaw_table() : ulaw_table();
    for (uint32_t i = 0; i < n; ++i) {
        out[i] = t[in[i]];
    }
}

}  // namespace rtprelay::recording
