// split_words and is_digits: the one word splitter and digit test of SDP lines, a=crypto
// values and --eal.

#include "control/words.h"

#include <gtest/gtest.h>

namespace rtprelay {
namespace {

using words = std::vector<std::string_view>;

TEST(split_words, runs_of_spaces_and_tabs_separate_words) {
    EXPECT_EQ(split_words("IN IP4 198.18.0.1"), (words{"IN", "IP4", "198.18.0.1"}));
    EXPECT_EQ(split_words("  1 \t AES_CM_128_HMAC_SHA1_80\tinline:abc  "),
              (words{"1", "AES_CM_128_HMAC_SHA1_80", "inline:abc"}));
    EXPECT_EQ(split_words("-l 0-1 --no-pci"), (words{"-l", "0-1", "--no-pci"}));
}

TEST(split_words, nothing_but_blanks_is_no_word) {
    EXPECT_TRUE(split_words("").empty());
    EXPECT_TRUE(split_words(" \t  ").empty());
}

TEST(split_words, views_point_into_the_input) {
    const std::string_view line = "a b";
    const words w = split_words(line);
    ASSERT_EQ(w.size(), 2u);
    EXPECT_EQ(w[1].data(), line.data() + 2);
}

TEST(is_digits, only_a_non_empty_run_of_decimal_digits) {
    EXPECT_TRUE(is_digits("0"));
    EXPECT_TRUE(is_digits("2147483648"));
    EXPECT_FALSE(is_digits(""));
    EXPECT_FALSE(is_digits("-1"));
    EXPECT_FALSE(is_digits("+1"));
    EXPECT_FALSE(is_digits("1 "));
    EXPECT_FALSE(is_digits("0x1f"));
}

}  // namespace
}  // namespace rtprelay
