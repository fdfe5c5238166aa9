#pragma once
// The DPDK mode (--dpdk): media over the generator's own DPDK ports instead of kernel
// sockets, for rates the kernel cannot generate on a small host. One thread (the EAL main
// lcore) does everything: paces the calls' packets from the TSC on the same schedule as the
// socket sender (sender.h), builds Ethernet/IPv4/UDP frames around the same RTP/SRTP
// packets (rtp_wire.h, srtp_streams.h), sends them in bursts, polls RX and measures what
// comes back with the socket mode's receiver (receiver.h: SSRC demultiplexing, stream
// statistics, latency histogram), and answers ARP for its two addresses. NG stays on a
// kernel socket (main.cc). Transports: a net_memif client of the relay's memif server (same
// host or namespace; copy mode works without hugepages), or net_af_packet on a veth.

#include <cstdint>
#include <memory>
#include <string>

#include "bench/loadgen/call_table.h"
#include "bench/loadgen/options.h"
#include "bench/loadgen/progress_line.h"
#include "bench/loadgen/side_sockets.h"
#include "bench/loadgen/summary.h"
#include "control/ng/client.h"

namespace rtprelay::loadgen {

class dpdk_link;

// EAL (from opt.eal), the mbuf pool and the ports of both sides, started and with their link
// up (waits up to 5 s: a memif client needs its server). Throws std::runtime_error naming
// the step. Once per process: the EAL cannot be initialised twice.
std::unique_ptr<dpdk_link, void (*)(dpdk_link*)> open_dpdk_link(const options& opt);

// The UDP ports each side uses in --dpdk mode, in side_sockets form for the SDP writer
// (call_setup.h); no file descriptors.
side_sockets dpdk_side_ports(uint32_t count, uint16_t first_port);

// The streaming phase over `link`: resolves the relay's MAC (ARP, bounded, unless
// --relay-mac), then streams for --duration and drains, like run_stream_phase. Fills the
// same fields of *out, plus the DPDK ones. False with *error when the relay's MAC cannot be
// learnt or the SRTP contexts cannot be made.
bool run_dpdk_stream_phase(dpdk_link& link, const stream_set& streams, const options& opt,
                           ng::ng_client* client, progress_line* progress, run_summary* out,
                           std::string* error);

}  // namespace rtprelay::loadgen
