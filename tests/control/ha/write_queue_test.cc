// The HA agent's write queue (control/ha/write_queue.h): a call queued twice is written once,
// with its newest state, in the place of its first change; nothing taken is ever replaced;
// the bound holds for new calls but never refuses a call already queued.

#include "control/ha/write_queue.h"

#include <gtest/gtest.h>

#include <string>

namespace rtprelay::ha {
namespace {

write_op put(const std::string& id, int64_t state, uint64_t token = 0) {
    write_op op;
    op.what = write_op::kind::put;
    op.call_id = id;
    op.record.call_id = id;
    op.record.last_signal_unix_ms = state;
    op.token = token;
    return op;
}

write_op del(const std::string& id) {
    write_op op;
    op.what = write_op::kind::del;
    op.call_id = id;
    return op;
}

const steady::time_point t0{std::chrono::seconds(100)};

TEST(write_queue, a_call_changed_again_while_queued_is_written_once_with_its_newest_state) {
    write_queue q(16);
    EXPECT_EQ(q.push(put("a", 1, 7), t0), write_queue::result::queued);
    EXPECT_EQ(q.push(put("b", 1), t0 + std::chrono::microseconds(5)), write_queue::result::queued);
    EXPECT_EQ(q.push(put("a", 2, 8), t0 + std::chrono::microseconds(9)), write_queue::result::replaced);
    EXPECT_EQ(q.size(), 2u);
    const auto ops = q.take();
    ASSERT_EQ(ops.size(), 2u);
    EXPECT_EQ(ops[0].call_id, "a") << "the call keeps the place of its first change";
    EXPECT_EQ(ops[0].record.last_signal_unix_ms, 2) << "with its newest state";
    EXPECT_EQ(ops[0].token, 8u) << "and the newest record's acknowledgement token";
    EXPECT_EQ(ops[0].queued, t0) << "latency counts from the oldest change it carries";
    EXPECT_EQ(ops[1].call_id, "b");
    EXPECT_TRUE(q.empty());
}

TEST(write_queue, a_delete_replaces_a_queued_put_and_a_put_a_queued_delete) {
    write_queue q(16);
    q.push(put("a", 1, 3), t0);
    EXPECT_EQ(q.push(del("a"), t0), write_queue::result::replaced);
    auto ops = q.take();
    ASSERT_EQ(ops.size(), 1u);
    EXPECT_EQ(ops[0].what, write_op::kind::del);
    EXPECT_EQ(ops[0].token, 0u) << "a deleted call's record is never acknowledged";
    EXPECT_TRUE(ops[0].record.legs.empty() && ops[0].record.call_id.empty()) << "nothing of the record is kept";

    q.push(del("c"), t0);
    EXPECT_EQ(q.push(put("c", 5), t0), write_queue::result::replaced) << "a call-id used again after its delete";
    ops = q.take();
    ASSERT_EQ(ops.size(), 1u);
    EXPECT_EQ(ops[0].what, write_op::kind::put);
    EXPECT_EQ(ops[0].record.last_signal_unix_ms, 5);
}

TEST(write_queue, what_the_agent_took_is_never_replaced_a_later_change_queues_after_it) {
    write_queue q(16);
    q.push(put("a", 1), t0);
    const auto first = q.take();  // in flight to Redis
    EXPECT_EQ(q.push(put("a", 2), t0), write_queue::result::queued);
    EXPECT_EQ(q.push(put("a", 3), t0), write_queue::result::replaced);
    const auto second = q.take();
    ASSERT_EQ(first.size(), 1u);
    ASSERT_EQ(second.size(), 1u);
    EXPECT_EQ(first[0].record.last_signal_unix_ms, 1) << "the taken state is untouched";
    EXPECT_EQ(second[0].record.last_signal_unix_ms, 3) << "written after it, on the same connection";
}

TEST(write_queue, full_refuses_new_calls_but_never_a_call_already_queued) {
    write_queue q(2);
    EXPECT_EQ(q.push(put("a", 1), t0), write_queue::result::queued);
    EXPECT_EQ(q.push(put("b", 1), t0), write_queue::result::queued);
    EXPECT_EQ(q.push(put("c", 1), t0), write_queue::result::full);
    EXPECT_EQ(q.push(del("c"), t0), write_queue::result::full);
    EXPECT_EQ(q.push(put("a", 2), t0), write_queue::result::replaced);
    EXPECT_EQ(q.push(del("b"), t0), write_queue::result::replaced);
    EXPECT_EQ(q.size(), 2u);
    q.take();
    EXPECT_EQ(q.push(put("c", 1), t0), write_queue::result::queued) << "room again once taken";
}

TEST(write_queue, forgets_are_never_coalesced_and_keep_their_order) {
    write_queue q(16);
    write_op f1;
    f1.what = write_op::kind::forget;
    f1.node = "n2";
    f1.ids = {"x"};
    write_op f2 = f1;
    f2.ids = {"y"};
    EXPECT_EQ(q.push(std::move(f1), t0), write_queue::result::queued);
    EXPECT_EQ(q.push(put("x", 1), t0), write_queue::result::queued);
    EXPECT_EQ(q.push(std::move(f2), t0), write_queue::result::queued);
    const auto ops = q.take();
    ASSERT_EQ(ops.size(), 3u);
    EXPECT_EQ(ops[0].ids, std::vector<std::string>{"x"});
    EXPECT_EQ(ops[1].what, write_op::kind::put);
    EXPECT_EQ(ops[2].ids, std::vector<std::string>{"y"});
}

TEST(write_queue, many_calls_each_changed_many_times_keep_first_change_order_and_last_state) {
    write_queue q(1000);
    for (int round = 1; round <= 5; ++round) {
        for (int c = 0; c < 300; ++c) {
            const auto r = q.push(put("call-" + std::to_string(c), round), t0 + std::chrono::microseconds(round));
            EXPECT_EQ(r, round == 1 ? write_queue::result::queued : write_queue::result::replaced);
        }
    }
    const auto ops = q.take();
    ASSERT_EQ(ops.size(), 300u);
    for (int c = 0; c < 300; ++c) {
        EXPECT_EQ(ops[c].call_id, "call-" + std::to_string(c));
        EXPECT_EQ(ops[c].record.last_signal_unix_ms, 5);
        EXPECT_EQ(ops[c].queued, t0 + std::chrono::microseconds(1));
    }
}

}  // namespace
}  // namespace rtprelay::ha
