#pragma once
// G.711 (ITU-T G.711) to 16-bit linear PCM, for the recordings' WAV files: PCMU (mu-law,
// RTP payload type 0) and PCMA (A-law, payload type 8), one byte per sample at 8 kHz.
// Two 256-entry tables built once; a lookup per sample.

#include <cstdint>

namespace rtprelay::recording {

int16_t ulaw_to_linear(uint8_t u);
int16_t alaw_to_linear(uint8_t a);

// Decodes n bytes of payload type `pt` (0 or 8) into out[0, n).
void g711_decode(uint8_t pt, const uint8_t* in, uint32_t n, int16_t* out);

}  // namespace rtprelay::recording
