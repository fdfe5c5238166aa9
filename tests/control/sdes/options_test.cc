// NG SDES options from the "SDES" list and from "flags" with the SDES- prefix.

#include "control/sdes/options.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace rtprelay::sdes {
namespace {

constexpr suite s80 = suite::aes_cm_128_hmac_sha1_80;
constexpr suite s32 = suite::aes_cm_128_hmac_sha1_32;

sdes_request_options parse_ok(const std::vector<std::string>& sdes, const std::vector<std::string>& flags) {
    std::string error;
    auto o = parse_sdes_options(sdes, flags, &error);
    EXPECT_TRUE(o.has_value()) << error;
    return o.value_or(sdes_request_options{});
}

TEST(sdes_options, empty_allows_everything) {
    const auto o = parse_ok({}, {});
    EXPECT_FALSE(o.off);
    EXPECT_TRUE(o.allows(s80));
    EXPECT_TRUE(o.allows(s32));
    EXPECT_FALSE(o.pad);
    EXPECT_FALSE(o.lifetime);
    EXPECT_FALSE(o.unencrypted_srtcp);
    EXPECT_TRUE(o.unsupported.empty());
}

TEST(sdes_options, list_and_flags_mean_the_same) {
    for (const auto& o :
         {parse_ok({"no-AES_CM_128_HMAC_SHA1_32", "pad", "lifetime"}, {}),
          parse_ok({}, {"SDES-no-AES_CM_128_HMAC_SHA1_32", "SDES-pad", "SDES-lifetime", "symmetric"})}) {
        EXPECT_TRUE(o.allows(s80));
        EXPECT_FALSE(o.allows(s32));
        EXPECT_TRUE(o.pad);
        EXPECT_TRUE(o.lifetime);
        EXPECT_TRUE(o.unsupported.empty());
    }
    EXPECT_TRUE(parse_ok({}, {"pad-crypto"}).pad);
}

TEST(sdes_options, off) {
    EXPECT_TRUE(parse_ok({"off"}, {}).off);
    EXPECT_TRUE(parse_ok({"no"}, {}).off);
    EXPECT_TRUE(parse_ok({}, {"SDES-disable"}).off);
}

TEST(sdes_options, only_wins_over_no) {
    const auto o = parse_ok({"no-AES_CM_128_HMAC_SHA1_32"}, {"SDES-only-AES_CM_128_HMAC_SHA1_32"});
    EXPECT_TRUE(o.allows(s32));
    EXPECT_FALSE(o.allows(s80));
    // only- of suites rtprelay does not have leaves nothing allowed.
    const auto none = parse_ok({"only-AEAD_AES_128_GCM_8"}, {});
    EXPECT_FALSE(none.allows(s80));
    EXPECT_FALSE(none.allows(s32));
    // no- of suites rtprelay does not have changes nothing (common in Kamailio configs).
    const auto nothing = parse_ok({}, {"SDES-no-NULL_HMAC_SHA1_32", "SDES-no-AES_192_CM_HMAC_SHA1_80"});
    EXPECT_TRUE(nothing.allows(s80));
    EXPECT_TRUE(nothing.allows(s32));
    // The AES-256 and AEAD suites by name, as rtpengine spells them.
    const auto gcm = parse_ok({"only-AEAD_AES_256_GCM", "only-AES_256_CM_HMAC_SHA1_32"}, {});
    EXPECT_TRUE(gcm.allows(suite::aead_aes_256_gcm));
    EXPECT_TRUE(gcm.allows(suite::aes_256_cm_hmac_sha1_32));
    EXPECT_FALSE(gcm.allows(suite::aead_aes_128_gcm));
    EXPECT_FALSE(gcm.allows(s80));
    const auto no_gcm = parse_ok({}, {"SDES-no-AEAD_AES_128_GCM", "SDES-no-AES_256_CM_HMAC_SHA1_80"});
    EXPECT_FALSE(no_gcm.allows(suite::aead_aes_128_gcm));
    EXPECT_FALSE(no_gcm.allows(suite::aes_256_cm_hmac_sha1_80));
    EXPECT_TRUE(no_gcm.allows(suite::aead_aes_256_gcm));
    EXPECT_TRUE(no_gcm.allows(s80));
}

TEST(sdes_options, order) {
    const auto o = parse_ok({"order:AES_192_CM_HMAC_SHA1_80;AES_CM_128_HMAC_SHA1_32;AES_CM_128_HMAC_SHA1_80;"}, {});
    ASSERT_EQ(o.order.size(), 2U);
    EXPECT_EQ(o.order[0], s32);
    EXPECT_EQ(o.order[1], s80);
    const auto g = parse_ok({"order:AEAD_AES_128_GCM;AES_CM_128_HMAC_SHA1_80"}, {});
    ASSERT_EQ(g.order.size(), 2U);
    EXPECT_EQ(g.order[0], suite::aead_aes_128_gcm);
}

TEST(sdes_options, session_parameters) {
    EXPECT_TRUE(parse_ok({"unencrypted_srtcp"}, {}).unencrypted_srtcp);
    EXPECT_TRUE(parse_ok({}, {"SDES-UNENCRYPTED_SRTCP"}).unencrypted_srtcp);
    EXPECT_FALSE(parse_ok({"unencrypted_srtcp", "encrypted_srtcp"}, {}).unencrypted_srtcp);
    EXPECT_TRUE(parse_ok({"encrypted_srtp", "AUTHENTICATED_SRTP"}, {}).unsupported.empty());

    std::string error;
    EXPECT_FALSE(parse_sdes_options({}, {"SDES-unencrypted_srtp"}, &error));
    EXPECT_EQ(error, "SDES-unencrypted_srtp is not supported: rtprelay always encrypts and authenticates RTP");
    EXPECT_FALSE(parse_sdes_options({"UNAUTHENTICATED_SRTP"}, {}, &error));
    EXPECT_EQ(error, "SDES UNAUTHENTICATED_SRTP is not supported: rtprelay always encrypts and authenticates RTP");
}

TEST(sdes_options, options_without_meaning_are_reported) {
    const auto o = parse_ok({"nonew", "offerer_pref:AES_CM_128_HMAC_SHA1_32;"}, {"SDES-static", "SDES-bogus"});
    const std::vector<std::string> expected{"SDES nonew", "SDES offerer_pref:AES_CM_128_HMAC_SHA1_32;", "SDES-static",
                                            "SDES-bogus"};
    EXPECT_EQ(o.unsupported, expected);
}

TEST(sdes_options, which_flags_are_ours) {
    EXPECT_TRUE(is_sdes_flag("SDES-off"));
    EXPECT_TRUE(is_sdes_flag("SDES-no-AES_CM_128_HMAC_SHA1_32"));
    EXPECT_TRUE(is_sdes_flag("pad-crypto"));
    EXPECT_FALSE(is_sdes_flag("symmetric"));
    EXPECT_FALSE(is_sdes_flag("sdes-off"));
}

}  // namespace
}  // namespace rtprelay::sdes
