// parse_crypto / format_crypto: what is accepted, every rejection with its reason, and
// round trips. Keys are RFC 4568's example keys.

#include "control/sdes/crypto_attr.h"

#include <gtest/gtest.h>

#include <array>
#include <string>

namespace rtprelay::sdes {
namespace {

constexpr std::string_view key1 = "PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR";
constexpr std::string_view key2 = "d0RmdmcmVCspeEc3QGZiNWpVLFJhQX1cfHAwJSoj";

std::string line(std::string_view rest) { return std::string(rest); }

// Bytes (i * 7 + 3) mod 256 as base64, unpadded: 46 bytes (AES_256_CM), 28 (AEAD_AES_128_GCM),
// 44 (AEAD_AES_256_GCM).
constexpr std::string_view key46 = "AwoRGB8mLTQ7QklQV15lbHN6gYiPlp2kq7K5wMfO1dzj6vH4/wYNFBsiKTA3Pg";
constexpr std::string_view key28 = "AwoRGB8mLTQ7QklQV15lbHN6gYiPlp2kq7K5wA";
constexpr std::string_view key44 = "AwoRGB8mLTQ7QklQV15lbHN6gYiPlp2kq7K5wMfO1dzj6vH4/wYNFBsiKTA";

crypto_attr parse_ok(std::string_view value, bool allow_srtcp = false, bool allow_mki = false) {
    std::string error;
    auto a = parse_crypto(value, parse_options{allow_srtcp, allow_mki}, &error);
    EXPECT_TRUE(a.has_value()) << value << ": " << error;
    return a.value_or(crypto_attr{});
}

std::string parse_error(std::string_view value, bool allow_srtcp = false, bool allow_mki = false) {
    std::string error;
    auto a = parse_crypto(value, parse_options{allow_srtcp, allow_mki}, &error);
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

// Every suite of the table, with its key + salt length: the AES-256 and AES-GCM keys end in a
// partial base64 group, with or without its '=' padding.
TEST(crypto_attr_parse, every_suite_with_its_key_length) {
    struct c {
        const char* name;
        suite s;
        std::string_view key;
        const char* pad;
    };
    for (const c& t : {c{"AES_256_CM_HMAC_SHA1_80", suite::aes_256_cm_hmac_sha1_80, key46, "=="},
                       c{"AES_256_CM_HMAC_SHA1_32", suite::aes_256_cm_hmac_sha1_32, key46, "=="},
                       c{"AEAD_AES_128_GCM", suite::aead_aes_128_gcm, key28, "=="},
                       c{"AEAD_AES_256_GCM", suite::aead_aes_256_gcm, key44, "="}}) {
        const dp::srtp::suite_info& si = dp::srtp::info(t.s);
        for (const std::string& pad : {std::string(), std::string(t.pad)}) {
            const auto a = parse_ok("1 " + std::string(t.name) + " inline:" + std::string(t.key) + pad);
            EXPECT_EQ(a.crypto_suite, t.s);
            for (size_t i = 0; i < si.master_key_len; ++i) {
                ASSERT_EQ(a.key.key[i], static_cast<uint8_t>(i * 7 + 3)) << t.name << " key byte " << i;
            }
            for (size_t i = 0; i < si.master_salt_len; ++i) {
                ASSERT_EQ(a.key.salt[i], static_cast<uint8_t>((si.master_key_len + i) * 7 + 3)) << t.name;
            }
            // What the suite does not use stays zero.
            for (size_t i = si.master_key_len; i < a.key.key.size(); ++i) {
                ASSERT_EQ(a.key.key[i], 0) << t.name;
            }
        }
    }
    EXPECT_EQ(parse_error("1 AEAD_AES_128_GCM inline:" + line(key1)),
              "a=crypto tag 1: key is 30 bytes, AEAD_AES_128_GCM needs 28");
    EXPECT_EQ(parse_error("1 AES_256_CM_HMAC_SHA1_80 inline:" + line(key44)),
              "a=crypto tag 1: key is 44 bytes, AES_256_CM_HMAC_SHA1_80 needs 46");
    EXPECT_EQ(parse_error("1 AEAD_AES_256_GCM inline:" + line(key46)),
              "a=crypto tag 1: key is 46 bytes, AEAD_AES_256_GCM needs 44");
    EXPECT_EQ(parse_error("1 AES_CM_128_HMAC_SHA1_80 inline:" + line(key28)),
              "a=crypto tag 1: key is 28 bytes, AES_CM_128_HMAC_SHA1_80 needs 30");
    EXPECT_EQ(parse_error("1 AEAD_AES_128_GCM inline:" + line(key28) + "="), "a=crypto tag 1: key is not valid base64");
}

// With mki=accept: "<value>:<length>", 1..4 bytes, the value big-endian in them.
TEST(crypto_attr_parse, mki_where_accepted) {
    const std::string base = "2 AES_CM_128_HMAC_SHA1_80 inline:" + line(key1);
    const auto a = parse_ok(base + "|2^20|1:4", false, true);
    EXPECT_EQ(a.key.mki_len, 4);
    EXPECT_EQ(a.key.mki, (std::array<uint8_t, 4>{0, 0, 0, 1}));
    EXPECT_EQ(*a.lifetime, uint64_t{1} << 20);
    const auto b = parse_ok(base + "|258:2", false, true);
    EXPECT_EQ(b.key.mki_len, 2);
    EXPECT_EQ(b.key.mki[0], 1);
    EXPECT_EQ(b.key.mki[1], 2);
    EXPECT_FALSE(b.lifetime);
    EXPECT_EQ(parse_ok(base + "|4294967295:4", false, true).key.mki, (std::array<uint8_t, 4>{255, 255, 255, 255}));
    EXPECT_EQ(parse_ok(base + "|0:1", false, true).key.mki_len, 1);
    EXPECT_FALSE(same_key(a.key, b.key));  // same key bytes, another MKI: another key line
    EXPECT_EQ(parse_ok("1 AEAD_AES_128_GCM inline:" + line(key28) + "|7:1", false, true).key.mki[0], 7);

    EXPECT_EQ(parse_error(base + "|1:5", false, true), "a=crypto tag 2: MKI length 5 is not supported (1 to 4 bytes)");
    EXPECT_EQ(parse_error(base + "|1:128", false, true),
              "a=crypto tag 2: MKI length 128 is not supported (1 to 4 bytes)");
    EXPECT_EQ(parse_error(base + "|1:129", false, true), "a=crypto tag 2: MKI '1:129' is not <value>:<length 1..128>");
    EXPECT_EQ(parse_error(base + "|1:0", false, true), "a=crypto tag 2: MKI '1:0' is not <value>:<length 1..128>");
    EXPECT_EQ(parse_error(base + "|x:1", false, true), "a=crypto tag 2: MKI 'x:1' is not <value>:<length 1..128>");
    EXPECT_EQ(parse_error(base + "|1:", false, true), "a=crypto tag 2: MKI '1:' is not <value>:<length 1..128>");
    EXPECT_EQ(parse_error(base + "|:1", false, true), "a=crypto tag 2: MKI ':1' is not <value>:<length 1..128>");
    EXPECT_EQ(parse_error(base + "|256:1", false, true), "a=crypto tag 2: MKI value 256 does not fit in 1 bytes");
    EXPECT_EQ(parse_error(base + "|99999999999999999999:4", false, true),
              "a=crypto tag 2: MKI '99999999999999999999:4' is not <value>:<length 1..128>");
    EXPECT_EQ(parse_error(base + "|1:1|2:1", false, true), "a=crypto tag 2: key has two MKIs");
    EXPECT_EQ(parse_error(base + "|1:1|2^20", false, true), "a=crypto tag 2: lifetime after the MKI");
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
    EXPECT_EQ(parse_error("1 AES_192_CM_HMAC_SHA1_80 inline:" + line(key1) + line(key1)),
              "a=crypto tag 1: suite AES_192_CM_HMAC_SHA1_80 is not supported");
    EXPECT_EQ(parse_error("1 AEAD_AES_128_GCM_8 inline:" + line(key28)),
              "a=crypto tag 1: suite AEAD_AES_128_GCM_8 is not supported");
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
             "4 AES_256_CM_HMAC_SHA1_80 inline:" + line(key46),
             "5 AES_256_CM_HMAC_SHA1_32 inline:" + line(key46) + "|2^31",
             "6 AEAD_AES_128_GCM inline:" + line(key28) + "|1:1",
             "7 AEAD_AES_256_GCM inline:" + line(key44) + "|2^20|258:2 UNENCRYPTED_SRTCP",
             "8 AES_CM_128_HMAC_SHA1_80 inline:" + line(key1) + "|4294967295:4",
         }) {
        EXPECT_EQ(format_crypto(parse_ok(value, true, true)), value);
    }
}

TEST(crypto_attr_format, options) {
    const auto a = parse_ok("5 AES_CM_128_HMAC_SHA1_80 inline:" + line(key1));
    // 30 bytes encode to 40 characters: there is never padding to keep.
    EXPECT_EQ(format_crypto(a, format_options{true, false}), "5 AES_CM_128_HMAC_SHA1_80 inline:" + line(key1));
    // The other suites' keys end in a partial group: SDES-pad keeps its '='.
    const auto g = parse_ok("5 AEAD_AES_256_GCM inline:" + line(key44));
    EXPECT_EQ(format_crypto(g, format_options{true, false}), "5 AEAD_AES_256_GCM inline:" + line(key44) + "=");
    EXPECT_EQ(format_crypto(g, format_options{false, false}), "5 AEAD_AES_256_GCM inline:" + line(key44));
    EXPECT_EQ(format_crypto(a, format_options{false, true}),
              "5 AES_CM_128_HMAC_SHA1_80 inline:" + line(key1) + "|2^31");
    // A lifetime the peer gave is kept as is.
    const auto b = parse_ok("5 AES_CM_128_HMAC_SHA1_80 inline:" + line(key1) + "|2^10");
    EXPECT_EQ(format_crypto(b, format_options{false, true}),
              "5 AES_CM_128_HMAC_SHA1_80 inline:" + line(key1) + "|2^10");
}

TEST(crypto_attr_keys, fresh_keys_of_every_suite) {
    for (const suite s : all_suites) {
        const crypto_attr a = fresh_attr(3, s, false);
        const dp::srtp::suite_info& si = dp::srtp::info(s);
        EXPECT_EQ(a.key.mki_len, 0);
        for (size_t i = si.master_key_len; i < a.key.key.size(); ++i) {
            ASSERT_EQ(a.key.key[i], 0) << si.name;
        }
        for (size_t i = si.master_salt_len; i < a.key.salt.size(); ++i) {
            ASSERT_EQ(a.key.salt[i], 0) << si.name;
        }
        const crypto_attr back = parse_ok(format_crypto(a));
        EXPECT_TRUE(same_key(back.key, a.key)) << si.name;
        EXPECT_FALSE(same_key(fresh_attr(3, s, false).key, a.key)) << si.name;
    }
}

TEST(crypto_attr_keys, our_mki) {
    master_key k = random_key(suite::aes_cm_128_hmac_sha1_80);
    set_our_mki(k, 3);
    EXPECT_EQ(k.mki_len, 3);
    EXPECT_EQ(k.mki, (std::array<uint8_t, 4>{0, 0, 1, 0}));
    crypto_attr a;
    a.key = k;
    EXPECT_NE(format_crypto(a).find("|1:3"), std::string::npos);
    set_our_mki(k, 0);
    EXPECT_EQ(k.mki_len, 0);
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
