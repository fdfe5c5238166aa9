#pragma once
// Command-line options of rtprelay-loadgen. Every option is on the command line only; the
// load generator has no config file.

#include <cstdint>
#include <optional>
#include <string>

namespace rtprelay::loadgen {

struct options {
    std::string ng = "127.0.0.1:2223";  // NG control address of the relay (host:port)
    uint32_t calls = 100;
    double duration_s = 10.0;           // streaming time, seconds
    double setup_rate = 0.0;            // offers per second; 0 = as fast as replies come
    std::string ns_a;                   // network namespace of the caller side ("" = ours)
    std::string ns_b;                   // network namespace of the callee side
    std::string addr_a = "127.0.0.1";   // written in A's SDP and bound by A's sockets
    std::string addr_b = "127.0.0.1";
    uint32_t sockets = 0;               // per side; 0 = from the call count, 1..4
    std::string interface_a;            // NG direction: [interface_a, interface_b]
    std::string interface_b;
    uint32_t payload_bytes = 160;       // RTP payload, bytes (G.711 at 20 ms)
    uint32_t ptime_ms = 20;
    bool rtcp = false;                  // one sender report per stream every 5 s
    std::optional<int> relay_pid;       // report the relay's CPU time over the streaming window
    bool json = false;
    bool keep = false;                  // leave the calls on the relay at the end
    uint32_t ng_timeout_ms = 1000;      // per NG attempt
    uint32_t ng_retries = 2;            // retransmits after the first attempt
    double drain_s = 0.5;               // receive-only time after the last packet is sent

    // Sockets per side actually used: the option, or 1 per 256 calls capped at 4.
    uint32_t effective_sockets() const;
};

// The bytes of payload the receiver needs to measure a packet: magic, call index, send time.
inline constexpr uint32_t min_payload_bytes = 16;
inline constexpr uint32_t max_payload_bytes = 1400;

enum class parse_outcome : uint8_t { run, exit_ok, exit_error };

// Parses argv into *out. Prints --help to stdout (exit_ok) and errors to stderr (exit_error),
// naming the option and the reason.
parse_outcome parse_options(int argc, char** argv, options* out);

}  // namespace rtprelay::loadgen
