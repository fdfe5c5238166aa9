#pragma once
// Recording's side of the NG protocol, apart from what the controller (controller.h) does
// with it: the keys an offer, an answer or a recording command carries (record-call, the
// names, pause), and the two replies that show recording (a query's "recording"
// dictionary, the statistics' "recording" one). Control thread only.

#include <cstddef>
#include <string>

#include "control/ng/bencode.h"
#include "control/ng/request.h"
#include "control/recording/call_recording.h"
#include "control/recording/file_names.h"
#include "control/recording/recorder.h"

namespace rtprelay::recording {

// record-call's value ("yes", "no", ...) or "yes" for the flag; empty when absent.
std::string record_call(const ng::request& r);

// recording-file, recording-dir (or recording-path) and recording-pattern, as given.
name_request names_of(const ng::request& r);

// stop recording's pause: the flag, or the key as yes/on or a non-zero integer.
bool pause_asked(const ng::request& r);

// A query reply's "recording" dictionary for the call's recording `s`: its state ("failed"
// with `failure` when that is not empty), policy, files under `dir`, earlier recordings.
ng::value query_reply(const call_recording& s, const std::string& dir, const std::string& failure);

// The statistics reply's "recording" dictionary: the recorder's counters and the calls with
// an open recording.
ng::value statistics_reply(const recorder_counters& c, size_t calls_recording);

}  // namespace rtprelay::recording
