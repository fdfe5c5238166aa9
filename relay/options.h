#pragma once
// rtprelay's options: one INI file (--config) read with Boost.Program_options, every
// option also on the command line (which wins). A bad value stops start-up with a message
// naming the option.

#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "control/ha/config.h"

namespace rtprelay {

struct options_error : std::runtime_error {
    using std::runtime_error::runtime_error;
};

struct relay_options {
    std::vector<std::string> eal_args;  // passed to rte_eal_init after argv[0]
    unsigned workers = 1;               // worker lcores (each polls one queue per port)
    unsigned mbufs = 8191;              // mbuf pool size
    unsigned max_flows = 65536;         // flow table capacity (4 per relayed stream pair)
    unsigned max_neighbours = 4096;
    unsigned idle_sleep_us = 0;           // back-off after empty polls; 0 = pure polling
    std::string flow_steering = "auto";   // auto | off | sender (dataplane/steering.h)
    std::vector<std::string> interfaces;  // "NAME key=value ..." (control/interfaces.h)
    std::string srtp_engine = "native";   // native | libsrtp2
    std::string ng_listen = "127.0.0.1:2223";
    std::vector<std::string> ng_allow;  // empty = loopback only
    unsigned ng_cache_entries = 10000;
    unsigned ng_cache_age = 30;          // seconds
    std::string capacity = "0";          // node bandwidth budget per direction ("1G"), 0 = none
    std::string call_bandwidth = "80k";  // reserved per call per direction
    double max_cps = 0;                  // new calls per second for the node, 0 = no limit
    unsigned timeout = 60;               // seconds without media before an answered call ends
    unsigned silent_timeout = 3600;      // the same while on hold
    unsigned offer_timeout = 3600;       // an offer never answered
    unsigned final_timeout = 0;          // absolute call length; 0 = none
    unsigned delete_delay = 0;           // seconds between NG delete and the call's end
    unsigned drain_time = 60;            // seconds calls may keep relaying after SIGTERM; 0 = exit at once
    unsigned stats_interval = 0;         // seconds between counter log lines; 0 = off
    std::string metrics_listen;          // Prometheus /metrics ADDR:PORT; empty = off
    // Call recording (control/recording/): policy for every interface that does not set its
    // own, where files go, what runs when one is complete, and the recorder's bounds.
    std::string recording = "off";            // off | from-answer | from-ringing
    std::string recording_channels = "dual";  // mixed | dual
    std::string recording_dir;                // empty = recording unavailable
    std::string recording_command;            // run with each finished recording's paths; empty = none
    unsigned recording_open_files = 4096;     // pcap files the recorder keeps open at once
    unsigned recording_flush_ms = 500;        // a recording's buffered packets reach its file within 17/16 of this
    unsigned recording_ring_mb = 32;          // MiB of ring per worker to the recorder (power of two)
    std::string log_level = "info";
    bool check_config = false;      // validate options and interfaces, then exit (no EAL)
    bool ng_float_release = false;  // remove the floating NG addresses from the interface, then exit
    ha::group_options group;        // high availability; group empty = a node on its own
};

// Returns nullopt when --help or --version printed something and the program should exit 0.
std::optional<relay_options> parse_options(int argc, char** argv);

}  // namespace rtprelay
