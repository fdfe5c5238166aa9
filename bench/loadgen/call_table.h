#pragma once
// The calls of one run and the RTP streams planned from them. Setup (main thread) fills
// the call records; plan_streams() turns the ones that were set up into immutable stream
// plans that the sender and receiver threads only read.

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "bench/loadgen/endpoint_sdp.h"
#include "bench/loadgen/ssrc_index.h"

namespace rtprelay::loadgen {

enum class side : uint8_t { a = 0, b = 1 };

struct call_record {
    uint32_t index = 0;         // the call index written into every payload
    std::string call_id;
    std::string from_tag;       // A's tag
    std::string to_tag;         // B's tag
    uint32_t socket_index = 0;  // socket used on both sides: index % sockets
    bool offered = false;       // the relay accepted the offer: the call exists there
    bool set_up = false;        // offer and answer both returned "ok" with a usable SDP
    std::string error;          // why not, when !set_up
    media_target a_sends_to;    // the relay's side facing A (from the answer's reply)
    media_target b_sends_to;    // the relay's side facing B (from the offer's reply)
};

// Calls named "lg-<pid>-<i>" with tags "lg-<pid>-<i>-a" / "-b".
std::vector<call_record> make_calls(uint32_t count, uint32_t sockets, int pid);

struct stream_plan {
    uint32_t call_index = 0;
    side from = side::a;        // the sending side; the receiving side is the other one
    uint32_t socket_index = 0;
    uint32_t ssrc = 0;
    uint16_t first_seq = 0;
    uint32_t first_ts = 0;
    net_address rtp_dst;        // where the sending side's packets go (the relay)
    net_address rtcp_dst;
};

struct stream_set {
    // Streams 2k (A->B) and 2k+1 (B->A) belong to the k-th call that was set up.
    std::vector<stream_plan> streams;
    ssrc_index by_ssrc;
};

// Two streams per set-up call, each with a distinct random SSRC and random first
// sequence number and timestamp (RFC 3550 section 5.1).
stream_set plan_streams(const std::vector<call_record>& calls, std::mt19937_64& rng);

}  // namespace rtprelay::loadgen
