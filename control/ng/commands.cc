#include "control/ng/commands.h"

#include <algorithm>
#include <string_view>

#include "control/sdes/negotiate.h"
#include "control/sdes/options.h"

namespace rtprelay::ng {

namespace {
// NG flags rtprelay knows. Everything else is reported back as a warning.
constexpr std::string_view known_flags[] = {
    "trust-address", "symmetric", "asymmetric", "port-latching", "no-port-latching",
    "record-call", "loop-protect", "strict-source", "media-handover", "reset",
    "all", "fragment", "to-tag", "from-tag", "original-sendrecv", "single-codec",
    "no-rtcp-attribute", "full-rtcp-attribute", "generate-mid", "strip-extmap",
};

bool is_known_flag(std::string_view f) {
    for (auto k : known_flags) {
        if (k == f) {
            return true;
        }
    }
    return false;
}

std::string string_or_empty(const value& req, std::string_view key) {
    auto s = req.find_string(key);
    return s ? std::string(*s) : std::string();
}

std::vector<std::string> string_list(const value& req, std::string_view key) {
    std::vector<std::string> out;
    const value* v = req.find(key);
    if (v == nullptr) {
        return out;
    }
    if (v->is_string()) {
        out.push_back(v->as_string());
    } else if (v->is_list()) {
        for (const value& item : v->as_list()) {
            if (item.is_string()) {
                out.push_back(item.as_string());
            }
        }
    }
    return out;
}

bool list_has(const std::vector<std::string>& l, std::string_view what) {
    for (const auto& s : l) {
        if (s == what) {
            return true;
        }
    }
    return false;
}

// Index into commands::command_names; the last one (`other`) for anything unknown.
size_t command_index(const value& request) {
    const auto cmd = request.is_dict() ? request.find_string("command") : std::nullopt;
    const size_t other = commands::command_names.size() - 1;
    for (size_t i = 0; cmd && i < other; ++i) {
        if (*cmd == commands::command_names[i]) {
            return i;
        }
    }
    return other;
}

// Index into commands::result_names: ok (and pong), error, load limit.
size_t result_index(const value& reply) {
    const auto r = reply.is_dict() ? reply.find_string("result") : std::nullopt;
    if (r && (*r == "ok" || *r == "pong")) {
        return 0;
    }
    if (r && *r == "load limit") {
        return 2;
    }
    return 1;
}
}  // namespace

value error_reply(const std::string& reason) {
    value v = value::dict();
    v.set("result", value::str("error"));
    v.set("error-reason", value::str(reason));
    return v;
}

namespace {
// rtpengine's contract: "load limit" only to proxies that announced they handle it
// (Kamailio then tries its next node); others get the error reason they already know.
value load_limit_or(const value& request, std::string_view refused, const std::string& reason) {
    if (!list_has(string_list(request, "supports"), "load limit")) {
        return error_reply(reason);
    }
    value v = value::dict();
    v.set("result", value::str("load limit"));
    v.set("message", value::str("refused: " + std::string(refused)));
    return v;
}
}  // namespace

bool commands::knows(std::string_view command) {
    for (size_t i = 0; i + 1 < command_names.size(); ++i) {
        if (command == command_names[i]) {
            return true;
        }
    }
    return false;
}

value commands::handle(const value& request, std::chrono::steady_clock::time_point now) {
    auto& row = counts_.results[command_index(request)];
    try {
        value reply = dispatch(request, now);
        ++row[result_index(reply)];
        return reply;
    } catch (...) {
        ++row[1];  // the server answers with an error reply
        throw;
    }
}

value commands::dispatch(const value& request, std::chrono::steady_clock::time_point now) {
    if (!request.is_dict()) {
        ++counts_.errors;
        return error_reply("Request is not a dictionary");
    }
    auto cmd = request.find_string("command");
    if (!cmd) {
        ++counts_.errors;
        return error_reply("No command given");
    }
    try {
        if (*cmd == "ping") {
            ++counts_.ping;
            value v = value::dict();
            v.set("result", value::str("pong"));
            return v;
        }
        if (*cmd == "offer") {
            ++counts_.offer;
            return offer_answer(request, true, now);
        }
        if (*cmd == "answer") {
            ++counts_.answer;
            return offer_answer(request, false, now);
        }
        if (*cmd == "delete") {
            ++counts_.del;
            const std::string call_id = string_or_empty(request, "call-id");
            value stats = sessions_.query(call_id);  // the final stats, as rtpengine returns them
            // A from-tag or to-tag naming a forked branch that lost deletes only that branch.
            if (!sessions_.remove_branch(call_id, string_or_empty(request, "from-tag"),
                                         string_or_empty(request, "to-tag"))) {
                sessions_.remove(call_id, now);
            }
            stats.set("result", value::str("ok"));
            return stats;
        }
        if (*cmd == "query") {
            ++counts_.query;
            value v = sessions_.query(string_or_empty(request, "call-id"));
            v.set("result", value::str("ok"));
            return v;
        }
        if (*cmd == "list") {
            ++counts_.list;
            size_t limit = 32;
            if (const value* l = request.find("limit"); l != nullptr) {
                if (l->is_integer() && l->as_integer() > 0) {
                    limit = static_cast<size_t>(l->as_integer());
                } else if (l->is_string()) {
                    limit = static_cast<size_t>(std::strtoul(l->as_string().c_str(), nullptr, 10));
                }
            }
            // Bounded so the reply fits one datagram even with long call-ids.
            limit = std::min<size_t>(limit, max_list);
            value ids = value::list();
            for (auto& id : sessions_.list(limit)) {
                ids.as_list().push_back(value::str(id));
            }
            value v = value::dict();
            v.set("result", value::str("ok"));
            v.set("calls", std::move(ids));
            return v;
        }
        if (*cmd == "capacity") {
            ++counts_.capacity;
            return capacity(request);
        }
        if (*cmd == "drain" || *cmd == "undrain") {
            ++counts_.drain;
            admission* adm = sessions_.admission_control();
            if (adm == nullptr) {
                return error_reply("No admission control configured");
            }
            adm->drain(*cmd == "drain");
            value v = value::dict();
            v.set("result", value::str("ok"));
            v.set("draining", value::integer(adm->draining() ? 1 : 0));
            v.set("sessions", value::integer(static_cast<int64_t>(sessions_.size())));
            return v;
        }
        if (*cmd == "statistics") {
            ++counts_.statistics;
            return statistics();
        }
        ++counts_.unknown;
        ++counts_.errors;
        return error_reply("Unrecognized command");
    } catch (const admission_refused& e) {
        ++counts_.errors;
        return load_limit_or(request, e.what(), "Parallel session limit reached");
    } catch (const ports_exhausted& e) {
        ++counts_.errors;
        // Only a new call can go to another node; a re-INVITE's call stays here.
        return e.new_call ? load_limit_or(request, "ports", e.what()) : error_reply(e.what());
    } catch (const session_error& e) {
        ++counts_.errors;
        return error_reply(e.what());
    }
}

value commands::capacity(const value& req) const {
    admission* adm = sessions_.admission_control();
    if (adm == nullptr) {
        return error_reply("No admission control configured");
    }
    auto i = [](uint64_t v) { return value::integer(static_cast<int64_t>(v)); };
    auto budget_value = [&](const budget& b) {
        value d = value::dict();
        d.set("capacity bps", i(b.capacity_bps));
        d.set("reserved bps", i(b.reserved_bps));
        d.set("calls", i(b.calls));
        d.set("calls capacity", i(b.capacity_bps == 0 ? 0 : adm->calls_for(b.capacity_bps)));
        // Per mille, so that the value stays an integer on the wire.
        d.set("utilisation permille", i(b.capacity_bps == 0 ? 0 : b.reserved_bps * 1000 / b.capacity_bps));
        return d;
    };
    value v = value::dict();
    v.set("result", value::str("ok"));
    v.set("call bps", i(adm->call_bps()));
    v.set("draining", i(adm->draining() ? 1 : 0));
    value node = budget_value(adm->node());
    node.set("cps limit", i(static_cast<uint64_t>(adm->node_cps())));
    v.set("node", std::move(node));
    value ifs = value::list();
    const value report = sessions_.interfaces_report();
    for (size_t k = 0; k < report.as_list().size(); ++k) {
        value iv = budget_value(adm->interface(k));
        iv.set("name", report.as_list()[k].find("name") != nullptr ? *report.as_list()[k].find("name") : value::str(""));
        iv.set("cps limit", i(static_cast<uint64_t>(adm->interface_cps(k))));
        ifs.as_list().push_back(std::move(iv));
    }
    v.set("interfaces", std::move(ifs));
    // The two questions an operator asks: how much for N calls, how many calls in B bps.
    if (const value* c = req.find("calls"); c != nullptr && c->is_integer() && c->as_integer() >= 0) {
        v.set("bandwidth for calls bps", i(adm->bandwidth_for(static_cast<uint64_t>(c->as_integer()))));
    }
    if (auto b = req.find_string("bandwidth")) {
        auto bps = parse_bandwidth(*b);
        if (!bps) {
            return error_reply("bandwidth '" + std::string(*b) + "' is not a bandwidth (e.g. 1G, 800M)");
        }
        v.set("calls for bandwidth", i(adm->calls_for(*bps)));
    }
    return v;
}

value commands::offer_answer(const value& req, bool is_offer, std::chrono::steady_clock::time_point now) {
    sdp_request r;
    r.call_id = string_or_empty(req, "call-id");
    r.from_tag = string_or_empty(req, "from-tag");
    r.to_tag = string_or_empty(req, "to-tag");
    r.sdp = string_or_empty(req, "sdp");
    if (r.sdp.empty()) {
        throw session_error("No SDP body");
    }
    r.direction = string_list(req, "direction");
    // Newer Kamailio/rtpengine spelling of the same choice.
    const std::string from_if = string_or_empty(req, "from-interface");
    const std::string to_if = string_or_empty(req, "to-interface");
    if (!from_if.empty() || !to_if.empty()) {
        r.direction = {from_if.empty() ? (r.direction.empty() ? std::string() : r.direction[0]) : from_if,
                       to_if.empty() ? (r.direction.size() > 1 ? r.direction[1] : std::string()) : to_if};
    }
    r.replace_origin = list_has(string_list(req, "replace"), "origin");
    r.ice_remove = string_or_empty(req, "ICE") == "remove";
    const std::vector<std::string> flags = string_list(req, "flags");
    std::string sdes_error;
    auto sdes = sdes::parse_sdes_options(string_list(req, "SDES"), flags, &sdes_error);
    if (!sdes) {
        throw session_error(sdes_error);
    }
    r.sdes = std::move(*sdes);
    r.strict_source = list_has(flags, "strict-source");
    std::vector<std::string> unknown = r.sdes.unsupported;
    for (const auto& f : flags) {
        if (!is_known_flag(f) && !sdes::is_sdes_flag(f)) {
            unknown.push_back(f);
        }
    }
    r.transport_protocol = string_or_empty(req, "transport-protocol");
    if (!r.transport_protocol.empty() && !sdes::is_plain_rtp_proto(r.transport_protocol) &&
        !sdes::is_srtp_proto(r.transport_protocol)) {
        throw session_error("transport-protocol '" + r.transport_protocol + "' is not supported (RTP/AVP(F) or RTP/SAVP(F))");
    }
    sdp_reply out = is_offer ? sessions_.offer(r, now) : sessions_.answer(r, now);
    value v = value::dict();
    v.set("result", value::str("ok"));
    v.set("sdp", value::str(std::move(out.sdp)));
    if (!unknown.empty()) {
        std::string w = "Unsupported flags ignored:";
        for (const auto& f : unknown) {
            w += " " + f;
        }
        v.set("warning", value::str(w));
    }
    return v;
}

value commands::statistics() const {
    value v = value::dict();
    v.set("result", value::str("ok"));
    value s = value::dict();
    const session_totals& t = sessions_.totals();
    s.set("sessions", value::integer(static_cast<int64_t>(sessions_.size())));
    s.set("calls created", value::integer(static_cast<int64_t>(t.calls_created)));
    s.set("calls deleted", value::integer(static_cast<int64_t>(t.calls_deleted)));
    value closed = value::dict();
    for (size_t r = 0; r < static_cast<size_t>(close_reason::count); ++r) {
        closed.set(close_reason_name(static_cast<close_reason>(r)), value::integer(static_cast<int64_t>(t.closed[r])));
    }
    s.set("calls closed", std::move(closed));
    s.set("offers", value::integer(static_cast<int64_t>(t.offers)));
    s.set("answers", value::integer(static_cast<int64_t>(t.answers)));
    value refused = value::dict();
    refused.set("ports", value::integer(static_cast<int64_t>(t.refused_ports)));
    refused.set("capacity", value::integer(static_cast<int64_t>(t.refused_capacity)));
    refused.set("cps", value::integer(static_cast<int64_t>(t.refused_cps)));
    refused.set("draining", value::integer(static_cast<int64_t>(t.refused_draining)));
    refused.set("policy", value::integer(static_cast<int64_t>(t.refused_policy)));
    s.set("refused", std::move(refused));
    s.set("refused ports", value::integer(static_cast<int64_t>(t.refused_ports)));
    s.set("crypto lines stripped", value::integer(static_cast<int64_t>(t.crypto_lines_stripped)));
    s.set("interfaces", sessions_.interfaces_report());
    value ng = value::dict();
    auto n = [](uint64_t v) { return value::integer(static_cast<int64_t>(v)); };
    ng.set("ping", n(counts_.ping));
    ng.set("offer", n(counts_.offer));
    ng.set("answer", n(counts_.answer));
    ng.set("delete", n(counts_.del));
    ng.set("query", n(counts_.query));
    ng.set("list", n(counts_.list));
    ng.set("statistics", n(counts_.statistics));
    ng.set("capacity", n(counts_.capacity));
    ng.set("drain", n(counts_.drain));
    ng.set("unknown", n(counts_.unknown));
    ng.set("errors", n(counts_.errors));
    s.set("ng commands", std::move(ng));
    // By command and result; this statistics request itself is counted after its reply.
    value by_result = value::dict();
    for (size_t c = 0; c < command_names.size(); ++c) {
        value row = value::dict();
        for (size_t r = 0; r < result_names.size(); ++r) {
            row.set(result_names[r], n(counts_.results[c][r]));
        }
        by_result.set(command_names[c], std::move(row));
    }
    s.set("ng requests", std::move(by_result));
    if (server_ != nullptr) {
        const ng_server_counters& c = server_->counters();
        value srv = value::dict();
        srv.set("requests", n(c.requests));
        srv.set("replies", n(c.replies));
        srv.set("cache hits", n(c.cache_hits));
        srv.set("cookie reuses", n(c.cookie_reuses));
        srv.set("ignored not allowed", n(c.dropped_not_allowed));
        srv.set("dropped malformed", n(c.dropped_malformed));
        srv.set("bad requests", n(c.bad_requests));
        srv.set("handler errors", n(c.handler_errors));
        srv.set("send errors", n(c.send_errors));
        srv.set("oversized replies", n(c.oversized_replies));
        s.set("ng server", std::move(srv));
    }
    if (statistics_) {
        s.set("dataplane", statistics_());
    }
    v.set("statistics", std::move(s));
    return v;
}

}  // namespace rtprelay::ng
