#pragma once
// Checks a rewrite_plan against the parsed SDP before any line is written, so that
// rewrite() never emits half an SDP nor a value that would inject a line of its own.
// Internal to control/sdp.

#include <cstddef>
#include <string>

#include "control/sdp/sdp.h"

namespace rtprelay::sdp::detail {

// True if the section is rewritten: the plan asks for it and the stream is not disabled.
bool is_relayed(const session_description& sd, const rewrite_plan& plan, size_t index);

// Empty if the plan fits `sd`, else the reason ("SDP rewrite: stream 2: ...").
std::string check_plan(const session_description& sd, const rewrite_plan& plan);

}  // namespace rtprelay::sdp::detail
