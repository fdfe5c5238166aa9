#pragma once
// NG command dispatch: the decoded request dictionary in, the reply dictionary out, with
// the keys and reply strings of rtpengine so Kamailio's and OpenSIPS's modules work
// unchanged. protocol.def lists the commands, keys and flags; a key or flag it does not
// list, or one rtprelay knows but does not implement, is named in the reply's `warning`.
// Bad input never throws out of handle(): it becomes an error reply.

#include <array>
#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "control/ng/bencode.h"
#include "control/ng/names.h"
#include "control/ng/replies.h"
#include "control/ng/request.h"
#include "control/ng/server.h"
#include "control/session/manager.h"

namespace rtprelay::recording {
class controller;
}

namespace rtprelay::ng {

class commands {
 public:
    using clock = std::chrono::steady_clock;
    static constexpr size_t max_list = 500;    // call-ids per `list` reply
    static constexpr size_t max_proxies = 64;  // per-proxy statistics; later ones share "other"
    // A per-request delete-delay above this is cut to it: a delay holds the call's ports and
    // its admission reservation.
    static constexpr int64_t max_delete_delay_s = 3600;

    // `dataplane` supplies the data plane part of the statistics reply (optional).
    commands(session_manager& sessions, std::function<dataplane_report()> dataplane);

    // `from` (optional) is the proxy that sent it, for per-proxy statistics. The reply as
    // the server sends it: a tree, or (query, delete) bencode written without one.
    reply reply_to(const value& request, clock::time_point now, const peer_info* from = nullptr);
    // The same, as a tree (tests, tools): a bencoded reply is decoded.
    value handle(const value& request, clock::time_point now, const peer_info* from = nullptr) {
        return reply_to(request, now, from).take_value();
    }

    // Whether `command` is one dispatch runs (a protocol.def command): the NG server caches
    // replies only to these (ng_server_config::is_command), so garbage never fills the cache.
    static bool knows(std::string_view command) { return command_of(command) != command::other; }

    // Requests per command and reply result (result_names), by protocol.def's command order.
    using result_counts = std::array<std::array<uint64_t, result_names.size()>, command_count>;
    const result_counts& results() const { return results_; }

    // The NG server in front of these commands: its own counters (retransmits answered
    // from the cache, peers not allowed, undecodable datagrams) go into the statistics
    // reply as "ng server". Optional; the server is built after the commands.
    void set_server(const ng_server* server) { server_ = server; }
    // Call recording (control/recording/controller.h): record-call and the recording keys on
    // offer/answer, the recording commands, the "recording" part of query and statistics.
    // Optional: without it the recording commands answer an error.
    void set_recordings(recording::controller* r) { recordings_ = r; }

 private:
    reply dispatch(request& r, clock::time_point now);
    // One per protocol.def command; each returns what its reply_<shape>() takes.
    pong on_ping(request& r, clock::time_point now);
    std::string on_offer(request& r, clock::time_point now);
    std::string on_answer(request& r, clock::time_point now);
    call_report on_del(request& r, clock::time_point now);
    query_report on_query(request& r, clock::time_point now);
    std::vector<std::string> on_list(request& r, clock::time_point now);
    statistics_report on_statistics(request& r, clock::time_point now);
    capacity_report on_capacity(request& r, clock::time_point now);
    drain_state on_drain(request& r, clock::time_point now);
    drain_state on_undrain(request& r, clock::time_point now);
    recording_done on_start_recording(request& r, clock::time_point now);
    recording_done on_stop_recording(request& r, clock::time_point now);
    recording_done on_pause_recording(request& r, clock::time_point now);
    recording::controller& recordings();  // throws session_error when not configured

    std::string offer_answer(request& r, bool is_offer, clock::time_point now);
    // The request's delete-delay, bounded; null for none (or none usable: warned).
    static std::optional<std::chrono::seconds> delete_delay(request& r);
    proxy_report& proxy(const peer_info& from);

    session_manager& sessions_;
    std::function<dataplane_report()> dataplane_;
    const ng_server* server_ = nullptr;
    recording::controller* recordings_ = nullptr;
    result_counts results_{};
    std::vector<proxy_report> proxies_;  // at most max_proxies + 1 ("other")
    clock::time_point started_;
    // For statistics' rates: the data plane totals at the previous statistics request.
    struct rate_sample {
        clock::time_point at;
        uint64_t packets = 0;
        uint64_t bytes = 0;
        uint64_t errors = 0;
    };
    std::optional<rate_sample> last_sample_;
};

}  // namespace rtprelay::ng
