#include "control/recording/call_recording.h"

#include "control/recording/json_writer.h"
#include "control/recording/policy.h"
#include "control/recording/sdp_codecs.h"
#include "control/recording/time_text.h"
#include "control/session/session.h"

namespace rtprelay::recording {

namespace {
std::string endpoint_text(const std::optional<endpoint>& ep) {
    return ep ? ep->to_string() : std::string();  // IPv6 as [addr]:port
}
}  // namespace

std::string without_keys(std::string sdp) {
    size_t at = 0;
    while ((at = sdp.find("inline:", at)) != std::string::npos) {
        at += 7;
        size_t end = at;
        while (end < sdp.size() && sdp[end] != '\r' && sdp[end] != '\n' && sdp[end] != ' ') {
            ++end;
        }
        sdp.replace(at, end - at, "[removed]");
    }
    return sdp;
}

std::string part_base(const std::string& first, uint16_t part) {
    return part <= 1 ? first : first + "-part" + std::to_string(part);
}

ha::recording_record carried(const call_recording& s) {
    ha::recording_record r;
    switch (s.st) {
        case call_recording::state::pending:
            r.st = ha::recording_record::state::pending;
            break;
        case call_recording::state::recording:
            r.st = ha::recording_record::state::recording;
            break;
        case call_recording::state::paused:
            r.st = ha::recording_record::state::paused;
            break;
        case call_recording::state::stopped:
            r.st = ha::recording_record::state::stopped;
            break;
    }
    r.when = static_cast<uint8_t>(s.when);
    r.layout = static_cast<uint8_t>(s.layout);
    r.refused = s.refused;
    r.file = s.names.file;
    r.dir = s.names.dir;
    r.pattern = s.names.pattern;
    if (s.st != call_recording::state::stopped) {
        // The SDPs in effect, as many as a record carries: the latest answer (its codecs are
        // the call's), then the latest offer; oldest first on the wire. One too large for a
        // record stays out (the part it was received in lists it).
        const call_recording::sdp_record* in_effect[2] = {s.last_answer ? &*s.last_answer : nullptr,
                                                          s.last_offer ? &*s.last_offer : nullptr};
        for (const call_recording::sdp_record* d : in_effect) {
            if (d != nullptr && d->received.size() <= ha::max_record_sdp_bytes && r.sdps.size() < ha::max_record_sdps) {
                r.sdps.push_back({d->ns, d->offer, d->from_tag, d->to_tag, d->received});
            }
        }
        if (r.sdps.size() == 2 && r.sdps[1].unix_ns < r.sdps[0].unix_ns) {
            std::swap(r.sdps[0], r.sdps[1]);
        }
    }
    if (s.st == call_recording::state::recording || s.st == call_recording::state::paused) {
        r.from_first_packet = s.from_first_packet;
        r.id = s.rec_id;
        r.base = s.first_base;
        r.part = s.part;
        r.started_unix_ms = s.started_ns / 1'000'000;
    }
    return r;
}

std::string call_json(const call_recording& s, const call& c) {
    json_writer w;
    w.begin_object();
    w.key("call-id").value(c.call_id);
    w.key("created").value(time_text(c.created_unix * 1'000'000'000));
    w.key("policy").value(mode_name(s.when));
    w.key("channels").value(channels_name(s.layout));
    w.key("started by").value(s.started_by);
    w.key("recording id").value(s.rec_id);
    w.key("part").value(static_cast<uint64_t>(s.part));
    if (!s.continues_node.empty()) {
        // The gap: from the previous part's last packet (its metadata's "stop") to this
        // part's first; this node took the call over at "adopted".
        w.key("continues").begin_object();
        w.key("node").value(s.continues_node);
        w.key("part").value(static_cast<uint64_t>(s.part - 1));
        w.key("base").value(part_base(s.first_base, static_cast<uint16_t>(s.part - 1)));
        w.key("adopted").value(time_text(s.adopted_ns));
        w.end_object();
    }
    w.key("legs").begin_array();
    for (const auto& l : c.legs) {
        w.begin_object();
        w.key("leg").value(static_cast<unsigned>(l->record_channel) + 1);
        w.key("tag").value(l->tag);
        w.key("interface").value(l->iface->name);
        w.key("parked branch").value(l->parked);
        w.key("streams").begin_array();
        for (size_t i = 0; i < l->streams.size(); ++i) {
            const stream& st = l->streams[i];
            w.begin_object();
            w.key("index").value(static_cast<uint64_t>(i + 1));
            w.key("type").value(st.media_type);
            w.key("protocol").value(st.proto);
            w.key("srtp").value(st.crypto().srtp);
            if (st.allocated) {
                w.key("local").value(endpoint{st.local_addr, st.rtp_port()}.to_string());
            }
            w.key("peer").value(endpoint_text(st.peer_rtp));
            w.end_object();
        }
        w.end_array();
        w.end_object();
    }
    w.end_array();
    w.key("events").begin_array();
    for (const auto& e : s.events) {
        w.begin_object()
            .key("time")
            .value(time_text(e.ns))
            .key("event")
            .value(e.what)
            .key("by")
            .value(e.by)
            .end_object();
    }
    w.end_array();
    w.key("sdps").begin_array();
    const call_recording::sdp_record* codecs_from = nullptr;
    for (const auto& d : s.sdps) {
        w.begin_object();
        w.key("time").value(time_text(d.ns));
        w.key("type").value(d.offer ? "offer" : "answer");
        w.key("from-tag").value(d.from_tag);
        w.key("to-tag").value(d.to_tag);
        w.key("received").value(d.received);
        if (d.carried_from.empty()) {
            w.key("sent").value(d.sent);
        } else {
            // Received before this node had the call: what the call's record carried (the
            // SDP as received; the relay's rewrite is in the metadata of the part named).
            w.key("carried from").begin_object();
            w.key("node").value(d.carried_from);
            if (d.carried_part != 0) {
                w.key("part").value(static_cast<uint64_t>(d.carried_part));
                w.key("base").value(part_base(s.first_base, d.carried_part));
            }
            w.end_object();
        }
        w.end_object();
        if (!d.offer || codecs_from == nullptr || codecs_from->offer) {
            codecs_from = &d;
        }
    }
    w.end_array();
    if (s.sdps_dropped != 0) {
        w.key("sdps omitted").value(static_cast<uint64_t>(s.sdps_dropped));
    }
    // The codecs of the latest answer (else offer) as received.
    w.key("codecs").begin_array();
    if (codecs_from != nullptr) {
        size_t index = 0;
        for (const auto& m : codecs_of(codecs_from->received)) {
            w.begin_object();
            w.key("media").value(static_cast<uint64_t>(++index));
            w.key("type").value(m.type);
            w.key("protocol").value(m.proto);
            w.key("formats").begin_array();
            for (const auto& f : m.codecs) {
                w.begin_object().key("payload type").value(f.payload_type).key("name").value(f.name);
                w.key("rate").value(f.rate).end_object();
            }
            w.end_array();
            w.end_object();
        }
    }
    w.end_array();
    w.end_object();
    return w.take();
}

}  // namespace rtprelay::recording
