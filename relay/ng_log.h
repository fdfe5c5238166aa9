#pragma once
// One log line per NG request that changes a call, with its call-id and tags; errors and
// refusals as warnings, rate limited because anyone allowed to send NG can cause them.
// Read-only commands (ping, query, list, statistics) log at debug level only.
//
//   level=info msg=offer call-id=a84b4c76e6 from-tag=1928301774 result=ok
//   level=warning msg="NG request failed" command=offer call-id=a84b result=load_limit error-reason="..." peer=10.0.0.5:5060

#include <chrono>
#include <string_view>

#include "control/log_limiter.h"
#include "control/ng/bencode.h"
#include "control/ng/reply.h"
#include "control/ng/server.h"

namespace rtprelay {

class ng_log {
 public:
    using clock = std::chrono::steady_clock;

    // After the handler returned `reply` for `request`.
    void done(const ng::value& request, const ng::reply& reply, const ng::peer_info& from, clock::time_point now);
    // The handler threw `what` (the NG server turns it into an error reply).
    void failed(const ng::value& request, std::string_view what, const ng::peer_info& from, clock::time_point now);

 private:
    void failure(const ng::value& request, std::string_view result, std::string_view reason, const ng::peer_info& from,
                 clock::time_point now);

    // 20 lines at once, then 5/s: a storm of refusals shows as a few lines and a count.
    log::rate_limiter errors_{"NG request failures", 5.0, 20.0};
};

}  // namespace rtprelay
