#include "control/recording/json_writer.h"

#include <gtest/gtest.h>

namespace rtprelay::recording {
namespace {

TEST(json_writer, nests_objects_and_arrays) {
    json_writer w(0);
    w.begin_object().key("a").value(1).key("b").begin_array().value("x").value(true).null().end_array();
    w.key("c").begin_object().end_object().key("d").raw("[1,2]").end_object();
    EXPECT_EQ(w.str(), R"({"a":1,"b":["x",true,null],"c":{},"d":[1,2]})");
}

TEST(json_writer, indents) {
    json_writer w(2);
    w.begin_object().key("a").begin_array().value(1).end_array().end_object();
    EXPECT_EQ(w.str(), "{\n  \"a\": [\n    1\n  ]\n}");
}

TEST(json_writer, strings_from_the_network_stay_valid_json) {
    EXPECT_EQ(json_writer::quote("a\"b\\c\r\n\t"), R"("a\"b\\c\r\n\t")");
    EXPECT_EQ(json_writer::quote(std::string("\x01\x7f", 2)), R"("\u0001\u007f")");
    EXPECT_EQ(json_writer::quote("caf\xc3\xa9"), "\"caf\xc3\xa9\"");           // valid UTF-8 passes
    EXPECT_EQ(json_writer::quote("\xff\xc3"), R"("\u00ff\u00c3")");            // invalid bytes do not
    EXPECT_EQ(json_writer::quote("\xe0\x80\x80"), R"("\u00e0\u0080\u0080")");  // overlong
    EXPECT_EQ(json_writer::quote(std::string("\0", 1)), R"("\u0000")");
}

TEST(json_writer, numbers) {
    json_writer w(0);
    w.begin_array().value(int64_t{-5}).value(uint64_t{18446744073709551615u}).value(0.5).value(1.0 / 0.0).end_array();
    EXPECT_EQ(w.str(), "[-5,18446744073709551615,0.500000,null]");
}

}  // namespace
}  // namespace rtprelay::recording
