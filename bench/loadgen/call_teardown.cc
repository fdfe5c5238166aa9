#include "bench/loadgen/call_teardown.h"

#include <chrono>

#include "bench/loadgen/call_setup.h"

namespace rtprelay::loadgen {

namespace {

using ng::value;

// Sends one request per selected call and hands each reply (or nullopt) to `on_reply`.
template <typename select, typename make, typename handle>
void for_each_call(ng::ng_client& client, const options& opt, const std::vector<call_record>& calls, select selected,
                   make request, handle on_reply) {
    std::vector<value> requests;
    std::vector<const call_record*> who;
    for (const call_record& c : calls) {
        if (selected(c)) {
            requests.push_back(request(c));
            who.push_back(&c);
        }
    }
    if (requests.empty()) {
        return;
    }
    std::vector<std::optional<value>> replies = client.request_many(
        requests, ng_pipeline_depth, std::chrono::milliseconds(opt.ng_timeout_ms), static_cast<int>(opt.ng_retries));
    static const std::optional<value> no_reply;
    for (size_t i = 0; i < who.size(); ++i) {
        on_reply(*who[i], i < replies.size() ? replies[i] : no_reply);
    }
}

value call_command(const char* command, const call_record& c) {
    value d = value::dict();
    d.set("command", value::str(command));
    d.set("call-id", value::str(c.call_id));
    d.set("from-tag", value::str(c.from_tag));
    return d;
}

uint64_t integer_at(const value* dict, std::string_view key) {
    const value* v = dict == nullptr ? nullptr : dict->find(key);
    if (v == nullptr || !v->is_integer() || v->as_integer() < 0) {
        return 0;
    }
    return static_cast<uint64_t>(v->as_integer());
}

std::string failure_of(const std::optional<value>& reply, const ng::ng_client& client) {
    if (!reply) {
        return "no reply from " + client.server_name();
    }
    return reply_failure(&*reply);
}

}  // namespace

void add_query_reply(const value& reply, relay_totals* t) {
    const value* totals = reply.find("totals");
    const value* rtp = totals == nullptr ? nullptr : totals->find("RTP");
    const value* rtcp = totals == nullptr ? nullptr : totals->find("RTCP");
    t->rtp_packets += integer_at(rtp, "packets");
    t->rtp_bytes += integer_at(rtp, "bytes");
    t->rtp_errors += integer_at(rtp, "errors");
    t->rtcp_packets += integer_at(rtcp, "packets");
    t->rtcp_bytes += integer_at(rtcp, "bytes");
    t->rtcp_errors += integer_at(rtcp, "errors");
}

relay_totals query_calls(ng::ng_client& client, const options& opt, const std::vector<call_record>& calls) {
    relay_totals t;
    for_each_call(
        client, opt, calls, [](const call_record& c) { return c.set_up; },
        [](const call_record& c) { return call_command("query", c); },
        [&](const call_record&, const std::optional<value>& reply) {
            if (std::string why = failure_of(reply, client); !why.empty()) {
                ++t.query_failed;
                if (t.first_query_error.empty()) {
                    t.first_query_error = why;
                }
                return;
            }
            ++t.queried;
            add_query_reply(*reply, &t);
        });
    return t;
}

delete_result delete_calls(ng::ng_client& client, const options& opt, const std::vector<call_record>& calls) {
    delete_result r;
    for_each_call(
        client, opt, calls, [](const call_record& c) { return c.offered; },
        [](const call_record& c) { return call_command("delete", c); },
        [&](const call_record&, const std::optional<value>& reply) {
            if (std::string why = failure_of(reply, client); !why.empty()) {
                ++r.failed;
                if (r.first_error.empty()) {
                    r.first_error = why;
                }
                return;
            }
            ++r.deleted;
        });
    return r;
}

}  // namespace rtprelay::loadgen
