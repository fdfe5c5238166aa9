// Our engine against libsrtp2, both ways: one side protects, the other unprotects, and the
// plaintext must come back byte for byte. 100,000 RTP packets per case (20,000 for the
// AES-256 and AES-GCM suites: the wraps happen within the first 600 either way, and the run
// time stays near what it was), starting just below a sequence wrap, with loss and
// reordering within the replay window, on one or three SSRCs; every suite, and a few with
// an MKI.

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <tuple>

#include "dataplane/srtp/srtp.h"
#include "tests/dataplane/srtp/test_util.h"

namespace rtprelay::dp::srtp {
namespace {

using test::bytes;

constexpr uint32_t rtp_packets = 100'000;
constexpr uint32_t rtcp_packets = 5'000;

// AES_CM_128 keeps the full run; the other suites a fifth of it.
uint32_t scaled(suite s, uint32_t count) {
    return s == suite::aes_cm_128_hmac_sha1_80 || s == suite::aes_cm_128_hmac_sha1_32 ? count : count / 5;
}

// The order packets reach the receiver: about 1 in 25 lost, about 1 in 8 swapped with its
// neighbour, and about 1 in 200 held back by up to 60 places.
std::vector<uint32_t> arrival_order(uint32_t count, std::mt19937_64& rng) {
    std::vector<uint32_t> order;
    order.reserve(count);
    for (uint32_t n = 0; n < count; ++n) {
        if (rng() % 25 != 0) {
            order.push_back(n);
        }
    }
    for (size_t i = 0; i + 1 < order.size(); ++i) {
        if (rng() % 8 == 0) {
            std::swap(order[i], order[i + 1]);
            ++i;
        }
    }
    for (size_t i = 0; i + 61 < order.size(); i += 1) {
        if (rng() % 200 == 0) {
            const size_t by = 1 + rng() % 60;
            const uint32_t held = order[i];
            for (size_t j = i; j < i + by; ++j) {
                order[j] = order[j + 1];
            }
            order[i + by] = held;
            i += by;
        }
    }
    return order;
}

enum class direction { native_to_libsrtp2, libsrtp2_to_native };

// sender_in_arrival_order: the sender sees the reordering too (as our protect does when it
// re-encrypts a relayed stream); otherwise it protects in sequence and the network reorders.
void run(direction dir, suite s, bool rtcp, uint32_t n_ssrcs, uint32_t count, bool sender_in_arrival_order,
         uint64_t seed, uint8_t mki_len = 0) {
    std::mt19937_64 rng(seed);
    master_key key = test::random_key(rng);
    key.mki_len = mki_len;
    key.mki = {0x01, 0x02, 0x03, 0x04};
    const engine tx_engine = dir == direction::native_to_libsrtp2 ? engine::native : engine::libsrtp2;
    const engine rx_engine = dir == direction::native_to_libsrtp2 ? engine::libsrtp2 : engine::native;
    auto tx = make_context(tx_engine, s, key, rtcp);
    auto rx = make_context(rx_engine, s, key, rtcp);

    const uint32_t ssrcs[3] = {0x10203040, 0xdeadbeef, 0x00000001};
    const uint16_t first_seq[3] = {65000, 65535 - 40, 12345};
    std::vector<bytes> plain(count);
    for (uint32_t n = 0; n < count; ++n) {
        const uint32_t which = n % n_ssrcs;
        if (rtcp) {
            plain[n] = test::make_rtcp(ssrcs[which], rng() % 50, rng);
            continue;
        }
        test::rtp_spec spec;
        spec.ssrc = ssrcs[which];
        spec.seq = static_cast<uint16_t>(first_seq[which] + n / n_ssrcs);
        spec.ts = spec.seq * 160u;
        spec.payload_len = rng() % 4 == 0 ? rng() % 1200 : 160;
        if (rng() % 16 == 0) {
            spec.csrcs = static_cast<uint8_t>(rng() % 16);
        }
        if (rng() % 16 == 0) {
            spec.extension = true;
            spec.ext_words = static_cast<uint16_t>(rng() % 8);
        }
        plain[n] = test::make_rtp(spec, rng);
    }
    const std::vector<uint32_t> order = arrival_order(count, rng);

    std::vector<bytes> cipher(count);
    if (!sender_in_arrival_order) {
        for (uint32_t n = 0; n < count; ++n) {
            cipher[n] = plain[n];
            ASSERT_EQ(test::protect(*tx, cipher[n]), result::ok) << "packet " << n;
        }
    }
    for (const uint32_t n : order) {
        bytes p = sender_in_arrival_order ? plain[n] : cipher[n];
        if (sender_in_arrival_order) {
            ASSERT_EQ(test::protect(*tx, p), result::ok) << "packet " << n;
        }
        ASSERT_EQ(p.size(), plain[n].size() + tx->overhead());
        const result r = test::unprotect(*rx, p);
        ASSERT_EQ(r, result::ok) << "packet " << n << ": " << result_name(r);
        ASSERT_EQ(p, plain[n]) << "packet " << n;
    }
    EXPECT_EQ(rx->ssrc_count(), n_ssrcs);
    if (!rtcp) {
        // The wrap happened: the native side of the pair is at rollover counter 1 or more.
        const context& ours = dir == direction::native_to_libsrtp2 ? *tx : *rx;
        const auto top = ours.highest_index(ssrcs[1 % n_ssrcs]);
        ASSERT_TRUE(top.has_value());
        EXPECT_GE(*top >> 16, 1u);
    }
}

using params = std::tuple<direction, suite, uint32_t, bool>;

class crosscheck : public ::testing::TestWithParam<params> {};

TEST_P(crosscheck, rtp) {
    const auto [dir, s, n_ssrcs, sender_reorders] = GetParam();
    run(dir, s, false, n_ssrcs, scaled(s, rtp_packets), sender_reorders, 1000 + n_ssrcs);
}

std::string name(const ::testing::TestParamInfo<params>& info) {
    const auto [dir, s, n_ssrcs, sender_reorders] = info.param;
    std::string n = dir == direction::native_to_libsrtp2 ? "native_to_libsrtp2_" : "libsrtp2_to_native_";
    n += srtp::info(s).name;
    n += "_ssrcs" + std::to_string(n_ssrcs);
    n += sender_reorders ? "_relayed" : "_in_order";
    return n;
}

INSTANTIATE_TEST_SUITE_P(
    srtp, crosscheck,
    ::testing::Combine(::testing::Values(direction::native_to_libsrtp2, direction::libsrtp2_to_native),
                       ::testing::ValuesIn(all_suites), ::testing::Values(1u, 3u), ::testing::Bool()),
    name);

// SRTCP: the sender numbers packets itself, so only the network reorders.
class crosscheck_rtcp : public ::testing::TestWithParam<params> {};

TEST_P(crosscheck_rtcp, rtcp) {
    const auto [dir, s, n_ssrcs, sender_reorders] = GetParam();
    run(dir, s, true, n_ssrcs, scaled(s, rtcp_packets), sender_reorders, 2000 + n_ssrcs);
}

INSTANTIATE_TEST_SUITE_P(
    srtp, crosscheck_rtcp,
    ::testing::Combine(::testing::Values(direction::native_to_libsrtp2, direction::libsrtp2_to_native),
                       ::testing::ValuesIn(all_suites), ::testing::Values(1u, 3u), ::testing::Values(false)),
    name);

std::string mki_name(const ::testing::TestParamInfo<params>& info) {
    const auto [dir, s, mki_len, sender_reorders] = info.param;
    return std::string(dir == direction::native_to_libsrtp2 ? "native_to_libsrtp2_" : "libsrtp2_to_native_") +
           srtp::info(s).name + "_mki" + std::to_string(mki_len);
}

// With an MKI (RFC 3711 3.1; after the tag for AES-GCM, RFC 7714): the byte positions both
// engines write and expect must agree, RTP across the wrap and SRTCP. MKI lengths 1..4.
class crosscheck_mki : public ::testing::TestWithParam<params> {};

TEST_P(crosscheck_mki, rtp_and_rtcp) {
    const auto [dir, s, mki_len, sender_reorders] = GetParam();
    run(dir, s, false, 1, rtp_packets / 5, sender_reorders, 3000 + mki_len, static_cast<uint8_t>(mki_len));
    run(dir, s, true, 1, rtcp_packets / 5, false, 4000 + mki_len, static_cast<uint8_t>(mki_len));
}

INSTANTIATE_TEST_SUITE_P(srtp, crosscheck_mki,
                         ::testing::Combine(::testing::Values(direction::native_to_libsrtp2,
                                                              direction::libsrtp2_to_native),
                                            ::testing::Values(suite::aes_cm_128_hmac_sha1_80,
                                                              suite::aes_256_cm_hmac_sha1_32, suite::aead_aes_128_gcm),
                                            ::testing::Values(1u, 4u), ::testing::Values(true)),
                         mki_name);

}  // namespace
}  // namespace rtprelay::dp::srtp
