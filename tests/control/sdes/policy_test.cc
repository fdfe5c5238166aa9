// srtp_policy defaults (the trunk's seed facts) and the interface-line words.

#include "control/sdes/policy.h"

#include <gtest/gtest.h>

#include <iterator>
#include <stdexcept>
#include <string>

namespace rtprelay::sdes {
namespace {

std::string thrown(srtp_policy& p, std::string_view key, std::string_view value) {
    try {
        apply_policy_option(p, key, value);
    } catch (const std::invalid_argument& e) {
        return e.what();
    }
    ADD_FAILURE() << "no exception for " << key << "=" << value;
    return {};
}

TEST(srtp_policy, defaults_follow_the_trunk) {
    const srtp_policy p;
    EXPECT_EQ(p.mode, srtp_mode::optional);
    // Origination offers exactly one suite, AES_CM_128_HMAC_SHA1_80.
    ASSERT_EQ(p.offer_suites.size(), 1U);
    EXPECT_EQ(p.offer_suites[0], suite::aes_cm_128_hmac_sha1_80);
    // Termination accepts _80 and _32, and every other suite rtprelay has (a peer that
    // prefers AES-256 or AES-GCM gets it, as from rtpengine), in table order.
    EXPECT_TRUE(p.accepts(suite::aes_cm_128_hmac_sha1_80));
    EXPECT_TRUE(p.accepts(suite::aes_cm_128_hmac_sha1_32));
    ASSERT_EQ(p.accept_suites.size(), std::size(all_suites));
    for (size_t i = 0; i < p.accept_suites.size(); ++i) {
        EXPECT_EQ(p.accept_suites[i], all_suites[i]);
    }
    EXPECT_FALSE(p.allow_unencrypted_srtcp);
    // No MKI: the trunk does not support it.
    EXPECT_FALSE(p.accept_mki);
}

TEST(srtp_policy, words) {
    srtp_policy p;
    EXPECT_TRUE(apply_policy_option(p, "srtp", "required"));
    EXPECT_EQ(p.mode, srtp_mode::required);
    EXPECT_TRUE(apply_policy_option(p, "srtp", "off"));
    EXPECT_EQ(p.mode, srtp_mode::off);
    EXPECT_TRUE(apply_policy_option(p, "srtp", "optional"));
    EXPECT_EQ(p.mode, srtp_mode::optional);

    EXPECT_TRUE(apply_policy_option(p, "offer-suites", "AES_CM_128_HMAC_SHA1_32,AES_CM_128_HMAC_SHA1_80"));
    ASSERT_EQ(p.offer_suites.size(), 2U);
    EXPECT_EQ(p.offer_suites[0], suite::aes_cm_128_hmac_sha1_32);
    EXPECT_EQ(p.offer_suites[1], suite::aes_cm_128_hmac_sha1_80);

    EXPECT_TRUE(apply_policy_option(p, "accept-suites", "AES_CM_128_HMAC_SHA1_80"));
    EXPECT_TRUE(p.accepts(suite::aes_cm_128_hmac_sha1_80));
    EXPECT_FALSE(p.accepts(suite::aes_cm_128_hmac_sha1_32));

    EXPECT_TRUE(apply_policy_option(p, "unencrypted-srtcp", "allow"));
    EXPECT_TRUE(p.allow_unencrypted_srtcp);
    EXPECT_TRUE(apply_policy_option(p, "unencrypted-srtcp", "refuse"));
    EXPECT_FALSE(p.allow_unencrypted_srtcp);

    EXPECT_TRUE(apply_policy_option(p, "mki", "accept"));
    EXPECT_TRUE(p.accept_mki);
    EXPECT_TRUE(apply_policy_option(p, "mki", "refuse"));
    EXPECT_FALSE(p.accept_mki);

    EXPECT_TRUE(apply_policy_option(p, "offer-suites", "AEAD_AES_256_GCM,AES_256_CM_HMAC_SHA1_80,AEAD_AES_128_GCM"));
    ASSERT_EQ(p.offer_suites.size(), 3U);
    EXPECT_EQ(p.offer_suites[0], suite::aead_aes_256_gcm);
    EXPECT_EQ(p.offer_suites[1], suite::aes_256_cm_hmac_sha1_80);
    EXPECT_EQ(p.offer_suites[2], suite::aead_aes_128_gcm);
    EXPECT_TRUE(apply_policy_option(p, "accept-suites", "AES_256_CM_HMAC_SHA1_32,AEAD_AES_128_GCM"));
    EXPECT_TRUE(p.accepts(suite::aes_256_cm_hmac_sha1_32));
    EXPECT_TRUE(p.accepts(suite::aead_aes_128_gcm));
    EXPECT_FALSE(p.accepts(suite::aes_cm_128_hmac_sha1_80));
    EXPECT_FALSE(p.accepts(suite::aead_aes_256_gcm));

    EXPECT_FALSE(apply_policy_option(p, "address", "198.18.0.1/24"));
    EXPECT_FALSE(apply_policy_option(p, "srtp-mode", "required"));
}

TEST(srtp_policy, bad_values_name_key_and_value) {
    srtp_policy p;
    EXPECT_EQ(thrown(p, "srtp", "yes"), "srtp 'yes': expected off, optional or required");
    EXPECT_EQ(thrown(p, "offer-suites", "AES_192_CM_HMAC_SHA1_80"),
              "offer-suites 'AES_192_CM_HMAC_SHA1_80': unknown suite 'AES_192_CM_HMAC_SHA1_80' (known: "
              "AES_CM_128_HMAC_SHA1_80, AES_CM_128_HMAC_SHA1_32, AES_256_CM_HMAC_SHA1_80, AES_256_CM_HMAC_SHA1_32, "
              "AEAD_AES_128_GCM, AEAD_AES_256_GCM)");
    EXPECT_EQ(
        thrown(p, "accept-suites", "AES_CM_128_HMAC_SHA1_80,AES_CM_128_HMAC_SHA1_80"),
        "accept-suites 'AES_CM_128_HMAC_SHA1_80,AES_CM_128_HMAC_SHA1_80': AES_CM_128_HMAC_SHA1_80 is listed twice");
    EXPECT_EQ(thrown(p, "offer-suites", ""), "offer-suites '': empty suite name (the list is NAME[,NAME...])");
    EXPECT_EQ(thrown(p, "offer-suites", "AES_CM_128_HMAC_SHA1_80,"),
              "offer-suites 'AES_CM_128_HMAC_SHA1_80,': empty suite name (the list is NAME[,NAME...])");
    EXPECT_EQ(thrown(p, "unencrypted-srtcp", "yes"), "unencrypted-srtcp 'yes': expected allow or refuse");
    EXPECT_EQ(thrown(p, "mki", "on"), "mki 'on': expected accept or refuse");
    // A failed word leaves the policy as it was.
    EXPECT_EQ(p.mode, srtp_mode::optional);
    EXPECT_EQ(p.offer_suites.size(), 1U);
}

}  // namespace
}  // namespace rtprelay::sdes
