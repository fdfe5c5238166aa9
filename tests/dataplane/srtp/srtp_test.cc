#include "dataplane/srtp/srtp.h"

#include <gtest/gtest.h>

#include <cstring>
#include <iterator>
#include <random>
#include <set>
#include <string>

#include "tests/dataplane/srtp/test_util.h"

namespace rtprelay::dp::srtp {
namespace {

using test::bytes;
using test::from_hex;

TEST(srtp_suites, table_and_names) {
    struct row {
        suite s;
        const char* name;
        transform kind;
        uint8_t key, salt, auth, rtp_tag, rtcp_tag;
    };
    const row rows[] = {
        {suite::aes_cm_128_hmac_sha1_80, "AES_CM_128_HMAC_SHA1_80", transform::aes_cm_hmac_sha1, 16, 14, 20, 10, 10},
        {suite::aes_cm_128_hmac_sha1_32, "AES_CM_128_HMAC_SHA1_32", transform::aes_cm_hmac_sha1, 16, 14, 20, 4, 10},
        {suite::aes_256_cm_hmac_sha1_80, "AES_256_CM_HMAC_SHA1_80", transform::aes_cm_hmac_sha1, 32, 14, 20, 10, 10},
        {suite::aes_256_cm_hmac_sha1_32, "AES_256_CM_HMAC_SHA1_32", transform::aes_cm_hmac_sha1, 32, 14, 20, 4, 10},
        {suite::aead_aes_128_gcm, "AEAD_AES_128_GCM", transform::aes_gcm, 16, 12, 0, 16, 16},
        {suite::aead_aes_256_gcm, "AEAD_AES_256_GCM", transform::aes_gcm, 32, 12, 0, 16, 16},
    };
    ASSERT_EQ(std::size(rows), suite_count);
    ASSERT_EQ(std::size(all_suites), suite_count);
    for (size_t i = 0; i < suite_count; ++i) {
        const row& r = rows[i];
        const suite_info& si = info(r.s);
        EXPECT_EQ(all_suites[i], r.s);
        EXPECT_STREQ(si.name, r.name);
        EXPECT_EQ(si.kind, r.kind) << r.name;
        EXPECT_EQ(si.master_key_len, r.key) << r.name;
        EXPECT_EQ(si.session_key_len, r.key) << r.name;
        EXPECT_EQ(si.master_salt_len, r.salt) << r.name;
        EXPECT_EQ(si.session_salt_len, r.salt) << r.name;
        EXPECT_EQ(si.session_auth_key_len, r.auth) << r.name;
        EXPECT_EQ(si.rtp_tag_len, r.rtp_tag) << r.name;
        EXPECT_EQ(si.rtcp_tag_len, r.rtcp_tag) << r.name;
        EXPECT_EQ(suite_from_name(r.name), r.s);
    }
    // The first two keep their numbers (stored records and metrics carry them).
    EXPECT_EQ(static_cast<int>(suite::aes_cm_128_hmac_sha1_80), 0);
    EXPECT_EQ(static_cast<int>(suite::aes_cm_128_hmac_sha1_32), 1);
    EXPECT_EQ(suite_from_name("aes_cm_128_hmac_sha1_80"), std::nullopt);
    EXPECT_EQ(suite_from_name("AES_CM_128_HMAC_SHA1_8"), std::nullopt);
    EXPECT_EQ(suite_from_name("AEAD_AES_128_GCM_8"), std::nullopt);
    EXPECT_EQ(suite_from_name("AES_192_CM_HMAC_SHA1_80"), std::nullopt);
    EXPECT_EQ(suite_from_name(""), std::nullopt);
}

TEST(srtp_suites, result_names_are_distinct) {
    std::set<std::string> names;
    for (int r = 0; r <= static_cast<int>(result::bad_mki); ++r) {
        names.insert(result_name(static_cast<result>(r)));
    }
    EXPECT_EQ(names.size(), static_cast<size_t>(result::bad_mki) + 1);
    EXPECT_STREQ(result_name(result::auth_failed), "auth_failed");
    EXPECT_STREQ(result_name(result::bad_mki), "bad_mki");
}

TEST(srtp_context, overhead_and_engine) {
    std::mt19937_64 rng(3);
    master_key k = test::random_key(rng);
    for (const engine e : {engine::native, engine::libsrtp2}) {
        for (const suite s : all_suites) {
            for (const uint8_t mki : {0, 1, 4}) {
                k.mki_len = mki;
                EXPECT_EQ(make_context(e, s, k, false)->overhead(), info(s).rtp_tag_len + mki) << info(s).name;
                EXPECT_EQ(make_context(e, s, k, true)->overhead(), 4u + info(s).rtcp_tag_len + mki) << info(s).name;
                EXPECT_LE(make_context(e, s, k, true)->overhead(), max_overhead);
            }
            k.mki_len = 0;
            EXPECT_EQ(make_context(e, s, k, true)->which_engine(), e);
            EXPECT_EQ(make_context(e, s, k, false)->cipher_suite(), s);
        }
    }
    EXPECT_THROW(make_context(engine::native, static_cast<suite>(suite_count), k, false), std::runtime_error);
    k.mki_len = max_mki_len + 1;
    EXPECT_THROW(make_context(engine::native, suite::aes_cm_128_hmac_sha1_80, k, false), std::runtime_error);
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

// Per suite, test names carrying the suite's name.
class every_suite : public ::testing::TestWithParam<suite> {};

// Same key, same packets, same indices: the two engines write the same bytes, for RTP
// across a sequence wrap and for SRTCP, with CSRCs and header extensions in the mix; without
// and with an MKI.
TEST_P(every_suite, engines_write_identical_ciphertext) {
    const suite s = GetParam();
    std::mt19937_64 rng(11);
    for (const uint8_t mki_len : {0, 3}) {
        SCOPED_TRACE("mki length " + std::to_string(mki_len));
        master_key k = test::random_key(rng);
        k.mki_len = mki_len;
        k.mki = {0xa1, 0xb2, 0xc3, 0xd4};
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
TEST_P(every_suite, any_buffer_alignment) {
    const suite s = GetParam();
    std::mt19937_64 rng(13);
    const master_key k = test::random_key(rng);
    for (const engine tx_e : {engine::native, engine::libsrtp2}) {
        const engine rx_e = tx_e == engine::native ? engine::libsrtp2 : engine::native;
        for (const bool rtcp : {false, true}) {
            auto tx = make_context(tx_e, s, k, rtcp);
            auto rx = make_context(rx_e, s, k, rtcp);
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

// The two AES implementations behind the native engine are interchangeable (AES-CM: our
// AES-NI code vs OpenSSL EVP; AES-GCM: intel-ipsec-mb vs OpenSSL EVP).
TEST_P(every_suite, aes_implementations_agree) {
    if (!cpu_has_aesni()) {
        GTEST_SKIP() << "no AES-NI on this CPU";
    }
    const suite s = GetParam();
    std::mt19937_64 rng(12);
    const master_key k = test::random_key(rng);
    for (const bool rtcp : {false, true}) {
        auto a = make_context(engine::native, s, k, rtcp, aes_impl::aesni);
        auto b = make_context(engine::native, s, k, rtcp, aes_impl::openssl);
        EXPECT_EQ(a->aes(), aes_impl::aesni);
        EXPECT_EQ(b->aes(), aes_impl::openssl);
        auto rx = make_context(engine::native, s, k, rtcp, aes_impl::openssl);
        for (uint16_t seq = 0; seq < 500; ++seq) {
            test::rtp_spec spec;
            spec.seq = seq;
            spec.ssrc = 42;
            spec.payload_len = rng() % 1400;
            const bytes plain = rtcp ? test::make_rtcp(42, rng() % 300, rng) : test::make_rtp(spec, rng);
            bytes x = plain;
            bytes y = plain;
            ASSERT_EQ(test::protect(*a, x), result::ok);
            ASSERT_EQ(test::protect(*b, y), result::ok);
            ASSERT_EQ(x, y);
            ASSERT_EQ(test::unprotect(*rx, x), result::ok);
            ASSERT_EQ(x, plain);
        }
    }
}

INSTANTIATE_TEST_SUITE_P(suites, every_suite, ::testing::ValuesIn(all_suites),
                         [](const auto& info) { return std::string(srtp::info(info.param).name); });

}  // namespace
}  // namespace rtprelay::dp::srtp
