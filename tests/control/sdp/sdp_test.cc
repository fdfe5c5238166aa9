// parse(): the facts it extracts, and clean errors on malformed or hostile input.

#include "control/sdp/sdp.h"

#include <gtest/gtest.h>

#include <string>

#include "tests/control/sdp/golden.h"

namespace rtprelay::sdp {
namespace {

session_description parse_ok(std::string_view text) {
    std::string error;
    auto sd = parse(text, &error);
    EXPECT_TRUE(sd.has_value()) << error;
    return sd.value_or(session_description{});
}

std::string parse_error(std::string_view text) {
    std::string error;
    const auto sd = parse(text, &error);
    EXPECT_FALSE(sd.has_value()) << "accepted: " << text;
    return error;
}

TEST(sdp_parse, pbx_offer_facts) {
    const auto sd = parse_ok(test::read_golden("pbx_single_audio.in.sdp"));
    EXPECT_EQ(sd.origin_address, "10.20.0.15");
    ASSERT_TRUE(sd.conn);
    EXPECT_EQ(sd.conn->addrtype, "IP4");
    EXPECT_EQ(sd.conn->address, "10.20.0.15");
    EXPECT_FALSE(sd.dir);
    EXPECT_FALSE(sd.has_ice);
    ASSERT_EQ(sd.medias.size(), 1U);
    const media& m = sd.medias[0];
    EXPECT_EQ(m.type, "audio");
    EXPECT_EQ(m.port, 17062);
    EXPECT_EQ(m.port_count, 1);
    EXPECT_EQ(m.proto, "RTP/AVP");
    EXPECT_EQ(m.formats, (std::vector<std::string>{"0", "8", "9", "101"}));
    EXPECT_FALSE(m.conn);
    EXPECT_FALSE(m.rtcp_port);
    EXPECT_FALSE(m.rtcp_mux);
    EXPECT_FALSE(m.has_ice);
    EXPECT_EQ(m.dir, direction::sendrecv);
    EXPECT_TRUE(m.crypto.empty());
    const connection* c = effective_connection(sd, 0);
    ASSERT_NE(c, nullptr);
    EXPECT_EQ(c->address, "10.20.0.15");
    EXPECT_EQ(effective_connection(sd, 1), nullptr);
}

TEST(sdp_parse, media_level_connection_wins) {
    const auto sd = parse_ok(
        "v=0\r\no=- 1 1 IN IP4 1.1.1.1\r\ns=-\r\nc=IN IP4 2.2.2.2\r\n"
        "t=0 0\r\nm=audio 10 RTP/AVP 0\r\nc=IN IP6 2001:db8::5\r\n"
        "m=audio 12 RTP/AVP 0\r\n");
    ASSERT_EQ(sd.medias.size(), 2U);
    EXPECT_EQ(effective_connection(sd, 0)->address, "2001:db8::5");
    EXPECT_EQ(effective_connection(sd, 0)->addrtype, "IP6");
    EXPECT_EQ(effective_connection(sd, 1)->address, "2.2.2.2");
}

TEST(sdp_parse, no_connection_at_all) {
    const auto sd = parse_ok("v=0\no=- 1 1 IN IP4 1.1.1.1\ns=-\nt=0 0\nm=audio 10 RTP/AVP 0\n");
    EXPECT_EQ(effective_connection(sd, 0), nullptr);
}

TEST(sdp_parse, multicast_ttl_and_port_count) {
    const auto sd = parse_ok(test::read_golden("multicast_port_count.in.sdp"));
    EXPECT_EQ(sd.conn->address, "224.2.1.1");
    EXPECT_EQ(sd.medias[0].port, 49170);
    EXPECT_EQ(sd.medias[0].port_count, 2);
    EXPECT_EQ(sd.medias[0].dir, direction::recvonly);
}

TEST(sdp_parse, hold_facts) {
    const auto sd = parse_ok(test::read_golden("hold_sendonly.in.sdp"));
    EXPECT_TRUE(is_hold_address(effective_connection(sd, 0)->address));
    EXPECT_EQ(sd.medias[0].dir, direction::sendonly);
    EXPECT_EQ(sd.medias[0].rtcp_port, 17063);
    ASSERT_TRUE(sd.medias[0].rtcp_conn);
    EXPECT_EQ(sd.medias[0].rtcp_conn->address, "0.0.0.0");
    EXPECT_TRUE(is_hold_address("::"));
    EXPECT_FALSE(is_hold_address("0.0.0.1"));
}

TEST(sdp_parse, session_level_direction) {
    const auto sd = parse_ok(
        "v=0\no=- 1 1 IN IP4 1.1.1.1\ns=-\na=inactive\nt=0 0\n"
        "m=audio 10 RTP/AVP 0\n");
    EXPECT_EQ(sd.dir, direction::inactive);
    EXPECT_FALSE(sd.medias[0].dir);
}

TEST(sdp_parse, rtcp_forms) {
    const auto sd = parse_ok(test::read_golden("rtcp_address.in.sdp"));
    EXPECT_EQ(sd.medias[0].rtcp_port, 10001);
    ASSERT_TRUE(sd.medias[0].rtcp_conn);
    EXPECT_EQ(sd.medias[0].rtcp_conn->address, "10.9.8.7");
    EXPECT_EQ(sd.medias[1].rtcp_port, 10005);
    EXPECT_FALSE(sd.medias[1].rtcp_conn);

    const auto mux = parse_ok(test::read_golden("rtcp_mux.in.sdp"));
    EXPECT_TRUE(mux.medias[0].rtcp_mux);
    EXPECT_EQ(mux.medias[0].rtcp_port, 31000);
}

TEST(sdp_parse, ice_session_and_media) {
    const auto sd = parse_ok(test::read_golden("ice_removed.in.sdp"));
    EXPECT_TRUE(sd.has_ice);
    EXPECT_TRUE(sd.medias[0].has_ice);
    EXPECT_FALSE(sd.conn);
    EXPECT_EQ(sd.medias[0].conn->address, "192.0.2.50");

    const auto only_candidate = parse_ok(
        "v=0\no=- 1 1 IN IP4 1.1.1.1\nm=audio 10 RTP/AVP 0\n"
        "a=end-of-candidates\n");
    EXPECT_FALSE(only_candidate.has_ice);
    EXPECT_TRUE(only_candidate.medias[0].has_ice);
}

TEST(sdp_parse, crypto_kept_raw) {
    const auto sd = parse_ok(test::read_golden("crypto_replaced.in.sdp"));
    ASSERT_EQ(sd.medias[0].crypto.size(), 2U);
    EXPECT_EQ(sd.medias[0].crypto[0].value,
              "1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz|2^20|1:32");
    EXPECT_EQ(sd.medias[0].proto, "RTP/SAVP");
}

TEST(sdp_parse, t38_and_non_rtp_formats) {
    const auto sd = parse_ok(test::read_golden("t38_udptl.in.sdp"));
    EXPECT_EQ(sd.medias[0].type, "image");
    EXPECT_EQ(sd.medias[0].proto, "udptl");
    EXPECT_EQ(sd.medias[0].formats, (std::vector<std::string>{"t38"}));
    const auto msrp = parse_ok(test::read_golden("not_relayed_stream.in.sdp"));
    EXPECT_EQ(msrp.medias[1].formats, (std::vector<std::string>{"*"}));
}

TEST(sdp_parse, tolerated_quirks) {
    // Mixed endings, a blank last line, trailing blanks, username with a blank, port 0
    // without formats, unknown line types and attributes.
    const auto sd = parse_ok(
        "v=0\r\no=John Doe 1 1 IN IP4 1.1.1.1 \ns=-\r\nt=0 0\r\n"
        "x=whatever\r\nm=audio 10 RTP/AVP 0 \r\na=sendonly \r\n"
        "a=fmtp\r\nm=video 0 RTP/AVP\r\n\r\n");
    EXPECT_EQ(sd.origin_address, "1.1.1.1");
    ASSERT_EQ(sd.medias.size(), 2U);
    EXPECT_EQ(sd.medias[0].dir, direction::sendonly);
    EXPECT_EQ(sd.medias[1].port, 0);
    EXPECT_TRUE(sd.medias[1].formats.empty());
}

TEST(sdp_parse, every_golden_input_parses) {
    for (const std::string& name : test::golden_cases()) {
        std::string error;
        EXPECT_TRUE(parse(test::read_golden(name + ".in.sdp"), &error)) << name << ": " << error;
    }
}

struct bad_case {
    const char* text;
    const char* error;
};

TEST(sdp_parse, malformed_inputs_are_clean_errors) {
    using namespace std::string_literals;
    const std::string o = "v=0\r\no=- 1 1 IN IP4 1.1.1.1\r\n";
    const bad_case cases[] = {
        {"", "SDP: empty"},
        {"\r\n\n", "SDP: no v= line"},
        {"v=\nv=0\n", "SDP: line 1: v= must be 0"},
        {"v=1\n", "SDP: line 1: v= must be 0"},
        {"o=- 1 1 IN IP4 1.1.1.1\nv=0\n", "SDP: line 1: SDP must start with v="},
        {"v=0\r\nv=0\r\n", "SDP: line 2: second v= line"},
        {"v=0\r\ns=-\r\n", "SDP: no o= line"},
        {"v=0\r\nhello\r\n", "SDP: line 2: not a <letter>=<value> line"},
        {"v=0\r\n=x\r\n", "SDP: line 2: not a <letter>=<value> line"},
        {"v=0\r\nA=x\r\n", "SDP: line 2: not a <letter>=<value> line"},
        {"v=0\r\no=- 1 1 IN IP4\r\n", "SDP: line 2: o= needs 6 fields"},
        {"v=0\r\no=- 1 1 XX IP4 1.1.1.1\r\n", "SDP: line 2: o= must be IN IP4 or IN IP6"},
    };
    for (const bad_case& c : cases) {
        EXPECT_EQ(parse_error(c.text), c.error) << c.text;
    }
    // Space-only line: a blank inside is not a control character but is not a line either.
    EXPECT_EQ(parse_error("v=0\r\n \r\n"), "SDP: line 2: not a <letter>=<value> line");

    const bad_case media_cases[] = {
        {"m=audio 70000 RTP/AVP 0", "SDP: line 3: m= port out of range"},
        {"m=audio 99999999999999999999 RTP/AVP 0", "SDP: line 3: m= port out of range"},
        {"m=audio x RTP/AVP 0", "SDP: line 3: m= port not a number"},
        {"m=audio -1 RTP/AVP 0", "SDP: line 3: m= port not a number"},
        {"m=audio 1000/0 RTP/AVP 0", "SDP: line 3: m= port count not a number from 1 to 65535"},
        {"m=audio 1000/ RTP/AVP 0", "SDP: line 3: m= port count not a number from 1 to 65535"},
        {"m=audio 1000 RTP/AVP 4294967296", "SDP: line 3: m= payload type not a number from 0 to 127"},
        {"m=audio 1000 RTP/AVP 128", "SDP: line 3: m= payload type not a number from 0 to 127"},
        {"m=audio 1000", "SDP: line 3: m= needs <media> <port> <proto> <formats>"},
        {"c=IN IP4", "SDP: line 3: c= must be IN IP4 <address> or IN IP6 <address>"},
        {"c=IN IPX 1.2.3.4", "SDP: line 3: c= must be IN IP4 <address> or IN IP6 <address>"},
        {"c=IN IP4 /127", "SDP: line 3: c= must be IN IP4 <address> or IN IP6 <address>"},
        {"c=IN IP4 1.1.1.1\r\nc=IN IP4 2.2.2.2", "SDP: line 4: second c= line in the same section"},
        {"m=audio 1 RTP/AVP 0\r\na=rtcp:", "SDP: line 4: a=rtcp must be <port> [IN IP4|IP6 <address>]"},
        {"m=audio 1 RTP/AVP 0\r\na=rtcp:70000", "SDP: line 4: a=rtcp port not a number from 0 to 65535"},
        {"m=audio 1 RTP/AVP 0\r\na=rtcp:9 IN IP4", "SDP: line 4: a=rtcp must be <port> [IN IP4|IP6 <address>]"},
        {"m=audio 1 RTP/AVP 0\r\na=rtcp:9 XX IP4 1.1.1.1", "SDP: line 4: a=rtcp address must be IN IP4|IP6 <address>"},
        {"m=audio 1 RTP/AVP 0\r\na=rtcp:9\r\na=rtcp:11", "SDP: line 5: second a=rtcp line in the same section"},
        {"m=audio 1 RTP/AVP 0\r\na=crypto:", "SDP: line 4: a=crypto without a value"},
        {"m=audio 1 RTP/AVP 0\r\no=- 1 1 IN IP4 1.1.1.1", "SDP: line 4: o= inside a media section"},
        {"o=- 1 1 IN IP4 1.1.1.1", "SDP: line 3: second o= line"},
    };
    for (const bad_case& c : media_cases) {
        EXPECT_EQ(parse_error(o + c.text + "\r\n"), c.error) << c.text;
    }
}

TEST(sdp_parse, embedded_nul_and_lone_cr) {
    const std::string nul("v=0\r\no=- 1 1 IN IP4 1.1.1.1\r\na=fmtp\0\r\n", 38);
    EXPECT_EQ(parse_error(nul), "SDP: line 3: control character");
    EXPECT_EQ(parse_error("v=0\ro=- 1 1 IN IP4 1.1.1.1\r\n"), "SDP: line 1: control character");
}

TEST(sdp_parse, limits) {
    std::string text = "v=0\r\no=- 1 1 IN IP4 1.1.1.1\r\n";
    for (size_t i = 0; i < max_medias; ++i) {
        text += "m=audio " + std::to_string(1000 + 2 * i) + " RTP/AVP 0\r\n";
    }
    EXPECT_EQ(parse_ok(text).medias.size(), max_medias);
    EXPECT_EQ(parse_error(text + "m=audio 9 RTP/AVP 0\r\n"), "SDP: line 67: more than 64 m= lines");

    std::string big = "v=0\r\no=- 1 1 IN IP4 1.1.1.1\r\n";
    big += "a=x:" + std::string(max_text_bytes - big.size() - 6, 'y') + "\r\n";
    ASSERT_EQ(big.size(), max_text_bytes);
    EXPECT_TRUE(parse(big, nullptr));
    EXPECT_EQ(parse_error(big + "\n"), "SDP: larger than 64 KiB");
}

TEST(sdp_parse, null_error_pointer_is_allowed) { EXPECT_FALSE(parse("garbage", nullptr)); }

}  // namespace
}  // namespace rtprelay::sdp
