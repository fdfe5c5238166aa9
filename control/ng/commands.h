#pragma once
// NG command dispatch: the decoded request dictionary in, the reply dictionary out, with
// the keys and reply strings of rtpengine so Kamailio's and OpenSIPS's modules work
// unchanged. Unknown keys are ignored; unknown flags are ignored with a `warning`.

#include <chrono>
#include <functional>

#include "control/ng/bencode.h"
#include "control/session/manager.h"

namespace rtprelay::ng {

class commands {
 public:
    static constexpr size_t max_list = 500;  // call-ids per `list` reply

    // `statistics` supplies the data plane part of the statistics reply.
    commands(session_manager& sessions, std::function<value()> statistics)
        : sessions_(sessions), statistics_(std::move(statistics)) {}

    value handle(const value& request, std::chrono::steady_clock::time_point now);

    // Requests per command name and how many ended in error, for metrics.
    struct counts {
        uint64_t ping = 0, offer = 0, answer = 0, del = 0, query = 0, list = 0, statistics = 0;
        uint64_t capacity = 0, drain = 0;
        uint64_t unknown = 0, errors = 0;
    };
    const counts& stats() const { return counts_; }

 private:
    value offer_answer(const value& req, bool is_offer, std::chrono::steady_clock::time_point now);
    value statistics() const;
    value capacity(const value& req) const;

    session_manager& sessions_;
    std::function<value()> statistics_;
    counts counts_;
};

value error_reply(const std::string& reason);

}  // namespace rtprelay::ng
