#pragma once
// One run of one mode with `workers` workers: a relay set up afresh (calls through the
// session manager), the streams spread over the workers' queues (each on its owner's, or a
// --misroute share on another's), a lane per worker started on its lcore, the timed run,
// then the paced run if asked (--rate/--load: its rate from this run's ceiling), and the
// checks (delivery, zero drops, samples through libsrtp2, one latency stamp per packet).

#include <cstdint>

#include "bench/pipeline/eal_env.h"
#include "bench/pipeline/options.h"
#include "bench/pipeline/report.h"

namespace rtprelay::pipeline {

class perf_control;

// Appends the run's figures (and paced figures, checks, setup) to *r. `perf` (may be null):
// enabled around each timed pass (perf_control.h).
void run_once(eal_env& env, const options& opt, scenario sc, uint32_t workers, scenario_result* r,
              perf_control* perf = nullptr);

// The calling thread's CPU without the relay: a bare loop reading the TSC for `seconds` (at
// SCHED_FIFO with `realtime`) counts the gaps in which the thread did not run. On a VM they
// come from the host; every packet that arrives during one waits it out, so they bound from
// below what the paced latency tail can show on this machine.
cpu_gaps probe_cpu_gaps(double seconds, bool realtime);

}  // namespace rtprelay::pipeline
