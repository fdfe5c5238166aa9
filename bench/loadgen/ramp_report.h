#pragma once
// What a ramp (--ramp) reports: a table (default) or one JSON object (--json) of its steps,
// and with --plot a picture of loss, p99 latency and relay load against calls, drawn by
// gnuplot with ramp_plot.gp (the same script bench/compare draws both relays with).

#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "bench/loadgen/options.h"
#include "bench/loadgen/ramp.h"
#include "bench/loadgen/summary.h"

namespace rtprelay::loadgen {

struct ramp_step {
    run_summary summary;
    step_verdict verdict;
};

// The relay's load in one step, in % of a core: rtprelay's busiest worker's busy time over
// the sending time; for a relay without that figure, its process CPU over the same time.
std::optional<double> relay_load_percent(const run_summary& s);
// What relay_load_percent() measured in these steps: "worker busy time", "process CPU" or "".
std::string relay_load_kind(const std::vector<ramp_step>& steps);
// The relay's cost per packet in ns: busy time per relayed packet, or process CPU per
// packet received.
std::optional<double> relay_ns_per_packet(const run_summary& s);

void print_ramp_table(const options& opt, const std::vector<ramp_step>& steps, const ramp_search& search,
                      std::FILE* out);
void print_ramp_json(const options& opt, const std::vector<ramp_step>& steps, const ramp_search& search,
                     std::FILE* out);

// ramp_plot.gp's data: a line per step, by call count (bisection steps come out of order):
// calls, loss %, p99 us, relay load % (NaN when not measured), verdict.
std::string ramp_plot_data(const std::vector<ramp_step>& steps);

// Writes the data (PLOT without extension + ".dat") and the script (+ ".gp") beside `plot`
// and runs gnuplot on them. False, with the reason in *error, when gnuplot is missing or
// fails; the data and script stay, to draw later.
bool write_ramp_plot(const std::string& plot, const std::string& title, const std::vector<ramp_step>& steps,
                     std::string* error);

}  // namespace rtprelay::loadgen
