#include "dataplane/srtp/index_window.h"

#include <gtest/gtest.h>

#include <random>
#include <set>

namespace rtprelay::dp::srtp {
namespace {

using verdict = index_window::verdict;

TEST(index_window, empty_takes_anything) {
    index_window w;
    EXPECT_TRUE(w.empty());
    EXPECT_EQ(w.check(0), verdict::fresh);
    EXPECT_EQ(w.check(uint64_t{1} << 47), verdict::fresh);
}

TEST(index_window, edges_of_the_window) {
    index_window w;
    w.add(1000);
    EXPECT_EQ(w.top(), 1000u);
    EXPECT_EQ(w.check(1000), verdict::seen);
    EXPECT_EQ(w.check(1001), verdict::fresh);
    EXPECT_EQ(w.check(1000 - 127), verdict::fresh);
    EXPECT_EQ(w.check(1000 - 128), verdict::too_old);
    w.add(1000 - 127);
    EXPECT_EQ(w.check(1000 - 127), verdict::seen);
    w.add(1001);  // the oldest slides out
    EXPECT_EQ(w.check(1000 - 127), verdict::too_old);
    EXPECT_EQ(w.check(1000), verdict::seen);
    EXPECT_EQ(w.check(999), verdict::fresh);
}

// Every shift distance, against a reference set.
TEST(index_window, matches_a_set) {
    std::mt19937_64 rng(7);
    for (int run = 0; run < 200; ++run) {
        index_window w;
        std::set<uint64_t> seen;
        uint64_t top = rng() % 1000;
        for (int i = 0; i < 400; ++i) {
            // Mostly forward by 0..200, sometimes back.
            const uint64_t step = rng() % 201;
            const uint64_t candidate = (rng() % 4 == 0 && top >= step) ? top - step : top + step % 131;
            const bool fresh_expected = seen.empty() || (candidate > *seen.rbegin()) ||
                                        (*seen.rbegin() - candidate < 128 && seen.count(candidate) == 0);
            const verdict v = w.check(candidate);
            ASSERT_EQ(v == verdict::fresh, fresh_expected) << "candidate " << candidate;
            if (v == verdict::fresh) {
                w.add(candidate);
                seen.insert(candidate);
                top = *seen.rbegin();
                ASSERT_EQ(w.top(), top);
            }
        }
    }
}

}  // namespace
}  // namespace rtprelay::dp::srtp
