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
    p.legs = with_srtp ? leg_mode::srtp : leg_mode::plain;
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
            std::vector<uint8_t> pkt(store.body(k, r), store.body(k, r) + store.body_bytes(k));
            uint32_t len = store.body_bytes(k);
            ASSERT_EQ(srtp::unprotect_rtp(*rx, pkt.data(), &len), srtp::result::ok)
                << "identity " << k << " round " << r;
            rtp_view v;
            ASSERT_TRUE(parse_rtp(pkt.data(), len, &v));
            EXPECT_EQ(v.seq, static_cast<uint16_t>(id.first_seq + r));
            EXPECT_EQ(v.ssrc, id.ssrc);
            EXPECT_EQ(v.call_index, k);
            EXPECT_EQ(fold(store.body_sum(k, r)), folded_sum(store.body(k, r), store.body_bytes(k)));
        }
    }
}

TEST(packet_store, plain_packets_are_rtp_with_their_identity) {
    std::mt19937_64 rng(9);
    const packet_store store(small(false), rng);
    for (uint32_t k = 0; k < store.identities(); ++k) {
        EXPECT_FALSE(store.srtp(k));
        EXPECT_EQ(store.body_bytes(k), rtp_header_bytes + 160u);
        for (uint32_t r = 0; r < store.rounds(); r += 7) {
            rtp_view v;
            ASSERT_TRUE(parse_rtp(store.body(k, r), store.body_bytes(k), &v));
            EXPECT_EQ(v.seq, static_cast<uint16_t>(store.identity(k).first_seq + r));
            EXPECT_EQ(v.timestamp, store.identity(k).first_ts + r * 160u);  // 8 kHz, 20 ms
            EXPECT_EQ(v.call_index, k);
        }
    }
}

// --rtp-srtp: A's identities (even) are plain RTP, B's (odd) SRTP that an independent
// receiver unprotects in order; libsrtp2 checked only the SRTP ones among the first four.
TEST(packet_store, rtp_srtp_protects_only_the_b_identities) {
    std::mt19937_64 rng(11);
    packet_store::params p = small(true);
    p.legs = leg_mode::rtp_srtp;
    p.check_identities = 4;
    const packet_store store(p, rng);
    EXPECT_EQ(store.checked(), 2u * 100u);  // identities 1 and 3
    EXPECT_EQ(store.mismatched(), 0u);
    for (uint32_t k = 0; k < store.identities(); ++k) {
        const sender_identity& id = store.identity(k);
        const bool b = k % 2 == 1;
        EXPECT_EQ(store.srtp(k), b);
        EXPECT_EQ(store.body_bytes(k), rtp_header_bytes + 160u + (b ? 10u : 0u));
        std::unique_ptr<srtp::context> rx;
        if (b) {
            rx = srtp::make_context(srtp::engine::libsrtp2, srtp::suite::aes_cm_128_hmac_sha1_80, id.key, false);
        }
        for (uint32_t r = 0; r < store.rounds(); ++r) {
            std::vector<uint8_t> pkt(store.body(k, r), store.body(k, r) + store.body_bytes(k));
            uint32_t len = store.body_bytes(k);
            if (b) {
                ASSERT_EQ(srtp::unprotect_rtp(*rx, pkt.data(), &len), srtp::result::ok)
                    << "identity " << k << " round " << r;
            }
            rtp_view v;
            ASSERT_TRUE(parse_rtp(pkt.data(), len, &v)) << "identity " << k << " round " << r;
            EXPECT_EQ(v.seq, static_cast<uint16_t>(id.first_seq + r));
            EXPECT_EQ(v.call_index, k);
            EXPECT_EQ(fold(store.body_sum(k, r)), folded_sum(store.body(k, r), store.body_bytes(k)));
        }
    }
}

// Streams share identities when the budget is short (stream 2c + side takes identity
// (2c + side) % identities): the count is rounded so that every call still gets identities of
// its own legs, with --srtp-mix's four kinds of call too.
TEST(packet_store, shared_identities_keep_every_calls_legs) {
    EXPECT_EQ(packet_store::shared_identities(100, 1000, leg_mode::mix), 100u) << "all fit: one each";
    EXPECT_EQ(packet_store::shared_identities(100, 37, leg_mode::mix), 32u);
    EXPECT_EQ(packet_store::shared_identities(100, 37, leg_mode::rtp_srtp), 36u);
    EXPECT_EQ(packet_store::shared_identities(100, 3, leg_mode::mix), 8u) << "never fewer than one period";
    EXPECT_EQ(packet_store::shared_identities(100, 0, leg_mode::plain), 2u);
    for (const leg_mode mode : {leg_mode::plain, leg_mode::srtp, leg_mode::rtp_srtp, leg_mode::mix}) {
        std::mt19937_64 rng(13);
        packet_store::params p = small(false);
        p.legs = mode;
        p.rounds = 2;
        p.identities = packet_store::shared_identities(2 * 1000, 21, mode);
        const packet_store store(p, rng);
        for (uint32_t c = 0; c < 1000; ++c) {
            const call_legs legs = legs_of(c, mode);
            EXPECT_EQ(store.srtp((2 * c) % store.identities()), legs.srtp_a) << "call " << c;
            EXPECT_EQ(store.srtp((2 * c + 1) % store.identities()), legs.srtp_b) << "call " << c;
        }
    }
}

}  // namespace
}  // namespace rtprelay::loadgen
