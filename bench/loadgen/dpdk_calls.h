#pragma once
// The DPDK mode's calls and sender identities (--dpdk): the precomputed packet store a
// process's runs share, the keys and SSRCs each call takes from it, and --dpdk-wire's calls
// set up without a relay. Main thread, before each run's streaming phase (dpdk_stream.h).

#include <random>
#include <vector>

#include "bench/loadgen/call_table.h"
#include "bench/loadgen/options.h"
#include "bench/loadgen/packet_store.h"

namespace rtprelay::loadgen {

// The store for a process's runs: as many sender identities as the run's streams (the ramp's
// largest step) or as --dpdk-store-mb holds, rounds for --duration. Prints what it built.
packet_store make_packet_store(const options& opt, std::mt19937_64& rng);

// Before setup: each call offers its identities' keys (call c: side A identity 2c, side B
// 2c + 1, modulo the store's identities).
void use_identity_keys(const packet_store& store, std::vector<call_record>* calls);
// After plan_streams: each stream takes its identity's SSRC, first sequence number and
// timestamp (the receiver's statistics start from them).
void use_identities(const packet_store& store, stream_set* streams);
// --dpdk-wire: `calls` as if a relay had set them up, its two sides at fixed addresses
// (198.19.255.1 facing A, .2 facing B, never on any network: the wire has none), leg ports
// from 10000; with SRTP, each side receives what the other protected (a wire does not
// re-key).
void set_up_wire_calls(std::vector<call_record>* calls);

}  // namespace rtprelay::loadgen
