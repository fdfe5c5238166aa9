#include "bench/loadgen/packet_store.h"

#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <random>
#include <set>
#include <vector>

#include "bench/loadgen/rtp_wire.h"

namespace rtprelay::loadgen {
namespace {

namespace srtp = dp::srtp;

packet_store::params small(bool with_srtp) {
    packet_store::params p;
    p.identities = 8;
    p.rounds = 100;
    p.payload_bytes = 160;
    p.ptime_ms = 20;
    p.srtp = with_srtp;
    p.check_identities = with_srtp ? 2 : 0;
    return p;
}

// 16-bit words in memory order, the odd byte as the low-address half, folded: what the UDP
// checksum adds for the body.
uint16_t folded_sum(const uint8_t* p, size_t len) {
    uint32_t sum = 0;
    for (size_t i = 0; i + 1 < len; i += 2) {
        uint16_t w = 0;
        std::memcpy(&w, p + i, 2);
        sum += w;
    }
    if (len % 2 != 0) {
        sum += p[len - 1];
    }
    while (sum > 0xffff) {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    return static_cast<uint16_t>(sum);
}

uint16_t fold(uint32_t sum) {
    while (sum > 0xffff) {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    return static_cast<uint16_t>(sum);
}

// Each identity's packets, unprotected in order by an independent receiver (libsrtp2) with
// the identity's key: every one authenticates, in sequence across the 16-bit wrap (which
// falls between a quarter and half of the rounds), and carries the identity's number.
TEST(packet_store, srtp_packets_unprotect_in_order_across_the_wrap) {
    std::mt19937_64 rng(7);
    const packet_store store(small(true), rng);
    EXPECT_EQ(store.checked(), 2u * 100u);  // libsrtp2 checked the first 2 identities' rounds
    EXPECT_EQ(store.mismatched(), 0u);
    std::set<uint32_t> ssrcs;
    for (uint32_t k = 0; k < store.identities(); ++k) {
        const sender_identity& id = store.identity(k);
        EXPECT_TRUE(ssrcs.insert(id.ssrc).second) << "SSRCs are distinct";
        const uint32_t wrap_round = 65536u - id.first_seq;
        EXPECT_GE(wrap_round, 25u);
        EXPECT_LE(wrap_round, 50u);
        auto rx = srtp::make_context(srtp::engine::libsrtp2, srtp::suite::aes_cm_128_hmac_sha1_80, id.key, false);
        for (uint32_t r = 0; r < store.rounds(); ++r) {
            std::vector<uint8_t> pkt(store.body(k, r), store.body(k, r) + store.body_bytes());
            uint32_t len = store.body_bytes();
            ASSERT_EQ(srtp::unprotect_rtp(*rx, pkt.data(), &len), srtp::result::ok)
                << "identity " << k << " round " << r;
            rtp_view v;
            ASSERT_TRUE(parse_rtp(pkt.data(), len, &v));
            EXPECT_EQ(v.seq, static_cast<uint16_t>(id.first_seq + r));
            EXPECT_EQ(v.ssrc, id.ssrc);
            EXPECT_EQ(v.call_index, k);
            EXPECT_EQ(fold(store.body_sum(k, r)), folded_sum(store.body(k, r), store.body_bytes()));
        }
    }
}

TEST(packet_store, plain_packets_are_rtp_with_their_identity) {
    std::mt19937_64 rng(9);
    const packet_store store(small(false), rng);
    EXPECT_EQ(store.body_bytes(), rtp_header_bytes + 160u);
    for (uint32_t k = 0; k < store.identities(); ++k) {
        for (uint32_t r = 0; r < store.rounds(); r += 7) {
            rtp_view v;
            ASSERT_TRUE(parse_rtp(store.body(k, r), store.body_bytes(), &v));
            EXPECT_EQ(v.seq, static_cast<uint16_t>(store.identity(k).first_seq + r));
            EXPECT_EQ(v.timestamp, store.identity(k).first_ts + r * 160u);  // 8 kHz, 20 ms
            EXPECT_EQ(v.call_index, k);
        }
    }
}

}  // namespace
}  // namespace rtprelay::loadgen
