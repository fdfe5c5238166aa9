#include "relay/ng_log.h"

#include "control/log.h"
#include "control/ng/names.h"

namespace rtprelay {

namespace {
// What a command does, from control/ng/protocol.def.
bool changes_calls(std::string_view cmd) { return ng::effect_of(ng::command_of(cmd)) == ng::command_effect::call; }
bool operator_command(std::string_view cmd) { return ng::effect_of(ng::command_of(cmd)) == ng::command_effect::node; }

void call_fields(log::event& e, const ng::value& request) {
    for (const char* key : {"call-id", "from-tag", "to-tag", "via-branch"}) {
        if (auto v = request.find_string(key)) {
            e.field(key, *v);
        }
    }
}
}  // namespace

void ng_log::done(const ng::value& request, const ng::reply& reply, const ng::peer_info& from, clock::time_point now) {
    const std::string_view cmd = request.find_string("command").value_or("");
    const std::string_view result = reply.result_text();
    if (result == "error" || result == "load limit") {
        // A load limit reply says why in `message`, an error in `error-reason`. Both are
        // trees (only ok replies are ever bencoded before they leave: reply.h).
        static const ng::value none;
        const ng::value& v = reply.tree() != nullptr ? *reply.tree() : none;
        const auto why = v.find_string("error-reason");
        failure(request, result == "error" ? "error" : "load_limit", why ? *why : v.find_string("message").value_or(""),
                from, now);
        return;
    }
    const log::level l = changes_calls(cmd) || operator_command(cmd) ? log::level::info : log::level::debug;
    if (!log::enabled(l)) {
        return;
    }
    log::event e(l, cmd.empty() ? std::string_view("NG request") : cmd);
    call_fields(e, request);
    e.field("result", result);
    if (operator_command(cmd)) {
        e.field("peer", from.to_string());
    }
    if (auto w = reply.warning()) {
        e.field("warning", *w);
    }
}

void ng_log::failed(const ng::value& request, std::string_view what, const ng::peer_info& from, clock::time_point now) {
    failure(request, "error", what, from, now);
}

void ng_log::failure(const ng::value& request, std::string_view result, std::string_view reason,
                     const ng::peer_info& from, clock::time_point now) {
    if (!log::enabled(log::level::warning) || !errors_.allow(now)) {
        return;
    }
    log::event e(log::level::warning, "NG request failed");
    e.field("command", request.find_string("command").value_or(""));
    call_fields(e, request);
    e.field("result", result);
    e.field("error-reason", reason);
    e.field("peer", from.to_string());
}

}  // namespace rtprelay
