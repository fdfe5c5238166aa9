#pragma once
// What a group (group.h) asks of call recording (control/recording/controller.h), so that a
// recording moves with its call: the recording's state for the call's record, and, when
// this node adopts a call from a record, the recording to carry on. Kept abstract so that
// control/ha does not depend on the recorder. Control thread only; must not throw.

#include <string>

#include "control/ha/record.h"

namespace rtprelay {
struct call;
}

namespace rtprelay::ha {

class recording_hook {
 public:
    virtual ~recording_hook() = default;
    // The call's recording as its record carries it (state off: never recorded).
    virtual recording_record recording_of(const call& c) const = 0;
    // The call was adopted here from a record `node` wrote, carrying `r`: a recording that
    // was open there goes on here as its next part. Before the adopted call's record is
    // written again, so that the record names the part this node writes.
    virtual void adopted(call& c, const recording_record& r, const std::string& node) = 0;
};

}  // namespace rtprelay::ha
