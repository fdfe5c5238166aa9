#include "relay/ctl/render.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <iterator>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include "dataplane/counters.h"
#include "relay/ctl/table.h"

namespace rtprelay::ctl {

namespace {
using kv_list = std::vector<std::pair<std::string, std::string>>;

std::string int_at(const ng::value& d, std::string_view key) {
    const ng::value* v = d.find(key);
    return std::to_string(v != nullptr ? v->as_integer() : 0);
}

std::string str_at(const ng::value& d, std::string_view key, std::string_view absent = "-") {
    auto s = d.find_string(key);
    return s && !s->empty() ? std::string(*s) : std::string(absent);
}

// Integer members of `d`: the `known` ones first, in that order, then any others by name,
// so counters the daemon adds later still show. Non-integers are left to the caller.
template <size_t N>
kv_list integer_members(const ng::value& d, const std::array<std::string_view, N>& known) {
    kv_list out;
    for (auto k : known) {
        if (const ng::value* v = d.find(k); v != nullptr && v->is_integer()) {
            out.emplace_back(std::string(k), std::to_string(v->as_integer()));
        }
    }
    for (const auto& [k, v] : d.as_dict()) {
        if (v.is_integer() && std::find(known.begin(), known.end(), k) == known.end()) {
            out.emplace_back(k, std::to_string(v.as_integer()));
        }
    }
    return out;
}

// NG `statistics` "dataplane": the counters of worker_counters.def in its order, then the
// totals the daemon adds.
constexpr auto dataplane_keys = [] {
    constexpr size_t n = std::size(dp::worker_counter_list);
    std::array<std::string_view, n + 2> keys{};
    for (size_t i = 0; i < n; ++i) {
        keys[i] = dp::worker_counter_list[i].key;
    }
    keys[n] = "dropped";
    keys[n + 1] = "flows";
    return keys;
}();

std::string upper(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::toupper(c); });
    return out;
}

// "workers": one row per worker, a column per worker-scope counter.
std::string workers_table(const ng::value& dp) {
    const ng::value* workers = dp.find("workers");
    if (workers == nullptr || !workers->is_list() || workers->as_list().empty()) {
        return "";
    }
    text_table t;
    t.add_column("WORKER", text_table::align::right);
    std::vector<std::string_view> keys;
    for (const dp::counter_info& c : dp::worker_counter_list) {
        if (c.scope == dp::counter_scope::worker) {
            keys.push_back(c.key);
            t.add_column(upper(c.key), text_table::align::right);
        }
    }
    for (const ng::value& w : workers->as_list()) {
        std::vector<std::string> row{int_at(w, "worker")};
        for (std::string_view k : keys) {
            row.push_back(int_at(w, k));
        }
        t.add_row(std::move(row));
    }
    return "\n" + t.render();
}

// The drop reasons that dropped anything, with what each means (drop_reasons.def; a reason
// this build does not know, from a newer daemon, shows without).
std::string drops_table(const ng::value& dp) {
    text_table t;
    t.add_column("DROP REASON");
    t.add_column("PACKETS", text_table::align::right);
    t.add_column("MEANING");
    if (const ng::value* d = dp.find("drops"); d != nullptr && d->is_dict()) {
        for (const auto& [reason, n] : d->as_dict()) {
            if (n.is_integer() && n.as_integer() != 0) {
                const std::optional<dp::drop_reason> r = dp::drop_reason_of(reason);
                t.add_row({reason, std::to_string(n.as_integer()),
                           r ? std::string(dp::drop_reason_text(*r)) : std::string()});
            }
        }
    }
    return "\n" + (t.empty() ? std::string("drops by reason: none\n") : t.render());
}

std::string utc_time(std::time_t t) {
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    const size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm);
    return std::string(buf, n);
}

std::string duration_text(int64_t s) {
    if (s < 0) {
        return "in the future";
    }
    std::string out;
    if (s >= 3600) {
        out += std::to_string(s / 3600) + " h ";
    }
    if (s >= 60) {
        out += std::to_string(s / 60 % 60) + " min ";
    }
    out += std::to_string(s % 60) + " s ago";
    return out;
}

std::string totals_table(const ng::value& reply) {
    text_table t;
    t.add_column("TOTALS");
    t.add_column("PACKETS", text_table::align::right);
    t.add_column("BYTES", text_table::align::right);
    t.add_column("ERRORS", text_table::align::right);
    const ng::value* totals = reply.find("totals");
    for (const char* kind : {"RTP", "RTCP"}) {
        const ng::value* k = totals != nullptr ? totals->find(kind) : nullptr;
        static const ng::value none = ng::value::dict();
        const ng::value& s = k != nullptr ? *k : none;
        t.add_row({kind, int_at(s, "packets"), int_at(s, "bytes"), int_at(s, "errors")});
    }
    return t.render();
}

// The daemon lists an RTP media's streams as [RTP, RTCP]; anything else (UDPTL, a plain
// UDP stream) has one. It sends no per-stream kind, so the position tells.
std::string stream_kind(std::string_view protocol, size_t index) {
    if (protocol.find("RTP") == std::string_view::npos) {
        return "udp";
    }
    return index == 0 ? "rtp" : "rtcp";
}
// The call's recording (query's "recording"), when it has or had one:
//   recording: recording (policy from-answer, dual channels, started by policy)
//     pcap      /var/spool/rtprelay/20250101-...-abc.pcap
//     done      /var/spool/rtprelay/done/20250101-...-abc (.pcap .json .wav when finished)
std::string recording_text(const ng::value& reply) {
    const ng::value* r = reply.find("recording");
    if (r == nullptr || !r->is_dict()) {
        return {};
    }
    std::string out = "\nrecording: " + str_at(*r, "state") + " (policy " + str_at(*r, "policy") + ", " +
                      str_at(*r, "channels") + " channels";
    if (auto by = r->find_string("started by"); by && !by->empty()) {
        out += ", started by " + std::string(*by);
    }
    out += ")\n";
    if (auto e = r->find_string("error"); e && !e->empty()) {
        out += "  error     " + std::string(*e) + "\n";
    }
    if (const ng::value* f = r->find("files"); f != nullptr && f->is_dict()) {
        out += "  pcap      " + str_at(*f, "pcap") + "\n";
        out += "  done      " + str_at(*f, "done") + " (.pcap .json .wav when finished)\n";
    }
    if (const ng::value* fin = r->find("finished"); fin != nullptr && fin->is_list()) {
        for (const auto& p : fin->as_list()) {
            out += "  finished  " + (p.is_string() ? p.as_string() : std::string("?")) + "\n";
        }
    }
    return out;
}
}  // namespace

std::string endpoint_text(const ng::value& ep) {
    auto addr = ep.find_string("address");
    const ng::value* port = ep.find("port");
    if (!addr || addr->empty()) {
        return "-";
    }
    const std::string p = port != nullptr ? std::to_string(port->as_integer()) : "?";
    if (addr->find(':') != std::string_view::npos) {
        return "[" + std::string(*addr) + "]:" + p;
    }
    return std::string(*addr) + ":" + p;
}

std::string render_list(const ng::value& reply, size_t limit) {
    std::string out;
    const ng::value* calls = reply.find("calls");
    size_t n = 0;
    if (calls != nullptr) {
        for (const auto& c : calls->as_list()) {
            out += c.as_string() + "\n";
            ++n;
        }
    }
    if (n == 0) {
        out = "no calls\n";
    } else if (n >= limit) {
        out += "(the first " + std::to_string(n) + " calls; --limit shows more)\n";
    }
    return out;
}

std::string render_query(const std::string& call_id, const ng::value& reply, std::time_t now) {
    std::string out = "call " + call_id;
    if (const ng::value* c = reply.find("created"); c != nullptr && c->as_integer() > 0) {
        out += ", created " + utc_time(static_cast<std::time_t>(c->as_integer())) + " (" +
               duration_text(static_cast<int64_t>(now) - c->as_integer()) + ")";
    }
    out += "\n\n";

    text_table t;
    t.add_column("TAG");
    t.add_column("INTERFACE");
    t.add_column("MEDIA");
    t.add_column("PROTOCOL");
    t.add_column("STREAM");
    t.add_column("LOCAL");
    t.add_column("ENDPOINT");
    t.add_column("PACKETS", text_table::align::right);
    t.add_column("BYTES", text_table::align::right);
    t.add_column("ERRORS", text_table::align::right);
    if (const ng::value* tags = reply.find("tags"); tags != nullptr) {
        for (const auto& [key, tag] : tags->as_dict()) {
            const std::string name = str_at(tag, "tag", key.empty() ? "-" : key);
            const std::string iface = str_at(tag, "interface");
            const ng::value* medias = tag.find("medias");
            if (medias == nullptr || medias->as_list().empty()) {
                t.add_row({name, iface, "-", "-", "-", "-", "-", "-", "-", "-"});
                continue;
            }
            for (const auto& m : medias->as_list()) {
                const std::string media = int_at(m, "index") + " " + str_at(m, "type", "");
                const std::string proto = str_at(m, "protocol");
                const ng::value* streams = m.find("streams");
                if (streams == nullptr || streams->as_list().empty()) {
                    t.add_row({name, iface, media, proto, "-", "(no port)", "-", "-", "-", "-"});
                    continue;
                }
                const auto& sl = streams->as_list();
                for (size_t i = 0; i < sl.size(); ++i) {
                    const ng::value& s = sl[i];
                    std::string local = str_at(s, "local address", "?") + ":" + int_at(s, "local port");
                    const ng::value* ep = s.find("endpoint");
                    static const ng::value none = ng::value::dict();
                    const ng::value* st = s.find("stats");
                    const ng::value& stats = st != nullptr ? *st : none;
                    t.add_row({name, iface, media, proto, stream_kind(proto, i), std::move(local),
                               endpoint_text(ep != nullptr ? *ep : none), int_at(stats, "packets"),
                               int_at(stats, "bytes"), int_at(stats, "errors")});
                }
            }
        }
    }
    if (t.empty()) {
        out += "no tags\n";
    } else {
        out += t.render();
    }
    out += "\n" + totals_table(reply);
    out += recording_text(reply);
    return out;
}

std::string render_delete(const std::string& call_id, const ng::value& reply) {
    return "deleted call " + call_id + "\n\n" + totals_table(reply);
}

std::string render_statistics(const ng::value& reply) {
    static const ng::value none = ng::value::dict();
    const ng::value* sp = reply.find("statistics");
    const ng::value& s = sp != nullptr ? *sp : none;
    static constexpr std::array<std::string_view, 6> session_keys = {"sessions", "calls created", "calls deleted",
                                                                     "offers",   "answers",       "refused ports"};
    std::string out = "sessions\n" + key_values(integer_members(s, session_keys), 2);
    // Counters by reason ("calls closed", "refused"): their non-zero members.
    for (const auto& [name, member] : s.as_dict()) {
        // rtpengine's shapes (currentstatistics, ...) repeat the counters shown here.
        if (!member.is_dict() || name == "dataplane" || name.ends_with("statistics") || member.as_dict().empty()) {
            continue;
        }
        kv_list nonzero;
        bool all_integers = true;
        for (const auto& [reason, n] : member.as_dict()) {
            all_integers = all_integers && n.is_integer();
            if (n.as_integer() != 0) {
                nonzero.emplace_back(reason, std::to_string(n.as_integer()));
            }
        }
        if (all_integers) {
            out += "\n" + name + "\n" + (nonzero.empty() ? std::string("  none\n") : key_values(nonzero, 2));
        }
    }
    // NG requests by command and result: the commands that were asked.
    if (const ng::value* req = s.find("ng requests"); req != nullptr && req->is_dict()) {
        text_table t;
        t.add_column("NG COMMAND");
        t.add_column("OK", text_table::align::right);
        t.add_column("ERROR", text_table::align::right);
        t.add_column("LOAD LIMIT", text_table::align::right);
        for (const auto& [command, row] : req->as_dict()) {
            const ng::value* ok = row.find("ok");
            const ng::value* error = row.find("error");
            const ng::value* limit = row.find("load limit");
            if ((ok == nullptr || ok->as_integer() == 0) && (error == nullptr || error->as_integer() == 0) &&
                (limit == nullptr || limit->as_integer() == 0)) {
                continue;
            }
            t.add_row({command, int_at(row, "ok"), int_at(row, "error"), int_at(row, "load limit")});
        }
        if (!t.empty()) {
            out += "\n" + t.render();
        }
    }

    if (const ng::value* dp = s.find("dataplane"); dp != nullptr) {
        out += "\ndata plane\n" + key_values(integer_members(*dp, dataplane_keys), 2);
        out += workers_table(*dp);
        out += drops_table(*dp);
    }

    text_table t;
    t.add_column("INTERFACE");
    t.add_column("ADDRESS");
    t.add_column("PORTS FREE", text_table::align::right);
    t.add_column("PORTS USED", text_table::align::right);
    if (const ng::value* ifs = s.find("interfaces"); ifs != nullptr) {
        for (const auto& i : ifs->as_list()) {
            const std::string name = str_at(i, "name");
            const ng::value* addrs = i.find("addresses");
            if (addrs == nullptr || addrs->as_list().empty()) {
                t.add_row({name, "-", "-", "-"});
                continue;
            }
            for (const auto& a : addrs->as_list()) {
                t.add_row({name, str_at(a, "address"), int_at(a, "ports free"), int_at(a, "ports used")});
            }
        }
    }
    out += "\n";
    out += t.empty() ? std::string("no interfaces\n") : t.render();
    return out;
}

}  // namespace rtprelay::ctl

namespace rtprelay::ctl {

namespace {
int64_t cap_int(const ng::value& d, std::string_view key) {
    const ng::value* v = d.find(key);
    return v != nullptr && v->is_integer() ? v->as_integer() : 0;
}

std::string mbps(int64_t bps) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.3f", static_cast<double>(bps) / 1e6);
    return buf;
}

std::vector<std::string> budget_cells(const std::string& name, const ng::value& b) {
    const int64_t cap = cap_int(b, "capacity bps");
    const int64_t permille = cap_int(b, "utilisation permille");
    return {name,
            cap == 0 ? "unlimited" : mbps(cap),
            mbps(cap_int(b, "reserved bps")),
            std::to_string(cap_int(b, "calls")),
            cap == 0 ? "-" : std::to_string(cap_int(b, "calls capacity")),
            cap == 0 ? "-" : std::to_string(permille / 10) + "." + std::to_string(permille % 10) + "%",
            cap_int(b, "cps limit") == 0 ? "-" : std::to_string(cap_int(b, "cps limit"))};
}
}  // namespace

std::string render_capacity(const ng::value& reply) {
    static const ng::value none = ng::value::dict();
    text_table t;
    t.add_column("budget");
    t.add_column("capacity Mbit/s", text_table::align::right);
    t.add_column("reserved Mbit/s", text_table::align::right);
    t.add_column("calls", text_table::align::right);
    t.add_column("max calls", text_table::align::right);
    t.add_column("used", text_table::align::right);
    t.add_column("cps limit", text_table::align::right);
    const ng::value* node = reply.find("node");
    t.add_row(budget_cells("node", node != nullptr ? *node : none));
    if (const ng::value* ifs = reply.find("interfaces"); ifs != nullptr && ifs->is_list()) {
        for (const ng::value& i : ifs->as_list()) {
            const ng::value* name = i.find("name");
            t.add_row(budget_cells("interface " + (name != nullptr && name->is_string() ? name->as_string() : "?"), i));
        }
    }
    const auto mode = reply.find_string("call bandwidth");
    const bool wire = mode && *mode == "wire";
    std::string out =
        (wire ? "each leg reserves its wire cost (G.711 RTP over IPv4: " + mbps(cap_int(reply, "call bps")) +
                    " Mbit/s) per direction"
              : "each call reserves " + mbps(cap_int(reply, "call bps")) + " Mbit/s per direction") +
        (cap_int(reply, "draining") != 0 ? "; DRAINING: new calls are refused" : "") + "\n" + t.render();
    if (reply.find("bandwidth for calls bps") != nullptr) {
        out += "bandwidth for the calls asked: " + mbps(cap_int(reply, "bandwidth for calls bps")) +
               " Mbit/s per direction\n";
    }
    if (reply.find("calls for bandwidth") != nullptr) {
        out += "calls that fit the bandwidth asked: " + std::to_string(cap_int(reply, "calls for bandwidth")) + "\n";
    }
    return out;
}

}  // namespace rtprelay::ctl
