// Every failure result, on both engines and every suite: the packet is refused, the packet
// bytes and the context's state are as before (test::protect/unprotect check the bytes), and
// the stream goes on working afterwards.

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <string>
#include <tuple>

#include "dataplane/srtp/srtp.h"
#include "tests/dataplane/srtp/test_util.h"

namespace rtprelay::dp::srtp {
namespace {

using test::bytes;

class failures : public ::testing::TestWithParam<std::tuple<engine, suite>> {
 protected:
    void SetUp() override {
        key = test::random_key(rng);
        tx = make_context(std::get<0>(GetParam()), std::get<1>(GetParam()), key, false);
        rx = make_context(std::get<0>(GetParam()), std::get<1>(GetParam()), key, false);
        tx_c = make_context(std::get<0>(GetParam()), std::get<1>(GetParam()), key, true);
        rx_c = make_context(std::get<0>(GetParam()), std::get<1>(GetParam()), key, true);
    }

    bytes rtp(uint16_t seq, uint32_t ssrc = 0x01020304) {
        test::rtp_spec spec;
        spec.seq = seq;
        spec.ssrc = ssrc;
        spec.payload_len = 160;
        return test::make_rtp(spec, rng);
    }

    bytes srtp(uint16_t seq, uint32_t ssrc = 0x01020304) {
        bytes p = rtp(seq, ssrc);
        EXPECT_EQ(test::protect(*tx, p), result::ok);
        return p;
    }

    // Receiving `seq` fresh works and gives the plaintext back.
    void expect_receives(uint16_t seq, uint32_t ssrc = 0x01020304) {
        const bytes plain = rtp(seq, ssrc);
        bytes p = plain;
        ASSERT_EQ(test::protect(*tx, p), result::ok);
        ASSERT_EQ(test::unprotect(*rx, p), result::ok) << "seq " << seq;
        EXPECT_EQ(p, plain);
    }

    std::mt19937_64 rng{99};
    master_key key{};
    std::unique_ptr<context> tx, rx, tx_c, rx_c;
};

// Where an SRTCP packet of `len` bytes keeps its E/index word: before the MKI and tag
// (AES-CM), after the tag (AES-GCM).
size_t trailer_at(const context& c, size_t len) {
    return c.kind() == transform::aes_gcm ? len - c.mki_len() - 4 : len - c.tag_len() - c.mki_len() - 4;
}

TEST_P(failures, replay) {
    const bytes c = srtp(100);
    bytes p = c;
    ASSERT_EQ(test::unprotect(*rx, p), result::ok);
    p = c;
    EXPECT_EQ(test::unprotect(*rx, p), result::replay);
    EXPECT_EQ(test::unprotect(*rx, p), result::replay);
    expect_receives(101);
    p = c;
    EXPECT_EQ(test::unprotect(*rx, p), result::replay);
}

// Not a failure: packets from before a sequence wrap arriving after it (RFC 3711 Appendix A
// picks ROC - 1 for them), at the receiver and at a sender that relays them out of order.
TEST_P(failures, reorder_across_wrap) {
    const uint16_t sent[] = {65533, 65534, 65535, 0, 1, 2};
    const uint16_t arrival[] = {65533, 0, 65535, 1, 65534, 2};
    std::map<uint16_t, std::pair<bytes, bytes>> packets;  // seq -> plain, cipher
    for (const uint16_t seq : sent) {
        bytes plain = rtp(seq);
        bytes c = plain;
        ASSERT_EQ(test::protect(*tx, c), result::ok);
        packets[seq] = {plain, c};
    }
    for (const uint16_t seq : arrival) {
        bytes c = packets[seq].second;
        ASSERT_EQ(test::unprotect(*rx, c), result::ok) << "seq " << seq;
        EXPECT_EQ(c, packets[seq].first);
    }
    bytes again = packets[65535].second;
    EXPECT_EQ(test::unprotect(*rx, again), result::replay);

    auto relay_tx = make_context(tx->which_engine(), tx->cipher_suite(), key, false);
    auto far_rx = make_context(rx->which_engine(), rx->cipher_suite(), key, false);
    for (const uint16_t seq : arrival) {
        bytes c = packets[seq].first;
        ASSERT_EQ(test::protect(*relay_tx, c), result::ok) << "seq " << seq;
        EXPECT_EQ(c, packets[seq].second) << "seq " << seq << " got another index";
        ASSERT_EQ(test::unprotect(*far_rx, c), result::ok) << "seq " << seq;
    }
    if (rx->which_engine() == engine::native) {
        EXPECT_EQ(rx->highest_index(0x01020304), (uint64_t{1} << 16) | 2);
        EXPECT_EQ(relay_tx->highest_index(0x01020304), (uint64_t{1} << 16) | 2);
    }
}

TEST_P(failures, too_old_is_a_replay) {
    const bytes old = srtp(10);
    for (uint16_t seq = 11; seq < 200; ++seq) {
        bytes p = srtp(seq);
        ASSERT_EQ(test::unprotect(*rx, p), result::ok);
    }
    bytes p = old;  // never received, but 189 behind the highest
    EXPECT_EQ(test::unprotect(*rx, p), result::replay);
    expect_receives(200);
}

TEST_P(failures, forged_tag_then_genuine) {
    const bytes c = srtp(500);
    for (size_t bit = 0; bit < 8 * c.size(); bit += 7) {
        bytes f = c;
        f[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
        const result r = test::unprotect(*rx, f);
        EXPECT_NE(r, result::ok) << "bit " << bit;
        if (bit >= 8 * 12) {  // past the fixed header: only the tag check can catch it
            EXPECT_EQ(r, result::auth_failed) << "bit " << bit;
        }
    }
    EXPECT_EQ(rx->ssrc_count(), 0u);
    bytes p = c;
    ASSERT_EQ(test::unprotect(*rx, p), result::ok);
}

// A forged packet far ahead must not move the window: had it, 490 would now be too old.
TEST_P(failures, forged_packet_ahead_moves_nothing) {
    const bytes late = srtp(490);
    bytes p = srtp(500);
    ASSERT_EQ(test::unprotect(*rx, p), result::ok);
    bytes ahead = srtp(1500);
    ahead.back() ^= 1;
    EXPECT_EQ(test::unprotect(*rx, ahead), result::auth_failed);
    p = late;
    EXPECT_EQ(test::unprotect(*rx, p), result::ok);
    if (rx->which_engine() == engine::native) {
        EXPECT_EQ(rx->highest_index(0x01020304), 500u);
    }
}

TEST_P(failures, truncated) {
    const bytes c = srtp(7);
    for (size_t cut = 1; cut <= c.size(); ++cut) {
        bytes t(c.begin(), c.end() - static_cast<long>(cut));
        const result r = test::unprotect(*rx, t);
        EXPECT_TRUE(r == result::auth_failed || r == result::too_short) << "cut " << cut << ": " << result_name(r);
        if (t.size() < 12u + rx->overhead()) {
            EXPECT_EQ(r, result::too_short);
        }
    }
    bytes p = c;
    EXPECT_EQ(test::unprotect(*rx, p), result::ok);
}

TEST_P(failures, wrong_key) {
    master_key other = key;
    other.key[3] ^= 0x40;
    auto wrong = make_context(rx->which_engine(), rx->cipher_suite(), other, false);
    bytes p = srtp(1);
    EXPECT_EQ(test::unprotect(*wrong, p), result::auth_failed);
    EXPECT_EQ(wrong->ssrc_count(), 0u);
    master_key other_salt = key;
    other_salt.salt[info(rx->cipher_suite()).master_salt_len - 1] ^= 1;
    auto wrong_salt = make_context(rx->which_engine(), rx->cipher_suite(), other_salt, false);
    EXPECT_EQ(test::unprotect(*wrong_salt, p), result::auth_failed);
    EXPECT_EQ(test::unprotect(*rx, p), result::ok);
}

TEST_P(failures, srtcp_e_bit_and_replay) {
    const bytes plain = test::make_rtcp(0x0a0b0c0d, 6, rng);
    bytes c = plain;
    ASSERT_EQ(test::protect(*tx_c, c), result::ok);
    ASSERT_EQ(c.size(), plain.size() + tx_c->overhead());
    const size_t e_at = trailer_at(*tx_c, c.size());
    EXPECT_EQ(c[e_at], 0x80);
    bytes f = c;
    f[e_at] ^= 0x80;  // E bit
    EXPECT_EQ(test::unprotect(*rx_c, f), result::auth_failed);
    f = c;
    f[e_at + 3] ^= 0x01;  // index
    EXPECT_EQ(test::unprotect(*rx_c, f), result::auth_failed);
    bytes p = c;
    ASSERT_EQ(test::unprotect(*rx_c, p), result::ok);
    EXPECT_EQ(p, plain);
    p = c;
    EXPECT_EQ(test::unprotect(*rx_c, p), result::replay);
    for (int i = 0; i < 3; ++i) {
        const bytes next_plain = test::make_rtcp(0x0a0b0c0d, 2, rng);
        bytes n = next_plain;
        ASSERT_EQ(test::protect(*tx_c, n), result::ok);
        ASSERT_EQ(test::unprotect(*rx_c, n), result::ok);
        EXPECT_EQ(n, next_plain);
    }
    bytes shortp(c.begin(), c.begin() + 8 + 4 + 9);
    EXPECT_EQ(test::unprotect(*rx_c, shortp), result::too_short);
}

TEST_P(failures, ninth_ssrc) {
    for (uint32_t i = 0; i < max_ssrcs; ++i) {
        expect_receives(static_cast<uint16_t>(i), 1000 + i);
    }
    EXPECT_EQ(rx->ssrc_count(), max_ssrcs);
    bytes p = rtp(1, 5000);
    EXPECT_EQ(test::protect(*tx, p), result::ssrc_limit);
    bytes c = p;
    // A packet for a 9th SSRC from another sender.
    auto other_tx = make_context(tx->which_engine(), tx->cipher_suite(), key, false);
    ASSERT_EQ(test::protect(*other_tx, c), result::ok);
    EXPECT_EQ(test::unprotect(*rx, c), result::ssrc_limit);
    for (uint32_t i = 0; i < max_ssrcs; ++i) {
        expect_receives(static_cast<uint16_t>(100 + i), 1000 + i);
    }
    // SRTCP keeps its own SSRC list.
    for (uint32_t i = 0; i < max_ssrcs; ++i) {
        bytes r = test::make_rtcp(1000 + i, 1, rng);
        ASSERT_EQ(test::protect(*tx_c, r), result::ok);
        ASSERT_EQ(test::unprotect(*rx_c, r), result::ok);
    }
    bytes r = test::make_rtcp(5000, 1, rng);
    EXPECT_EQ(test::protect(*tx_c, r), result::ssrc_limit);
}

TEST_P(failures, index_reuse) {
    bytes p = rtp(100);
    ASSERT_EQ(test::protect(*tx, p), result::ok);
    p = rtp(100);
    EXPECT_EQ(test::protect(*tx, p), result::index_reuse);
    for (uint16_t seq = 101; seq < 400; ++seq) {
        bytes q = rtp(seq);
        ASSERT_EQ(test::protect(*tx, q), result::ok);
    }
    p = rtp(200);  // sent, and 199 behind
    EXPECT_EQ(test::protect(*tx, p), result::index_reuse);
    p = rtp(399);
    EXPECT_EQ(test::protect(*tx, p), result::index_reuse);
    // Not sent yet but older than the sent window: cannot tell, so refused.
    auto fresh_tx = make_context(tx->which_engine(), tx->cipher_suite(), key, false);
    p = rtp(1000);
    ASSERT_EQ(test::protect(*fresh_tx, p), result::ok);
    p = rtp(1000 - 128);
    EXPECT_EQ(test::protect(*fresh_tx, p), result::index_reuse);
    p = rtp(1000 - 127);  // in the window, not sent: fine
    EXPECT_EQ(test::protect(*fresh_tx, p), result::ok);
    expect_receives(400);
}

TEST_P(failures, no_room) {
    const bytes plain = rtp(5);
    bytes buf = plain;
    buf.resize(plain.size() + tx->overhead());
    auto len = static_cast<uint32_t>(plain.size());
    EXPECT_EQ(protect_rtp(*tx, buf.data(), &len, tx->overhead() - 1), result::no_room);
    EXPECT_EQ(len, plain.size());
    EXPECT_TRUE(std::equal(plain.begin(), plain.end(), buf.begin()));
    EXPECT_EQ(protect_rtp(*tx, buf.data(), &len, tx->overhead()), result::ok);
    EXPECT_EQ(len, plain.size() + tx->overhead());

    bytes rbuf = test::make_rtcp(77, 3, rng);
    const auto rlen0 = static_cast<uint32_t>(rbuf.size());
    rbuf.resize(rbuf.size() + tx_c->overhead());
    uint32_t rlen = rlen0;
    EXPECT_EQ(protect_rtcp(*tx_c, rbuf.data(), &rlen, tx_c->overhead() - 1), result::no_room);
    EXPECT_EQ(rlen, rlen0);
    EXPECT_EQ(protect_rtcp(*tx_c, rbuf.data(), &rlen, tx_c->overhead()), result::ok);
}

TEST_P(failures, bad_headers) {
    bytes p = rtp(9);
    p[0] = static_cast<uint8_t>((p[0] & 0x3f) | 0x40);  // version 1
    EXPECT_EQ(test::protect(*tx, p), result::bad_header);
    p = rtp(9);
    p[0] |= 0x0f;  // 15 CSRCs: 72 bytes of header in a 172-byte packet is fine
    EXPECT_EQ(test::protect(*tx, p), result::ok);
    test::rtp_spec spec;
    spec.seq = 10;
    spec.payload_len = 20;
    p = test::make_rtp(spec, rng);
    p[0] |= 0x0f;  // 72 bytes of header in a 32-byte packet
    EXPECT_EQ(test::protect(*tx, p), result::bad_header);
    spec.extension = true;
    spec.ext_words = 2;
    p = test::make_rtp(spec, rng);
    p[14] = 0x01;  // extension length 258 words
    EXPECT_EQ(test::protect(*tx, p), result::bad_header);
    bytes tiny(11, 0x80);
    EXPECT_EQ(test::protect(*tx, tiny), result::too_short);
    bytes tiny_c(7, 0x80);
    EXPECT_EQ(test::protect(*tx_c, tiny_c), result::too_short);
    // RTP calls on an RTCP context and the reverse.
    p = srtp(11);
    auto plen = static_cast<uint32_t>(p.size());
    EXPECT_EQ(unprotect_rtp(*rx_c, p.data(), &plen), result::bad_header);
    p.resize(p.size() + max_overhead);
    EXPECT_EQ(protect_rtp(*tx_c, p.data(), &plen, max_overhead), result::bad_header);
    bytes r = test::make_rtcp(1, 4, rng);
    auto len = static_cast<uint32_t>(r.size());
    r.resize(r.size() + max_overhead);
    EXPECT_EQ(protect_rtcp(*tx, r.data(), &len, max_overhead), result::bad_header);
    expect_receives(12);
}

std::string name(const ::testing::TestParamInfo<std::tuple<engine, suite>>& info) {
    return std::string(std::get<0>(info.param) == engine::native ? "native_" : "libsrtp2_") +
           srtp::info(std::get<1>(info.param)).name;
}

INSTANTIATE_TEST_SUITE_P(srtp, failures,
                         ::testing::Combine(::testing::Values(engine::native, engine::libsrtp2),
                                            ::testing::ValuesIn(all_suites)),
                         name);

}  // namespace
}  // namespace rtprelay::dp::srtp
