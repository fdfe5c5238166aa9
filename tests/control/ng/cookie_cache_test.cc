#include "control/ng/cookie_cache.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <string_view>

namespace rtprelay::ng {
namespace {

using namespace std::chrono_literals;
using clock_t_ = cookie_cache::clock;

const clock_t_::time_point t0{};

// The tests that are about bounds and ages use one sender and one body: lookup() answers
// with the reply when there is an entry for the cookie.
const cookie_cache::body_digest body_0 = [] {
    cookie_cache::body_digest d{};
    EXPECT_TRUE(cookie_cache::digest("d7:command4:pinge", &d));
    return d;
}();

void insert(cookie_cache& c, std::string_view cookie, std::string reply, clock_t_::time_point now) {
    c.insert("peer", cookie, body_0, std::move(reply), now);
}

std::optional<std::string_view> lookup(cookie_cache& c, std::string_view cookie, clock_t_::time_point now) {
    const auto h = c.lookup("peer", cookie, body_0, now);
    if (!h) {
        return std::nullopt;
    }
    EXPECT_TRUE(h->same_body);
    return h->reply;
}

TEST(cookie_cache, returns_what_was_inserted) {
    cookie_cache c(10, 30s);
    EXPECT_EQ(lookup(c, "a", t0), std::nullopt);
    insert(c, "a", "a d6:result2:oke", t0);
    EXPECT_EQ(lookup(c, "a", t0 + 1s), "a d6:result2:oke");
    EXPECT_EQ(lookup(c, "b", t0 + 1s), std::nullopt);
    EXPECT_EQ(c.size(), 1u);
}

TEST(cookie_cache, bounded_by_count_evicting_oldest_first) {
    cookie_cache c(3, 30s);
    for (int i = 0; i < 5; ++i) {
        insert(c, std::to_string(i), "r" + std::to_string(i), t0 + std::chrono::seconds(i));
    }
    EXPECT_EQ(c.size(), 3u);
    EXPECT_EQ(lookup(c, "0", t0 + 5s), std::nullopt);
    EXPECT_EQ(lookup(c, "1", t0 + 5s), std::nullopt);
    EXPECT_EQ(lookup(c, "2", t0 + 5s), "r2");
    EXPECT_EQ(lookup(c, "4", t0 + 5s), "r4");
}

TEST(cookie_cache, bounded_by_age) {
    cookie_cache c(100, 30s);
    insert(c, "old", "r-old", t0);
    insert(c, "new", "r-new", t0 + 20s);
    EXPECT_EQ(lookup(c, "old", t0 + 29s), "r-old");
    EXPECT_EQ(lookup(c, "old", t0 + 30s), std::nullopt);  // lives while age < 30 s
    EXPECT_EQ(c.size(), 1u);
    EXPECT_EQ(lookup(c, "new", t0 + 49s), "r-new");
    EXPECT_EQ(lookup(c, "new", t0 + 50s), std::nullopt);
    EXPECT_EQ(c.size(), 0u);
}

TEST(cookie_cache, insert_expires_old_entries_too) {
    cookie_cache c(100, 10s);
    for (int i = 0; i < 50; ++i) {
        insert(c, std::to_string(i), "r", t0);
    }
    insert(c, "late", "r", t0 + 11s);
    EXPECT_EQ(c.size(), 1u);
}

TEST(cookie_cache, reinsert_replaces_and_refreshes) {
    cookie_cache c(2, 30s);
    insert(c, "a", "first", t0);
    insert(c, "b", "b", t0 + 1s);
    insert(c, "a", "second", t0 + 2s);  // now the newest
    insert(c, "c", "c", t0 + 3s);       // evicts b, the oldest
    EXPECT_EQ(lookup(c, "a", t0 + 3s), "second");
    EXPECT_EQ(lookup(c, "b", t0 + 3s), std::nullopt);
    EXPECT_EQ(lookup(c, "c", t0 + 3s), "c");
}

TEST(cookie_cache, zero_entries_disables_caching) {
    cookie_cache c(0, 30s);
    insert(c, "a", "r", t0);
    EXPECT_EQ(lookup(c, "a", t0), std::nullopt);
    EXPECT_EQ(c.size(), 0u);
}

TEST(cookie_cache, stays_bounded_under_churn) {
    cookie_cache c(1000, 30s);
    for (int i = 0; i < 100000; ++i) {
        insert(c, "cookie-" + std::to_string(i), std::string(16, 'x'), t0 + std::chrono::milliseconds(i));
        ASSERT_LE(c.size(), 1000u);
    }
    EXPECT_EQ(lookup(c, "cookie-99999", t0 + 100s), std::string(16, 'x'));
    EXPECT_EQ(lookup(c, "cookie-98999", t0 + 100s), std::nullopt);
}

TEST(cookie_cache, keyed_by_sender_and_cookie) {
    cookie_cache c(10, 30s);
    c.insert("proxy-1", "5_1", body_0, "5_1 from proxy-1", t0);
    c.insert("proxy-2", "5_1", body_0, "5_1 from proxy-2", t0);
    EXPECT_EQ(c.size(), 2u);
    EXPECT_EQ(c.lookup("proxy-1", "5_1", body_0, t0)->reply, "5_1 from proxy-1");
    EXPECT_EQ(c.lookup("proxy-2", "5_1", body_0, t0)->reply, "5_1 from proxy-2");
    EXPECT_FALSE(c.lookup("proxy-3", "5_1", body_0, t0));
    // Source and cookie cannot run into each other: ("ab", "c") is not ("a", "bc").
    c.insert("ab", "c", body_0, "ab/c", t0);
    EXPECT_FALSE(c.lookup("a", "bc", body_0, t0));
}

TEST(cookie_cache, tells_a_retransmit_from_a_reused_cookie) {
    cookie_cache c(10, 30s);
    cookie_cache::body_digest offer{};
    cookie_cache::body_digest other{};
    ASSERT_TRUE(cookie_cache::digest("d7:command5:offer7:call-id1:ae", &offer));
    ASSERT_TRUE(cookie_cache::digest("d7:command5:offer7:call-id1:be", &other));
    EXPECT_NE(offer, other);
    c.insert("peer", "7", offer, "7 reply-a", t0);
    const auto same = c.lookup("peer", "7", offer, t0 + 1s);
    ASSERT_TRUE(same);
    EXPECT_TRUE(same->same_body);
    EXPECT_EQ(same->reply, "7 reply-a");
    const auto reused = c.lookup("peer", "7", other, t0 + 1s);
    ASSERT_TRUE(reused);
    EXPECT_FALSE(reused->same_body);
    // The new request's reply replaces the old one under the pair.
    c.insert("peer", "7", other, "7 reply-b", t0 + 2s);
    EXPECT_EQ(c.size(), 1u);
    EXPECT_TRUE(c.lookup("peer", "7", other, t0 + 2s)->same_body);
    EXPECT_FALSE(c.lookup("peer", "7", offer, t0 + 2s)->same_body);
}

TEST(cookie_cache, digest_is_sha256) {
    cookie_cache::body_digest d{};
    ASSERT_TRUE(cookie_cache::digest("abc", &d));
    // FIPS 180-2, appendix B.1.
    const cookie_cache::body_digest abc = {0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40,
                                           0xde, 0x5d, 0xae, 0x22, 0x23, 0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17,
                                           0x7a, 0x9c, 0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad};
    EXPECT_EQ(d, abc);
}

}  // namespace
}  // namespace rtprelay::ng
