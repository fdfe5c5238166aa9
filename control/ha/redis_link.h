#pragma once
// Redis for a group (hiredis, synchronous, with timeouts): one connection to the current
// master, found through Sentinel (SENTINEL get-master-addr-by-name, then ROLE on the master
// to make sure it is one) or given as a plain address. A Sentinel's +switch-master message
// (a subscription on one Sentinel, read without blocking) or any failed command makes the
// link look for the master again. Authenticates with the ACL user and password when given.
//
// Threads: one link belongs to one thread. The HA agent has one; the control thread has
// another for the rare synchronous read (an NG command for a call it does not hold).
// Every call returns within a few multiples of the configured timeout.

#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "control/ha/config.h"

struct redisContext;

namespace rtprelay::ha {

struct redis_value {
    // failed: no reply (connection lost or timed out); the link is then closed.
    enum class kind : uint8_t { failed, nil, status, error, integer, string, array };
    kind type = kind::failed;
    int64_t integer = 0;
    std::string str;  // status, error or string
    std::vector<redis_value> elements;

    bool ok() const { return type != kind::failed && type != kind::error; }
    bool is_status(std::string_view s) const { return type == kind::status && str == s; }
};

using redis_command = std::vector<std::string>;

// A reply reduced to what the record writer looks at: its kind, and whether an error is
// READONLY (a demoted master).
struct reply_brief {
    redis_value::kind type = redis_value::kind::failed;
    bool readonly = false;

    bool ok() const { return type != redis_value::kind::failed && type != redis_value::kind::error; }
};

// One connection to one server.
class redis_conn {
 public:
    redis_conn() = default;
    ~redis_conn();
    redis_conn(const redis_conn&) = delete;
    redis_conn& operator=(const redis_conn&) = delete;

    // Connects with `timeout` for the connect and every later command. False with *why.
    bool open(const host_port& where, std::chrono::milliseconds timeout, std::string* why);
    void close();
    bool is_open() const { return c_ != nullptr; }
    // Sends every command, then reads every reply (one round trip). A failure closes the
    // connection and makes that reply and all after it `failed`.
    std::vector<redis_value> pipeline(const std::vector<redis_command>& cmds);
    redis_value run(const redis_command& cmd);
    // The same pipelining in two halves, for the HA agent's record writes: append() queues a
    // command given as views (hiredis formats it into its output buffer: one allocation of
    // hiredis' own, none here once argv_ has grown), read_brief() sends what is queued (at
    // the first call) and reads the next reply, keeping only its kind. A failure closes the
    // connection: that reply and all after it are `failed`.
    void append(std::span<const std::string_view> args);
    reply_brief read_brief();
    // Subscriber side: any messages already received, without waiting.
    std::vector<redis_value> poll_messages();

 private:
    redisContext* c_ = nullptr;
    // Appends one command (strings or views) through argv_/lens_; closes on failure.
    template <typename Args>
    void append_args(const Args& args);

    std::vector<const char*> argv_;  // append_args(): reused
    std::vector<size_t> lens_;
};

class redis_link {
 public:
    explicit redis_link(const group_config& cfg);

    // Connected to a server that says it is the master, (re)connecting when needed. False
    // when none can be reached now; *why says what failed last.
    bool ensure(std::string* why);
    bool connected() const { return master_.is_open(); }
    void drop() { master_.close(); }
    // The master's address (last known; empty host before the first connect).
    const host_port& master() const { return where_; }
    // Commands on the master; a `failed` reply means the link is down (ensure() again).
    std::vector<redis_value> pipeline(const std::vector<redis_command>& cmds) { return master_.pipeline(cmds); }
    redis_value run(const redis_command& cmd) { return master_.run(cmd); }
    void append(std::span<const std::string_view> args) { master_.append(args); }
    reply_brief read_brief() { return master_.read_brief(); }
    // Reads the Sentinels' +switch-master messages; true when the master moved (the link
    // then drops its connection so that the next ensure() follows).
    bool master_moved();
    // Fresh master connections made so far (1 after the first ensure that worked).
    uint64_t connects() const { return connects_; }

 private:
    bool discover(host_port* out, std::string* why);
    bool connect_master(const host_port& where, std::string* why);

    const group_config& cfg_;
    redis_conn master_;
    redis_conn sub_;  // subscribed to +switch-master on one Sentinel
    host_port where_;
    size_t next_sentinel_ = 0;  // where discovery starts (the last that answered)
    uint64_t connects_ = 0;
};

}  // namespace rtprelay::ha
