#pragma once
// --perf-ctl: the timed passes alone under `perf record` / `perf stat`. The benchmark's own
// set-up (calls, and SRTP packets protected by the generator, outside the timed region) and
// its generator-only passes would otherwise dominate a whole-process profile. perf starts
// with its events disabled (`-D -1`) and listens on a control FIFO (`--control
// fifo:CTL[,ACK]`); the benchmark writes "enable" before each timed pass and "disable" after
// it, and with an ACK FIFO waits for perf's answer each time, so that no sample of the pass
// is lost at its start. What is left in the profile besides the worker (poll_once,
// flush_tx) is the generator's copy into mbufs and the sink (lane::inject, lane::sink),
// named functions a reader subtracts. Costs two FIFO writes (and reads) per chunk of
// ~0.5 M packets, outside the timed region.

#include <string>

namespace rtprelay::pipeline {

class perf_control {
 public:
    // `spec`: "CTL" or "CTL,ACK", paths of FIFOs perf was given. Empty: does nothing.
    // Throws std::runtime_error when a FIFO cannot be opened.
    explicit perf_control(const std::string& spec);
    ~perf_control();
    perf_control(const perf_control&) = delete;
    perf_control& operator=(const perf_control&) = delete;

    void enable() { command("enable\n"); }
    void disable() { command("disable\n"); }

 private:
    void command(const char* text);
    int ctl_ = -1;
    int ack_ = -1;
};

}  // namespace rtprelay::pipeline
