#include "relay/ctl/json.h"

#include <gtest/gtest.h>

namespace rtprelay::ctl {
namespace {

using ng::value;

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

}  // namespace
}  // namespace rtprelay::ctl
