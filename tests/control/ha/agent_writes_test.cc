// The HA agent's writes against a real Redis (a redis-server of the test's own on loopback,
// private port and directory, no persistence): a call changed several times before the
// agent takes it is written once with its newest state; a call changed over and over while
// a reader polls Redis is never seen going back to an older state, whether its records go
// through the record ring, the write queue or both in turn; one turn's mix of puts and
// deletes ends as one command per operation would leave it; every record Redis holds opens
// under the group key with the call's own name.

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "control/ha/agent.h"
#include "control/ha/keys.h"
#include "control/ha/record.h"
#include "control/ha/redis_link.h"

namespace rtprelay::ha {
namespace {

using namespace std::chrono_literals;

class agent_writes : public ::testing::Test {
 protected:
    void SetUp() override {
        port_ = 17000 + static_cast<int>(getpid() % 2000);
        dir_ = std::filesystem::temp_directory_path() / ("rtprelay-agent-writes-" + std::to_string(getpid()));
        std::filesystem::create_directories(dir_);
        pid_ = fork();
        if (pid_ == 0) {
            const std::string p = std::to_string(port_);
            execlp("redis-server", "redis-server", "--port", p.c_str(), "--bind", "127.0.0.1", "--save", "",
                   "--appendonly", "no", "--dir", dir_.c_str(), "--daemonize", "no", "--logfile",
                   (dir_ / "redis.log").c_str(), static_cast<char*>(nullptr));
            _exit(127);
        }
        ASSERT_GT(pid_, 0);
        cfg_.group = "agent-writes";
        cfg_.node = "n1";
        cfg_.redis = {"127.0.0.1", static_cast<uint16_t>(port_)};
        cfg_.key = *group_key::from_hex(std::string(64, 'c'));
        cfg_.queue = 1000;
        const auto deadline = std::chrono::steady_clock::now() + 5s;
        std::string why;
        while (!reader_.ensure(&why) && std::chrono::steady_clock::now() < deadline) {
            std::this_thread::sleep_for(20ms);
        }
        ASSERT_TRUE(reader_.connected()) << "redis-server did not start on port " << port_ << ": " << why;
    }
    void TearDown() override {
        reader_.drop();
        if (pid_ > 0) {
            kill(pid_, SIGTERM);
            waitpid(pid_, nullptr, 0);
        }
        std::error_code ec;
        std::filesystem::remove_all(dir_, ec);
    }

    static write_op put(const std::string& id, int64_t state) {
        write_op op;
        op.what = write_op::kind::put;
        op.call_id = id;
        op.record.call_id = id;
        op.record.owner = "n1";
        op.record.last_signal_unix_ms = state;
        return op;
    }
    // The state Redis holds for `id`: -1 none, -2 a record that does not open.
    int64_t state_of(const std::string& id) {
        const redis_value v = reader_.run({"GET", keys::call(cfg_.group, id)});
        if (v.type != redis_value::kind::string) {
            return -1;
        }
        decode_error why = decode_error::none;
        const auto r = decode_record(v.str, cfg_.key, cfg_.group, id, &why);
        return r ? r->last_signal_unix_ms : -2;
    }
    // Reads "hot"'s state from Redis until `done` is set and `a` has written everything:
    // a record that does not open, or a state older than one read before, is a failure (and
    // ends the watch, so the caller still joins its writer thread). Returns how many
    // distinct states it saw.
    int watch_hot(agent& a, const std::atomic<bool>& done) {
        int64_t seen = -1;
        int distinct = 0;
        while (!done.load() || a.pending_writes() != 0) {
            const int64_t now = state_of("hot");
            if (now == -2) {
                ADD_FAILURE() << "a record that does not open";
                break;
            }
            if (now < seen) {
                ADD_FAILURE() << "Redis went back from state " << seen << " to " << now;
                break;
            }
            distinct += now != seen ? 1 : 0;
            seen = now;
        }
        return distinct;
    }
    // A put through the record ring (agent::put_flat), as group.cc makes it.
    static bool put_flat(agent& a, uint64_t& where, const std::string& id, int64_t state) {
        return a.put_flat(where, [&](flat_record& f) {
            f.what = flat_record::kind::put;
            f.token = 0;
            f.legs = 0;
            f.last_signal_unix_ms = state;
            return f.call_id.set(id);
        });
    }
    static void wait_written(const agent& a) {
        const auto deadline = std::chrono::steady_clock::now() + 10s;
        while (a.pending_writes() != 0 && std::chrono::steady_clock::now() < deadline) {
            std::this_thread::sleep_for(2ms);
        }
    }

    int port_ = 0;
    std::filesystem::path dir_;
    pid_t pid_ = -1;
    group_config cfg_;
    redis_link reader_{cfg_};
};

TEST_F(agent_writes, changes_queued_before_the_agent_takes_them_cost_one_write_per_call) {
    agent a(cfg_, {});
    // Queued before the thread runs: nothing can be taken in between.
    for (int state = 1; state <= 4; ++state) {
        for (int c = 0; c < 10; ++c) {
            ASSERT_TRUE(a.submit(put("call-" + std::to_string(c), state)));
        }
    }
    EXPECT_EQ(a.pending_writes(), 10u);
    EXPECT_EQ(a.stats().coalesced.load(), 30u);
    a.start();
    wait_written(a);
    EXPECT_EQ(a.pending_writes(), 0u);
    EXPECT_EQ(a.stats().writes.load(), 10u) << "one write per call";
    EXPECT_EQ(a.stats().write_failures.load(), 0u);
    for (int c = 0; c < 10; ++c) {
        EXPECT_EQ(state_of("call-" + std::to_string(c)), 4) << "call-" << c << " holds its newest state";
    }
    const redis_value members = reader_.run({"SCARD", keys::calls(cfg_.group, "n1")});
    EXPECT_EQ(members.integer, 10) << "every call in the node's set";

    ASSERT_TRUE(a.submit([] {
        write_op d;
        d.what = write_op::kind::del;
        d.call_id = "call-3";
        return d;
    }()));
    wait_written(a);
    EXPECT_EQ(state_of("call-3"), -1) << "deleted";
    EXPECT_EQ(reader_.run({"SISMEMBER", keys::calls(cfg_.group, "n1"), "call-3"}).integer, 0);
    EXPECT_EQ(reader_.run({"SCARD", keys::calls(cfg_.group, "n1")}).integer, 9);
    a.stop(false);
}

TEST_F(agent_writes, a_reader_never_sees_a_call_go_back_to_an_older_state) {
    agent a(cfg_, {});
    a.start();
    constexpr int states = 400;
    std::atomic<bool> done{false};
    std::thread writer([&] {
        for (int s = 1; s <= states; ++s) {
            // The bound is far above what a few calls can fill: a refusal would be a bug here.
            EXPECT_TRUE(a.submit(put("hot", s)));
            EXPECT_TRUE(a.submit(put("other-" + std::to_string(s % 7), s)));
            // Pauses of 2-8 ms, ~125 ms in all: the changes span several of the agent's
            // windows while writes keep coming (16 ms: agent.cc, busy_gather), so that the
            // reader sees the call pass through several states, not only the last.
            if (s % 16 == 0) {
                std::this_thread::sleep_for(std::chrono::microseconds(2000 + (s * 37) % 6000));
            }
        }
        done.store(true);
    });
    const int distinct = watch_hot(a, done);
    writer.join();
    EXPECT_EQ(state_of("hot"), states) << "the last state is what Redis keeps";
    EXPECT_GT(distinct, 2) << "the reader saw the call move";
    EXPECT_EQ(a.stats().write_failures.load(), 0u);
    EXPECT_EQ(a.stats().writes.load() + a.stats().coalesced.load(), 2u * states) << "every change written or merged";
    a.stop(false);
}

// While writes keep coming the agent looks for them every 16 ms (agent.cc, busy_gather),
// longer than a small ring lasts: past half full the control thread must end that wait, so
// that no record takes the slow way for want of a slot. A 64-slot ring here, one record
// every ~0.1-0.2 ms: full in ~6-13 ms if nobody came, i.e. before a 16-ms wait ends.
TEST_F(agent_writes, a_ring_half_full_ends_the_agents_wait_before_it_overflows) {
    cfg_.queue = 64;  // the ring's slots too
    agent a(cfg_, {});
    a.start();
    constexpr int calls = 300;
    std::vector<uint64_t> where(calls, 0);
    for (int c = 0; c < calls; ++c) {
        ASSERT_TRUE(put_flat(a, where[c], "call-" + std::to_string(c), 1))
            << "record " << c << " found the ring full: the agent was not woken at half";
        std::this_thread::sleep_for(100us);
    }
    wait_written(a);
    EXPECT_GE(a.stats().gathers_cut.load(), 1u) << "a wait ended at half full";
    EXPECT_EQ(a.stats().writes.load(), static_cast<uint64_t>(calls));
    EXPECT_EQ(reader_.run({"SCARD", keys::calls(cfg_.group, "n1")}).integer, calls);
    a.stop(false);
}

TEST_F(agent_writes, ring_changes_queued_before_the_agent_takes_them_cost_one_write_per_call) {
    agent a(cfg_, {});
    std::vector<uint64_t> where(10, 0);
    for (int state = 1; state <= 4; ++state) {
        for (int c = 0; c < 10; ++c) {
            ASSERT_TRUE(put_flat(a, where[c], "call-" + std::to_string(c), state));
        }
    }
    EXPECT_EQ(a.pending_writes(), 10u);
    EXPECT_EQ(a.stats().coalesced.load(), 30u);
    // A record past a slot takes the slow way and drops the call's queued slot.
    ASSERT_FALSE(put_flat(a, where[9], std::string(200, 'x'), 5));
    ASSERT_TRUE(a.put_slow(where[9], put("call-9", 5)));
    EXPECT_TRUE(a.still_queued(where[9]));
    a.start();
    wait_written(a);
    EXPECT_EQ(a.pending_writes(), 0u) << "the dropped slot is accounted for";
    EXPECT_EQ(a.stats().writes.load(), 10u) << "one write per call";
    for (int c = 0; c < 9; ++c) {
        EXPECT_EQ(state_of("call-" + std::to_string(c)), 4) << "call-" << c << " holds its newest state";
        EXPECT_FALSE(a.still_queued(where[c]));
    }
    EXPECT_EQ(state_of("call-9"), 5) << "the slow way's newer state, not the dropped slot's";
    EXPECT_EQ(reader_.run({"SCARD", keys::calls(cfg_.group, "n1")}).integer, 10);
    a.stop(false);
}

// One turn's puts and deletes, mixed, from the ring and the queue: consecutive puts go as
// one MSET and consecutive deletes as one DEL, in the order taken, so what Redis ends with is
// what one command per operation would leave (a call put twice in one MSET keeps the later
// state; a put then a delete of a call leaves it gone, from the node's set too).
TEST_F(agent_writes, one_turn_writes_runs_of_puts_and_deletes_in_the_order_taken) {
    agent a(cfg_, {});
    std::vector<uint64_t> where(6, 0);
    for (int c = 0; c < 6; ++c) {
        ASSERT_TRUE(put_flat(a, where[c], "call-" + std::to_string(c), 1));
    }
    uint64_t dup = 0;
    ASSERT_TRUE(put_flat(a, dup, "dup", 1));
    // As when the control thread found the ring's record already taken: the newer state
    // goes through the queue, behind it (the ring is taken first).
    ASSERT_TRUE(a.submit(put("dup", 2)));
    const auto del = [](const std::string& id) {
        write_op d;
        d.what = write_op::kind::del;
        d.call_id = id;
        return d;
    };
    ASSERT_TRUE(a.submit(del("call-1")));
    ASSERT_TRUE(a.submit(put("call-6", 3)));
    ASSERT_TRUE(a.submit(del("call-2")));
    ASSERT_TRUE(a.submit(put("call-7", 4)));
    a.start();
    wait_written(a);
    EXPECT_EQ(a.pending_writes(), 0u);
    EXPECT_EQ(a.stats().write_turns.load(), 1u) << "everything queued before the start goes in one turn";
    EXPECT_EQ(a.stats().writes.load(), 12u);
    EXPECT_EQ(a.stats().write_failures.load(), 0u);
    for (int c : {0, 3, 4, 5}) {
        EXPECT_EQ(state_of("call-" + std::to_string(c)), 1) << "call-" << c;
    }
    EXPECT_EQ(state_of("call-1"), -1) << "put, then deleted";
    EXPECT_EQ(state_of("call-2"), -1) << "put, then deleted";
    EXPECT_EQ(state_of("call-6"), 3);
    EXPECT_EQ(state_of("call-7"), 4);
    EXPECT_EQ(state_of("dup"), 2) << "the later of its two states in one MSET";
    const std::string set = keys::calls(cfg_.group, "n1");
    EXPECT_EQ(reader_.run({"SCARD", set}).integer, 7);
    EXPECT_EQ(reader_.run({"SISMEMBER", set, "call-1"}).integer, 0);
    EXPECT_EQ(reader_.run({"SISMEMBER", set, "call-2"}).integer, 0);
    // Runs: MSET (call-0..5, dup, dup), DEL call-1, MSET call-6, DEL call-2, MSET call-7.
    const std::string stats = reader_.run({"INFO", "commandstats"}).str;
    EXPECT_NE(stats.find("cmdstat_mset:calls=3,"), std::string::npos) << stats;
    EXPECT_NE(stats.find("cmdstat_del:calls=2,"), std::string::npos) << stats;
    a.stop(false);
}

// The two ways in turn for one call (a call whose record sometimes does not fit a slot),
// while the agent takes and writes: Redis never goes back to an older state.
TEST_F(agent_writes, ring_and_write_queue_in_turn_never_take_a_call_back_to_an_older_state) {
    agent a(cfg_, {});
    a.start();
    constexpr int states = 600;
    std::atomic<bool> done{false};
    std::atomic<uint64_t> slow{0};
    std::thread writer([&] {
        uint64_t hot = 0;
        std::vector<uint64_t> other(7, 0);
        for (int s = 1; s <= states; ++s) {
            // Runs of each way, of varying length, so both ways meet a record of the other queued.
            const bool flat_way = (s / (3 + s % 5)) % 2 == 0;
            if (!flat_way || !put_flat(a, hot, "hot", s)) {
                EXPECT_TRUE(a.put_slow(hot, put("hot", s)));
                slow.fetch_add(1);
            }
            EXPECT_TRUE(put_flat(a, other[s % 7], "other-" + std::to_string(s % 7), s));
            // Pauses of 2-8 ms, ~125 ms in all: the changes span several of the agent's
            // windows while writes keep coming (16 ms: agent.cc, busy_gather), so that the
            // reader sees the call pass through several states, not only the last.
            if (s % 16 == 0) {
                std::this_thread::sleep_for(std::chrono::microseconds(2000 + (s * 37) % 6000));
            }
        }
        done.store(true);
    });
    const int distinct = watch_hot(a, done);
    writer.join();
    EXPECT_EQ(state_of("hot"), states) << "the last state is what Redis keeps";
    EXPECT_GT(distinct, 2);
    EXPECT_GT(slow.load(), 0u);
    EXPECT_LT(slow.load(), static_cast<uint64_t>(states)) << "both ways were used";
    EXPECT_EQ(a.stats().write_failures.load(), 0u);
    a.stop(false);
}

}  // namespace
}  // namespace rtprelay::ha
