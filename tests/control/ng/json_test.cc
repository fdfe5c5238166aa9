// NG values as JSON: to_json (rtprelay-ctl --json, JSON replies) and from_json (JSON
// requests, as rtpengine-ng-client --json sends them). String escaping itself:
// tests/control/json_string_test.cc.

#include "control/ng/json.h"

#include <gtest/gtest.h>

namespace rtprelay::ng {
namespace {

TEST(to_json, one_line_and_indented) {
    value v = value::dict();
    v.set("result", value::str("ok"));
    v.set("calls", value::list({value::str("c1"), value::str("c\"2")}));
    v.set("n", value::integer(-42));
    v.set("empty", value::dict());
    v.set("none", value::list());
    EXPECT_EQ(to_json(v, 0), R"({"calls":["c1","c\"2"],"empty":{},"n":-42,"none":[],"result":"ok"})");
    EXPECT_EQ(to_json(v, 2),
              "{\n"
              "  \"calls\": [\n"
              "    \"c1\",\n"
              "    \"c\\\"2\"\n"
              "  ],\n"
              "  \"empty\": {},\n"
              "  \"n\": -42,\n"
              "  \"none\": [],\n"
              "  \"result\": \"ok\"\n"
              "}");
}

TEST(to_json, escapes_keys_too) {
    value v = value::dict();
    v.set("a\nb", value::integer(1));
    EXPECT_EQ(to_json(v, 0), R"({"a\nb":1})");
}

// --- Decoding: NG requests in JSON (rtpengine-ng-client --json) ---------------------------

value decoded(std::string_view text) {
    std::string error;
    auto v = from_json(text, &error);
    EXPECT_TRUE(v.has_value()) << text << ": " << error;
    return v.value_or(value());
}

std::string refused(std::string_view text) {
    std::string error;
    EXPECT_FALSE(from_json(text, &error).has_value()) << text;
    return error;
}

TEST(from_json, an_offer_as_rtpengine_ng_client_sends_it) {
    const value v = decoded(R"( {"command":"offer","call-id":"c1","sdp":"v=0\r\nm=audio 4000 RTP/AVP 0\r\n",)"
                            R"("flags":["strict source","trust address"],"delete-delay":5,"TOS":-1} )");
    ASSERT_TRUE(v.is_dict());
    EXPECT_EQ(v.find_string("command"), "offer");
    EXPECT_EQ(v.find_string("sdp"), "v=0\r\nm=audio 4000 RTP/AVP 0\r\n");
    ASSERT_EQ(v.find("flags")->as_list().size(), 2u);
    EXPECT_EQ(v.find("flags")->as_list()[0].as_string(), "strict source");
    EXPECT_EQ(v.find("delete-delay")->as_integer(), 5);
    EXPECT_EQ(v.find("TOS")->as_integer(), -1);
}

TEST(from_json, escapes_utf8_literals_and_nulls) {
    EXPECT_EQ(decoded(R"("a\"b\\c\/d\b\f\n\r\t")").as_string(), "a\"b\\c/d\b\f\n\r\t");
    EXPECT_EQ(decoded(R"("caf\u00e9 \u2014 \ud83d\udcde")").as_string(), "caf\xc3\xa9 \xe2\x80\x94 \xf0\x9f\x93\x9e");
    EXPECT_EQ(decoded("\"caf\xc3\xa9\"").as_string(), "caf\xc3\xa9");
    EXPECT_EQ(decoded(R"("\u0000")").as_string(), std::string(1, '\0'));
    EXPECT_EQ(decoded("true").as_integer(), 1);
    EXPECT_EQ(decoded("false").as_integer(), 0);
    const value v = decoded(R"({"a":null,"b":[1,null,2],"c":{}})");
    EXPECT_EQ(v.find("a"), nullptr) << "a null member is left out";
    ASSERT_EQ(v.find("b")->as_list().size(), 2u);
    EXPECT_EQ(v.find("b")->as_list()[1].as_integer(), 2);
    EXPECT_TRUE(v.find("c")->is_dict());
    EXPECT_EQ(decoded("-9223372036854775808").as_integer(), INT64_MIN);
    EXPECT_EQ(decoded(" [ ] ").as_list().size(), 0u);
}

TEST(from_json, keys_in_any_order_come_out_sorted) {
    const value v = decoded(R"({"z":1,"a":2,"m":3})");
    std::string order;
    for (const auto& [k, item] : v.as_dict()) {
        order += k;
    }
    EXPECT_EQ(order, "amz");
}

TEST(from_json, refuses_what_is_not_one_json_value_of_ng_types) {
    EXPECT_EQ(refused(""), "JSON: truncated input at offset 0");
    EXPECT_EQ(refused("null"), "JSON: null is not a request at offset 0");
    EXPECT_EQ(refused("1.5"), "JSON: number with a fraction or exponent (only integers are NG values) at offset 0");
    EXPECT_NE(refused("1e3").find("fraction or exponent"), std::string::npos);
    EXPECT_NE(refused("012").find("leading zero"), std::string::npos);
    EXPECT_NE(refused("9223372036854775808").find("outside int64"), std::string::npos);
    EXPECT_NE(refused("-").find("bad number"), std::string::npos);
    EXPECT_NE(refused("\"\xff\"").find("invalid UTF-8"), std::string::npos);
    EXPECT_NE(refused("\"\xc0\xaf\"").find("invalid UTF-8"), std::string::npos);
    EXPECT_NE(refused(R"("\ud800")").find("high surrogate"), std::string::npos);
    EXPECT_NE(refused(R"("\udc00")").find("lone low surrogate"), std::string::npos);
    EXPECT_NE(refused(R"("\x")").find("bad escape"), std::string::npos);
    EXPECT_NE(refused(R"("\u12g4")").find("bad \\u escape"), std::string::npos);
    EXPECT_NE(refused("\"a\nb\"").find("control character"), std::string::npos);
    EXPECT_NE(refused("\"abc").find("unterminated string"), std::string::npos);
    EXPECT_NE(refused("{} x").find("trailing bytes"), std::string::npos);
    EXPECT_NE(refused(R"({"a":1,"a":2})").find("duplicate object key"), std::string::npos);
    EXPECT_NE(refused(R"({"a":null,"a":2})").find("duplicate object key"), std::string::npos);
    EXPECT_NE(refused(R"({"a" 1})").find("expected ':'"), std::string::npos);
    EXPECT_NE(refused(R"({1:2})").find("object key is not a string"), std::string::npos);
    EXPECT_NE(refused("[1 2]").find("expected ',' or ']'"), std::string::npos);
    EXPECT_NE(refused("[1,").find("truncated input"), std::string::npos);
    EXPECT_NE(refused("tru").find("unexpected byte"), std::string::npos);
    EXPECT_NE(refused(std::string(33, '[') + std::string(33, ']')).find("nesting deeper than 32"), std::string::npos);
    std::string many = "[";
    for (int i = 0; i < 5000; ++i) {
        many += i == 0 ? "0" : ",0";
    }
    EXPECT_NE(refused(many + "]").find("more than 4096 values"), std::string::npos);
}

TEST(from_json, what_to_json_writes_reads_back_equal) {
    value v = value::dict();
    v.set("result", value::str("ok"));
    v.set("sdp", value::str("v=0\r\no=- 1 2 IN IP4 198.18.0.1\r\ns=caf\xc3\xa9\r\n"));
    v.set("list", value::list({value::integer(INT64_MAX), value::str("\"q\""), value::dict()}));
    v.set("nested", value::dict());
    v.as_dict().at("nested").set("k", value::str(std::string("\x01\x7f", 2)));
    EXPECT_EQ(decoded(to_json(v)), v);
    EXPECT_EQ(decoded(to_json(v, 2)), v);
}

}  // namespace
}  // namespace rtprelay::ng
