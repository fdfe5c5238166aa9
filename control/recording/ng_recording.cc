#include "control/recording/ng_recording.h"

namespace rtprelay::recording {

namespace {
const char* state_name(int s) {
    constexpr const char* names[] = {"pending", "recording", "paused", "stopped"};
    return names[s];
}
}  // namespace

std::string record_call(const ng::request& r) {
    std::string v = r.string(ng::key::record_call);
    if (v.empty() && r.has(ng::flag::record_call)) {
        v = "yes";
    }
    return v;
}

name_request names_of(const ng::request& r) {
    name_request n;
    n.file = r.string(ng::key::recording_file);
    n.dir = r.string(ng::key::recording_dir);
    if (n.dir.empty()) {
        n.dir = r.string(ng::key::recording_path);
    }
    n.pattern = r.string(ng::key::recording_pattern);
    return n;
}

bool pause_asked(const ng::request& r) {
    if (r.has(ng::flag::pause)) {
        return true;
    }
    const ng::value* v = r.find(ng::key::pause);
    if (v == nullptr) {
        return false;
    }
    if (v->is_integer()) {
        return v->as_integer() != 0;
    }
    return v->is_string() && (v->as_string() == "yes" || v->as_string() == "on");
}

ng::value query_reply(const call_recording& s, const std::string& dir, const std::string& failure) {
    ng::value r = ng::value::dict();
    std::string state = state_name(static_cast<int>(s.st));
    if (!failure.empty()) {
        state = "failed";
        r.set("error", ng::value::str(failure));
    }
    r.set("state", ng::value::str(state));
    r.set("policy", ng::value::str(mode_name(s.when)));
    r.set("channels", ng::value::str(channels_name(s.layout)));
    if (s.id != 0) {
        ng::value f = ng::value::dict();
        f.set("pcap", ng::value::str(dir + "/" + s.base + ".pcap"));
        f.set("metadata", ng::value::str(dir + "/done/" + s.base + ".json"));
        f.set("done", ng::value::str(dir + "/done/" + s.base));
        r.set("files", std::move(f));
        r.set("started by", ng::value::str(s.started_by));
        r.set("recording id", ng::value::str(s.rec_id));
        r.set("part", ng::value::integer(s.part));
    }
    ng::value prev = ng::value::list();
    for (const auto& p : s.previous) {
        prev.as_list().push_back(ng::value::str(dir + "/done/" + p));
    }
    r.set("finished", std::move(prev));
    return r;
}

ng::value statistics_reply(const recorder_counters& c, size_t calls_recording) {
    ng::value v = ng::value::dict();
    auto i = [](uint64_t x) { return ng::value::integer(static_cast<int64_t>(x)); };
    v.set("calls recording", i(calls_recording));
    v.set("started", i(c.started));
    v.set("finished", i(c.finished));
    v.set("failed", i(c.failed));
    v.set("active", i(c.active));
    v.set("packets", i(c.packets));
    v.set("bytes", i(c.bytes));
    v.set("packets lost", i(c.packets_lost));
    v.set("file wait drops", i(c.file_wait_drops));
    v.set("ring full", i(c.ring_full));
    v.set("commands run", i(c.commands_run));
    v.set("commands failed", i(c.commands_failed));
    v.set("recovered", i(c.recovered));
    return v;
}

}  // namespace rtprelay::recording
