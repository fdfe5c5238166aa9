#include "control/ha/flat_record.h"

#include "control/ha/record_put.h"

namespace rtprelay::ha {

namespace {

stream_record expand_stream(const flat_stream& f) {
    stream_record r;
    r.flags = f.flags;
    r.address_index = f.address_index;
    r.rtp_port = f.rtp_port;
    r.local = f.local;
    r.peer_rtp = f.peer_rtp;
    r.peer_rtcp = f.peer_rtcp;
    r.media_type = f.media_type.view();
    r.proto = f.proto.view();
    r.latched_rtp = f.latched_rtp;
    r.latched_rtcp = f.latched_rtcp;
    std::memcpy(r.latched_rtp6, f.latched_rtp6, sizeof r.latched_rtp6);
    std::memcpy(r.latched_rtcp6, f.latched_rtcp6, sizeof r.latched_rtcp6);
    if (r.has(stream_record::has_from_peer)) {
        r.from_peer = f.from_peer;
    }
    if (r.has(stream_record::has_to_peer)) {
        r.to_peer = f.to_peer;
    }
    r.offered.assign(f.offered_lines, f.offered_lines + f.offered);
    for (int k = 0; k < 4; ++k) {
        auto& to = k < 2 ? r.srtp_in[k] : r.srtp_out[k - 2];
        to.assign(f.srtp[k], f.srtp[k] + f.srtp_n[k]);
    }
    return r;
}

}  // namespace

call_record expand(const flat_record& f, std::string_view owner) {
    call_record r;
    r.call_id = f.call_id.view();
    r.owner = owner;
    r.created_unix_ms = f.created_unix_ms;
    r.last_signal_unix_ms = f.last_signal_unix_ms;
    r.answered_unix_ms = f.answered_unix_ms;
    r.delete_at_unix_ms = f.delete_at_unix_ms;
    r.admitted = f.admitted;
    r.admitted_ifs[0] = f.admitted_ifs[0].view();
    r.admitted_ifs[1] = f.admitted_ifs[1].view();
    r.legs.reserve(f.legs);
    size_t next = 0;
    for (size_t i = 0; i < f.legs; ++i) {
        const flat_leg& fl = f.leg[i];
        leg_record& l = r.legs.emplace_back();
        l.tag = fl.tag.view();
        l.iface = fl.iface.view();
        l.strict_source = fl.strict_source;
        l.parked = fl.parked;
        l.offerer = fl.offerer;
        l.created_unix_ms = fl.created_unix_ms;
        l.streams.reserve(fl.streams);
        for (size_t k = 0; k < fl.streams; ++k) {
            l.streams.push_back(expand_stream(f.stream[next++]));
        }
    }
    return r;
}

// Field for field what encode_record(expand(f, owner)) writes (record.cc), without the
// call_record: a version 1 record (a flat record holds no recording).
void encode_record(const flat_record& f, std::string_view owner, sealer& s, std::string_view group, encode_buffers& b,
                   std::string& out) {
    b.plain.clear();
    wire::writer w(b.plain);
    w.str(f.call_id.view());
    w.str(owner);
    w.i64(f.created_unix_ms);
    w.i64(f.last_signal_unix_ms);
    w.i64(f.answered_unix_ms);
    w.i64(f.delete_at_unix_ms);
    w.u8(f.admitted ? 1 : 0);
    w.str(f.admitted_ifs[0].view());
    w.str(f.admitted_ifs[1].view());
    w.u8(f.legs);
    size_t next = 0;
    for (size_t i = 0; i < f.legs; ++i) {
        const flat_leg& l = f.leg[i];
        w.str(l.tag.view());
        w.str(l.iface.view());
        w.u8(static_cast<uint8_t>((l.strict_source ? 1 : 0) | (l.parked ? 2 : 0)));
        w.u8(static_cast<uint8_t>(l.offerer));
        w.i64(l.created_unix_ms);
        w.u8(l.streams);
        for (size_t k = 0; k < l.streams; ++k) {
            wire::put_stream(w, f.stream[next++]);
        }
    }
    w.flush();  // b.plain complete before it is sealed
    wire::seal_body(1, f.call_id.view(), s, group, b, out);
}

}  // namespace rtprelay::ha
