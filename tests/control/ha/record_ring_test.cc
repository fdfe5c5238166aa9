// The record ring between the control thread and the HA agent (control/ha/record_ring.h):
// records come out in order; a call's record not yet taken is rewritten in place, one taken
// never is; a rewritten slot given up is skipped; a full ring refuses; and with the two
// threads racing, the agent never sees a call go back to an older state and always ends on
// its newest one.

#include "control/ha/record_ring.h"

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

namespace rtprelay::ha {
namespace {

// Puts `state` for `call` (its last position in *pos); false when full.
bool put(record_ring& r, uint64_t* pos, const std::string& call, int64_t state, bool* replaced = nullptr) {
    bool rep = false;
    flat_record* f = r.claim(pos, &rep);
    if (f == nullptr) {
        return false;
    }
    f->what = flat_record::kind::put;
    f->call_id.set(call);
    f->last_signal_unix_ms = state;
    r.publish(*pos);
    if (replaced != nullptr) {
        *replaced = rep;
    }
    return true;
}

std::vector<std::pair<std::string, int64_t>> drain(record_ring& r) {
    std::vector<std::pair<std::string, int64_t>> out;
    r.drain([&](const flat_record& f) { out.emplace_back(std::string(f.call_id.view()), f.last_signal_unix_ms); },
            r.capacity());
    return out;
}

TEST(record_ring, a_call_changed_again_before_the_agent_took_it_is_taken_once_with_its_newest_state) {
    record_ring r(8);
    uint64_t a = 0, b = 0;
    bool replaced = true;
    ASSERT_TRUE(put(r, &a, "a", 1, &replaced));
    EXPECT_FALSE(replaced);
    ASSERT_TRUE(put(r, &b, "b", 1));
    ASSERT_TRUE(put(r, &a, "a", 2, &replaced));
    EXPECT_TRUE(replaced) << "rewritten in place";
    EXPECT_EQ(r.size(), 2u);
    const auto got = drain(r);
    ASSERT_EQ(got.size(), 2u);
    EXPECT_EQ(got[0], (std::pair<std::string, int64_t>{"a", 2})) << "in the place of its first change, newest state";
    EXPECT_EQ(got[1], (std::pair<std::string, int64_t>{"b", 1}));
    EXPECT_EQ(r.size(), 0u);
    EXPECT_EQ(r.taken_up_to(), 2u);
}

TEST(record_ring, what_the_agent_took_is_never_rewritten_a_later_change_goes_after_it) {
    record_ring r(8);
    uint64_t a = 0;
    ASSERT_TRUE(put(r, &a, "a", 1));
    const auto first = drain(r);
    bool replaced = true;
    ASSERT_TRUE(put(r, &a, "a", 2, &replaced));
    EXPECT_FALSE(replaced) << "a fresh slot";
    ASSERT_TRUE(put(r, &a, "a", 3, &replaced));
    EXPECT_TRUE(replaced);
    const auto second = drain(r);
    ASSERT_EQ(first.size(), 1u);
    ASSERT_EQ(second.size(), 1u);
    EXPECT_EQ(first[0].second, 1);
    EXPECT_EQ(second[0].second, 3);
}

TEST(record_ring, a_rewritten_slot_given_up_is_skipped_and_a_fresh_one_is_reused) {
    record_ring r(4);
    uint64_t a = 0, b = 0, c = 0;
    ASSERT_TRUE(put(r, &a, "a", 1));
    ASSERT_TRUE(put(r, &b, "b", 1));
    bool replaced = false;
    ASSERT_NE(r.claim(&a, &replaced), nullptr);
    ASSERT_TRUE(replaced);
    r.cancel(a);  // a's newer state did not fit: it goes the slow way, the old one is dropped
    uint64_t before = c;
    ASSERT_NE(r.claim(&c, &replaced), nullptr);
    ASSERT_FALSE(replaced);
    r.cancel(c);  // a fresh slot given up is not queued ...
    c = before;
    ASSERT_TRUE(put(r, &c, "c", 7));  // ... and is the next one used
    const auto got = drain(r);
    ASSERT_EQ(got.size(), 2u);
    EXPECT_EQ(got[0].first, "b");
    EXPECT_EQ(got[1], (std::pair<std::string, int64_t>{"c", 7}));
    EXPECT_EQ(r.size(), 0u);
}

TEST(record_ring, full_refuses_new_calls_but_never_a_call_still_queued) {
    record_ring r(2);
    uint64_t a = 0, b = 0, c = 0;
    ASSERT_TRUE(put(r, &a, "a", 1));
    ASSERT_TRUE(put(r, &b, "b", 1));
    EXPECT_FALSE(put(r, &c, "c", 1)) << "full";
    EXPECT_EQ(c, 0u);
    EXPECT_TRUE(put(r, &a, "a", 2)) << "a call queued already is rewritten in place";
    drain(r);
    EXPECT_TRUE(put(r, &c, "c", 1)) << "room again once taken";
}

TEST(record_ring, a_slot_being_rewritten_stops_the_drain_until_it_is_published) {
    record_ring r(4);
    uint64_t a = 0, b = 0;
    ASSERT_TRUE(put(r, &a, "a", 1));
    ASSERT_TRUE(put(r, &b, "b", 1));
    bool replaced = false;
    flat_record* f = r.claim(&a, &replaced);
    ASSERT_TRUE(f != nullptr && replaced);
    EXPECT_TRUE(drain(r).empty()) << "the agent waits for the producer, it never reads a half-written record";
    f->last_signal_unix_ms = 2;
    r.publish(a);
    const auto got = drain(r);
    ASSERT_EQ(got.size(), 2u);
    EXPECT_EQ(got[0].second, 2);
}

// The control thread and the agent at full speed: many calls, each changed over and over;
// the agent checks each call's states only ever grow and ends on the last one.
TEST(record_ring, two_threads_never_see_a_call_go_back_and_end_on_its_newest_state) {
    constexpr int calls = 64;
    constexpr int64_t changes = 20000;  // per call
    record_ring r(16);
    std::atomic<bool> done{false};
    std::vector<int64_t> seen(calls, 0);
    std::atomic<int> regressions{0};
    std::thread agent([&] {
        auto take = [&] {
            return r.drain(
                [&](const flat_record& f) {
                    const int k = std::stoi(std::string(f.call_id.view()));
                    if (f.last_signal_unix_ms <= seen[k]) {
                        regressions.fetch_add(1);
                    }
                    seen[k] = f.last_signal_unix_ms;
                },
                r.capacity());
        };
        while (!done.load(std::memory_order_acquire)) {
            if (take() == 0) {
                std::this_thread::yield();
            }
        }
        take();
    });
    std::vector<uint64_t> pos(calls, 0);
    for (int64_t s = 1; s <= changes; ++s) {
        for (int k = 0; k < calls; ++k) {
            while (!put(r, &pos[k], std::to_string(k), s)) {
                std::this_thread::yield();  // full: the agent catches up
            }
        }
    }
    done.store(true, std::memory_order_release);
    agent.join();
    EXPECT_EQ(regressions.load(), 0);
    for (int k = 0; k < calls; ++k) {
        EXPECT_EQ(seen[k], changes) << "call " << k;
    }
}

}  // namespace
}  // namespace rtprelay::ha
