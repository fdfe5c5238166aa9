#include "control/ng/commands.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <string_view>

#include "control/recording/controller.h"
#include "control/sdes/negotiate.h"
#include "control/sdes/options.h"

namespace rtprelay::ng {

namespace {

bool list_has(const std::vector<std::string>& l, std::string_view what) {
    return std::any_of(l.begin(), l.end(), [&](const std::string& s) { return same_name(s, what); });
}

// The proxy's address without its port, as rtpengine's controlstatistics names proxies.
std::string address_of(const peer_info& p) {
    char host[INET6_ADDRSTRLEN] = {};
    if (p.family() == AF_INET) {
        inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(&p.addr)->sin_addr, host, sizeof host);
    } else if (p.family() == AF_INET6) {
        inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(&p.addr)->sin6_addr, host, sizeof host);
    }
    return host;
}

// ICE values: "remove" strips ICE lines; "default" (and no key) passes them through,
// which is what rtprelay does without ICE of its own. Others need an ICE agent.
void read_ice(request& r, sdp_request& out) {
    const std::string ice = r.string(key::ice);
    if (ice.empty() || same_name(ice, "default")) {
        return;
    }
    if (same_name(ice, "remove")) {
        out.ice_remove = true;
        return;
    }
    r.warn("ICE '" + ice + "' is not supported: ICE lines are passed through");
}

void read_replace(request& r, sdp_request& out) {
    std::vector<std::string> unsupported;
    for (const std::string& what : r.strings(key::replace)) {
        if (same_name(what, "origin")) {
            out.replace_origin = true;
        } else if (!same_name(what, "session-connection")) {  // always done
            unsupported.push_back(what);
        }
    }
    for (const auto& w : unsupported) {
        r.warn("replace '" + w + "' is not supported: ignored");
    }
}

// rtpengine's rtcp-mux options (its NG documentation): a list, or "rtcp-mux-<option>" flags.
void read_rtcp_mux(request& r, sdp_request& out) {
    for (const std::string& o : r.strings(key::rtcp_mux)) {
        if (same_name(o, "offer")) {
            out.rtcp_mux.offer = true;
        } else if (same_name(o, "demux")) {
            out.rtcp_mux.demux = true;
        } else if (same_name(o, "accept")) {
            out.rtcp_mux.accept = true;
        } else if (same_name(o, "reject")) {
            out.rtcp_mux.reject = true;
        } else if (same_name(o, "require")) {
            out.rtcp_mux.require = true;
        } else {
            r.warn("rtcp-mux '" + o + "' is not an option (offer, demux, accept, reject, require): ignored");
        }
    }
}

// rtpengine's contract: "load limit" only to proxies that announced they handle it
// (Kamailio then tries its next node); others get the error reason they already know.
value load_limit_or(const request& r, std::string_view refused, const std::string& reason) {
    if (!list_has(r.strings(key::supports), "load limit")) {
        return reply_error(reason);
    }
    return reply_load_limit("refused: " + std::string(refused));
}

}  // namespace

commands::commands(session_manager& sessions, std::function<dataplane_report()> dataplane)
    : sessions_(sessions), dataplane_(std::move(dataplane)), started_(clock::now()) {}

proxy_report& commands::proxy(const peer_info& from) {
    std::string address = address_of(from);
    for (auto& p : proxies_) {
        if (p.address == address) {
            return p;
        }
    }
    if (proxies_.size() >= max_proxies) {
        // Only allowed peers get here, but their number is the operator's: bounded anyway.
        address = "other";
        for (auto& p : proxies_) {
            if (p.address == address) {
                return p;
            }
        }
    }
    proxies_.push_back({std::move(address), {}, 0});
    return proxies_.back();
}

reply commands::reply_to(const value& request_dict, clock::time_point now, const peer_info* from) {
    std::string error;
    std::optional<request> r = request_dict.is_dict() ? request::parse(request_dict, &error) : std::nullopt;
    const command cmd = r ? r->cmd() : command::other;
    auto& row = results_[static_cast<size_t>(cmd)];
    proxy_report* p = from != nullptr ? &proxy(*from) : nullptr;
    if (p != nullptr) {
        ++p->requests[static_cast<size_t>(cmd)];
    }
    reply out;
    try {
        if (!request_dict.is_dict()) {
            out = reply_error("Request is not a dictionary");
        } else if (!r) {
            out = reply_error(error);
        } else {
            out = dispatch(*r, now);
        }
    } catch (...) {
        ++row[static_cast<size_t>(result::error)];  // the server answers with an error reply
        if (p != nullptr) {
            ++p->errors;
        }
        throw;
    }
    const result res = out.kind();
    ++row[static_cast<size_t>(res)];
    if (res != result::ok && p != nullptr) {
        ++p->errors;
    }
    return out;
}

reply commands::dispatch(request& r, clock::time_point now) {
    if (r.find(key::command) == nullptr) {
        return reply_error("No command given");
    }
    try {
        reply out;
        switch (r.cmd()) {
#define NG_COMMAND(id, name, short_name, effect, shape) \
    case command::id:                                   \
        out = reply_##shape(on_##id(r, now));           \
        break;
#include "control/ng/protocol.def"
            case command::other:
                return reply_error("Unrecognized command");
        }
        // rtpengine: a warning only with an ok result; an error carries nothing else.
        if (out.kind() == result::ok) {
            if (std::string w = r.warning(); !w.empty()) {
                out.set_warning(std::move(w));
            }
        }
        return out;
    } catch (const admission_refused& e) {
        return load_limit_or(r, e.what(), "Parallel session limit reached");
    } catch (const ports_exhausted& e) {
        // Only a new call can go to another node; a re-INVITE's call stays here.
        return e.new_call ? load_limit_or(r, "ports", e.what()) : reply_error(e.what());
    } catch (const session_error& e) {
        return reply_error(e.what());
    }
}

pong commands::on_ping(request&, clock::time_point) { return {}; }

std::string commands::on_offer(request& r, clock::time_point now) { return offer_answer(r, true, now); }

std::string commands::on_answer(request& r, clock::time_point now) { return offer_answer(r, false, now); }

call_report commands::on_del(request& r, clock::time_point now) {
    const std::string call_id = r.string(key::call_id);
    call_report stats = sessions_.query(call_id);  // the final stats, as rtpengine returns them
    // A from-tag or to-tag naming a forked branch that lost deletes only that branch, at once:
    // it holds no ports and relays nothing.
    if (!sessions_.remove_branch(call_id, r.string(key::from_tag), r.string(key::to_tag))) {
        sessions_.remove(call_id, now, delete_delay(r));
    }
    return stats;
}

std::optional<std::chrono::seconds> commands::delete_delay(request& r) {
    // Kamailio's rtpengine_delete("delete-delay=5") sends the string "5". A value that is
    // no delay still deletes the call (what the proxy wants), after the configured delay.
    bool bad = false;
    const std::optional<int64_t> asked = r.integer(key::delete_delay, &bad);
    const value* v = r.find(key::delete_delay);
    if (bad || (asked && *asked < 0)) {
        r.warn("delete-delay '" + (v->is_string() ? v->as_string() : std::to_string(v->as_integer())) +
               "' is not a number of seconds: the configured delay applies");
        return std::nullopt;
    }
    if (!asked) {
        return std::nullopt;
    }
    if (*asked > max_delete_delay_s) {
        r.warn("delete-delay " + std::to_string(*asked) + " is above " + std::to_string(max_delete_delay_s) +
               " s: " + std::to_string(max_delete_delay_s) + " s applies");
        return std::chrono::seconds(max_delete_delay_s);
    }
    return std::chrono::seconds(*asked);
}

query_report commands::on_query(request& r, clock::time_point) {
    query_report q{sessions_.query(r.string(key::call_id)), std::nullopt};
    if (recordings_ != nullptr) {
        q.recording = recordings_->describe(r.string(key::call_id));
    }
    return q;
}

recording::controller& commands::recordings() {
    if (recordings_ == nullptr) {
        throw session_error("Call recording is not configured (no recording-dir)");
    }
    return *recordings_;
}

recording_done commands::on_start_recording(request& r, clock::time_point) {
    recordings().command(command::start_recording, r);
    return {};
}

recording_done commands::on_stop_recording(request& r, clock::time_point) {
    recordings().command(command::stop_recording, r);
    return {};
}

recording_done commands::on_pause_recording(request& r, clock::time_point) {
    recordings().command(command::pause_recording, r);
    return {};
}

std::vector<std::string> commands::on_list(request& r, clock::time_point) {
    bool bad = false;
    const std::optional<int64_t> asked = r.integer(key::limit, &bad);
    if (bad || (asked && *asked <= 0)) {
        r.warn("limit must be a positive integer: 32 applies");
    }
    const size_t limit = asked && *asked > 0 ? static_cast<size_t>(*asked) : 32;
    // Bounded so the reply fits one datagram even with long call-ids.
    return sessions_.list(std::min<size_t>(limit, max_list));
}

capacity_report commands::on_capacity(request& r, clock::time_point) {
    admission* adm = sessions_.admission_control();
    if (adm == nullptr) {
        throw session_error("No admission control configured");
    }
    auto budget_of = [&](const budget& b, std::string name, double cps) {
        return budget_report{std::move(name),
                             b.capacity_bps,
                             b.reserved_bps,
                             b.calls,
                             b.capacity_bps == 0 ? 0 : adm->calls_for(b.capacity_bps),
                             static_cast<uint64_t>(cps)};
    };
    capacity_report c;
    c.call_bps = adm->call_bps();
    c.wire = adm->wire();
    c.draining = adm->draining();
    c.node = budget_of(adm->node(), "", adm->node_cps());
    const auto ifs = sessions_.interfaces_report();
    for (size_t k = 0; k < ifs.size(); ++k) {
        c.interfaces.push_back(budget_of(adm->interface(k), ifs[k].name, adm->interface_cps(k)));
    }
    // The two questions an operator asks: how much for N calls, how many calls in B bps.
    bool bad = false;
    if (const auto calls = r.integer(key::calls, &bad); calls && *calls >= 0) {
        c.bandwidth_for_calls = adm->bandwidth_for(static_cast<uint64_t>(*calls));
    }
    if (const std::string b = r.string(key::bandwidth); !b.empty()) {
        const auto bps = parse_bandwidth(b);
        if (!bps) {
            throw session_error("bandwidth '" + b + "' is not a bandwidth (e.g. 1G, 800M)");
        }
        c.calls_for_bandwidth = adm->calls_for(*bps);
    }
    return c;
}

drain_state commands::on_drain(request&, clock::time_point) {
    admission* adm = sessions_.admission_control();
    if (adm == nullptr) {
        throw session_error("No admission control configured");
    }
    adm->drain(true);
    return {adm->draining(), sessions_.size()};
}

drain_state commands::on_undrain(request&, clock::time_point) {
    admission* adm = sessions_.admission_control();
    if (adm == nullptr) {
        throw session_error("No admission control configured");
    }
    adm->drain(false);
    return {adm->draining(), sessions_.size()};
}

std::string commands::offer_answer(request& r, bool is_offer, clock::time_point now) {
    sdp_request s;
    s.call_id = r.string(key::call_id);
    s.from_tag = r.string(key::from_tag);
    s.to_tag = r.string(key::to_tag);
    s.sdp = r.string(key::sdp);
    if (s.sdp.empty()) {
        throw session_error("No SDP body");
    }
    s.direction = r.strings(key::direction);
    // Newer Kamailio/rtpengine spelling of the same choice.
    const std::string from_if = r.string(key::from_interface);
    const std::string to_if = r.string(key::to_interface);
    if (!from_if.empty() || !to_if.empty()) {
        s.direction = {from_if.empty() ? (s.direction.empty() ? std::string() : s.direction[0]) : from_if,
                       to_if.empty() ? (s.direction.size() > 1 ? s.direction[1] : std::string()) : to_if};
    }
    read_replace(r, s);
    read_ice(r, s);
    read_rtcp_mux(r, s);
    std::string sdes_error;
    auto sdes = sdes::parse_sdes_options(r.strings(key::sdes), r.sdes_flags(), &sdes_error);
    if (!sdes) {
        throw session_error(sdes_error);
    }
    s.sdes = std::move(*sdes);
    for (const auto& u : s.sdes.unsupported) {
        r.warn("SDES option '" + u + "' is not supported: ignored");
    }
    s.strict_source = r.has(flag::strict_source);
    // rtpengine's `address family` (older modules and rtpengine-ng-client write it with a
    // space, newer ones with a dash; names.h matches both): the family of the relay's address
    // in the SDP sent on.
    const std::string family = r.string(key::address_family);
    if (family == "IP4") {
        s.address_family = ip_address::family::v4;
    } else if (family == "IP6") {
        s.address_family = ip_address::family::v6;
    } else if (!family.empty()) {
        throw session_error("address family '" + family + "' is not IP4 or IP6");
    }
    s.transport_protocol = r.string(key::transport_protocol);
    if (!s.transport_protocol.empty() && !sdes::is_plain_rtp_proto(s.transport_protocol) &&
        !sdes::is_srtp_proto(s.transport_protocol)) {
        throw session_error("transport-protocol '" + s.transport_protocol +
                            "' is not supported (RTP/AVP(F) or RTP/SAVP(F))");
    }
    if (recordings_ != nullptr) {
        recordings_->check(r);  // bad recording file names refuse the request before it changes anything
    }
    sdp_reply out = is_offer ? sessions_.offer(s, now) : sessions_.answer(s, now);
    for (auto& w : out.warnings) {
        r.warn(std::move(w));
    }
    if (recordings_ != nullptr) {
        if (std::string w = recordings_->after_offer_answer(is_offer, r, s.sdp, out.sdp); !w.empty()) {
            r.warn(std::move(w));
        }
    }
    return std::move(out.sdp);
}

statistics_report commands::on_statistics(request&, clock::time_point now) {
    statistics_report s;
    s.sessions = sessions_.size();
    s.totals = sessions_.totals();
    s.interfaces = sessions_.interfaces_report();
    s.results = results_;
    s.proxies = proxies_;
    if (server_ != nullptr) {
        s.server = server_->counters();
    }
    if (dataplane_) {
        s.dataplane = dataplane_();
    }
    s.uptime_s = std::chrono::duration_cast<std::chrono::seconds>(now - started_).count();
    if (recordings_ != nullptr) {
        s.recording = recordings_->statistics();
    }
    if (s.dataplane) {
        const dp::worker_counters t = s.dataplane->totals();
        const rate_sample here{now, t.relayed_rtp + t.relayed_rtcp, t.relayed_bytes, t.total_drops()};
        const rate_sample before = last_sample_.value_or(rate_sample{started_, 0, 0, 0});
        const double dt = std::chrono::duration<double>(here.at - before.at).count();
        if (dt > 0) {
            auto rate = [dt](uint64_t a, uint64_t b) { return static_cast<uint64_t>(a > b ? (a - b) / dt : 0); };
            s.packet_rate = rate(here.packets, before.packets);
            s.byte_rate = rate(here.bytes, before.bytes);
            s.error_rate = rate(here.errors, before.errors);
        }
        last_sample_ = here;
    }
    return s;
}

}  // namespace rtprelay::ng
