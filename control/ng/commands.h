#pragma once
// NG command dispatch: the decoded request dictionary in, the reply dictionary out, with
// the keys and reply strings of rtpengine so Kamailio's and OpenSIPS's modules work
// unchanged. Unknown keys are ignored; unknown flags are ignored with a `warning`.

#include <array>
#include <chrono>
#include <functional>
#include <string_view>

#include "control/ng/bencode.h"
#include "control/ng/server.h"
#include "control/session/manager.h"

namespace rtprelay::ng {

class commands {
 public:
    static constexpr size_t max_list = 500;  // call-ids per `list` reply

    // `statistics` supplies the data plane part of the statistics reply.
    commands(session_manager& sessions, std::function<value()> statistics)
        : sessions_(sessions), statistics_(std::move(statistics)) {}

    value handle(const value& request, std::chrono::steady_clock::time_point now);

    // Commands and reply results as the statistics reply names them ("ng requests"):
    // `other` is an unrecognised command or a request without one, so a peer sending
    // garbage cannot grow the table. Every command dispatch runs must be listed: one that
    // is not counts as `other`, and the NG server does not cache its replies (knows()), so
    // a proxy's retransmit would run it again.
    static constexpr std::array<const char*, 11> command_names = {
        "ping", "offer", "answer", "delete", "query", "list", "statistics", "capacity", "drain", "undrain", "other"};
    static constexpr std::array<const char*, 3> result_names = {"ok", "error", "load limit"};

    // Whether `command` is one dispatch runs (every name above but `other`): the NG server
    // caches replies only to these (ng_server_config::is_command).
    static bool knows(std::string_view command);

    // Requests per command name and how many ended in error, for metrics.
    struct counts {
        uint64_t ping = 0, offer = 0, answer = 0, del = 0, query = 0, list = 0, statistics = 0;
        uint64_t capacity = 0, drain = 0;
        uint64_t unknown = 0, errors = 0;
        // Per command (command_names) and reply result (result_names: `pong` is ok); a
        // handler that throws counts as error before the server turns it into one.
        std::array<std::array<uint64_t, result_names.size()>, command_names.size()> results{};
    };
    const counts& stats() const { return counts_; }

    // The NG server in front of these commands: its own counters (retransmits answered
    // from the cache, peers not allowed, undecodable datagrams) go into the statistics
    // reply as "ng server". Optional; the server is built after the commands.
    void set_server(const ng_server* server) { server_ = server; }

 private:
    value dispatch(const value& request, std::chrono::steady_clock::time_point now);
    value offer_answer(const value& req, bool is_offer, std::chrono::steady_clock::time_point now);
    value statistics() const;
    value capacity(const value& req) const;

    session_manager& sessions_;
    std::function<value()> statistics_;
    const ng_server* server_ = nullptr;
    counts counts_;
};

value error_reply(const std::string& reason);

}  // namespace rtprelay::ng
