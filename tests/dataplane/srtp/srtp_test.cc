#include "dataplane/srtp/srtp.h"

#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <set>
#include <string>

#include "tests/dataplane/srtp/test_util.h"

namespace rtprelay::dp::srtp {
namespace {

using test::bytes;
using test::from_hex;

TEST(srtp_suites, table_and_names) {
    const auto& s80 = info(suite::aes_cm_128_hmac_sha1_80);
    const auto& s32 = info(suite::aes_cm_128_hmac_sha1_32);
    EXPECT_STREQ(s80.name, "AES_CM_128_HMAC_SHA1_80");
    EXPECT_STREQ(s32.name, "AES_CM_128_HMAC_SHA1_32");
    EXPECT_EQ(s80.key_len, 16);
    EXPECT_EQ(s80.salt_len, 14);
    EXPECT_EQ(s80.rtp_tag_len, 10);
    EXPECT_EQ(s80.rtcp_tag_len, 10);
    EXPECT_EQ(s32.rtp_tag_len, 4);
    EXPECT_EQ(s32.rtcp_tag_len, 10);
    EXPECT_EQ(suite_from_name("AES_CM_128_HMAC_SHA1_80"), suite::aes_cm_128_hmac_sha1_80);
    EXPECT_EQ(suite_from_name("AES_CM_128_HMAC_SHA1_32"), suite::aes_cm_128_hmac_sha1_32);
    EXPECT_EQ(suite_from_name("aes_cm_128_hmac_sha1_80"), std::nullopt);
    EXPECT_EQ(suite_from_name("AES_CM_128_HMAC_SHA1_8"), std::nullopt);
    EXPECT_EQ(suite_from_name("AEAD_AES_128_GCM"), std::nullopt);
    EXPECT_EQ(suite_from_name(""), std::nullopt);
}

TEST(srtp_suites, result_names_are_distinct) {
    std::set<std::string> names;
    for (int r = 0; r <= static_cast<int>(result::no_room); ++r) {
        names.insert(result_name(static_cast<result>(r)));
    }
    EXPECT_EQ(names.size(), static_cast<size_t>(result::no_room) + 1);
    EXPECT_STREQ(result_name(result::auth_failed), "auth_failed");
}

TEST(srtp_context, overhead_and_engine) {
    std::mt19937_64 rng(3);
    const master_key k = test::random_key(rng);
    for (const engine e : {engine::native, engine::libsrtp2}) {
        EXPECT_EQ(make_context(e, suite::aes_cm_128_hmac_sha1_80, k, false)->overhead(), 10u);
        EXPECT_EQ(make_context(e, suite::aes_cm_128_hmac_sha1_32, k, false)->overhead(), 4u);
        EXPECT_EQ(make_context(e, suite::aes_cm_128_hmac_sha1_80, k, true)->overhead(), 14u);
        EXPECT_EQ(make_context(e, suite::aes_cm_128_hmac_sha1_32, k, true)->overhead(), 14u);
        EXPECT_EQ(make_context(e, suite::aes_cm_128_hmac_sha1_32, k, true)->which_engine(), e);
    }
    EXPECT_THROW(make_context(engine::native, static_cast<suite>(7), k, false), std::runtime_error);
}

// libsrtp's srtp_validate(): default policy (AES_CM_128_HMAC_SHA1_80), SSRC 0xcafebabe, the
// RFC 3711 B.3 master key; one RTP and one RTCP packet.
const master_key validate_key = test::key_from_hex("e1f97a0d3e018be0d64fa32c06de41390ec675ad498afeebb6960b3aabe6");
const bytes srtp_plain = from_hex(
    "800f1234decafbadcafebabe"
    "abababababababababababababababab");
const bytes srtp_cipher = from_hex(
    "800f1234decafbadcafebabe"
    "4e55dc4ce79978d88ca4d215949d2402b78d6acc99ea179b8dbb");
const bytes rtcp_plain = from_hex(
    "81c8000bcafebabe"
    "abababababababababababababababab");
const bytes srtcp_cipher = from_hex(
    "81c8000bcafebabe"
    "7128035be487b9bdbef89041f977a5a880000001993e08cd54d6c1230798");

class known_answer : public ::testing::TestWithParam<engine> {};

TEST_P(known_answer, srtp_validate_rtp) {
    auto tx = make_context(GetParam(), suite::aes_cm_128_hmac_sha1_80, validate_key, false);
    bytes p = srtp_plain;
    ASSERT_EQ(test::protect(*tx, p), result::ok);
    EXPECT_EQ(test::to_hex(p), test::to_hex(srtp_cipher));

    auto rx = make_context(GetParam(), suite::aes_cm_128_hmac_sha1_80, validate_key, false);
    bytes c = srtp_cipher;
    ASSERT_EQ(test::unprotect(*rx, c), result::ok);
    EXPECT_EQ(c, srtp_plain);
}

TEST_P(known_answer, srtp_validate_rtcp) {
    auto rx = make_context(GetParam(), suite::aes_cm_128_hmac_sha1_80, validate_key, true);
    bytes c = srtcp_cipher;
    ASSERT_EQ(test::unprotect(*rx, c), result::ok);
    EXPECT_EQ(c, rtcp_plain);

    // The reference packet carries SRTCP index 1. libsrtp2 numbers from 1; we number from 0
    // as RFC 3711 3.4 says, so our second packet is the one to compare.
    auto tx = make_context(GetParam(), suite::aes_cm_128_hmac_sha1_80, validate_key, true);
    if (GetParam() == engine::native) {
        bytes first = rtcp_plain;
        ASSERT_EQ(test::protect(*tx, first), result::ok);
        EXPECT_EQ(test::to_hex(bytes(first.end() - 14, first.end() - 10)), "80000000");
    }
    bytes p = rtcp_plain;
    ASSERT_EQ(test::protect(*tx, p), result::ok);
    EXPECT_EQ(test::to_hex(p), test::to_hex(srtcp_cipher));
}

INSTANTIATE_TEST_SUITE_P(engines, known_answer, ::testing::Values(engine::native, engine::libsrtp2),
                         [](const auto& info) { return info.param == engine::native ? "native" : "libsrtp2"; });

// Same key, same packets, same indices: the two engines write the same bytes, for RTP
// across a sequence wrap and for SRTCP, with CSRCs and header extensions in the mix.
TEST(srtp_engines, identical_ciphertext) {
    std::mt19937_64 rng(11);
    for (const suite s : {suite::aes_cm_128_hmac_sha1_80, suite::aes_cm_128_hmac_sha1_32}) {
        const master_key k = test::random_key(rng);
        auto ours = make_context(engine::native, s, k, false);
        auto ref = make_context(engine::libsrtp2, s, k, false);
        for (uint32_t i = 0; i < 3000; ++i) {
            test::rtp_spec spec;
            spec.seq = static_cast<uint16_t>(64000 + i);
            spec.ssrc = 0x11223344;
            spec.csrcs = static_cast<uint8_t>(i % 5 == 0 ? i % 16 : 0);
            spec.extension = i % 7 == 0;
            spec.ext_words = static_cast<uint16_t>(i % 4);
            spec.payload_len = rng() % 400;
            const bytes plain = test::make_rtp(spec, rng);
            bytes a = plain;
            bytes b = plain;
            ASSERT_EQ(test::protect(*ours, a), result::ok);
            ASSERT_EQ(test::protect(*ref, b), result::ok);
            ASSERT_EQ(a, b) << "packet " << i;
        }
        EXPECT_EQ(ours->highest_index(0x11223344), (uint64_t{1} << 16) | uint16_t(64000 + 2999));

        auto ours_c = make_context(engine::native, s, k, true);
        auto ref_c = make_context(engine::libsrtp2, s, k, true);
        bytes burn = test::make_rtcp(0x55667788, 6, rng);
        ASSERT_EQ(test::protect(*ours_c, burn), result::ok);  // index 0, which libsrtp2 skips
        for (uint32_t i = 0; i < 500; ++i) {
            const bytes plain = test::make_rtcp(0x55667788, rng() % 40, rng);
            bytes a = plain;
            bytes b = plain;
            ASSERT_EQ(test::protect(*ours_c, a), result::ok);
            ASSERT_EQ(test::protect(*ref_c, b), result::ok);
            ASSERT_EQ(a, b) << "rtcp packet " << i;
        }
    }
}

// Packets sit in mbufs after Ethernet/IPv4/UDP headers, so the RTP header is usually only
// 2-byte aligned (128 + 42 bytes in): both engines must work at any offset.
TEST(srtp_engines, any_buffer_alignment) {
    std::mt19937_64 rng(13);
    const master_key k = test::random_key(rng);
    for (const engine tx_e : {engine::native, engine::libsrtp2}) {
        const engine rx_e = tx_e == engine::native ? engine::libsrtp2 : engine::native;
        for (const bool rtcp : {false, true}) {
            auto tx = make_context(tx_e, suite::aes_cm_128_hmac_sha1_80, k, rtcp);
            auto rx = make_context(rx_e, suite::aes_cm_128_hmac_sha1_80, k, rtcp);
            for (uint16_t i = 0; i < 64; ++i) {
                test::rtp_spec spec;
                spec.seq = i;
                spec.ssrc = 77;
                spec.payload_len = 100 + i;
                const bytes plain = rtcp ? test::make_rtcp(77, 10 + i, rng) : test::make_rtp(spec, rng);
                alignas(64) uint8_t buf[2048];
                uint8_t* p = buf + (i % 8);
                std::memcpy(p, plain.data(), plain.size());
                auto len = static_cast<uint32_t>(plain.size());
                const result r1 = rtcp ? protect_rtcp(*tx, p, &len, 64) : protect_rtp(*tx, p, &len, 64);
                ASSERT_EQ(r1, result::ok);
                uint8_t* q = buf + 1024 + ((i / 8) % 8);
                std::memmove(q, p, len);
                const result r2 = rtcp ? unprotect_rtcp(*rx, q, &len) : unprotect_rtp(*rx, q, &len);
                ASSERT_EQ(r2, result::ok);
                ASSERT_EQ(bytes(q, q + len), plain);
            }
        }
    }
}

// The two AES implementations behind the native engine are interchangeable.
TEST(srtp_engines, aes_implementations_agree) {
    if (!cpu_has_aesni()) {
        GTEST_SKIP() << "no AES-NI on this CPU";
    }
    std::mt19937_64 rng(12);
    const master_key k = test::random_key(rng);
    auto a = make_context(engine::native, suite::aes_cm_128_hmac_sha1_80, k, false, aes_impl::aesni);
    auto b = make_context(engine::native, suite::aes_cm_128_hmac_sha1_80, k, false, aes_impl::openssl);
    EXPECT_EQ(a->aes(), aes_impl::aesni);
    EXPECT_EQ(b->aes(), aes_impl::openssl);
    auto rx = make_context(engine::native, suite::aes_cm_128_hmac_sha1_80, k, false, aes_impl::openssl);
    for (uint16_t seq = 0; seq < 500; ++seq) {
        test::rtp_spec spec;
        spec.seq = seq;
        spec.ssrc = 42;
        spec.payload_len = rng() % 1400;
        const bytes plain = test::make_rtp(spec, rng);
        bytes x = plain;
        bytes y = plain;
        ASSERT_EQ(test::protect(*a, x), result::ok);
        ASSERT_EQ(test::protect(*b, y), result::ok);
        ASSERT_EQ(x, y);
        ASSERT_EQ(test::unprotect(*rx, x), result::ok);
        ASSERT_EQ(x, plain);
    }
}

}  // namespace
}  // namespace rtprelay::dp::srtp
