// json_string: any bytes to a valid JSON string literal (rtprelay-ctl --json, the load
// generator's and the pipeline benchmark's reports).

#include "control/json_string.h"

#include <gtest/gtest.h>

namespace rtprelay {
namespace {

TEST(json_string, escapes_quotes_backslashes_and_controls) {
    EXPECT_EQ(json_string("a\"b\\c"), R"("a\"b\\c")");
    EXPECT_EQ(json_string("v=0\r\nm=audio\t1\n"), R"("v=0\r\nm=audio\t1\n")");
    EXPECT_EQ(json_string(std::string("\x01\x1f\x7f", 3)), R"("\u0001\u001f\u007f")");
    EXPECT_EQ(json_string(std::string("a\0b", 3)), R"("a\u0000b")");
}

TEST(json_string, keeps_valid_utf8_and_escapes_invalid_bytes) {
    EXPECT_EQ(json_string("caf\xc3\xa9 \xe2\x80\x94 \xf0\x9f\x93\x9e"),
              "\"caf\xc3\xa9 \xe2\x80\x94 \xf0\x9f\x93\x9e\"");
    EXPECT_EQ(json_string("\xff\xfe"), R"("\u00ff\u00fe")");
    EXPECT_EQ(json_string("\xc3"), R"("\u00c3")");                                // truncated sequence
    EXPECT_EQ(json_string("\xc0\xaf"), R"("\u00c0\u00af")");                      // overlong '/'
    EXPECT_EQ(json_string("\xed\xa0\x80"), R"("\u00ed\u00a0\u0080")");            // UTF-16 surrogate
    EXPECT_EQ(json_string("\xf4\x90\x80\x80"), R"("\u00f4\u0090\u0080\u0080")");  // > U+10FFFF
}

}  // namespace
}  // namespace rtprelay
