#include "control/ng/call_stats.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "control/ng/bencode_writer.h"

namespace rtprelay::ng {

namespace {

// Every dict below is written with its keys in byte order, which is bencode's (the order of
// the writes is the order on the wire); replies_test pins the bytes.

void counts(bencode_writer& w, const packet_counts& c) {
    w.dict();
    w.key("bytes");
    w.counter(c.bytes);
    w.key("errors");
    w.counter(c.errors);
    w.key("packets");
    w.counter(c.packets);
    w.end();
}

void endpoint_dict(bencode_writer& w, const std::optional<endpoint>& ep) {
    w.dict();
    if (ep) {
        w.key("address");
        w.string(ep->addr.to_string());
        w.key("family");
        w.string(ep->addr.is_v4() ? "IPv4" : "IPv6");
        w.key("port");
        w.integer(ep->port);
    }
    w.end();
}

void stream(bencode_writer& w, const port_report& p) {
    w.dict();
    w.key("advertised endpoint");
    endpoint_dict(w, p.advertised);
    w.key("endpoint");
    endpoint_dict(w, p.peer);
    w.key("flags");
    w.list();
    w.string(p.rtcp ? "RTCP" : "RTP");
    if (p.rtcp_mux) {
        w.string("RTCP-mux");
    }
    if (p.srtp) {
        w.string("SRTP");
    }
    w.end();
    w.key("local address");
    w.string(p.local_address.to_string());
    w.key("local port");
    w.integer(p.local_port);
    w.key("stats");
    counts(w, p.counts);
    w.end();
}

void leg(bencode_writer& w, const leg_report& l) {
    w.dict();
    if (l.in_dialogue_with) {
        w.key("in dialogue with");
        w.string(*l.in_dialogue_with);
    }
    w.key("interface");
    w.string(l.interface);
    w.key("medias");
    w.list();
    for (const media_report& m : l.medias) {
        w.dict();
        w.key("index");
        w.counter(m.index);
        w.key("protocol");
        w.string(m.protocol);
        w.key("streams");
        w.list();
        for (const port_report& p : m.ports) {
            stream(w, p);
        }
        w.end();
        w.key("type");
        w.string(m.type);
        w.end();
    }
    w.end();
    w.key("tag");
    w.string(l.tag);
    w.end();
}

// "tags" is a dict keyed by tag: the legs in their tags' byte order, and of two legs with
// one tag only the later (the tree this replaces set each leg's key in turn, so the later
// replaced the earlier). One small allocation: a call has two legs, a forked one a few more.
void tags(bencode_writer& w, const std::vector<leg_report>& legs) {
    std::vector<const leg_report*> order;
    order.reserve(legs.size());
    for (const leg_report& l : legs) {
        order.push_back(&l);
    }
    std::stable_sort(order.begin(), order.end(),
                     [](const leg_report* a, const leg_report* b) { return a->tag < b->tag; });
    w.dict();
    for (size_t k = 0; k < order.size(); ++k) {
        if (k + 1 < order.size() && order[k + 1]->tag == order[k]->tag) {
            continue;  // a later leg has this tag
        }
        w.key(order[k]->tag);
        leg(w, *order[k]);
    }
    w.end();
}

// Bytes to reserve: a stream writes ~400 with IPv4 endpoints, a media ~60 besides its
// streams, a leg ~60 besides its medias, the rest ~140. A guess above the need costs
// nothing but the slack; one below, a reallocation.
size_t size_hint(const call_report& call) {
    size_t n = 160;
    for (const leg_report& l : call.legs) {
        n += 64 + l.tag.size() * 2 + l.interface.size() + (l.in_dialogue_with ? l.in_dialogue_with->size() + 20 : 0);
        for (const media_report& m : l.medias) {
            n += 64 + m.protocol.size() + m.type.size() + 448 * m.ports.size();
        }
    }
    return n;
}

std::string call_stats(const call_report& call, const value* recording) {
    std::string out;
    out.reserve(size_hint(call) + (recording != nullptr ? 512 : 0));
    bencode_writer w(&out);
    w.dict();
    w.key("created");
    w.integer(call.created_unix);
    if (recording != nullptr) {
        w.key("recording");
        w.tree(*recording);
    }
    w.key("result");
    w.string("ok");
    w.key("tags");
    tags(w, call.legs);
    w.key("totals");
    w.dict();
    w.key("RTCP");
    counts(w, call.rtcp);
    w.key("RTP");
    counts(w, call.rtp);
    w.end();
    w.end();
    return out;
}

}  // namespace

reply reply_call_stats(const call_report& call) { return reply::ok_bencoded(call_stats(call, nullptr)); }

reply reply_query(const query_report& q) {
    return reply::ok_bencoded(call_stats(q.call, q.recording ? &*q.recording : nullptr));
}

}  // namespace rtprelay::ng
