#pragma once
// Human-readable text for the NG replies rtprelay-ctl shows: one function per command,
// reply in, text out (every line ends with '\n'), so they are tested without a daemon.
// Keys the daemon adds later are still shown (integers after the known ones) rather than
// dropped; missing keys print as 0 or "-".

#include <cstddef>
#include <ctime>
#include <string>

#include "control/ng/bencode.h"

namespace rtprelay::ctl {

// `list`: one call-id per line; a note when the reply was cut at `limit`.
std::string render_list(const ng::value& reply, size_t limit);

// `query`: when the call was created (relative to `now`, unix seconds), a table with one
// row per tag, media and stream (local address:port, endpoint, packets, bytes, errors),
// then the RTP/RTCP totals.
std::string render_query(const std::string& call_id, const ng::value& reply, std::time_t now);

// `delete`: a confirmation and the call's final totals.
std::string render_delete(const std::string& call_id, const ng::value& reply);

// `statistics`: session counters, the non-zero ones of each counters-by-reason dict
// ("calls closed", "refused"), data plane counters (in dataplane/worker_counters.def's
// order), a row per worker, the drop reasons that dropped anything with what each means,
// and ports free/used per interface address.
std::string render_statistics(const ng::value& reply);

// capacity: node and interface budgets, reservations, and the sizing answers if asked.
std::string render_capacity(const ng::value& reply);

// "198.18.1.2:30000", "[2001:db8::1]:30000", or "-" for an empty endpoint dict.
std::string endpoint_text(const ng::value& endpoint);

}  // namespace rtprelay::ctl
