#pragma once
// The calls of one run and the RTP streams planned from them. Setup (main thread) fills
// the call records; plan_streams() turns the ones that were set up into immutable stream
// plans that the sender and receiver threads only read.

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "bench/loadgen/call_legs.h"
#include "bench/loadgen/endpoint_sdp.h"
#include "bench/loadgen/stream_index.h"

namespace rtprelay::loadgen {

enum class side : uint8_t { a = 0, b = 1 };

// The DPDK mode's stream_index key for where a packet arrives from: the receiving side, the
// relay's address (network order) and port (host order).
inline uint64_t endpoint_key(side at, uint32_t ip, uint16_t port) {
    return uint64_t{ip} << 24 | uint64_t{static_cast<uint8_t>(at)} << 16 | port;
}

struct call_record {
    uint32_t index = 0;  // the call index written into every payload
    std::string call_id;
    std::string from_tag;       // A's tag
    std::string to_tag;         // B's tag
    uint32_t socket_index = 0;  // socket used on both sides: index % sockets
    bool offered = false;       // the relay accepted the offer: the call exists there
    bool set_up = false;        // offer and answer both returned "ok" with a usable SDP
    std::string error;          // why not, when !set_up
    media_target a_sends_to;    // the relay's side facing A (from the answer's reply)
    media_target b_sends_to;    // the relay's side facing B (from the offer's reply)
    // Whether endpoint A (B) speaks SRTP: its SDP says RTP/SAVP with a key of its own
    // (legs_of, call_legs.h).
    bool srtp_a = false;
    bool srtp_b = false;
    // The key each SRTP endpoint protects with (in its own SDP). What it receives is
    // protected with the key in the relay's SDP toward it (x_sends_to.srtp_key).
    dp::srtp::master_key key_a{};
    dp::srtp::master_key key_b{};
};

// Calls named "lg-<pid>-<run>-<i>" with tags "...-a" / "-b" (`run` keeps a ramp's steps
// apart on the relay). Legs as legs_of() says; each SRTP leg gets a fresh random key.
std::vector<call_record> make_calls(uint32_t count, uint32_t sockets, int pid, uint32_t run = 0,
                                    leg_mode legs = leg_mode::plain);

struct stream_plan {
    uint32_t call_index = 0;
    side from = side::a;  // the sending side; the receiving side is the other one
    uint32_t socket_index = 0;
    uint32_t ssrc = 0;
    uint16_t first_seq = 0;
    uint32_t first_ts = 0;
    net_address rtp_dst;  // where the sending side's packets go (the relay)
    net_address rtcp_dst;
    bool send_srtp = false;           // the sender's leg is SRTP: it protects with send_key
    bool recv_srtp = false;           // the receiver's leg is SRTP: it unprotects with recv_key
    dp::srtp::master_key send_key{};  // the sender's own SDP's key
    dp::srtp::master_key recv_key{};  // the relay's key toward the receiver
    dp::srtp::suite recv_suite = dp::srtp::suite::aes_cm_128_hmac_sha1_80;
};

struct stream_set {
    // Streams 2k (A->B) and 2k+1 (B->A) belong to the k-th call that was set up.
    std::vector<stream_plan> streams;
    stream_index by_ssrc;
};

// Two streams per set-up call, each with a distinct random SSRC and random first
// sequence number and timestamp (RFC 3550 section 5.1).
stream_set plan_streams(const std::vector<call_record>& calls, std::mt19937_64& rng);

}  // namespace rtprelay::loadgen
