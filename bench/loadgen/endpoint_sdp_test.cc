#include "bench/loadgen/endpoint_sdp.h"

#include <gtest/gtest.h>

#include <string>

namespace rtprelay::loadgen {
namespace {

TEST(endpoint_sdp, builds_g711_offer_with_crlf) {
    endpoint_sdp_params p;
    p.address = "192.0.2.10";
    p.rtp_port = 40000;
    p.rtcp_port = 40001;
    p.session_id = 7;
    EXPECT_EQ(build_endpoint_sdp(p),
              "v=0\r\n"
              "o=- 7 7 IN IP4 192.0.2.10\r\n"
              "s=rtprelay-loadgen\r\n"
              "c=IN IP4 192.0.2.10\r\n"
              "t=0 0\r\n"
              "m=audio 40000 RTP/AVP 0 8 101\r\n"
              "a=rtpmap:0 PCMU/8000\r\n"
              "a=rtpmap:8 PCMA/8000\r\n"
              "a=rtpmap:101 telephone-event/8000\r\n"
              "a=fmtp:101 0-16\r\n"
              "a=ptime:20\r\n"
              "a=rtcp:40001\r\n"
              "a=sendrecv\r\n");
}

TEST(endpoint_sdp, ipv6_address_type) {
    endpoint_sdp_params p;
    p.address = "2001:db8::1";
    p.rtp_port = 5000;
    const std::string sdp = build_endpoint_sdp(p);
    EXPECT_NE(sdp.find("c=IN IP6 2001:db8::1\r\n"), std::string::npos);
    EXPECT_EQ(sdp.find("a=rtcp:"), std::string::npos);
}

TEST(endpoint_sdp, target_from_relay_sdp_defaults_rtcp_to_port_plus_one) {
    endpoint_sdp_params p;
    p.address = "203.0.113.5";
    p.rtp_port = 30000;
    std::string error;
    std::optional<media_target> t = find_media_target(build_endpoint_sdp(p), &error);
    ASSERT_TRUE(t) << error;
    EXPECT_EQ(t->rtp.to_string(), "203.0.113.5:30000");
    EXPECT_EQ(t->rtcp.to_string(), "203.0.113.5:30001");
}

TEST(endpoint_sdp, target_uses_a_rtcp_and_media_level_c) {
    const std::string sdp =
        "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\n"
        "m=video 0 RTP/AVP 96\r\n"
        "m=audio 20000 RTP/AVP 0\r\nc=IN IP4 10.0.0.2\r\na=rtcp:20011\r\n";
    std::string error;
    std::optional<media_target> t = find_media_target(sdp, &error);
    ASSERT_TRUE(t) << error;
    EXPECT_EQ(t->rtp.to_string(), "10.0.0.2:20000");
    EXPECT_EQ(t->rtcp.to_string(), "10.0.0.2:20011");
}

TEST(endpoint_sdp, target_under_rtcp_mux_is_the_rtp_port) {
    const std::string sdp =
        "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\n"
        "m=audio 20000 RTP/AVP 0\r\na=rtcp-mux\r\n";
    std::string error;
    std::optional<media_target> t = find_media_target(sdp, &error);
    ASSERT_TRUE(t) << error;
    EXPECT_EQ(t->rtcp.to_string(), "10.0.0.1:20000");
}

TEST(endpoint_sdp, no_usable_stream_is_an_error) {
    std::string error;
    EXPECT_FALSE(
        find_media_target("v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nt=0 0\r\n"
                          "m=audio 0 RTP/AVP 0\r\n",
                          &error));
    EXPECT_FALSE(error.empty());
}

}  // namespace
}  // namespace rtprelay::loadgen

namespace rtprelay::loadgen {
namespace {

TEST(endpoint_sdp, srtp_offer_carries_its_key_and_the_target_reads_it_back) {
    endpoint_sdp_params p;
    p.address = "198.18.0.10";
    p.rtp_port = 40000;
    // The arrays hold the longest suite's key; the loadgen offers AES_CM_128_HMAC_SHA1_80,
    // whose key and salt are the first 16 and 14 bytes (the rest stays zero, as on the wire).
    const dp::srtp::suite_info& suite = dp::srtp::info(dp::srtp::suite::aes_cm_128_hmac_sha1_80);
    dp::srtp::master_key k{};
    for (size_t i = 0; i < suite.master_key_len; ++i) {
        k.key[i] = static_cast<uint8_t>(i + 1);
    }
    for (size_t i = 0; i < suite.master_salt_len; ++i) {
        k.salt[i] = static_cast<uint8_t>(0xa0 + i);
    }
    p.srtp_key = k;
    const std::string sdp = build_endpoint_sdp(p);
    EXPECT_NE(sdp.find("m=audio 40000 RTP/SAVP 0 8 101\r\n"), std::string::npos);
    EXPECT_NE(sdp.find("a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:"), std::string::npos);
    std::string error;
    const auto t = find_media_target(sdp, &error, true);
    ASSERT_TRUE(t) << error;
    ASSERT_TRUE(t->srtp_key);
    EXPECT_EQ(t->srtp_key->key, k.key);
    EXPECT_EQ(t->srtp_key->salt, k.salt);
    EXPECT_EQ(t->srtp_suite, dp::srtp::suite::aes_cm_128_hmac_sha1_80);
}

TEST(endpoint_sdp, srtp_wanted_but_no_usable_crypto_line) {
    endpoint_sdp_params p;
    p.address = "198.18.0.10";
    p.rtp_port = 40000;
    std::string sdp = build_endpoint_sdp(p);
    std::string error;
    EXPECT_TRUE(find_media_target(sdp, &error, false));
    EXPECT_FALSE(find_media_target(sdp, &error, true));
    EXPECT_NE(error.find("no usable a=crypto"), std::string::npos);
    // An MKI line is not usable: still no key.
    sdp.insert(sdp.find("a=sendrecv"),
               "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwd|2^20|1:4\r\n");
    EXPECT_FALSE(find_media_target(sdp, &error, true));
    EXPECT_NE(error.find("MKI"), std::string::npos) << error;
}

}  // namespace
}  // namespace rtprelay::loadgen
