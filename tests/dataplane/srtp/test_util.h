#pragma once
// Packet builders and buffer helpers for the SRTP tests.

#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "dataplane/srtp/srtp.h"

namespace rtprelay::dp::srtp::test {

using bytes = std::vector<uint8_t>;

bytes from_hex(std::string_view hex);
std::string to_hex(const bytes& b);
// 30 bytes as 60 hex digits: key then salt.
master_key key_from_hex(std::string_view hex);
master_key random_key(std::mt19937_64& rng);

struct rtp_spec {
    uint16_t seq = 0;
    uint32_t ts = 0;
    uint32_t ssrc = 0;
    uint8_t csrcs = 0;       // CSRC count, 0..15
    bool extension = false;  // X bit, with ext_words words of extension data
    uint16_t ext_words = 0;
    size_t payload_len = 160;
};
// V=2, PT 0, random CSRC/extension/payload bytes.
bytes make_rtp(const rtp_spec& spec, std::mt19937_64& rng);
// A sender report: V=2, PT 200, `words` 32-bit words after the 8-byte header, random bytes.
bytes make_rtcp(uint32_t ssrc, size_t words, std::mt19937_64& rng);

// Protect/unprotect a packet held in a vector (resized to the new length; unchanged on
// failure). Protect gets exactly context::overhead() bytes of room, in a buffer of exactly
// that size, so an overrun shows up under ASan.
result protect(context& c, bytes& pkt);
result unprotect(context& c, bytes& pkt);

}  // namespace rtprelay::dp::srtp::test
