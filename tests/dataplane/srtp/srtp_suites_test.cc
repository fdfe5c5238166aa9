// The suites beyond RFC 3711's own: the RFC 7714 AES-GCM vectors through the native
// transform (both AES implementations; the burst-path run of this executable sends them
// through batch.h too), and the MKI: where it sits, that a wrong one is refused before any
// crypto and changes nothing. RFC 6188's vectors are key derivation ones (kdf_test.cc); the
// AES-256 transforms are checked against libsrtp2 byte for byte (srtp_test.cc,
// srtp_crosscheck_test.cc).

#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "dataplane/srtp/checks.h"
#include "dataplane/srtp/engines.h"
#include "dataplane/srtp/kdf.h"
#include "dataplane/srtp/srtp.h"
#include "tests/dataplane/srtp/test_util.h"

namespace rtprelay::dp::srtp {
namespace {

using test::bytes;
using test::from_hex;

// RFC 7714 16-17: session key K and salt given directly (no key derivation).
constexpr const char* gcm_key_128 = "000102030405060708090a0b0c0d0e0f";
constexpr const char* gcm_key_256 = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
constexpr const char* gcm_salt = "517569642070726f2071756f";  // "Quid pro quo"

// The RTP packet of 16.1 and 16.2 (SSRC 0x5501a0b2, SEQ 0xf17b, ROC 0), and the RTCP
// packet of 17.1-17.4 (SSRC "Mars", SRTCP index 0x5d4).
constexpr const char* rfc_rtp =
    "8040f17b8041f8d35501a0b2"
    "47616c6c696120657374206f6d6e697320646976697361"
    "20696e207061727465732074726573";
constexpr const char* rfc_rtcp =
    "81c8000d4d6172734e5450314e545032525450200000042a0000e9304c756e61"
    "deadbeefdeadbeefdeadbeefdeadbeefdeadbeef";
constexpr uint32_t rfc_srtcp_index = 0x5d4;

struct rfc7714_case {
    const char* name;
    suite s;
    const char* key;
    bool rtcp;
    const char* wire;
    bool encrypted;  // SRTCP E flag
};

const rfc7714_case rfc7714_cases[] = {
    {"16_1_rtp_128", suite::aead_aes_128_gcm, gcm_key_128, false,
     "8040f17b8041f8d35501a0b2"
     "f24de3a3fb34de6cacba861c9d7e4bcabe633bd50d294e6f42a5f47a51c7d19b36de3adf8833"
     "899d7f27beb16a9152cf765ee4390cce",
     true},
    {"16_2_rtp_256", suite::aead_aes_256_gcm, gcm_key_256, false,
     "8040f17b8041f8d35501a0b2"
     "32b1de78a822fe12ef9f78fa332e33aab18012389a58e2f3b50b2a0276ffae0f1ba63799b87b"
     "7aa3db36dfffd6b0f9bb7878d7a76c13",
     true},
    {"17_1_srtcp_128", suite::aead_aes_128_gcm, gcm_key_128, true,
     "81c8000d4d61727363e94885dcdab67ca727d7662f6b7e997ff5c0f76c06f32dc676a5f1730d6fda"
     "4ce09b4686303ded0bb9275bc84aa45896cf4d2fc5abf87245d9eade800005d4",
     true},
    {"17_2_srtcp_256", suite::aead_aes_256_gcm, gcm_key_256, true,
     "81c8000d4d617273d50ae4d1f5ce5d304ba297e47d470c282c3ece5dbffe0a50a2eaa5c1110555be"
     "8415f658c61de0476f1b6fad1d1eb30c4446839f57ff6f6cb26ac3be800005d4",
     true},
    {"17_3_srtcp_128_e0", suite::aead_aes_128_gcm, gcm_key_128, true,
     "81c8000d4d6172734e5450314e545032525450200000042a0000e9304c756e61"
     "deadbeefdeadbeefdeadbeefdeadbeefdeadbeef841dd9683dd78ec92ae58790125f62b3000005d4",
     false},
    {"17_4_srtcp_256_e0", suite::aead_aes_256_gcm, gcm_key_256, true,
     "81c8000d4d6172734e5450314e545032525450200000042a0000e9304c756e61"
     "deadbeefdeadbeefdeadbeefdeadbeefdeadbeef91db4afbfeee5a978fab4393ed2615fe000005d4",
     false},
};

std::unique_ptr<context> rfc_context(const rfc7714_case& c, aes_impl aes) {
    session_keys k{};
    const bytes key = from_hex(c.key);
    const bytes salt = from_hex(gcm_salt);
    std::memcpy(k.enc, key.data(), key.size());
    std::memcpy(k.salt, salt.data(), salt.size());
    return detail::native::make_with_session_keys(c.s, k, c.rtcp, aes);
}

std::vector<aes_impl> impls() {
    std::vector<aes_impl> v{aes_impl::openssl};
    if (cpu_has_aesni()) {
        v.push_back(aes_impl::aesni);
    }
    return v;
}

class rfc7714 : public ::testing::TestWithParam<std::tuple<rfc7714_case, aes_impl>> {};

TEST_P(rfc7714, unprotect_gives_the_plain_packet) {
    const auto& [c, aes] = GetParam();
    auto rx = rfc_context(c, aes);
    bytes p = from_hex(c.wire);
    ASSERT_EQ(test::unprotect(*rx, p), result::ok);
    EXPECT_EQ(test::to_hex(p), c.rtcp ? rfc_rtcp : rfc_rtp);
    // Any bit flipped anywhere (header, cipher text, tag, E/index) and it does not verify.
    const bytes wire = from_hex(c.wire);
    for (size_t i = 0; i < wire.size(); ++i) {
        auto fresh = rfc_context(c, aes);
        bytes f = wire;
        f[i] ^= 0x10;
        const result r = test::unprotect(*fresh, f);
        EXPECT_TRUE(r == result::auth_failed || r == result::bad_header) << "byte " << i << ": " << result_name(r);
        EXPECT_EQ(fresh->ssrc_count(), 0u);
    }
}

// We always encrypt SRTCP (E = 1), so the E = 0 vectors are only received.
TEST_P(rfc7714, protect_writes_the_vector) {
    const auto& [c, aes] = GetParam();
    if (!c.encrypted) {
        GTEST_SKIP() << "rtprelay never sends SRTCP with E = 0";
    }
    auto tx = rfc_context(c, aes);
    if (c.rtcp) {
        // Our SRTCP index counts from 0 per SSRC: the vector's is the 0x5d5th packet.
        for (uint32_t i = 0; i < rfc_srtcp_index; ++i) {
            bytes burn = from_hex(rfc_rtcp);
            ASSERT_EQ(test::protect(*tx, burn), result::ok);
        }
    }
    bytes p = from_hex(c.rtcp ? rfc_rtcp : rfc_rtp);
    ASSERT_EQ(test::protect(*tx, p), result::ok);
    EXPECT_EQ(test::to_hex(p), c.wire);
}

INSTANTIATE_TEST_SUITE_P(srtp, rfc7714,
                         ::testing::Combine(::testing::ValuesIn(rfc7714_cases), ::testing::ValuesIn(impls())),
                         [](const auto& info) {
                             return std::string(std::get<0>(info.param).name) +
                                    (std::get<1>(info.param) == aes_impl::aesni ? "_ipsec_mb" : "_openssl");
                         });

// The IVs of RFC 7714 16.1 and 17.1 (8.1, 9.1: SSRC and index XORed into the salt).
TEST(rfc7714_iv, rtp_and_srtcp) {
    const bytes salt = from_hex(gcm_salt);
    uint8_t iv[12];
    detail::make_gcm_iv(salt.data(), 0x5501a0b2, 0xf17b, iv);
    EXPECT_EQ(test::to_hex(bytes(iv, iv + 12)), "51753c6580c2726f20718414");
    detail::make_gcm_iv(salt.data(), 0x4d617273, rfc_srtcp_index, iv);
    EXPECT_EQ(test::to_hex(bytes(iv, iv + 12)), "517524055203726f207170bb");
}

// --- MKI ---

class mki : public ::testing::TestWithParam<std::tuple<engine, suite>> {
 protected:
    void SetUp() override {
        key = test::random_key(rng);
        key.mki_len = 2;
        key.mki = {0xbe, 0xef, 0, 0};
        for (const bool rtcp : {false, true}) {
            tx[rtcp] = make_context(std::get<0>(GetParam()), std::get<1>(GetParam()), key, rtcp);
            rx[rtcp] = make_context(std::get<0>(GetParam()), std::get<1>(GetParam()), key, rtcp);
        }
    }

    bytes rtp(uint16_t seq) {
        test::rtp_spec spec;
        spec.seq = seq;
        spec.ssrc = 0x0badcafe;
        return test::make_rtp(spec, rng);
    }

    // Where the MKI is in a protected packet of `len` bytes (RFC 3711 3.1, RFC 7714 9).
    size_t mki_at(const context& c, size_t len) const {
        if (c.kind() == transform::aes_gcm) {
            return len - c.mki_len();
        }
        return len - c.tag_len() - c.mki_len();
    }

    std::mt19937_64 rng{5};
    master_key key{};
    std::unique_ptr<context> tx[2], rx[2];
};

TEST_P(mki, carried_where_the_rfcs_say) {
    for (const bool rtcp : {false, true}) {
        const bytes plain = rtcp ? test::make_rtcp(0x0badcafe, 5, rng) : rtp(1);
        bytes p = plain;
        ASSERT_EQ(test::protect(*tx[rtcp], p), result::ok);
        ASSERT_EQ(p.size(), plain.size() + tx[rtcp]->overhead());
        const size_t at = mki_at(*tx[rtcp], p.size());
        EXPECT_EQ(p[at], 0xbe) << rtcp;
        EXPECT_EQ(p[at + 1], 0xef) << rtcp;
        ASSERT_EQ(test::unprotect(*rx[rtcp], p), result::ok);
        EXPECT_EQ(p, plain);
    }
}

// A wrong MKI is refused before any crypto, whatever the rest of the packet: nothing
// changes (test::unprotect checks the bytes), the SSRC is not taken, the precheck calls it
// a free drop; the right one still works afterwards.
TEST_P(mki, wrong_one_is_refused_and_changes_nothing) {
    for (const bool rtcp : {false, true}) {
        const bytes plain = rtcp ? test::make_rtcp(0x0badcafe, 5, rng) : rtp(2);
        bytes p = plain;
        ASSERT_EQ(test::protect(*tx[rtcp], p), result::ok);
        const size_t at = mki_at(*tx[rtcp], p.size());
        for (const size_t which : {at, at + 1}) {
            bytes f = p;
            f[which] ^= 0x01;
            EXPECT_EQ(test::unprotect(*rx[rtcp], f), result::bad_mki) << rtcp;
            EXPECT_EQ(rx[rtcp]->ssrc_count(), 0u);
            if (rx[rtcp]->which_engine() == engine::native) {
                const auto len = static_cast<uint32_t>(f.size());
                EXPECT_EQ(rtcp ? precheck_rtcp(*rx[rtcp], f.data(), len) : precheck_rtp(*rx[rtcp], f.data(), len),
                          precheck::free_drop);
            }
        }
        // The same packet without any MKI (a peer that dropped it) is refused too.
        bytes none = p;
        none.erase(none.begin() + static_cast<long>(at), none.begin() + static_cast<long>(at + 2));
        EXPECT_NE(test::unprotect(*rx[rtcp], none), result::ok);
        ASSERT_EQ(test::unprotect(*rx[rtcp], p), result::ok);
        EXPECT_EQ(p, plain);
    }
}

// A refused protect writes nothing, not even into the room after the packet (libsrtp2 writes
// the MKI before its replay check; the engine puts the room back).
TEST_P(mki, refused_protect_leaves_the_room_alone) {
    for (const bool rtcp : {false, true}) {
        const bytes plain = rtcp ? test::make_rtcp(0x0badcafe, 5, rng) : rtp(6);
        bytes first = plain;
        ASSERT_EQ(test::protect(*tx[rtcp], first), result::ok);
        if (rtcp) {
            continue;  // SRTCP numbers its own packets: a second one is never a reuse
        }
        bytes buf = plain;
        buf.resize(plain.size() + tx[rtcp]->overhead(), 0xee);
        auto len = static_cast<uint32_t>(plain.size());
        EXPECT_EQ(protect_rtp(*tx[rtcp], buf.data(), &len, tx[rtcp]->overhead()), result::index_reuse);
        EXPECT_EQ(len, plain.size());
        EXPECT_TRUE(std::equal(plain.begin(), plain.end(), buf.begin()));
        for (size_t i = plain.size(); i < buf.size(); ++i) {
            EXPECT_EQ(buf[i], 0xee) << "byte " << i << " of the room";
        }
    }
}

// A context whose key has no MKI takes none, one with an MKI requires it: the two do not mix.
TEST_P(mki, keys_with_and_without_do_not_mix) {
    master_key plain_key = key;
    plain_key.mki_len = 0;
    auto no_mki_rx = make_context(std::get<0>(GetParam()), std::get<1>(GetParam()), plain_key, false);
    bytes p = rtp(3);
    ASSERT_EQ(test::protect(*tx[0], p), result::ok);
    EXPECT_NE(test::unprotect(*no_mki_rx, p), result::ok);
    auto no_mki_tx = make_context(std::get<0>(GetParam()), std::get<1>(GetParam()), plain_key, false);
    bytes q = rtp(4);
    ASSERT_EQ(test::protect(*no_mki_tx, q), result::ok);
    EXPECT_NE(test::unprotect(*rx[0], q), result::ok);
}

INSTANTIATE_TEST_SUITE_P(srtp, mki,
                         ::testing::Combine(::testing::Values(engine::native, engine::libsrtp2),
                                            ::testing::ValuesIn(all_suites)),
                         [](const auto& info) {
                             return std::string(std::get<0>(info.param) == engine::native ? "native_" : "libsrtp2_") +
                                    srtp::info(std::get<1>(info.param)).name;
                         });

}  // namespace
}  // namespace rtprelay::dp::srtp
