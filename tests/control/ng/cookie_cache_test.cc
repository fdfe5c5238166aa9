#include "control/ng/cookie_cache.h"

#include <gtest/gtest.h>

#include <string>

namespace rtprelay::ng {
namespace {

using namespace std::chrono_literals;
using clock_t_ = cookie_cache::clock;

const clock_t_::time_point t0{};

TEST(cookie_cache, returns_what_was_inserted) {
    cookie_cache c(10, 30s);
    EXPECT_EQ(c.lookup("a", t0), std::nullopt);
    c.insert("a", "a d6:result2:oke", t0);
    EXPECT_EQ(c.lookup("a", t0 + 1s), "a d6:result2:oke");
    EXPECT_EQ(c.lookup("b", t0 + 1s), std::nullopt);
    EXPECT_EQ(c.size(), 1u);
}

TEST(cookie_cache, bounded_by_count_evicting_oldest_first) {
    cookie_cache c(3, 30s);
    for (int i = 0; i < 5; ++i) {
        c.insert(std::to_string(i), "r" + std::to_string(i), t0 + std::chrono::seconds(i));
    }
    EXPECT_EQ(c.size(), 3u);
    EXPECT_EQ(c.lookup("0", t0 + 5s), std::nullopt);
    EXPECT_EQ(c.lookup("1", t0 + 5s), std::nullopt);
    EXPECT_EQ(c.lookup("2", t0 + 5s), "r2");
    EXPECT_EQ(c.lookup("4", t0 + 5s), "r4");
}

TEST(cookie_cache, bounded_by_age) {
    cookie_cache c(100, 30s);
    c.insert("old", "r-old", t0);
    c.insert("new", "r-new", t0 + 20s);
    EXPECT_EQ(c.lookup("old", t0 + 29s), "r-old");
    EXPECT_EQ(c.lookup("old", t0 + 30s), std::nullopt);  // lives while age < 30 s
    EXPECT_EQ(c.size(), 1u);
    EXPECT_EQ(c.lookup("new", t0 + 49s), "r-new");
    EXPECT_EQ(c.lookup("new", t0 + 50s), std::nullopt);
    EXPECT_EQ(c.size(), 0u);
}

TEST(cookie_cache, insert_expires_old_entries_too) {
    cookie_cache c(100, 10s);
    for (int i = 0; i < 50; ++i) {
        c.insert(std::to_string(i), "r", t0);
    }
    c.insert("late", "r", t0 + 11s);
    EXPECT_EQ(c.size(), 1u);
}

TEST(cookie_cache, reinsert_replaces_and_refreshes) {
    cookie_cache c(2, 30s);
    c.insert("a", "first", t0);
    c.insert("b", "b", t0 + 1s);
    c.insert("a", "second", t0 + 2s);  // now the newest
    c.insert("c", "c", t0 + 3s);       // evicts b, the oldest
    EXPECT_EQ(c.lookup("a", t0 + 3s), "second");
    EXPECT_EQ(c.lookup("b", t0 + 3s), std::nullopt);
    EXPECT_EQ(c.lookup("c", t0 + 3s), "c");
}

TEST(cookie_cache, zero_entries_disables_caching) {
    cookie_cache c(0, 30s);
    c.insert("a", "r", t0);
    EXPECT_EQ(c.lookup("a", t0), std::nullopt);
    EXPECT_EQ(c.size(), 0u);
}

TEST(cookie_cache, stays_bounded_under_churn) {
    cookie_cache c(1000, 30s);
    for (int i = 0; i < 100000; ++i) {
        c.insert("cookie-" + std::to_string(i), std::string(16, 'x'), t0 + std::chrono::milliseconds(i));
        ASSERT_LE(c.size(), 1000u);
    }
    EXPECT_EQ(c.lookup("cookie-99999", t0 + 100s), std::string(16, 'x'));
    EXPECT_EQ(c.lookup("cookie-98999", t0 + 100s), std::nullopt);
}

}  // namespace
}  // namespace rtprelay::ng
