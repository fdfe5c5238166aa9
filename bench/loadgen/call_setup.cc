#include "bench/loadgen/call_setup.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>

#include "bench/loadgen/clock.h"
#include "bench/loadgen/endpoint_sdp.h"
#include "bench/loadgen/stop_signal.h"

namespace rtprelay::loadgen {

namespace {

using ng::value;

// Offers per round when the rate is unlimited.
constexpr size_t unlimited_chunk = 512;
// With --setup-rate, rounds start 20 times a second, each with its share of the offers.
constexpr double rounds_per_second = 20.0;

value string_list(std::initializer_list<const char*> items) {
    value::list_t l;
    for (const char* s : items) {
        l.push_back(value::str(s));
    }
    return value::list(std::move(l));
}

std::string endpoint_sdp(const std::string& address, const side_sockets& s, uint32_t socket, uint32_t ptime_ms,
                         uint64_t session_id, const dp::srtp::master_key* srtp_key) {
    endpoint_sdp_params p;
    p.address = address;
    p.rtp_port = s.rtp_port[socket];
    p.rtcp_port = s.rtcp.empty() ? 0 : s.rtcp_port[socket];
    p.ptime_ms = ptime_ms;
    p.session_id = session_id;
    if (srtp_key != nullptr) {
        p.srtp_key = *srtp_key;
    }
    return build_endpoint_sdp(p);
}

value make_offer(const call_record& c, const options& opt, const side_sockets& a) {
    value d = value::dict();
    d.set("command", value::str("offer"));
    d.set("call-id", value::str(c.call_id));
    d.set("from-tag", value::str(c.from_tag));
    d.set("sdp", value::str(endpoint_sdp(opt.addr_a, a, c.socket_index, opt.ptime_ms, 2 * uint64_t{c.index} + 1000,
                                         c.srtp_a ? &c.key_a : nullptr)));
    d.set("replace", string_list({"origin"}));
    if (c.srtp_a != c.srtp_b) {
        // A bridged call (--srtp-mix): what the relay offers B, as a SIP proxy asks for it.
        d.set("transport-protocol", value::str(c.srtp_b ? "RTP/SAVP" : "RTP/AVP"));
    }
    if (!opt.interface_a.empty()) {
        value::list_t dir;
        dir.push_back(value::str(opt.interface_a));
        dir.push_back(value::str(opt.interface_b));
        d.set("direction", value::list(std::move(dir)));
    }
    return d;
}

value make_answer(const call_record& c, const options& opt, const side_sockets& b) {
    value d = value::dict();
    d.set("command", value::str("answer"));
    d.set("call-id", value::str(c.call_id));
    d.set("from-tag", value::str(c.from_tag));
    d.set("to-tag", value::str(c.to_tag));
    d.set("sdp", value::str(endpoint_sdp(opt.addr_b, b, c.socket_index, opt.ptime_ms, 2 * uint64_t{c.index} + 1001,
                                         c.srtp_b ? &c.key_b : nullptr)));
    d.set("replace", string_list({"origin"}));
    return d;
}

// The relay's target from a reply, or "" with *target filled; else the failure reason.
std::string read_reply(const std::optional<value>& reply, const std::string& server, bool want_srtp,
                       media_target* target) {
    if (!reply) {
        return "no reply from " + server;
    }
    if (std::string why = reply_failure(&*reply); !why.empty()) {
        return why;
    }
    std::optional<std::string_view> sdp = reply->find_string("sdp");
    if (!sdp) {
        return "reply without sdp";
    }
    std::string error;
    std::optional<media_target> t = find_media_target(*sdp, &error, want_srtp);
    if (!t) {
        return error;
    }
    *target = *t;
    return "";
}

}  // namespace

std::string reply_failure(const value* reply) {
    if (reply == nullptr || !reply->is_dict()) {
        return "reply is not a dictionary";
    }
    std::optional<std::string_view> result = reply->find_string("result");
    if (!result) {
        return "reply without result";
    }
    if (*result == "ok") {
        return "";
    }
    if (std::optional<std::string_view> reason = reply->find_string("error-reason")) {
        return std::string(*reason);
    }
    return "result: " + std::string(*result);
}

setup_result set_up_calls(ng::ng_client& client, const options& opt, const side_sockets& a, const side_sockets& b,
                          std::vector<call_record>* calls, progress_line* progress) {
    setup_result r;
    const int64_t start = mono_ns();
    const size_t chunk = opt.setup_rate > 0
                             ? static_cast<size_t>(std::clamp(std::ceil(opt.setup_rate / rounds_per_second), 1.0,
                                                              static_cast<double>(unlimited_chunk)))
                             : unlimited_chunk;
    const auto timeout = std::chrono::milliseconds(opt.ng_timeout_ms);
    const int retries = static_cast<int>(opt.ng_retries);

    auto fail = [&](call_record& c, const char* step, const std::string& why) {
        c.error = std::string(step) + ": " + why;
        ++r.failed;
        ++r.by_reason[c.error];
    };

    size_t next_offer = 0;
    std::vector<uint32_t> answering;  // calls whose offer was accepted in the previous round
    std::vector<value> requests;
    std::vector<uint32_t> request_call;
    static const std::optional<value> no_reply;
    const std::string& server = client.server_name();
    while (next_offer < calls->size() || !answering.empty()) {
        if (stop_requested()) {
            // Answer what was offered (so those calls can be deleted), offer nothing new.
            for (; next_offer < calls->size(); ++next_offer) {
                fail((*calls)[next_offer], "offer", "not sent: interrupted");
            }
        }
        if (opt.setup_rate > 0 && next_offer < calls->size()) {
            sleep_until_ns(start + static_cast<int64_t>(static_cast<double>(next_offer) / opt.setup_rate * 1e9));
        }
        requests.clear();
        request_call.clear();
        for (uint32_t i : answering) {
            requests.push_back(make_answer((*calls)[i], opt, b));
            request_call.push_back(i);
        }
        const size_t answers = requests.size();
        // The first round is one pipeline's worth: if the relay is not there, that is
        // known after one timeout instead of many.
        const size_t round_chunk = next_offer == 0 ? std::min(chunk, ng_pipeline_depth) : chunk;
        const size_t offers = std::min(round_chunk, calls->size() - next_offer);
        for (size_t k = 0; k < offers; ++k, ++next_offer) {
            requests.push_back(make_offer((*calls)[next_offer], opt, a));
            request_call.push_back(static_cast<uint32_t>(next_offer));
        }
        if (requests.empty()) {
            break;  // interrupted with nothing left to answer
        }
        std::vector<std::optional<value>> replies = client.request_many(requests, ng_pipeline_depth, timeout, retries);

        answering.clear();
        bool any_reply = false;
        for (size_t k = 0; k < requests.size(); ++k) {
            call_record& c = (*calls)[request_call[k]];
            const std::optional<value>& reply = k < replies.size() ? replies[k] : no_reply;
            any_reply = any_reply || reply.has_value();
            if (k < answers) {
                if (std::string why = read_reply(reply, server, c.srtp_a, &c.a_sends_to); !why.empty()) {
                    fail(c, "answer", why);
                } else {
                    c.set_up = true;
                    ++r.ok;
                }
            } else {
                const bool accepted = reply && reply_failure(&*reply).empty();
                c.offered = accepted;
                if (std::string why = read_reply(reply, server, c.srtp_b, &c.b_sends_to); !why.empty()) {
                    fail(c, "offer", why);
                } else {
                    answering.push_back(c.index);
                }
            }
        }
        if (progress->due()) {
            char line[128];
            std::snprintf(line, sizeof line, "setup: %zu/%zu offered, %u up, %u failed", next_offer, calls->size(),
                          r.ok, r.failed);
            progress->show(line);
        }
        // A whole round without one reply: the relay is down or unreachable. Waiting out
        // every remaining call's retransmits would only delay saying so.
        if (!any_reply) {
            for (; next_offer < calls->size(); ++next_offer) {
                fail((*calls)[next_offer], "offer", "not sent: no reply to the previous round");
            }
        }
    }
    for (const call_record& c : *calls) {
        if (!c.set_up) {
            r.first_error = c.error;
            break;
        }
    }
    r.seconds = static_cast<double>(mono_ns() - start) / 1e9;
    return r;
}

}  // namespace rtprelay::loadgen
