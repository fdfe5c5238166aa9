#pragma once
// The measured loop, one burst per turn: take 32 mbufs from the pool and copy a chunk's
// frames into them (the generator), put them on a port's RX ring, call the worker's
// poll_once() and flush_tx() (timed with the TSC, nothing else is), report an RCU
// quiescent state as worker::run() does, then take everything off both TX rings and free
// it (the sink), keeping one output frame in `sample_every` for the checks.
//
// This machine is shared: a thread that is switched out inside the timed region adds the
// time it was away. The loop counts context switches (getrusage, outside the timed region)
// around every window of 8 bursts and keeps the windows with none as the worker's figure;
// the raw TSC total is kept beside it.
//
// generator_pass() is the same loop without the worker (frames go on the RX ring and come
// straight back off it), so what the generator and sink cost can be told apart.

#include <array>
#include <cstdint>
#include <vector>

#include "bench/pipeline/eal_env.h"
#include "bench/pipeline/traffic.h"

namespace rtprelay::pipeline {

class relay_under_test;

struct output_sample {
    uint8_t side = 0;  // port it was sent from
    uint16_t len = 0;
    std::array<uint8_t, frame_chunk::stride> bytes{};
};

struct loop_totals {
    uint64_t injected[2] = {0, 0};   // per RX side
    uint64_t delivered[2] = {0, 0};  // per TX side
    uint64_t worker_cycles = 0;      // TSC cycles inside poll_once + flush_tx, all windows
    uint64_t clean_cycles = 0;       // the same in windows without a context switch
    uint64_t clean_packets = 0;      // packets injected in those windows
    uint64_t loop_cpu_ns = 0;        // thread CPU time of the whole loop (generator, worker, sink)
    uint64_t outputs = 0;            // sampling position
    std::vector<output_sample> samples;
};

void worker_pass(eal_env& env, relay_under_test& relay, const frame_chunk& c, uint32_t sample_every, loop_totals* t);

// Thread CPU nanoseconds the loop takes over the chunk without the worker.
uint64_t generator_pass(eal_env& env, const frame_chunk& c);

}  // namespace rtprelay::pipeline
