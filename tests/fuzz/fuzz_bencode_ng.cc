// libFuzzer target: bencode (control/ng/bencode.h), JSON (control/ng/json.h) and NG dispatch
// (control/ng/commands.h).
//
// The input is checked twice:
//  1. As one NG body: decode() it; whatever decodes must encode and decode back to an equal
//     value with a byte-identical encoding (one tree, one encoding).
//  2. As a conversation: values are cut from the front with decode_prefix() and each dict
//     goes through ng::commands::reply_to, as the NG server would after its framing, so an
//     input can hold offer, answer, query and delete of one call. Every reply's bytes must
//     be canonical bencode (the delete/query reply is written without a tree) and decode to
//     a value that encodes and decodes back. A fresh session manager, interfaces and
//     admission per input keep runs reproducible; the flow table lives across inputs and
//     is emptied after each one. An offer or answer that succeeds must return an SDP that
//     parses, with none of the request SDP's keys in it.
//
// An input that starts with '{' or '[' is also read as JSON (what rtpengine-ng-client --json
// sends): whatever decodes must encode and decode back to an equal value, and a JSON object,
// or each object of a JSON array, is a conversation's requests in place of bencode's.
//
// The input is also framed as an NG datagram ("<cookie> <body>", ng::split_datagram, as
// ng_server does before decoding): a frame must be a cookie of 1 to 255 bytes without a
// blank, a blank, and the rest of the input as the body, which decode() must survive too.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "control/admission/admission.h"
#include "control/interfaces.h"
#include "control/log.h"
#include "control/ng/bencode.h"
#include "control/ng/commands.h"
#include "control/ng/json.h"
#include "control/ng/server.h"
#include "control/publish/publisher.h"
#include "control/sdp/sdp.h"
#include "control/session/manager.h"
#include "dataplane/flow_table.h"
#include "dataplane/neighbour_table.h"
#include "tests/fuzz/fuzz_eal.h"

namespace {

using rtprelay::ng::value;

// Requests handled per input: an offer/answer/query/delete round is four; more only adds
// run time per input without reaching new states.
constexpr size_t max_requests = 16;

std::unique_ptr<rtprelay::dp::flow_table> g_flows;
std::unique_ptr<rtprelay::dp::neighbour_table> g_neighbours;
std::unique_ptr<rtprelay::publisher> g_publisher;
// RTPRELAY_FUZZ_VERBOSE=1: one line per request and its result, to check what seeds reach.
bool g_verbose = false;

[[noreturn]] void fail(const char* what, std::string_view detail) {
    std::fprintf(stderr, "fuzz_bencode_ng: %s: %.*s\n", what, static_cast<int>(detail.size()), detail.data());
    std::abort();
}

// decode(encode(v)) == v and encode is a fixed point.
void check_round_trip(const value& v, const char* what) {
    const std::string enc = rtprelay::ng::encode(v);
    std::string error;
    const auto again = rtprelay::ng::decode(enc, &error);
    if (!again) {
        fail(what, "encoding does not decode: " + error);
    }
    if (!(*again == v)) {
        fail(what, "decode(encode(v)) != v");
    }
    if (rtprelay::ng::encode(*again) != enc) {
        fail(what, "encoding is not stable");
    }
}

// Interfaces like a deployment's: a plain-capable default, an SRTP-only trunk, a plain-only
// one with two addresses. Few ports each, so running out of ports is reachable.
void add_interfaces(rtprelay::interface_set& ifs) {
    ifs.add(rtprelay::parse_interface("a address=198.18.1.1/24 dpdk-port=0 ports=30000-30007", 1));
    ifs.add(
        rtprelay::parse_interface("b address=198.18.2.1/24 dpdk-port=1 ports=40000-40007 srtp=required "
                                  "offer-suites=AES_CM_128_HMAC_SHA1_80,AES_CM_128_HMAC_SHA1_32",
                                  2));
    ifs.add(
        rtprelay::parse_interface("c address=198.18.3.1/24,198.18.3.2/24 dpdk-port=1 ports=42000-42003 "
                                  "srtp=off capacity=1M cps=100",
                                  3));
}

// The SDP's lines, without their line endings.
std::vector<std::string_view> sdp_lines(std::string_view sdp) {
    std::vector<std::string_view> out;
    size_t at = 0;
    while (at < sdp.size()) {
        const size_t nl = sdp.find('\n', at);
        std::string_view line = sdp.substr(at, nl == std::string_view::npos ? std::string_view::npos : nl - at);
        if (!line.empty() && line.back() == '\r') {
            line.remove_suffix(1);
        }
        out.push_back(line);
        at = nl == std::string_view::npos ? sdp.size() : nl + 1;
    }
    return out;
}

// The 40-character inline keys of an SDP's a=crypto lines, wherever they are (session
// level, streams that are not RTP, disabled streams), that appear nowhere else in it: text
// the relay copies unchanged may hold the same characters by chance or by design.
std::vector<std::string> inline_keys(std::string_view sdp) {
    std::vector<std::string> keys;
    std::string elsewhere;  // every line but a=crypto lines
    for (const std::string_view line : sdp_lines(sdp)) {
        if (line.rfind("a=crypto:", 0) != 0) {
            elsewhere.append(line).push_back('\n');
            continue;
        }
        for (size_t k = line.find("inline:"); k != std::string_view::npos; k = line.find("inline:", k + 1)) {
            const std::string_view key = line.substr(k + 7, 40);
            if (key.size() == 40 && key.find_first_of("|; \t") == std::string_view::npos) {
                keys.emplace_back(key);
            }
        }
    }
    std::erase_if(keys, [&](const std::string& k) { return elsewhere.find(k) != std::string::npos; });
    return keys;
}

// A successful offer/answer reply: its SDP is the relay's own and must parse, and no key
// of the request's SDP may reach it (each leg gets keys of its own).
void check_sdp_reply(const value& req, const value& reply) {
    const auto out = reply.find_string("sdp");
    if (!out) {
        fail("offer/answer reply", "result ok without sdp");
    }
    std::string error;
    if (!rtprelay::sdp::parse(*out, &error)) {
        fail("reply SDP does not parse", error + "\n--- SDP ---\n" + std::string(*out));
    }
    const std::string_view in_sdp = req.find_string("sdp").value_or("");
    for (const auto& k : inline_keys(in_sdp)) {
        if (out->find(k) != std::string_view::npos) {
            fail("a key of the request's SDP is in the reply", std::string(*out));
        }
    }
}

// from_json(to_json(v)) == v: strings from JSON are valid UTF-8, which to_json keeps as is.
void check_json_round_trip(const value& v) {
    std::string error;
    const std::string text = rtprelay::ng::to_json(v);
    const auto again = rtprelay::ng::from_json(text, &error);
    if (!again) {
        fail("JSON encoding does not decode", error + "\n" + text);
    }
    if (!(*again == v)) {
        fail("JSON", "from_json(to_json(v)) != v");
    }
}

// The requests of a conversation: bencode values cut from the front of the input, or the
// objects of a JSON input.
std::vector<value> requests_of(std::string_view in) {
    std::vector<value> out;
    if (!in.empty() && (in.front() == '{' || in.front() == '[')) {
        if (auto v = rtprelay::ng::from_json(in, nullptr)) {
            if (v->is_list()) {
                for (const value& item : v->as_list()) {
                    if (out.size() < max_requests) {
                        out.push_back(item);
                    }
                }
            } else {
                out.push_back(std::move(*v));
            }
        }
        return out;
    }
    while (out.size() < max_requests && !in.empty()) {
        size_t used = 0;
        auto req = rtprelay::ng::decode_prefix(in, &used, nullptr);
        if (!req || used == 0 || used > in.size()) {
            if (req) {
                fail("decode_prefix", "consumed nothing or more than the input");
            }
            break;
        }
        in.remove_prefix(used);
        out.push_back(std::move(*req));
    }
    return out;
}

void run_conversation(std::string_view in) {
    rtprelay::interface_set ifs;
    add_interfaces(ifs);
    rtprelay::admission adm(800'000, 80'000, 0, ifs.all().size());
    for (const auto& i : ifs.all()) {
        adm.set_interface(i.index, i.capacity_bps, i.cps);
    }
    rtprelay::session_timeouts timeouts;
    timeouts.delete_delay = std::chrono::seconds(in.size() % 3);  // 0 (immediate) or a delay
    auto sessions = std::make_unique<rtprelay::session_manager>(ifs, *g_publisher, timeouts, &adm);
    rtprelay::ng::commands commands(*sessions, [] { return rtprelay::ng::dataplane_report{}; });

    // A fixed clock: the same input always sees the same times.
    auto now = std::chrono::steady_clock::time_point(std::chrono::hours(1000));
    for (const value& request : requests_of(in)) {
        const value* req = &request;
        std::string bytes;  // the reply as ng_server sends it
        try {
            bytes = rtprelay::ng::encode(commands.reply_to(*req, now));
        } catch (const std::bad_alloc&) {
            throw;
        } catch (const std::exception& e) {
            // ng_server turns these into error replies; commands.h promises none for bad input.
            fail("commands::reply_to threw", e.what());
        }
        // The delete/query reply is written without a tree (ng/call_stats.h): its bytes must
        // be canonical bencode by themselves, the one encoding of what they decode to.
        std::string error;
        auto decoded = rtprelay::ng::decode(bytes, &error);
        if (!decoded) {
            fail("reply bytes do not decode", error);
        }
        if (rtprelay::ng::encode(*decoded) != bytes) {
            fail("reply bytes", "not canonical bencode");
        }
        const value reply = std::move(*decoded);
        check_round_trip(reply, "reply");
        const auto cmd = req->find_string("command");
        if ((cmd == "offer" || cmd == "answer") && reply.find_string("result") == "ok") {
            check_sdp_reply(*req, reply);
        }
        if (g_verbose) {
            const auto reason = reply.find_string("error-reason");
            std::fprintf(stderr, "ng: %.*s -> %s%s%.*s\n", cmd ? static_cast<int>(cmd->size()) : 1,
                         cmd ? cmd->data() : "?", std::string(reply.find_string("result").value_or("?")).c_str(),
                         reason ? ": " : "", reason ? static_cast<int>(reason->size()) : 0,
                         reason ? reason->data() : "");
        }
        if (reply.find_string("result") == std::nullopt) {
            fail("reply", "no result string");
        }
        now += std::chrono::seconds(1);
    }
    // Time passes: delete delays, offer and media timeouts fall due.
    sessions->expire(now + std::chrono::hours(2), 0, 1'000'000'000);
    sessions.reset();
    g_flows->reclaim_all();  // no reader registered: every grace period is already over
    if (g_flows->size() != 0) {
        fail("flow table", "entries left after every call ended");
    }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv) {
    rtprelay::log::threshold() = rtprelay::log::level::error;
    g_verbose = std::getenv("RTPRELAY_FUZZ_VERBOSE") != nullptr;
    rtprelay::fuzz::start_eal(*argc > 0 ? (*argv)[0] : nullptr);
    g_flows = std::make_unique<rtprelay::dp::flow_table>(4096, 1, 0);
    g_neighbours = std::make_unique<rtprelay::dp::neighbour_table>(256, 0);
    g_publisher = std::make_unique<rtprelay::publisher>(*g_flows, *g_neighbours, 1);
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view in(reinterpret_cast<const char*>(data), size);

    std::string error;
    if (const auto v = rtprelay::ng::decode(in, &error)) {
        check_round_trip(*v, "decode");
    } else if (error.empty()) {
        fail("decode", "failed without an error message");
    }
    error.clear();
    if (const auto v = rtprelay::ng::from_json(in, &error)) {
        check_json_round_trip(*v);
    } else if (error.empty()) {
        fail("from_json", "failed without an error message");
    }

    if (const auto frame = rtprelay::ng::split_datagram(in)) {
        const auto& [cookie, body] = *frame;
        if (cookie.empty() || cookie.size() > 255 || cookie.find(' ') != std::string_view::npos ||
            cookie.data() != in.data() || body.data() != cookie.data() + cookie.size() + 1 ||
            cookie.size() + 1 + body.size() != in.size() || in[cookie.size()] != ' ') {
            fail("split_datagram", "frame is not <cookie> <body> of the input");
        }
        if (const auto v = rtprelay::ng::decode(body, &error)) {
            check_round_trip(*v, "decode (framed)");
        }
    } else {
        const size_t space = in.find(' ');
        if (space != std::string_view::npos && space != 0 && space <= 255) {
            fail("split_datagram", "a framed datagram refused");
        }
    }

    run_conversation(in);
    return 0;
}
