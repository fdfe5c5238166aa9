// rtprelay-ctl: the operator's view of a running rtprelay over its NG control port.
//   rtprelay-ctl [--ng HOST:PORT] [--json] [--timeout MS] COMMAND [ARGS]
// Exit status: 0 done, 1 the daemon did not answer or answered with an error, 2 usage.

#include <boost/program_options.hpp>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "control/ng/bencode.h"
#include "control/ng/client.h"
#include "control/ng/json.h"
#include "relay/ctl/render.h"

namespace po = boost::program_options;
using rtprelay::ng::value;

namespace {

constexpr const char* usage_text =
    "usage: rtprelay-ctl [--ng HOST:PORT] [--json] [--timeout MS] COMMAND [ARGS]\n"
    "\n"
    "commands:\n"
    "  ping              check that the daemon answers\n"
    "  list              call-ids of the current calls (--limit N, default 500)\n"
    "  query CALL-ID     a call's tags, media and streams: ports, endpoints, packets, bytes, errors\n"
    "  delete CALL-ID    end a call and free its ports (prints its final totals)\n"
    "  statistics        sessions, data plane counters, drops by reason, ports per interface address\n"
    "  capacity          bandwidth budget and reservation of the node and each interface;\n"
    "                    --calls N: bandwidth N calls need; --bandwidth B (e.g. 1G): calls that fit\n"
    "  drain / undrain   stop / resume admitting new calls (existing calls keep going)\n"
    "  group             a node of a group: Redis, media address leases and their holders, the nodes\n"
    "                    and their calls\n"
    "  handover NODE     move every call and media address of this node to NODE (same group) and\n"
    "                    wait until NODE serves them (--timeout applies per poll; 15 s in all)\n";

struct ctl_options {
    std::string ng = "127.0.0.1:2223";
    bool json = false;
    unsigned timeout_ms = 1000;
    // The reply is one UDP datagram (< 64 KB): 500 call-ids of ~100 bytes fit.
    unsigned limit = 500;
    long long calls = -1;   // capacity --calls
    std::string bandwidth;  // capacity --bandwidth
    std::string command;
    std::vector<std::string> args;
};

constexpr int tries = 3;

struct usage_error : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// nullopt: --help was printed.
std::optional<ctl_options> parse(int argc, char** argv) {
    ctl_options o;
    po::options_description opts("options");
    // clang-format off
    // Boost option tables, one option per line (clang-format 14 honours only the bare
    // "clang-format off" comment, with nothing after it).
    opts.add_options()
        ("help,h", "print this help and exit")
        ("ng", po::value(&o.ng)->default_value(o.ng), "the daemon's NG address (its --ng-listen)")
        ("json", po::bool_switch(&o.json), "print the daemon's reply as JSON instead of tables")
        ("timeout", po::value(&o.timeout_ms)->default_value(o.timeout_ms),
         "milliseconds to wait for a reply per try (3 tries)")
        ("limit", po::value(&o.limit)->default_value(o.limit),
         "list: at most this many call-ids (the reply must fit one 64 KB datagram)")
        ("calls", po::value(&o.calls), "capacity: how much bandwidth this many calls need")
        ("bandwidth", po::value(&o.bandwidth), "capacity: how many calls fit in this bandwidth (e.g. 1G, 800M)");
    po::options_description hidden;
    hidden.add_options()
        ("command", po::value(&o.command))
        ("args", po::value(&o.args)->composing());
    // clang-format on
    po::options_description all;
    all.add(opts).add(hidden);
    po::positional_options_description pos;
    pos.add("command", 1).add("args", -1);
    po::variables_map vm;
    po::store(po::command_line_parser(argc, argv).options(all).positional(pos).run(), vm);
    po::notify(vm);
    if (vm.count("help") != 0) {
        std::cout << usage_text << "\n" << opts;
        return std::nullopt;
    }
    if (o.command.empty()) {
        throw usage_error("no command given");
    }
    if (o.timeout_ms == 0) {
        throw usage_error("--timeout must be at least 1 ms");
    }
    if (o.limit == 0) {
        throw usage_error("--limit must be at least 1");
    }
    return o;
}

// The NG request for the command line, checking the argument count.
value make_request(const ctl_options& o) {
    auto want_args = [&](size_t n, const char* what) {
        if (o.args.size() != n) {
            throw usage_error(o.command + (n == 0 ? " takes no arguments" : std::string(" needs ") + what));
        }
    };
    value req = value::dict();
    if (o.command == "ping" || o.command == "statistics") {
        want_args(0, "");
    } else if (o.command == "list") {
        want_args(0, "");
        req.set("limit", value::integer(o.limit));
    } else if (o.command == "capacity") {
        want_args(0, "");
        if (o.calls >= 0) {
            req.set("calls", value::integer(o.calls));
        }
        if (!o.bandwidth.empty()) {
            req.set("bandwidth", value::str(o.bandwidth));
        }
    } else if (o.command == "drain" || o.command == "undrain" || o.command == "group") {
        want_args(0, "");
    } else if (o.command == "handover") {
        want_args(1, "the NODE to hand over to");
        req.set("to", value::str(o.args[0]));
    } else if (o.command == "query" || o.command == "delete") {
        want_args(1, "a CALL-ID");
        req.set("call-id", value::str(o.args[0]));
    } else {
        throw usage_error("unknown command '" + o.command + "'");
    }
    req.set("command", value::str(o.command));
    return req;
}

std::string render(const ctl_options& o, const value& reply, std::chrono::microseconds rtt) {
    if (o.command == "ping") {
        char ms[32];
        std::snprintf(ms, sizeof ms, "%.1f", static_cast<double>(rtt.count()) / 1000.0);
        return "pong from " + o.ng + " in " + ms + " ms\n";
    }
    if (o.command == "list") {
        return rtprelay::ctl::render_list(reply, o.limit);
    }
    if (o.command == "query") {
        return rtprelay::ctl::render_query(o.args[0], reply, std::time(nullptr));
    }
    if (o.command == "delete") {
        return rtprelay::ctl::render_delete(o.args[0], reply);
    }
    if (o.command == "capacity") {
        return rtprelay::ctl::render_capacity(reply);
    }
    if (o.command == "group") {
        return rtprelay::ctl::render_group(reply);
    }
    if (o.command == "handover") {
        return "handover to " + o.args[0] + " started (" +
               std::to_string(reply.find("calls") != nullptr ? reply.find("calls")->as_integer() : 0) + " calls)\n";
    }
    if (o.command == "drain" || o.command == "undrain") {
        const value* d = reply.find("draining");
        const value* n = reply.find("sessions");
        return std::string(d != nullptr && d->as_integer() != 0 ? "draining: new calls are refused"
                                                                : "admitting new calls") +
               " (" + std::to_string(n != nullptr ? n->as_integer() : 0) + " calls open)\n";
    }
    return rtprelay::ctl::render_statistics(reply);
}

// After `handover` started: polls `group` until the node has handed everything over.
int wait_for_handover(const ctl_options& o, rtprelay::ng::ng_client& client) {
    value req = value::dict();
    req.set("command", value::str("group"));
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
    std::string error;
    while (std::chrono::steady_clock::now() < deadline) {
        auto reply = client.request(req, std::chrono::milliseconds(o.timeout_ms), tries - 1, &error);
        const value* h = reply ? reply->find("handover") : nullptr;
        const auto phase = h != nullptr ? h->find_string("phase") : std::nullopt;
        // With floating NG addresses the node's NG address moves too: once the target
        // answers on it, the target holds everything the node had.
        const auto node = reply ? reply->find_string("node") : std::nullopt;
        if ((phase && *phase == "done") || (node && *node == o.args[0])) {
            if (!o.json) {
                std::cout << "handed over to " << o.args[0] << "\n" << rtprelay::ctl::render_group(*reply);
            }
            return 0;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    std::cerr << "rtprelay-ctl: handover to " << o.args[0] << " not done after 15 s" << (error.empty() ? "" : ": ")
              << error << "\n";
    return 1;
}

int run(const ctl_options& o) {
    const value req = make_request(o);
    std::optional<rtprelay::ng::ng_client> client;
    try {
        client.emplace(o.ng);
    } catch (const std::invalid_argument&) {
        throw usage_error("--ng: bad address '" + o.ng + "' (want HOST:PORT or [V6]:PORT)");
    }
    std::string error;
    const auto start = std::chrono::steady_clock::now();
    auto reply = client->request(req, std::chrono::milliseconds(o.timeout_ms), tries - 1, &error);
    const auto rtt = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - start);
    if (!reply) {
        if (error.rfind("no reply", 0) == 0) {
            error += " \u2014 is rtprelay running and is this address allowed?";
        }
        std::cerr << "rtprelay-ctl: " << error << "\n";
        return 1;
    }
    const std::string result(reply->find_string("result").value_or(""));
    const bool ok = result == (o.command == "ping" ? "pong" : "ok");
    if (o.json) {
        std::cout << rtprelay::ng::to_json(*reply, 2) << "\n";
    } else if (ok) {
        std::cout << render(o, *reply, rtt);
    }
    if (auto w = reply->find_string("warning")) {
        std::cerr << "rtprelay-ctl: warning: " << *w << "\n";
    }
    if (!ok) {
        auto reason = reply->find_string("error-reason");
        std::cerr << "rtprelay-ctl: " << o.command
                  << " failed: " << (reason ? std::string(*reason) : "result '" + result + "'") << "\n";
        return 1;
    }
    if (o.command == "handover") {
        return wait_for_handover(o, *client);
    }
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    try {
        auto o = parse(argc, argv);
        if (!o) {
            return 0;
        }
        return run(*o);
    } catch (const usage_error& e) {
        std::cerr << "rtprelay-ctl: " << e.what() << "\n" << usage_text;
        return 2;
    } catch (const po::error& e) {
        std::cerr << "rtprelay-ctl: " << e.what() << "\n" << usage_text;
        return 2;
    } catch (const std::exception& e) {
        std::cerr << "rtprelay-ctl: " << e.what() << "\n";
        return 1;
    }
}
