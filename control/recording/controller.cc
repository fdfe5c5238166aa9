#include "control/recording/controller.h"

#include <rte_rcu_qsbr.h>

#include <ctime>

#include "control/log.h"
#include "control/recording/ng_recording.h"
#include "control/recording/recorder.h"
#include "control/recording/sdp_codecs.h"
#include "control/recording/time_text.h"
#include "control/recording/wav_render.h"

namespace rtprelay::recording {

namespace {
// Which WAV channel each of the call's local RTP addresses feeds (the recorder's state file
// keeps it, so that a recording left by a node that died still gets its WAV).
std::vector<wav_channel_map> channel_map(const call& c) {
    std::vector<wav_channel_map> out;
    for (const auto& l : c.legs) {
        for (const auto& st : l->streams) {
            if (!st.allocated) {
                continue;
            }
            const uint16_t port_be = htons(st.rtp_port());
            const media_endpoint e = st.local_addr.is_v4() ? media_endpoint::v4(st.local_addr.v4_be(), port_be)
                                                           : media_endpoint::v6_of(st.local_addr.bytes.data(), port_be);
            out.push_back({e, l->record_channel});
        }
    }
    return out;
}
}  // namespace

controller::controller(session_manager& sessions, publisher& pub, policy node, recorder* rec, rte_rcu_qsbr* rcu)
    : sessions_(sessions), pub_(pub), node_(node), rec_(rec), rcu_(rcu), random_(std::random_device{}()) {
    sessions_.set_observer(this);
}

controller::~controller() { sessions_.set_observer(nullptr); }

void controller::check(const ng::request& req) const {
    const name_request n = names_of(req);
    if (n.file.empty() && n.dir.empty() && n.pattern.empty()) {
        return;
    }
    std::string error;
    base_path(n, "call", "00000000", 0, &error);
    if (!error.empty()) {
        throw session_error(error);
    }
}

void controller::take_names(call_recording& s, const ng::request& req) const {
    name_request n = names_of(req);
    if (!n.file.empty() || !n.dir.empty() || !n.pattern.empty()) {
        s.names = std::move(n);
    }
}

call_recording* controller::state_of(std::string_view call_id) {
    auto it = calls_.find(std::string(call_id));
    return it == calls_.end() ? nullptr : &it->second;
}

std::string controller::after_offer_answer(bool offer, const ng::request& req, const std::string& sdp_in,
                                           const std::string& sdp_out) {
    const std::string call_id = req.string(ng::key::call_id);
    call* c = sessions_.find(call_id);
    if (c == nullptr) {
        return {};
    }
    const std::string rc = record_call(req);
    const bool yes = rc == "yes" || rc == "on";
    const bool no = rc == "no" || rc == "off";
    call_recording* s = state_of(call_id);
    ha::recording_record before;
    if (s == nullptr) {
        const leg* x = c->legs.empty() ? nullptr : c->legs.front().get();
        const leg* y = x != nullptr ? c->partner_of(x) : nullptr;
        const policy none;
        const call_policy p =
            resolve(node_, x != nullptr ? x->iface->recording : none, y != nullptr ? y->iface->recording : none);
        if (p.when == mode::off && !yes) {
            return {};  // not recorded: no state at all
        }
        s = &calls_[call_id];
        s->when = p.when;
        s->layout = p.layout;
    } else {
        before = carried(*s);
    }
    take_names(*s, req);
    sdp_record d{unix_now_ns(),
                 offer,
                 req.string(ng::key::from_tag),
                 req.string(ng::key::to_tag),
                 without_keys(sdp_in),
                 without_keys(sdp_out),
                 {},
                 0};
    (offer ? s->last_offer : s->last_answer) = sdp_record{d.ns, offer, d.from_tag, d.to_tag, d.received, {}, {}, 0};
    if (s->sdps.size() < max_sdps) {
        s->sdps.push_back(std::move(d));
    } else {
        ++s->sdps_dropped;
    }
    std::string warning;
    const bool idle = s->st == state::pending || s->st == state::stopped;
    if (yes) {
        s->refused = false;
        if (idle) {
            // In an offer it includes the early media; paused stays paused (rtpengine's rule).
            warning = start(*s, *c, offer, "record-call");
        }
    } else if (no) {
        s->refused = true;
        stop(*s, *c, "record-call");
    } else if (s->st == state::pending && !s->refused) {
        if (s->when == mode::from_ringing) {
            warning = start(*s, *c, true, "policy");
        } else if (s->when == mode::from_answer && !offer) {
            warning = start(*s, *c, false, "policy");
        }
    }
    // Legs this request created (a forked branch's answer) take the recording's stamp.
    sync(*s, *c);
    changed(*s, *c, before);
    return warning;
}

std::string controller::start(call_recording& s, call& c, bool from_first_packet, const char* by) {
    if (rec_ == nullptr) {
        return "Call recording is not configured (no recording-dir)";
    }
    char tag[17];
    std::snprintf(tag, sizeof tag, "%016llx", static_cast<unsigned long long>(random_()));
    std::string error;
    std::string base = base_path(s.names, c.call_id, std::string_view(tag, 8), std::time(nullptr), &error);
    if (!error.empty()) {
        return error;
    }
    std::string e = open_part(s, c, base, tag, from_first_packet, by);
    if (e.empty()) {
        s.first_base = std::move(base);
        s.part = 1;
        s.continues_node.clear();
        s.adopted_ns = 0;
    }
    return e;
}

std::string controller::open_part(call_recording& s, call& c, std::string base, const std::string& rec_id,
                                  bool from_first_packet, const std::string& by) {
    const uint16_t id = ids_.take();  // this node's own: the workers' mapping is local
    if (id == 0) {
        return "Too many recordings open (65535)";
    }
    s.id = id;
    s.base = std::move(base);
    s.rec_id = rec_id;
    s.st = state::recording;
    s.started_by = by;
    s.from_first_packet = from_first_packet;
    s.events.clear();
    const int64_t now = unix_now_ns();
    s.started_ns = now;
    s.events.push_back({now, "start", by});
    open_request o;
    o.id = s.id;
    o.base = s.base;
    o.layout = s.layout;
    o.from_first_packet = from_first_packet;
    o.start_ns = now;
    o.rec_id = rec_id;
    for (auto it = s.sdps.rbegin(); it != s.sdps.rend() && !o.wav; ++it) {
        o.wav = has_g711(codecs_of(it->received));
    }
    rec_->open(std::move(o));
    sync(s, c);
    log::event(log::level::info, "recording started")
        .field("call-id", c.call_id)
        .field("recording", s.base)
        .field("by", by);
    return {};
}

void controller::stop(call_recording& s, call& c, const std::string& by) {
    if (s.st != state::recording && s.st != state::paused) {
        return;
    }
    s.st = state::stopped;
    sync(s, c);  // no entry carries the id any more ...
    close_request r;
    r.id = s.id;
    r.rcu_token = rcu_ != nullptr ? rte_rcu_qsbr_start(rcu_) : 0;  // ... once every worker passed this
    r.stop_ns = unix_now_ns();
    r.reason = by;
    s.events.push_back({r.stop_ns, "stop", by});
    r.call_json = call_json(s, c);
    rec_->close(std::move(r));
    s.previous.push_back(s.base);
    ids_.give_back(s.id);
    s.id = 0;
}

void controller::sync(call_recording& s, call& c) {
    for (auto& l : c.legs) {
        // Every leg, either family (a forked branch's too): the record path carries IPv4 and
        // IPv6 packets alike.
        const uint16_t id = s.st == state::recording ? s.id : 0;
        const uint8_t channel = l.get() == c.legs.front().get() ? 0 : 1;
        if (l->record_id != id || l->record_channel != channel) {
            l->record_id = id;
            l->record_channel = channel;
            pub_.restamp(*l);
        }
    }
}

void controller::command(ng::command command, const ng::request& req) {
    const std::string call_id = req.string(ng::key::call_id);
    call* c = sessions_.find(call_id);
    if (c == nullptr) {
        throw session_error("Unknown call-id");
    }
    check(req);
    call_recording* s = state_of(call_id);
    const ha::recording_record before = s != nullptr ? carried(*s) : ha::recording_record{};
    const bool pause =
        command == ng::command::pause_recording || (command == ng::command::stop_recording && pause_asked(req));
    if (command == ng::command::start_recording) {
        if (rec_ == nullptr) {
            throw session_error("Call recording is not configured (no recording-dir)");
        }
        if (s == nullptr) {
            s = &calls_[call_id];
            const leg* x = c->legs.empty() ? nullptr : c->legs.front().get();
            const leg* y = x != nullptr ? c->partner_of(x) : nullptr;
            const policy none;
            s->layout =
                resolve(node_, x != nullptr ? x->iface->recording : none, y != nullptr ? y->iface->recording : none)
                    .layout;
        }
        take_names(*s, req);
        s->refused = false;
        if (s->st == state::paused) {
            s->st = state::recording;
            s->events.push_back({unix_now_ns(), "resume", "start recording"});
            sync(*s, *c);
        } else if (s->st != state::recording) {
            if (std::string e = start(*s, *c, false, "start recording"); !e.empty()) {
                throw session_error(e);
            }
        }
    } else if (s != nullptr && pause) {
        if (s->st == state::recording) {
            s->st = state::paused;
            s->events.push_back({unix_now_ns(), "pause", std::string(ng::command_name(command))});
            sync(*s, *c);
        }
    } else if (s != nullptr) {
        stop(*s, *c, "stop recording");
        s->refused = true;
    }
    if (s != nullptr) {
        changed(*s, *c, before);
    }
}

void controller::changed(call_recording& s, call& c, const ha::recording_record& before) {
    if (rec_ != nullptr && s.id != 0) {
        rec_->update({s.id, call_json(s, c), channel_map(c)});
    }
    if (carried(s) != before) {
        sessions_.call_updated(c);
    }
}

ha::recording_record controller::recording_of(const call& c) const {
    auto it = calls_.find(c.call_id);
    return it == calls_.end() ? ha::recording_record{} : carried(it->second);
}

void controller::adopted(call& c, const ha::recording_record& r, const std::string& node) {
    using carried_state = ha::recording_record::state;
    if (r.st == carried_state::off || calls_.count(c.call_id) != 0) {
        return;
    }
    call_recording& s = calls_[c.call_id];
    s.when = static_cast<mode>(r.when);
    s.layout = static_cast<channels>(r.layout);
    s.refused = r.refused;
    s.names = {r.file, r.dir, r.pattern};
    std::string error;
    if (!s.names.file.empty() || !s.names.dir.empty() || !s.names.pattern.empty()) {
        base_path(s.names, c.call_id, "00000000", 0, &error);
        if (!error.empty()) {
            // A record is input like NG: names this node would refuse are not used.
            log::event(log::level::error, "recording names refused").field("call-id", c.call_id).field("error", error);
            s.names = {};
        }
    }
    for (const auto& d : r.sdps) {
        sdp_record x{d.unix_ns, d.offer, d.from_tag, d.to_tag, d.sdp, {}, node, r.part};
        (d.offer ? s.last_offer : s.last_answer) = x;
        s.sdps.push_back(std::move(x));
    }
    s.st = r.st == carried_state::pending ? state::pending : state::stopped;
    if (r.st != carried_state::recording && r.st != carried_state::paused) {
        return;
    }
    if (rec_ == nullptr) {
        log::event(log::level::error, "recording not continued: no recording-dir on this node")
            .field("call-id", c.call_id)
            .field("recording", r.id);
        return;
    }
    const uint16_t part = r.part < 65535 ? static_cast<uint16_t>(r.part + 1) : r.part;
    std::string base = part_base(r.base, part);
    if (!check_relative(r.base, "recording base").empty() || !check_relative(base, "recording base").empty()) {
        // Not a name this node would have made: a fresh one, still the same recording.
        char tag[17];
        std::snprintf(tag, sizeof tag, "%016llx", static_cast<unsigned long long>(random_()));
        base = base_path(s.names, c.call_id, std::string_view(tag, 8), std::time(nullptr), &error);
    }
    if (base.empty() || !open_part(s, c, base, r.id, false, "adopted from " + node).empty()) {
        log::event(log::level::error, "recording not continued").field("call-id", c.call_id).field("recording", r.id);
        return;
    }
    s.first_base = r.base;
    s.part = part;
    s.continues_node = node;
    s.adopted_ns = s.started_ns;
    if (r.st == carried_state::paused) {
        s.st = state::paused;
        s.events.push_back({s.started_ns, "pause", "paused on " + node});
        sync(s, c);
    }
    changed(s, c, carried(s));  // the group writes the record next
    log::event(log::level::info, "recording continues")
        .field("call-id", c.call_id)
        .field("recording", s.base)
        .field("id", s.rec_id)
        .field("part", static_cast<uint64_t>(s.part))
        .field("from", node);
}

std::optional<ng::value> controller::describe(std::string_view call_id) const {
    auto it = calls_.find(std::string(call_id));
    if (it == calls_.end() || rec_ == nullptr) {
        return std::nullopt;
    }
    const call_recording& s = it->second;
    return query_reply(s, rec_->config().dir, s.id != 0 ? rec_->failure(s.id) : std::string());
}

void controller::call_closing(call& c, close_reason why) {
    auto it = calls_.find(c.call_id);
    if (it == calls_.end()) {
        return;
    }
    stop(it->second, c, close_reason_name(why));
    calls_.erase(it);
}

void controller::call_moved(call& c) {
    auto it = calls_.find(c.call_id);
    if (it == calls_.end()) {
        return;
    }
    stop(it->second, c, "moved");
    calls_.erase(it);
}

void controller::close_all(const char* reason) {
    for (auto& [id, s] : calls_) {
        if (call* c = sessions_.find(id); c != nullptr) {
            stop(s, *c, reason);
        }
    }
}

size_t controller::open_recordings() const {
    size_t n = 0;
    for (const auto& [id, s] : calls_) {
        n += s.st == state::recording || s.st == state::paused ? 1 : 0;
    }
    return n;
}

ng::value controller::statistics() const {
    if (rec_ == nullptr) {
        return ng::value::dict();
    }
    return statistics_reply(rec_->counters(), open_recordings());
}

}  // namespace rtprelay::recording
