// parse_crypto / format_crypto: what is accepted, every rejection with its reason, and
// round trips. Keys are RFC 4568's example keys.

#include "control/sdes/crypto_attr.h"

#include <gtest/gtest.h>

#include <string>

namespace rtprelay::sdes {
namespace {

constexpr std::string_view key1 = "PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR";
constexpr std::string_view key2 = "d0RmdmcmVCspeEc3QGZiNWpVLFJhQX1cfHAwJSoj";

std::string line(std::string_view rest) { return std::string(rest); }

crypto_attr parse_ok(std::string_view value, bool allow_srtcp = false) {
    std::string error;
    auto a = parse_crypto(value, parse_options{allow_srtcp}, &error);
    EXPECT_TRUE(a.has_value()) << value << ": " << error;
    return a.value_or(crypto_attr{});
}

std::string parse_error(std::string_view value, bool allow_srtcp = false) {
    std::string error;
    auto a = parse_crypto(value, parse_options{allow_srtcp}, &error);
    EXPECT_FALSE(a.has_value()) << "accepted: " << value;
    return error;
}

TEST(crypto_attr_parse, fields) {
    const auto a = parse_ok("1 AES_CM_128_HMAC_SHA1_80 inline:" + line(key1) + "|2^20");
    EXPECT_EQ(a.tag, 1U);
    EXPECT_EQ(a.crypto_suite, suite::aes_cm_128_hmac_sha1_80);
    // "PS1u" -> 0x3d 0x2d 0x6e; the last 14 of 30 bytes are the salt.
    EXPECT_EQ(a.key.key[0], 0x3d);
    EXPECT_EQ(a.key.key[1], 0x2d);
    EXPECT_EQ(a.key.key[2], 0x6e);
    ASSERT_TRUE(a.lifetime);
    EXPECT_EQ(*a.lifetime, uint64_t{1} << 20);
    EXPECT_FALSE(a.unencrypted_srtcp);

    const auto b = parse_ok("999999999 AES_CM_128_HMAC_SHA1_32 inline:" + line(key2));
    EXPECT_EQ(b.tag, 999999999U);
    EXPECT_EQ(b.crypto_suite, suite::aes_cm_128_hmac_sha1_32);
    EXPECT_FALSE(b.lifetime);
    EXPECT_FALSE(same_key(a.key, b.key));
}

TEST(crypto_attr_parse, blanks_and_tabs_between_fields) {
    const auto a = parse_ok("7\tAES_CM_128_HMAC_SHA1_80   inline:" + line(key1) + "  ");
    EXPECT_EQ(a.tag, 7U);
}

TEST(crypto_attr_parse, lifetime_forms_and_limit) {
    EXPECT_EQ(*parse_ok("1 AES_CM_128_HMAC_SHA1_80 inline:" + line(key1) + "|1000").lifetime, 1000U);
    EXPECT_EQ(*parse_ok("1 AES_CM_128_HMAC_SHA1_80 inline:" + line(key1) + "|2^48").lifetime, max_lifetime);
    EXPECT_EQ(*parse_ok("1 AES_CM_128_HMAC_SHA1_80 inline:" + line(key1) + "|281474976710656").lifetime, max_lifetime);
    EXPECT_EQ(parse_error("1 AES_CM_128_HMAC_SHA1_80 inline:" + line(key1) + "|2^49"),
              "a=crypto tag 1: lifetime 2^49 is above 2^48");
    EXPECT_EQ(parse_error("1 AES_CM_128_HMAC_SHA1_80 inline:" + line(key1) + "|281474976710657"),
              "a=crypto tag 1: lifetime 281474976710657 is above 2^48");
    EXPECT_EQ(parse_error("1 AES_CM_128_HMAC_SHA1_80 inline:" + line(key1) + "|99999999999999999999999"),
              "a=crypto tag 1: lifetime 99999999999999999999999 is above 2^48");
    EXPECT_EQ(parse_error("1 AES_CM_128_HMAC_SHA1_80 inline:" + line(key1) + "|0"),
              "a=crypto tag 1: lifetime 0 is not valid");
    EXPECT_EQ(parse_error("1 AES_CM_128_HMAC_SHA1_80 inline:" + line(key1) + "|2^x"),
              "a=crypto tag 1: lifetime '2^x' is not a number or 2^n");
    EXPECT_EQ(parse_error("1 AES_CM_128_HMAC_SHA1_80 inline:" + line(key1) + "|2^20|2^10"),
              "a=crypto tag 1: key has two lifetimes");
}

TEST(crypto_attr_parse, mki_is_refused) {
    EXPECT_EQ(parse_error("2 AES_CM_128_HMAC_SHA1_80 inline:" + line(key1) + "|2^20|1:4"),
              "a=crypto tag 2: MKI is not supported");
    EXPECT_EQ(parse_error("2 AES_CM_128_HMAC_SHA1_32 inline:" + line(key1) + "|1:4"),
              "a=crypto tag 2: MKI is not supported");
}

TEST(crypto_attr_parse, key_length_is_checked_per_suite) {
    // 39 characters, or 39 + '=': 29 bytes either way.
    EXPECT_EQ(parse_error("1 AES_CM_128_HMAC_SHA1_80 inline:" + line(key1.substr(0, 39))),
              "a=crypto tag 1: key is 29 bytes, AES_CM_128_HMAC_SHA1_80 needs 30");
    EXPECT_EQ(parse_error("1 AES_CM_128_HMAC_SHA1_80 inline:" + line(key1.substr(0, 39)) + "="),
              "a=crypto tag 1: key is 29 bytes, AES_CM_128_HMAC_SHA1_80 needs 30");
    EXPECT_EQ(parse_error("3 AES_CM_128_HMAC_SHA1_32 inline:" + line(key1) + "AA"),
              "a=crypto tag 3: key is 31 bytes, AES_CM_128_HMAC_SHA1_32 needs 30");
    EXPECT_EQ(parse_error("1 AES_CM_128_HMAC_SHA1_80 inline:" + line(key1.substr(0, 20))),
              "a=crypto tag 1: key is 15 bytes, AES_CM_128_HMAC_SHA1_80 needs 30");
}

TEST(crypto_attr_parse, bad_base64) {
    const std::string bad = "1 AES_CM_128_HMAC_SHA1_80 inline:";
    EXPECT_EQ(parse_error(bad + "PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVB!"), "a=crypto tag 1: key is not valid base64");
    EXPECT_EQ(parse_error(bad + "PS1uQCVeeCFCanVm-jkpPywjNWhcYD0mXXtxaVBR"), "a=crypto tag 1: key is not valid base64");
    EXPECT_EQ(parse_error(bad + line(key1) + "="), "a=crypto tag 1: key is not valid base64");    // 41 chars
    EXPECT_EQ(parse_error(bad + line(key1) + "==="), "a=crypto tag 1: key is not valid base64");  // 3 pads
    EXPECT_EQ(parse_error(bad + "PS1uQCVe=eCFCanVmcjkpPywjNWhcYD0mXXtxaVB"), "a=crypto tag 1: key is not valid base64");
    EXPECT_EQ(parse_error(bad + line(key1.substr(0, 37))), "a=crypto tag 1: key is not valid base64");  // 4n+1
    EXPECT_EQ(parse_error(bad), "a=crypto tag 1: key is not valid base64");
}

TEST(crypto_attr_parse, unsupported_suite) {
    EXPECT_EQ(parse_error("1 AES_256_CM_HMAC_SHA1_80 inline:" + line(key1) + line(key1)),
              "a=crypto tag 1: suite AES_256_CM_HMAC_SHA1_80 is not supported");
    EXPECT_EQ(parse_error("4 F8_128_HMAC_SHA1_80 inline:" + line(key1)),
              "a=crypto tag 4: suite F8_128_HMAC_SHA1_80 is not supported");
    // Case matters, as in SDP.
    EXPECT_EQ(parse_error("1 aes_cm_128_hmac_sha1_80 inline:" + line(key1)),
              "a=crypto tag 1: suite aes_cm_128_hmac_sha1_80 is not supported");
}

TEST(crypto_attr_parse, tag) {
    const std::string rest = " AES_CM_128_HMAC_SHA1_80 inline:" + line(key1);
    EXPECT_EQ(parse_error("0" + rest), "a=crypto tag 0: tag is not a number 1..999999999");
    EXPECT_EQ(parse_error("1000000000" + rest), "a=crypto tag 1000000000: tag is not a number 1..999999999");
    EXPECT_EQ(parse_error("x1" + rest), "a=crypto tag x1: tag is not a number 1..999999999");
    EXPECT_EQ(parse_error("-1" + rest), "a=crypto tag -1: tag is not a number 1..999999999");
}

TEST(crypto_attr_parse, key_params) {
    EXPECT_EQ(parse_error("1 AES_CM_128_HMAC_SHA1_80 inline:" + line(key1) + ";inline:" + line(key2)),
              "a=crypto tag 1: several keys (key;key) are not supported");
    EXPECT_EQ(parse_error("1 AES_CM_128_HMAC_SHA1_80 uri:http://example.invalid/key"),
              "a=crypto tag 1: key method 'uri' is not supported (only inline)");
    EXPECT_EQ(parse_error("1 AES_CM_128_HMAC_SHA1_80"),
              "a=crypto: expected '<tag> <suite> inline:<key>', got 2 field(s)");
    EXPECT_EQ(parse_error(""), "a=crypto: expected '<tag> <suite> inline:<key>', got 0 field(s)");
}

TEST(crypto_attr_parse, session_parameters) {
    const std::string base = "1 AES_CM_128_HMAC_SHA1_80 inline:" + line(key1);
    EXPECT_EQ(parse_error(base + " KDR=1"), "a=crypto tag 1: session parameter KDR=1 is not supported");
    // FEC_ORDER=FEC_SRTP is RFC 4568's default (6.3.5): accepted, it changes nothing without
    // FEC. The other order is not the default and is refused.
    EXPECT_EQ(parse_ok(base + " FEC_ORDER=FEC_SRTP").crypto_suite, suite::aes_cm_128_hmac_sha1_80);
    EXPECT_TRUE(parse_ok(base + " WSH=64 FEC_ORDER=FEC_SRTP UNENCRYPTED_SRTCP", true).unencrypted_srtcp);
    EXPECT_EQ(parse_error(base + " FEC_ORDER=SRTP_FEC"),
              "a=crypto tag 1: session parameter FEC_ORDER=SRTP_FEC is not supported");
    EXPECT_EQ(parse_error(base + " FEC_KEY=inline:" + line(key1)),
              "a=crypto tag 1: session parameter FEC_KEY=<...> is not supported");
    EXPECT_EQ(parse_error(base + " UNENCRYPTED_SRTP"),
              "a=crypto tag 1: session parameter UNENCRYPTED_SRTP is not supported");
    EXPECT_EQ(parse_error(base + " UNAUTHENTICATED_SRTP"),
              "a=crypto tag 1: session parameter UNAUTHENTICATED_SRTP is not supported");
    EXPECT_EQ(parse_error(base + " FOO=bar", true), "a=crypto tag 1: session parameter FOO=bar is not supported");
    // UNENCRYPTED_SRTCP: only where the policy allows it.
    EXPECT_EQ(parse_error(base + " UNENCRYPTED_SRTCP"),
              "a=crypto tag 1: UNENCRYPTED_SRTCP is not allowed by the interface's SRTP policy");
    EXPECT_TRUE(parse_ok(base + " UNENCRYPTED_SRTCP", true).unencrypted_srtcp);
    // WSH is a hint of at least 64.
    EXPECT_FALSE(parse_ok(base + " WSH=128").unencrypted_srtcp);
    EXPECT_EQ(parse_error(base + " WSH=10"),
              "a=crypto tag 1: session parameter WSH=10 is not valid (WSH is at least 64)");
}

TEST(crypto_attr_parse, reasons_never_quote_the_key_and_stay_short) {
    const std::string e1 = parse_error("1 AES_CM_128_HMAC_SHA1_80 inline:" + line(key1) + "|1:4");
    EXPECT_EQ(e1.find(key1), std::string::npos);
    const std::string e2 = parse_error("1 AES_CM_128_HMAC_SHA1_80 inline:" + line(key1) + " " + std::string(200, 'X'));
    EXPECT_LT(e2.size(), 120U);
    const std::string e3 = parse_error("1 AES\x01_CM inline:" + line(key1));
    EXPECT_EQ(e3, "a=crypto tag 1: suite AES?_CM is not supported");
}

TEST(crypto_attr_format, round_trips) {
    for (const std::string& value : {
             "1 AES_CM_128_HMAC_SHA1_80 inline:" + line(key1),
             "2 AES_CM_128_HMAC_SHA1_32 inline:" + line(key2) + "|2^20",
             "3 AES_CM_128_HMAC_SHA1_80 inline:" + line(key1) + "|1000",
             "999999999 AES_CM_128_HMAC_SHA1_32 inline:" + line(key2) + "|2^31 UNENCRYPTED_SRTCP",
         }) {
        EXPECT_EQ(format_crypto(parse_ok(value, true)), value);
    }
}

TEST(crypto_attr_format, options) {
    const auto a = parse_ok("5 AES_CM_128_HMAC_SHA1_80 inline:" + line(key1));
    // 30 bytes encode to 40 characters: there is never padding to keep.
    EXPECT_EQ(format_crypto(a, format_options{true, false}), "5 AES_CM_128_HMAC_SHA1_80 inline:" + line(key1));
    EXPECT_EQ(format_crypto(a, format_options{false, true}),
              "5 AES_CM_128_HMAC_SHA1_80 inline:" + line(key1) + "|2^31");
    // A lifetime the peer gave is kept as is.
    const auto b = parse_ok("5 AES_CM_128_HMAC_SHA1_80 inline:" + line(key1) + "|2^10");
    EXPECT_EQ(format_crypto(b, format_options{false, true}),
              "5 AES_CM_128_HMAC_SHA1_80 inline:" + line(key1) + "|2^10");
}

TEST(crypto_attr_keys, fresh_keys_differ_and_parse_back) {
    const crypto_attr a = fresh_attr(1, suite::aes_cm_128_hmac_sha1_80, false);
    const crypto_attr b = fresh_attr(1, suite::aes_cm_128_hmac_sha1_80, false);
    EXPECT_FALSE(same_key(a.key, b.key));
    EXPECT_NE(a.key.key, b.key.key);
    EXPECT_NE(a.key.salt, b.key.salt);
    const std::string text = format_crypto(a);
    EXPECT_EQ(text.size(), std::string("1 AES_CM_128_HMAC_SHA1_80 inline:").size() + 40);
    const crypto_attr back = parse_ok(text);
    EXPECT_TRUE(same_key(back.key, a.key));
    EXPECT_FALSE(back.lifetime);
}

}  // namespace
}  // namespace rtprelay::sdes
