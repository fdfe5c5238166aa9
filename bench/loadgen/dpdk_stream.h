#pragma once
// The DPDK mode's streaming phase (--dpdk): media over the generator's own DPDK ports
// (dpdk_link.h) instead of kernel sockets, built so that the generator is not what limits a
// run on a small host. One thread (the EAL main lcore) does everything:
//
// - sends every call's packets on the socket sender's schedule (sender.h: one packet each way
//   per ptime, the calls' phases spread over the period), paced from the TSC, copied from the
//   precomputed store (packet_store.h: RTP or protected SRTP, sequence numbers crossing the
//   16-bit wrap) behind a per-stream Ethernet/IPv4/UDP header template, the UDP checksum
//   from the two precomputed partial sums: ~50 ns a packet, where protecting on the fly
//   cost 110-300 ns;
// - receives everything the relay sends back and demultiplexes it by the relay's source
//   address and port (each leg's own), so the SSRC can be shared between calls; counts
//   unique, duplicate and reordered packets and jitter per stream (stream_stats.h), and the
//   latency from the time the generator recorded for each slot it sent (no stamp inside the
//   payload, which is precomputed and, with SRTP, encrypted);
// - verifies a sample: each stream's first packet (the SRTP receiver learns the rollover
//   counter from it), every packet whose sequence number is a multiple of
//   --dpdk-verify-every (64), and every packet of the first --srtp-check-streams calls, are
//   checked in full: UDP checksum, SRTP
//   authentication and decryption with the key the relay announced (libsrtp2 as well for the
//   checked calls), magic and identity in the payload. A failed check is counted, and the
//   packet is not counted as received;
// - knows when it falls behind: a packet sent more than --late-us after its due time is
//   late, one more than a whole period late is skipped (never sent, never counted as lost;
//   a call's first round is never skipped, since it teaches the relay the rollover counter);
//   and it measures its own busy time (TSC cycles of loop turns that sent or received), so a
//   run says how much of its core the generator used.
//
// --dpdk-wire replaces the relay by a wire (bench/loadgen/wire.cc: port 0 <-> port 1,
// frames unchanged): no NG, calls planned here, frames sent already addressed as the relay
// would send them (from the relay's far-side address to the receiving side), so the receive
// path is the same. That is the generator alone, into a sink that costs it nothing.

#include <cstdint>
#include <string>
#include <vector>

#include "bench/loadgen/call_table.h"
#include "bench/loadgen/dpdk_link.h"
#include "bench/loadgen/options.h"
#include "bench/loadgen/packet_store.h"
#include "bench/loadgen/progress_line.h"
#include "bench/loadgen/summary.h"
#include "control/ng/client.h"

namespace rtprelay::loadgen {

// The streaming phase over `link`: resolves the relay's MAC (ARP, bounded, unless
// --relay-mac or --dpdk-wire), then streams for --duration and drains, like
// run_stream_phase. Fills the same fields of *out, plus the DPDK and generator ones.
// `client` may be null (--dpdk-wire: no relay to ask). False with *error when the relay's
// MAC cannot be learnt or the SRTP contexts cannot be made.
bool run_dpdk_stream_phase(dpdk_link& link, const packet_store& store, const stream_set& streams, const options& opt,
                           ng::ng_client* client, progress_line* progress, run_summary* out, std::string* error);

}  // namespace rtprelay::loadgen
