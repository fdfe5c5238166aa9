#include "control/recording/file_names.h"

#include <gtest/gtest.h>

namespace rtprelay::recording {
namespace {

std::string base(const name_request& r, std::string_view call_id = "abc@host", std::string* error = nullptr) {
    std::string e;
    const std::string out = base_path(r, call_id, "0badcafe", 1700000000, &e);  // 2023-11-14 22:13:20 UTC
    if (error != nullptr) {
        *error = e;
    }
    return out;
}

TEST(file_names, default_pattern_is_time_call_id_and_tag) { EXPECT_EQ(base({}), "20231114-221320-abc@host-0badcafe"); }

TEST(file_names, call_id_bytes_outside_the_safe_set_become_underscores) {
    EXPECT_EQ(file_safe("a/b c;d\nx"), "a_b_c_d_x");
    EXPECT_EQ(file_safe("../../etc/passwd"), "_._.._etc_passwd");
    EXPECT_EQ(file_safe(".."), "_.");
    EXPECT_EQ(file_safe(""), "_");
    EXPECT_EQ(file_safe(std::string(300, 'x')).size(), 128u);
    EXPECT_EQ(base({}, "../../x"), "20231114-221320-_._.._x-0badcafe");
}

TEST(file_names, recording_file_wins_over_dir_and_pattern) { EXPECT_EQ(base({"calls/one", "d", "%c"}), "calls/one"); }

TEST(file_names, dir_and_pattern_combine) {
    EXPECT_EQ(base({"", "trunk-7/", "%Y/%m/%d/%c-%r"}), "trunk-7/2023/11/14/abc@host-0badcafe");
    EXPECT_EQ(base({"", "", "%H%M%S%%%c"}), "221320%abc@host");
}

TEST(file_names, hostile_names_are_refused_with_a_reason) {
    std::string e;
    EXPECT_EQ(base({"../x", "", ""}, "c", &e), "");
    EXPECT_NE(e.find("'..'"), std::string::npos) << e;
    EXPECT_EQ(base({"a/../../x", "", ""}, "c", &e), "");
    EXPECT_NE(e.find("'..'"), std::string::npos) << e;
    EXPECT_EQ(base({"/etc/passwd", "", ""}, "c", &e), "");
    EXPECT_NE(e.find("absolute"), std::string::npos) << e;
    EXPECT_EQ(base({std::string("a\0b", 3), "", ""}, "c", &e), "");
    EXPECT_NE(e.find("NUL"), std::string::npos) << e;
    EXPECT_EQ(base({"", "/tmp", ""}, "c", &e), "");
    EXPECT_NE(e.find("recording-dir"), std::string::npos) << e;
    EXPECT_EQ(base({"", "..", ""}, "c", &e), "");
    EXPECT_EQ(base({"", "", "../%c"}, "c", &e), "");
    EXPECT_NE(e.find("recording-pattern"), std::string::npos) << e;
    EXPECT_EQ(base({"", "", "%c%x"}, "c", &e), "");
    EXPECT_NE(e.find("%x"), std::string::npos) << e;
    EXPECT_EQ(base({"", "", "abc%"}, "c", &e), "");
    EXPECT_EQ(base({"done/x", "", ""}, "c", &e), "");
    EXPECT_NE(e.find("done/"), std::string::npos) << e;
    EXPECT_EQ(base({"a//b", "", ""}, "c", &e), "");
    EXPECT_EQ(base({"a/./b", "", ""}, "c", &e), "");
    EXPECT_EQ(base({"a\nb", "", ""}, "c", &e), "");
    EXPECT_NE(e.find("control"), std::string::npos) << e;
    EXPECT_EQ(base({std::string(201, 'a'), "", ""}, "c", &e), "");
    EXPECT_NE(e.find("longer"), std::string::npos) << e;
}

TEST(file_names, names_that_merely_look_odd_are_fine) {
    std::string e;
    EXPECT_EQ(base({"..a/b..", "", ""}, "c", &e), "..a/b..");
    EXPECT_EQ(e, "");
    EXPECT_EQ(base({"x/done", "", ""}, "c", &e), "x/done");
    EXPECT_EQ(e, "");
}

}  // namespace
}  // namespace rtprelay::recording
