#include "control/log.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <limits>
#include <string>

#include "control/log_limiter.h"

namespace rtprelay::log {
namespace {

using namespace std::chrono_literals;
using clock = std::chrono::steady_clock;

std::string captured(void (*emit)()) {
    testing::internal::CaptureStderr();
    emit();
    return testing::internal::GetCapturedStderr();
}

TEST(log_line, is_logfmt_with_level_and_msg) {
    const std::string out = captured([] {
        event(level::info, "call closed")
            .field("call-id", "abc@host")
            .field("reason", "media_timeout")
            .field("legs", 2);
    });
    EXPECT_EQ(out, "level=info msg=\"call closed\" call-id=abc@host reason=media_timeout legs=2\n");
}

// Numbers are written as printf's %.3f and %d would (they used to be).
TEST(log_line, numbers_are_printf_text) {
    testing::internal::CaptureStderr();  // the events write their lines when they end
    for (double d : {0.0, 63.2, 0.0005, 0.0015, 2.5e-4, 1234567.8915, -3.14159, 1e30}) {
        char want[64];
        std::snprintf(want, sizeof want, "%.3f", d);
        event e(level::error, "m");
        e.field("d", d);
        EXPECT_EQ(e.text(), std::string("level=error msg=m d=") + std::string(want).substr(0, 31)) << d;
    }
    {
        event e(level::error, "m");
        e.field("u", std::numeric_limits<uint64_t>::max())
            .field("i", std::numeric_limits<int64_t>::min())
            .field("n", -7);
        EXPECT_EQ(e.text(), "level=error msg=m u=18446744073709551615 i=-9223372036854775808 n=-7");
    }
    testing::internal::GetCapturedStderr();
}

TEST(log_line, printf_style_messages_become_msg) {
    const std::string out = captured([] { RLOG_WARN("port %u down", 3u); });
    EXPECT_EQ(out, "level=warning msg=\"port 3 down\"\n");
}

TEST(log_line, untrusted_values_cannot_forge_keys_or_lines) {
    const std::string out =
        captured([] { event(level::info, "offer").field("call-id", "x\" level=error msg=\"owned\nlevel=error"); });
    EXPECT_EQ(out, "level=info msg=offer call-id=\"x\\\" level=error msg=\\\"owned\\x0alevel=error\"\n");
    EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 1);
}

TEST(log_line, long_values_are_cut_and_empty_ones_quoted) {
    const std::string out =
        captured([] { event(level::info, "m").field("call-id", std::string(1000, 'a')).field("to-tag", ""); });
    EXPECT_NE(out.find("call-id=\"" + std::string(max_value_bytes, 'a') + "...\""), std::string::npos) << out;
    EXPECT_NE(out.find("to-tag=\"\"\n"), std::string::npos) << out;
}

TEST(log_line, filtered_levels_write_nothing) {
    threshold() = level::warning;
    const std::string out = captured([] {
        event(level::info, "hidden").field("call-id", "x");
        RLOG_DEBUG("hidden too");
        RLOG_ERROR("shown");
    });
    threshold() = level::info;
    EXPECT_EQ(out, "level=error msg=shown\n");
}

TEST(rate_limiter, allows_a_burst_then_the_rate) {
    rate_limiter lim("test", 2.0, 3.0);  // 2 lines/s, bursts of 3
    const clock::time_point t0{};
    testing::internal::CaptureStderr();
    int allowed = 0;
    for (int i = 0; i < 10; ++i) {
        allowed += lim.allow(t0) ? 1 : 0;
    }
    EXPECT_EQ(allowed, 3);
    EXPECT_EQ(lim.pending(), 7u);
    EXPECT_FALSE(lim.allow(t0 + 400ms));  // 0.8 token
    EXPECT_EQ(lim.pending(), 8u);
    EXPECT_TRUE(lim.allow(t0 + 500ms));  // 1 token: allowed, after the suppressed line
    EXPECT_EQ(lim.pending(), 0u);
    EXPECT_EQ(lim.suppressed_total(), 8u);
    const std::string out = testing::internal::GetCapturedStderr();
    EXPECT_EQ(out, "level=warning msg=\"messages suppressed\" what=test count=8\n");
}

TEST(rate_limiter, refills_up_to_the_burst_only) {
    rate_limiter lim("test", 10.0, 2.0);
    const clock::time_point t0{};
    EXPECT_TRUE(lim.allow(t0));
    EXPECT_TRUE(lim.allow(t0));
    EXPECT_FALSE(lim.allow(t0));
    testing::internal::CaptureStderr();
    // An hour of quiet refills two tokens, not 36,000.
    const clock::time_point later = t0 + 1h;
    EXPECT_TRUE(lim.allow(later));
    EXPECT_TRUE(lim.allow(later));
    EXPECT_FALSE(lim.allow(later));
    EXPECT_EQ(testing::internal::GetCapturedStderr(), "level=warning msg=\"messages suppressed\" what=test count=1\n");
}

TEST(rate_limiter, a_clock_going_backwards_grants_nothing) {
    rate_limiter lim("test", 1.0, 1.0);
    const clock::time_point t0 = clock::time_point{} + 10s;
    EXPECT_TRUE(lim.allow(t0));
    EXPECT_FALSE(lim.allow(t0 - 5s));
    EXPECT_FALSE(lim.allow(t0 + 500ms));
    testing::internal::CaptureStderr();
    EXPECT_TRUE(lim.allow(t0 + 1s));
    EXPECT_NE(testing::internal::GetCapturedStderr().find("count=2"), std::string::npos);
}

TEST(rate_limiter, steady_flood_is_held_to_the_rate) {
    rate_limiter lim("flood", 5.0, 5.0);
    const clock::time_point t0{};
    testing::internal::CaptureStderr();
    int allowed = 0;
    // 1000 messages/s for 10 s: 5 at once, then 5 per second.
    for (int i = 0; i < 10000; ++i) {
        allowed += lim.allow(t0 + std::chrono::milliseconds(i)) ? 1 : 0;
    }
    const std::string out = testing::internal::GetCapturedStderr();
    EXPECT_GE(allowed, 54);
    EXPECT_LE(allowed, 56);
    EXPECT_EQ(lim.suppressed_total(), 10000u - static_cast<uint64_t>(allowed));
    EXPECT_GT(std::count(out.begin(), out.end(), '\n'), 40);  // one summary before each allowed line
}

}  // namespace
}  // namespace rtprelay::log
