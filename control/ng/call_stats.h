#pragma once
// The reply to query and delete: rtpengine's query reply (created, totals, tags -> medias ->
// streams with their endpoints, flags and stats), written straight to bencode from the call
// report. It is the largest reply every call gets (~1.5 KB for a plain two-leg call); as a
// value tree it cost ~70 allocations (two per dict and list, one per key or string over 15
// bytes) and ~57% of a delete's control-thread time to build, encode and free. Written here
// it is one string, reserved from the report's size.

#include <optional>

#include "control/ng/bencode.h"
#include "control/ng/reply.h"
#include "control/session/report.h"

namespace rtprelay::ng {

// delete: the call's stats as it ends.
reply reply_call_stats(const call_report& call);

// query: the call's stats as above, and its "recording" when it has or had one.
struct query_report {
    call_report call;
    std::optional<value> recording;  // control/recording/controller.h's describe()
};
reply reply_query(const query_report& q);

}  // namespace rtprelay::ng
