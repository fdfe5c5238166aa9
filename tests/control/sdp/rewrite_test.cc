// rewrite(): golden files (input + plan → expected output, byte for byte) and plan errors.
// Properties over all inputs are in rewrite_fuzz_test.cc.

#include <gtest/gtest.h>

#include <string>

#include "control/sdp/sdp.h"
#include "tests/control/sdp/golden.h"

namespace rtprelay::sdp {
namespace {

constexpr const char* relay_ip = "203.0.113.10";
constexpr const char* relay_ip_2 = "203.0.113.20";
constexpr const char* relay_ip6 = "2001:db8:ffff::1";
constexpr const char* new_key = "1 AES_CM_128_HMAC_SHA1_80 inline:d0RmdmcmVCspeEc3QGZiNWpVLFJhQX1cfHAwJSoj|2^31";

media_plan relay_to(const char* address, uint16_t port, uint16_t rtcp_port = 0) {
    media_plan mp;
    mp.address = address;
    mp.port = port;
    mp.rtcp_port = rtcp_port;
    return mp;
}

media_plan not_relayed() {
    media_plan mp;
    mp.relay = false;
    return mp;
}

// Rewrites <in_case>.in.sdp with `plan` and compares with <out_case>.out.sdp.
void expect_golden(const std::string& in_case, const std::string& out_case, const rewrite_plan& plan) {
    SCOPED_TRACE(in_case + " -> " + out_case);
    const std::string in = test::read_golden(in_case + ".in.sdp");
    std::string error;
    const auto sd = parse(in, &error);
    ASSERT_TRUE(sd) << error;
    const auto out = rewrite(in, *sd, plan, &error);
    ASSERT_TRUE(out) << error;
    const std::string out_file = out_case + ".out.sdp";
    if (test::update_golden()) {
        test::write_golden(out_file, *out);
        return;
    }
    const std::string expected = test::read_golden(out_file);
    EXPECT_EQ(*out, expected);  // gtest prints a line diff with CRs escaped
}

void expect_golden(const std::string& name, const rewrite_plan& plan) { expect_golden(name, name, plan); }

TEST(sdp_rewrite_golden, pbx_single_audio) {
    rewrite_plan plan;
    plan.medias = {relay_to(relay_ip, 30000, 30001)};
    plan.replace_origin = true;
    plan.origin_address = relay_ip;
    expect_golden("pbx_single_audio", plan);
}

TEST(sdp_rewrite_golden, session_c_only) {
    rewrite_plan plan;
    plan.medias = {relay_to(relay_ip, 30000), relay_to(relay_ip, 30002)};
    expect_golden("session_c_only", plan);
}

TEST(sdp_rewrite_golden, media_c_only) {
    rewrite_plan plan;
    plan.medias = {relay_to(relay_ip, 30000), relay_to(relay_ip, 30002)};
    expect_golden("media_c_only", plan);
}

TEST(sdp_rewrite_golden, video_port0) {
    // The plan asks to relay the disabled video stream; port 0 wins and it stays as is.
    rewrite_plan plan;
    plan.medias = {relay_to(relay_ip, 30000), relay_to(relay_ip, 30002)};
    expect_golden("video_port0", plan);
}

TEST(sdp_rewrite_golden, hold_sendonly) {
    rewrite_plan plan;
    plan.medias = {relay_to(relay_ip, 30000, 30001)};
    plan.replace_origin = true;
    plan.origin_address = relay_ip;
    expect_golden("hold_sendonly", plan);
}

TEST(sdp_rewrite_golden, rtcp_address) {
    rewrite_plan plan;
    plan.medias = {relay_to(relay_ip, 30000, 30001), relay_to(relay_ip, 30002, 30003)};
    expect_golden("rtcp_address", plan);
}

TEST(sdp_rewrite_golden, rtcp_mux) {
    rewrite_plan plan;
    plan.medias = {relay_to(relay_ip, 30000, 30000)};
    expect_golden("rtcp_mux", plan);
}

TEST(sdp_rewrite_golden, rtcp_mux_dropped) {
    // The relay refuses rtcp-mux on this leg (RFC 5761 5.1.1: not offered by this side, or
    // rtcp-mux reject): the line goes, the rest stays.
    rewrite_plan plan;
    plan.medias = {relay_to(relay_ip, 30000, 30001)};
    plan.medias[0].rtcp_mux = false;
    expect_golden("rtcp_mux", "rtcp_mux_dropped", plan);
}

TEST(sdp_rewrite_golden, rtcp_mux_added) {
    // rtcp-mux offer toward a side whose peer did not offer it: added at the end of the
    // relayed section, in that section's line ending; the second stream says nothing.
    rewrite_plan plan;
    plan.medias = {relay_to(relay_ip, 30000), relay_to(relay_ip, 30002)};
    plan.medias[0].rtcp_mux = true;
    plan.medias[1].rtcp_mux = false;
    expect_golden("session_c_only", "rtcp_mux_added", plan);
}

TEST(sdp_rewrite_golden, ice_removed) {
    rewrite_plan plan;
    plan.medias = {relay_to(relay_ip, 30000, 30001)};
    plan.medias[0].remove_ice = true;
    plan.replace_origin = true;
    plan.origin_address = relay_ip;
    expect_golden("ice_removed", plan);
}

TEST(sdp_rewrite_golden, ice_kept) {
    // Without remove_ice the ICE lines pass through, session-level ones included.
    rewrite_plan plan;
    plan.medias = {relay_to(relay_ip, 30000, 30001)};
    expect_golden("ice_removed", "ice_kept", plan);
}

TEST(sdp_rewrite_golden, t38_udptl) {
    rewrite_plan plan;
    plan.medias = {relay_to(relay_ip, 30000)};
    expect_golden("t38_udptl", plan);
}

TEST(sdp_rewrite_golden, avp_to_savp) {
    rewrite_plan plan;
    plan.medias = {relay_to(relay_ip, 30000)};
    plan.medias[0].proto = "RTP/SAVP";
    plan.medias[0].replace_crypto = true;
    plan.medias[0].crypto = {new_key};
    expect_golden("avp_to_savp", plan);
}

TEST(sdp_rewrite_golden, crypto_replaced) {
    rewrite_plan plan;
    plan.medias = {relay_to(relay_ip, 30000)};
    plan.medias[0].replace_crypto = true;
    plan.medias[0].crypto = {new_key};
    expect_golden("crypto_replaced", plan);
}

TEST(sdp_rewrite_golden, savp_to_avp) {
    // Bridging the other way: SRTP offered, plain RTP written, no a=crypto left.
    rewrite_plan plan;
    plan.medias = {relay_to(relay_ip, 30000)};
    plan.medias[0].proto = "RTP/AVP";
    plan.medias[0].replace_crypto = true;
    expect_golden("crypto_replaced", "savp_to_avp", plan);
}

TEST(sdp_rewrite_golden, ipv6) {
    rewrite_plan plan;
    plan.medias = {relay_to(relay_ip6, 30000, 30001)};
    plan.medias[0].addrtype = "IP6";
    plan.replace_origin = true;
    plan.origin_address = relay_ip6;
    plan.origin_addrtype = "IP6";
    expect_golden("ipv6", plan);
}

TEST(sdp_rewrite_golden, ipv6_to_ipv4) {
    rewrite_plan plan;
    plan.medias = {relay_to(relay_ip, 30000, 30001)};
    plan.replace_origin = true;
    plan.origin_address = relay_ip;
    expect_golden("ipv6", "ipv6_to_ipv4", plan);
}

TEST(sdp_rewrite_golden, mixed_line_endings) {
    rewrite_plan plan;
    plan.medias = {relay_to(relay_ip, 30000), relay_to(relay_ip_2, 30002)};
    plan.replace_origin = true;
    plan.origin_address = relay_ip;
    expect_golden("mixed_line_endings", plan);
}

TEST(sdp_rewrite_golden, two_relay_addresses) {
    rewrite_plan plan;
    plan.medias = {relay_to(relay_ip, 30000), relay_to(relay_ip_2, 30002)};
    expect_golden("two_relay_addresses", plan);
}

TEST(sdp_rewrite_golden, not_relayed_stream) {
    rewrite_plan plan;
    plan.medias = {relay_to(relay_ip, 30000), not_relayed()};
    expect_golden("not_relayed_stream", plan);
}

TEST(sdp_rewrite_golden, keep_session_c) {
    rewrite_plan plan;
    plan.medias = {relay_to(relay_ip, 30000)};
    plan.replace_session_connection = false;
    expect_golden("keep_session_c", plan);
}

TEST(sdp_rewrite_golden, multicast_port_count) {
    rewrite_plan plan;
    plan.medias = {relay_to(relay_ip, 30000)};
    expect_golden("multicast_port_count", plan);
}

std::optional<std::string> rewrite_text(std::string_view in, const rewrite_plan& plan, std::string* error) {
    const auto sd = parse(in, error);
    EXPECT_TRUE(sd) << *error;
    return sd ? rewrite(in, *sd, plan, error) : std::nullopt;
}

TEST(sdp_rewrite, insertion_after_a_last_line_without_ending) {
    const std::string in =
        "v=0\no=- 1 1 IN IP4 10.0.0.1\nc=IN IP4 10.0.0.1\n"
        "m=audio 1000 RTP/AVP 0\nm=audio 1002 RTP/AVP 0";
    rewrite_plan plan;
    plan.medias = {relay_to(relay_ip, 30000), relay_to(relay_ip_2, 30002)};
    plan.medias[1].replace_crypto = true;
    plan.medias[1].crypto = {new_key};
    std::string error;
    const auto out = rewrite_text(in, plan, &error);
    ASSERT_TRUE(out) << error;
    EXPECT_EQ(*out,
              "v=0\no=- 1 1 IN IP4 10.0.0.1\nc=IN IP4 203.0.113.10\n"
              "m=audio 30000 RTP/AVP 0\nm=audio 30002 RTP/AVP 0\n"
              "c=IN IP4 203.0.113.20\n" +
                  std::string("a=crypto:") + new_key);
}

TEST(sdp_rewrite, session_level_crypto_is_dropped) {
    // RFC 4568 has a=crypto in media sections only; one at session level still carries
    // the sender's key. parse() counts it, rewrite() never copies it, whatever the plan.
    const std::string key = "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNk";
    const std::string in =
        "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\n"
        "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" +
        key +
        "\r\n"
        "a=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:" +
        key +
        "\r\n"
        "m=audio 1000 RTP/AVP 0\r\nm=video 0 RTP/AVP 96\r\n";
    std::string error;
    const auto sd = parse(in, &error);
    ASSERT_TRUE(sd) << error;
    EXPECT_EQ(sd->session_crypto_lines, 2u);
    EXPECT_TRUE(sd->medias[0].crypto.empty());
    for (const bool relay : {true, false}) {
        rewrite_plan plan;
        plan.medias = {relay ? relay_to(relay_ip, 30000) : not_relayed(), not_relayed()};
        const auto out = rewrite(in, *sd, plan, &error);
        ASSERT_TRUE(out) << error;
        EXPECT_EQ(out->find("a=crypto"), std::string::npos) << *out;
        EXPECT_EQ(out->find(key), std::string::npos) << *out;
        EXPECT_NE(out->find("t=0 0\r\nm=audio "), std::string::npos) << *out;
    }
}

TEST(sdp_rewrite, crypto_of_a_non_rtp_stream_is_dropped_when_asked) {
    // T.38 with an a=crypto line (no SRTP there, but the sender's key all the same).
    const std::string in =
        "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\n"
        "m=image 1000 udptl t38\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:x\r\n"
        "a=T38FaxVersion:0\r\nm=image 0 udptl t38\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:y\r\n";
    rewrite_plan plan;
    plan.medias = {relay_to(relay_ip, 30000), not_relayed()};
    for (auto& mp : plan.medias) {
        mp.replace_crypto = true;
    }
    std::string error;
    const auto out = rewrite_text(in, plan, &error);
    ASSERT_TRUE(out) << error;
    EXPECT_EQ(*out,
              "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 203.0.113.10\r\nt=0 0\r\n"
              "m=image 30000 udptl t38\r\na=T38FaxVersion:0\r\nm=image 0 udptl t38\r\n");
}

TEST(sdp_rewrite, rtp_proto_over_formats_that_are_no_payload_types_is_refused) {
    // parse() checks formats as payload types only under an RTP proto; a plan that writes
    // an RTP proto over others would make an SDP that parse() refuses.
    const std::string in =
        "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\n"
        "m=audio 1000 RT/VPSP A0\r\n";
    rewrite_plan plan;
    plan.medias = {relay_to(relay_ip, 30000)};
    plan.medias[0].proto = "RTP/AVP";
    std::string error;
    EXPECT_FALSE(rewrite_text(in, plan, &error));
    EXPECT_EQ(error, "SDP rewrite: stream 1: proto RTP/AVP over formats that are not RTP payload types");

    // Formats that are payload types may go under an RTP proto; the output parses.
    const std::string numeric =
        "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\n"
        "m=audio 1000 RT/VPSP 0 101\r\n";
    const auto out = rewrite_text(numeric, plan, &error);
    ASSERT_TRUE(out) << error;
    EXPECT_TRUE(parse(*out, &error)) << error;
}

struct plan_error_case {
    const char* name;
    void (*edit)(rewrite_plan&);
    const char* error;
};

TEST(sdp_rewrite, plan_errors) {
    const std::string in = test::read_golden("rtcp_address.in.sdp");
    const plan_error_case cases[] = {
        {"too few streams", [](rewrite_plan& p) { p.medias.pop_back(); }, "SDP rewrite: plan has 1 streams, the SDP 2"},
        {"empty address", [](rewrite_plan& p) { p.medias[1].address.clear(); },
         "SDP rewrite: stream 2: relay address empty or not a single token"},
        {"injected line", [](rewrite_plan& p) { p.medias[0].address = "1.2.3.4\r\na=x"; },
         "SDP rewrite: stream 1: relay address empty or not a single token"},
        {"addrtype", [](rewrite_plan& p) { p.medias[0].addrtype = "IPX"; },
         "SDP rewrite: stream 1: address type must be IP4 or IP6"},
        {"proto", [](rewrite_plan& p) { p.medias[0].proto = "RTP/SAVP 0"; },
         "SDP rewrite: stream 1: proto empty or not a single token"},
        {"rtcp port", [](rewrite_plan& p) { p.medias[1].rtcp_port = 0; },
         "SDP rewrite: stream 2: the SDP has a=rtcp but the plan no RTCP port"},
        {"crypto",
         [](rewrite_plan& p) {
             p.medias[0].replace_crypto = true;
             p.medias[0].crypto = {"1 AES_CM_128_HMAC_SHA1_80 inline:x\nm=audio 1 RTP/AVP 0"};
         },
         "SDP rewrite: stream 1: a=crypto value empty or with control characters"},
        {"origin", [](rewrite_plan& p) { p.replace_origin = true; },
         "SDP rewrite: origin address or address type invalid"},
    };
    for (const plan_error_case& c : cases) {
        rewrite_plan plan;
        plan.medias = {relay_to(relay_ip, 30000, 30001), relay_to(relay_ip, 30002, 30003)};
        c.edit(plan);
        std::string error;
        EXPECT_FALSE(rewrite_text(in, plan, &error)) << c.name;
        EXPECT_EQ(error, c.error) << c.name;
    }
}

// A refused stream does not lend the session c= its address: with two families (the refused
// one IPv4 on the session c=, the other IPv6 on its own), a second rewrite of the output
// with the same plan changes nothing (fuzz_sdp found the session c= flipping to IPv6).
TEST(sdp_rewrite, session_connection_ignores_refused_streams) {
    const std::string in =
        "v=0\r\no=- 1 1 IN IP4 198.51.100.10\r\ns=-\r\nc=IN IP4 198.51.100.10\r\nt=0 0\r\n"
        "m=audio 4000 RTP/AVP 0\r\n"
        "m=audio 5000 RTP/AVP 0\r\nc=IN IP6 2001:db8::10\r\n";
    rewrite_plan plan;
    plan.medias = {relay_to(relay_ip, 0), relay_to(relay_ip6, 30000)};
    plan.medias[0].reject = true;
    plan.medias[1].addrtype = "IP6";
    std::string error;
    const auto sd = parse(in, &error);
    ASSERT_TRUE(sd) << error;
    const auto out = rewrite(in, *sd, plan, &error);
    ASSERT_TRUE(out) << error;
    EXPECT_NE(out->find("c=IN IP6 2001:db8:ffff::1\r\nt=0 0"), std::string::npos) << *out;
    EXPECT_NE(out->find("m=audio 0 RTP/AVP 0"), std::string::npos) << *out;
    const auto sd2 = parse(*out, &error);
    ASSERT_TRUE(sd2) << error;
    const auto again = rewrite(*out, *sd2, plan, &error);
    ASSERT_TRUE(again) << error;
    EXPECT_EQ(*again, *out);
}

TEST(sdp_rewrite, not_relayed_streams_skip_checks) {
    // An invalid plan entry for a stream that is not relayed is never used.
    const std::string in = test::read_golden("video_port0.in.sdp");
    rewrite_plan plan;
    plan.medias = {relay_to(relay_ip, 30000), media_plan{}};
    std::string error;
    EXPECT_TRUE(rewrite_text(in, plan, &error)) << error;
}

TEST(sdp_rewrite, text_must_match_parse) {
    const std::string one = test::read_golden("pbx_single_audio.in.sdp");
    const std::string two = test::read_golden("session_c_only.in.sdp");
    const auto sd = parse(one, nullptr);
    ASSERT_TRUE(sd);
    rewrite_plan plan;
    plan.medias = {relay_to(relay_ip, 30000)};
    std::string error;
    EXPECT_FALSE(rewrite(two, *sd, plan, &error));
    EXPECT_EQ(error, "SDP rewrite: text does not match the parsed SDP");
}

}  // namespace
}  // namespace rtprelay::sdp
