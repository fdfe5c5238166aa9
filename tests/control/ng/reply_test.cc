// ng::reply: a tree or a bencoded dict, written to the wire alike. What a bencoded reply
// gives the server (bytes, with a warning added last), the NG log and metrics (result and
// warning without decoding), and a JSON request (the same JSON as its tree's).

#include "control/ng/reply.h"

#include <gtest/gtest.h>

#include <string>

#include "control/ng/json.h"

namespace rtprelay::ng {
namespace {

// A small reply of the delete/query shape, as call_stats.cc would write it.
const std::string stats_bytes = "d7:createdi5e6:result2:ok4:tagsde6:totalsd3:RTPd7:packetsi1eeee";

TEST(reply, a_tree_is_encoded_as_encode_does) {
    value v = value::dict();
    v.set("result", value::str("pong"));
    const reply r(v);
    EXPECT_EQ(r.kind(), result::ok);
    EXPECT_EQ(r.result_text(), "pong");
    ASSERT_NE(r.tree(), nullptr);
    EXPECT_EQ(encode(r), encode(v));
    EXPECT_FALSE(r.warning());
}

TEST(reply, error_and_load_limit_trees_are_counted_as_such) {
    value e = value::dict();
    e.set("result", value::str("error"));
    e.set("error-reason", value::str("Unknown call-id"));
    EXPECT_EQ(reply(e).kind(), result::error);
    value l = value::dict();
    l.set("result", value::str("load limit"));
    EXPECT_EQ(reply(l).kind(), result::load_limit);
    EXPECT_EQ(reply(value::str("not a dict")).kind(), result::error);
    EXPECT_EQ(reply().kind(), result::error);
}

TEST(reply, a_bencoded_dict_goes_out_as_it_is) {
    const reply r = reply::ok_bencoded(stats_bytes);
    EXPECT_EQ(r.kind(), result::ok);
    EXPECT_EQ(r.result_text(), "ok");
    EXPECT_EQ(r.tree(), nullptr);
    EXPECT_FALSE(r.warning());
    std::string out = "cookie ";
    r.encode_to(&out);
    EXPECT_EQ(out, "cookie " + stats_bytes);
}

// "warning" sorts after every key of the delete/query reply: it goes in before the dict's
// end, and the result is what the tree with the warning set encodes to.
TEST(reply, a_warning_is_the_last_key_of_a_bencoded_dict) {
    reply r = reply::ok_bencoded(stats_bytes);
    r.set_warning("delete-delay 'x' is not a number of seconds: the configured delay applies");
    ASSERT_TRUE(r.warning());
    EXPECT_EQ(*r.warning(), "delete-delay 'x' is not a number of seconds: the configured delay applies");
    value tree = *decode(stats_bytes, nullptr);
    tree.set("warning", value::str("delete-delay 'x' is not a number of seconds: the configured delay applies"));
    EXPECT_EQ(encode(r), encode(tree));

    reply t(*decode(stats_bytes, nullptr));
    t.set_warning("w");
    EXPECT_EQ(t.warning().value_or(""), "w");
    EXPECT_EQ(t.tree()->find_string("warning").value_or(""), "w");
}

TEST(reply, json_and_the_tree_of_a_bencoded_dict_are_its_decoding) {
    reply r = reply::ok_bencoded(stats_bytes);
    r.set_warning("w");
    value tree = *decode(stats_bytes, nullptr);
    tree.set("warning", value::str("w"));
    std::string json;
    r.to_json(&json);
    EXPECT_EQ(json, to_json(tree));
    EXPECT_EQ(std::move(r).take_value(), tree);
}

}  // namespace
}  // namespace rtprelay::ng
