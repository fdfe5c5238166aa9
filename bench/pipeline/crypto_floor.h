#pragma once
// The batched crypto floor, measured in the same process as the pipeline so the two can be
// compared on this shared machine: the worker's own burst_crypto (same intel-ipsec-mb code
// path) runs one cipher burst and one hash burst over 32 packets of 172 bytes, each packet
// with another call's keys, drawn round-robin from `keys` contexts (so key schedules and pad
// states come from memory as they do at 10k+ calls). That is one direction of SRTP per
// packet; an SRTP<->SRTP packet needs two.

#include <cstdint>
#include <string>

namespace rtprelay::pipeline {

struct floor_figures {
    std::string arch;  // intel-ipsec-mb code path
    uint32_t keys = 0;
    double ns_per_direction = 0;  // per packet, median of rounds (TSC)
};

// `arch`: an imb_arch_name() to use that code path, "" to let burst_crypto pick.
floor_figures measure_crypto_floor(uint32_t keys, uint32_t bursts_per_round, uint32_t rounds, const std::string& arch);

}  // namespace rtprelay::pipeline
