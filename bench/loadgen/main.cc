// rtprelay-loadgen: sets up --calls calls on a relay over NG, streams RTP both ways for
// --duration, asks the relay what it counted, deletes the calls and prints the result.
// Exit status 0 when every call was set up, 1 otherwise (loss is reported, not judged).

#include <unistd.h>

#include <cstdio>
#include <exception>
#include <memory>
#include <random>
#include <string>

#include "bench/loadgen/call_setup.h"
#include "bench/loadgen/call_table.h"
#include "bench/loadgen/call_teardown.h"
#include "bench/loadgen/options.h"
#include "bench/loadgen/progress_line.h"
#include "bench/loadgen/side_sockets.h"
#include "bench/loadgen/stop_signal.h"
#include "bench/loadgen/stream_phase.h"
#include "bench/loadgen/summary.h"
#include "control/ng/client.h"

namespace lg = rtprelay::loadgen;

namespace {

int fail(const std::string& what) {
    std::fprintf(stderr, "rtprelay-loadgen: %s\n", what.c_str());
    return 1;
}

}  // namespace

int main(int argc, char** argv) {
    lg::options opt;
    switch (lg::parse_options(argc, argv, &opt)) {
        case lg::parse_outcome::run:
            break;
        case lg::parse_outcome::exit_ok:
            return 0;
        case lg::parse_outcome::exit_error:
            return 2;
    }

    const uint32_t sockets = opt.effective_sockets();
    lg::side_sockets side_a;
    lg::side_sockets side_b;
    std::string error;
    if (!lg::open_side_sockets(opt.ns_a, opt.addr_a, sockets, opt.rtcp, &side_a, &error)) {
        return fail("side A sockets: " + error);
    }
    if (!lg::open_side_sockets(opt.ns_b, opt.addr_b, sockets, opt.rtcp, &side_b, &error)) {
        return fail("side B sockets: " + error);
    }

    std::unique_ptr<rtprelay::ng::ng_client> client;
    try {
        client = std::make_unique<rtprelay::ng::ng_client>(opt.ng);
    } catch (const std::exception& e) {
        return fail("--ng " + opt.ng + ": " + e.what());
    }

    lg::install_stop_handler();
    lg::progress_line progress;
    std::vector<lg::call_record> calls = lg::make_calls(opt.calls, sockets, ::getpid());
    const lg::setup_result setup =
        lg::set_up_calls(*client, opt, side_a, side_b, &calls, &progress);

    lg::run_summary summary;
    summary.ng = opt.ng;
    summary.calls_requested = opt.calls;
    summary.calls_set_up = setup.ok;
    summary.calls_failed = setup.failed;
    summary.first_error = setup.first_error;
    summary.failures = setup.by_reason;
    summary.setup_seconds = setup.seconds;

    if (setup.ok > 0) {
        std::mt19937_64 rng(std::random_device{}());
        const lg::stream_set streams = lg::plan_streams(calls, rng);
        if (!lg::run_stream_phase(streams, side_a, side_b, opt, &progress, &summary, &error)) {
            progress.finish();
            std::fprintf(stderr, "rtprelay-loadgen: streaming: %s\n", error.c_str());
        }
        summary.relay = lg::query_calls(*client, opt, calls);
    }
    if (!opt.keep) {
        summary.deleted = lg::delete_calls(*client, opt, calls);
    }
    progress.finish();
    summary.interrupted = lg::stop_requested();

    if (opt.json) {
        lg::print_json(summary, stdout);
    } else {
        lg::print_table(summary, stdout);
    }
    return setup.failed == 0 && setup.ok == opt.calls ? 0 : 1;
}
