#include "control/ng/replies.h"

#include "control/ng/dataplane_value.h"

#include <cctype>
#include <cstdio>
#include <utility>

namespace rtprelay::ng {

namespace {

value integer(uint64_t v) { return value::integer(static_cast<int64_t>(v)); }

value ok() {
    value v = value::dict();
    v.set("result", value::str("ok"));
    return v;
}

// Seconds as rtpengine prints them: "%.6f" in a string.
value seconds_text(double s) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.6f", s);
    return value::str(buf);
}

// rtpengine's per-proxy counter names: "<short name>count" in lower case ("offercount").
std::string count_key(command c, std::string_view prefix = {}) {
    std::string k(prefix);
    for (const char* p = command_short_name(c); *p != '\0'; ++p) {
        k.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(*p))));
    }
    return k + "count";
}

value current_statistics(const statistics_report& s) {
    value v = value::dict();
    v.set("sessionsown", integer(s.sessions));
    v.set("sessionsforeign", integer(0));
    v.set("sessionstotal", integer(s.sessions));
    v.set("transcodedmedia", integer(0));  // rtprelay never transcodes
    v.set("packetrate", integer(s.packet_rate));
    v.set("byterate", integer(s.byte_rate));
    v.set("errorrate", integer(s.error_rate));
    return v;
}

value total_statistics(const statistics_report& s) {
    const session_totals& t = s.totals;
    auto closed = [&t](close_reason r) { return integer(t.closed[static_cast<size_t>(r)]); };
    value v = value::dict();
    v.set("uptime", value::integer(s.uptime_s));
    v.set("managedsessions", integer(t.calls_deleted));  // ended calls, as rtpengine counts them
    v.set("rejectedsessions",
          integer(t.refused_capacity + t.refused_cps + t.refused_draining + t.refused_ports + t.refused_policy));
    v.set("timeoutsessions", closed(close_reason::media_timeout));
    v.set("silenttimeoutsessions", closed(close_reason::silent_timeout));
    v.set("finaltimeoutsessions", closed(close_reason::final_timeout));
    v.set("offertimeoutsessions", closed(close_reason::offer_timeout));
    v.set("regularterminatedsessions", closed(close_reason::deleted));
    v.set("forcedterminatedsessions", integer(0));
    if (s.dataplane) {
        const dp::worker_counters d = s.dataplane->totals();
        v.set("relayedpackets", integer(d.relayed_rtp + d.relayed_rtcp));
        v.set("relayedpacketerrors", integer(d.total_drops()));
        v.set("relayedbytes", integer(d.relayed_bytes));
    }
    v.set("totalcallsduration", seconds_text(t.call_seconds));
    v.set("avgcallduration", seconds_text(t.calls_deleted == 0 ? 0.0 : t.call_seconds / t.calls_deleted));
    return v;
}

value control_statistics(const statistics_report& s) {
    value v = value::dict();
    value proxies = value::list();
    std::array<uint64_t, command_count> totals{};
    uint64_t errors = 0;
    for (const proxy_report& p : s.proxies) {
        value pv = value::dict();
        pv.set("proxy", value::str(p.address));
        for (size_t c = 0; c + 1 < command_count; ++c) {
            pv.set(count_key(static_cast<command>(c)), integer(p.requests[c]));
            totals[c] += p.requests[c];
        }
        pv.set("errorcount", integer(p.errors));
        errors += p.errors;
        proxies.as_list().push_back(std::move(pv));
    }
    v.set("proxies", std::move(proxies));
    for (size_t c = 0; c + 1 < command_count; ++c) {
        v.set(count_key(static_cast<command>(c), "total"), integer(totals[c]));
    }
    v.set("totalerrorcount", integer(errors));
    return v;
}

value dataplane_value(const dataplane_report& r) {
    value d = counters_value(r.blocks, r.tsc_hz);
    d.set("latch changes", latch_changes_value(r.totals(), r.interface_names));
    d.set("flows", integer(r.flows));
    value links = value::list();
    for (const link_report& p : r.links) {
        value l = value::dict();
        l.set("port", value::integer(p.port));
        l.set("up", value::integer(p.up ? 1 : 0));
        l.set("changes", integer(p.changes));
        links.as_list().push_back(std::move(l));
    }
    d.set("links", std::move(links));
    return d;
}

value server_value(const ng_server_counters& c) {
    value srv = value::dict();
    srv.set("requests", integer(c.requests));
    srv.set("replies", integer(c.replies));
    srv.set("cache hits", integer(c.cache_hits));
    srv.set("cookie reuses", integer(c.cookie_reuses));
    srv.set("ignored not allowed", integer(c.dropped_not_allowed));
    srv.set("dropped malformed", integer(c.dropped_malformed));
    srv.set("bad requests", integer(c.bad_requests));
    srv.set("handler errors", integer(c.handler_errors));
    srv.set("send errors", integer(c.send_errors));
    srv.set("oversized replies", integer(c.oversized_replies));
    return srv;
}

}  // namespace

value reply_error(const std::string& reason) {
    value v = value::dict();
    v.set("result", value::str("error"));
    v.set("error-reason", value::str(reason));
    return v;
}

value reply_load_limit(const std::string& message) {
    value v = value::dict();
    v.set("result", value::str("load limit"));
    v.set("message", value::str(message));
    return v;
}

value reply_pong(pong) {
    value v = value::dict();
    v.set("result", value::str("pong"));
    return v;
}

value reply_sdp(std::string sdp) {
    value v = ok();
    v.set("sdp", value::str(std::move(sdp)));
    return v;
}

value reply_recording(recording_done) { return ok(); }

value reply_call_list(std::vector<std::string> call_ids) {
    value ids = value::list();
    ids.as_list().reserve(call_ids.size());
    for (auto& id : call_ids) {
        ids.as_list().push_back(value::str(std::move(id)));
    }
    value v = ok();
    v.set("calls", std::move(ids));
    return v;
}

value reply_drain_state(const drain_state& d) {
    value v = ok();
    v.set("draining", value::integer(d.draining ? 1 : 0));
    v.set("sessions", integer(d.sessions));
    return v;
}

value reply_capacity(const capacity_report& c) {
    auto budget_value = [](const budget_report& b) {
        value d = value::dict();
        d.set("capacity bps", integer(b.capacity_bps));
        d.set("reserved bps", integer(b.reserved_bps));
        d.set("calls", integer(b.calls));
        d.set("calls capacity", integer(b.calls_capacity));
        // Per mille, so that the value stays an integer on the wire.
        d.set("utilisation permille", integer(b.capacity_bps == 0 ? 0 : b.reserved_bps * 1000 / b.capacity_bps));
        d.set("cps limit", integer(b.cps_limit));
        return d;
    };
    value v = ok();
    v.set("call bps", integer(c.call_bps));
    // "wire": each leg reserves by its family and SRTP (call bps stays the sizing unit).
    v.set("call bandwidth", value::str(c.wire ? "wire" : "flat"));
    v.set("draining", value::integer(c.draining ? 1 : 0));
    v.set("node", budget_value(c.node));
    value ifs = value::list();
    for (const budget_report& b : c.interfaces) {
        value iv = budget_value(b);
        iv.set("name", value::str(b.name));
        ifs.as_list().push_back(std::move(iv));
    }
    v.set("interfaces", std::move(ifs));
    if (c.bandwidth_for_calls) {
        v.set("bandwidth for calls bps", integer(*c.bandwidth_for_calls));
    }
    if (c.calls_for_bandwidth) {
        v.set("calls for bandwidth", integer(*c.calls_for_bandwidth));
    }
    return v;
}

value interfaces_value(const std::vector<interface_report>& interfaces) {
    value list = value::list();
    for (const interface_report& i : interfaces) {
        value iv = value::dict();
        iv.set("name", value::str(i.name));
        value addrs = value::list();
        for (const address_report& a : i.addresses) {
            value av = value::dict();
            av.set("address", value::str(a.address));
            av.set("ports free", integer(a.ports_free));
            av.set("ports used", integer(a.ports_used));
            addrs.as_list().push_back(std::move(av));
        }
        iv.set("addresses", std::move(addrs));
        list.as_list().push_back(std::move(iv));
    }
    return list;
}

value reply_statistics(const statistics_report& r) {
    const session_totals& t = r.totals;
    value s = value::dict();
    s.set("sessions", integer(r.sessions));
    s.set("calls created", integer(t.calls_created));
    s.set("calls deleted", integer(t.calls_deleted));
    value closed = value::dict();
    for (size_t k = 0; k < static_cast<size_t>(close_reason::count); ++k) {
        closed.set(close_reason_name(static_cast<close_reason>(k)), integer(t.closed[k]));
    }
    s.set("calls closed", std::move(closed));
    s.set("offers", integer(t.offers));
    s.set("answers", integer(t.answers));
    value refused = value::dict();
    refused.set("ports", integer(t.refused_ports));
    refused.set("capacity", integer(t.refused_capacity));
    refused.set("cps", integer(t.refused_cps));
    refused.set("draining", integer(t.refused_draining));
    refused.set("policy", integer(t.refused_policy));
    s.set("refused", std::move(refused));
    s.set("refused ports", integer(t.refused_ports));
    s.set("crypto lines stripped", integer(t.crypto_lines_stripped));
    s.set("streams refused", integer(t.streams_refused));
    s.set("interfaces", interfaces_value(r.interfaces));
    // Requests per command ("unknown": commands rtprelay does not have) and errors.
    value ng = value::dict();
    uint64_t errors = 0;
    for (size_t c = 0; c < command_count; ++c) {
        uint64_t n = 0;
        for (size_t k = 0; k < result_names.size(); ++k) {
            n += r.results[c][k];
        }
        errors +=
            r.results[c][static_cast<size_t>(result::error)] + r.results[c][static_cast<size_t>(result::load_limit)];
        const auto cmd = static_cast<command>(c);
        ng.set(cmd == command::other ? "unknown" : command_name(cmd), integer(n));
    }
    ng.set("errors", integer(errors));
    s.set("ng commands", std::move(ng));
    value by_result = value::dict();
    for (size_t c = 0; c < command_count; ++c) {
        value row = value::dict();
        for (size_t k = 0; k < result_names.size(); ++k) {
            row.set(result_names[k], integer(r.results[c][k]));
        }
        by_result.set(command_name(static_cast<command>(c)), std::move(row));
    }
    s.set("ng requests", std::move(by_result));
    if (r.server) {
        s.set("ng server", server_value(*r.server));
    }
    if (r.dataplane) {
        s.set("dataplane", dataplane_value(*r.dataplane));
    }
    // rtpengine's shapes, for tools written against its `statistics`.
    s.set("currentstatistics", current_statistics(r));
    s.set("totalstatistics", total_statistics(r));
    s.set("controlstatistics", control_statistics(r));
    if (r.recording) {
        s.set("recording", *r.recording);
    }
    value v = ok();
    v.set("statistics", std::move(s));
    return v;
}

}  // namespace rtprelay::ng
