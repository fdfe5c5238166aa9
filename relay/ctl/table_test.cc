#include "relay/ctl/table.h"

#include <gtest/gtest.h>

namespace rtprelay::ctl {
namespace {

TEST(text_table, aligns_columns_and_right_aligns_numbers) {
    text_table t;
    t.add_column("NAME");
    t.add_column("COUNT", text_table::align::right);
    t.add_column("NOTE");
    t.add_row({"alice", "7", "x"});
    t.add_row({"b", "12345", ""});
    EXPECT_EQ(t.render(),
              "NAME   COUNT  NOTE\n"
              "alice      7  x\n"
              "b      12345\n");
}

TEST(text_table, short_rows_and_indent) {
    text_table t;
    t.add_column("A");
    t.add_column("B");
    t.add_row({"1"});
    EXPECT_EQ(t.render(2), "  A  B\n  1\n");
}

TEST(key_values, names_left_values_right) {
    EXPECT_EQ(key_values({{"sessions", "3"}, {"calls created", "120"}}, 2),
              "  sessions         3\n"
              "  calls created  120\n");
}

}  // namespace
}  // namespace rtprelay::ctl
