#pragma once
// The DPDK mode's media, computed before the streaming starts (--dpdk): every RTP packet a
// sender will send, header and payload, SRTP-protected when the sender's leg speaks SRTP
// (--srtp, --rtp-srtp, --srtp-mix: call_legs.h), for every round of the run, so that sending
// a packet costs a copy and a checksum, not a protect (~110-250 ns, more than the rest of the
// generator's work per packet together).
//
// A sender "identity" is what makes a stream's packets unique: SSRC, first sequence number
// and timestamp, and (SRTP) the master key its SDP offers. Each identity's packets for rounds
// 0..rounds-1 are stored; a round's packets of all identities lie side by side, so sending
// one round walks the store in order. There are as many identities as the memory budget
// holds (budget / (rounds x stride)); when a run has more streams than identities, streams
// share them (stream i takes identity i % identities): two calls then offer the same key and
// send the same bytes, which the relay cannot tell (each call has its own contexts, replay
// windows and ports) and which costs it exactly as much as distinct keys would.
//
// Identity k is call k / 2's side k % 2 (A even, B odd), and it is SRTP when that side's leg
// is (legs_of). Stream i sends identity i % identities, so a shared identity must have the
// legs of every call that takes it: shared_identities() rounds the count down to a multiple
// of 2 x legs_period (8 with --srtp-mix), which keeps k's side and call class. Packets of
// both kinds lie at one stride (the SRTP one: the same 192 bytes at a 160-byte payload).
//
// Sequence numbers start below the 16-bit wrap, which falls at a random point between a
// quarter and half of the run, so every stream's index crosses 65535 -> 0 while the relay
// relays it: the relay's rollover counter moves from 0 to 1 mid-run on every SRTP stream,
// and its replay window sees strictly increasing indexes across the wrap.
//
// Payload: rtp_wire.h's layout (magic, then the identity's number as the call index, then
// a zero send time: latency comes from the sender's record of when it sent each slot,
// dpdk_stream.cc), so a receiver that verifies a packet knows which identity made it.
//
// Threads: built on the main thread before streaming; read-only afterwards.

#include <cstddef>
#include <cstdint>
#include <random>
#include <vector>

#include "bench/loadgen/call_legs.h"
#include "dataplane/srtp/srtp.h"

namespace rtprelay::loadgen {

struct sender_identity {
    uint32_t ssrc = 0;
    uint16_t first_seq = 0;
    uint32_t first_ts = 0;
    dp::srtp::master_key key{};  // SRTP: AES_CM_128_HMAC_SHA1_80, what the sender's SDP offers
};

class packet_store {
 public:
    struct params {
        uint32_t identities = 1;
        uint32_t rounds = 1;  // packets per identity
        uint32_t payload_bytes = 160;
        uint32_t ptime_ms = 20;
        leg_mode legs = leg_mode::plain;  // which identities are SRTP (above)
        uint32_t check_identities = 0;    // SRTP identities among the first check_identities
                                          // whose every packet libsrtp2 checks
    };

    // Bytes one identity's rounds take (for the budget): rounds x stride; `srtp`: any leg is.
    static size_t bytes_per_identity(uint32_t rounds, uint32_t payload_bytes, bool srtp);
    // How many identities a store for `streams` streams holds when `fit` fit in its budget:
    // all of them, or as many as fit rounded down to a multiple of 2 x legs_period(legs)
    // (at least that many), so that sharing keeps every stream's legs (above).
    static uint32_t shared_identities(uint64_t streams, uint64_t fit, leg_mode legs);

    // Builds every packet (SRTP: protected in bursts on intel-ipsec-mb, the relay's own
    // burst path). Throws std::runtime_error when a context cannot be made or a protect fails.
    packet_store(const params& p, std::mt19937_64& rng);

    uint32_t identities() const { return identities_; }
    uint32_t rounds() const { return rounds_; }
    // Identity k sends SRTP; its packets are RTP header + payload (+ the SRTP tag) bytes.
    bool srtp(uint32_t k) const {
        const call_legs l = legs_of(k / 2, legs_);
        return k % 2 == 0 ? l.srtp_a : l.srtp_b;
    }
    uint32_t body_bytes(uint32_t k) const { return srtp(k) ? srtp_bytes_ : plain_bytes_; }
    const sender_identity& identity(uint32_t k) const { return ids_[k]; }

    const uint8_t* body(uint32_t k, uint32_t round) const {
        return bytes_.data() + (static_cast<size_t>(round) * identities_ + k) * stride_;
    }
    // The body's one's complement sum (16-bit words as they lie in memory, dp::csum), folded:
    // the UDP checksum is this plus the headers' sum.
    uint32_t body_sum(uint32_t k, uint32_t round) const { return sums_[static_cast<size_t>(round) * identities_ + k]; }

    double build_seconds() const { return build_seconds_; }
    uint64_t checked() const { return checked_; }        // packets libsrtp2 also unprotected
    uint64_t mismatched() const { return mismatched_; }  // ... and disagreed

 private:
    uint8_t* mutable_body(uint32_t k, uint32_t round) {
        return bytes_.data() + (static_cast<size_t>(round) * identities_ + k) * stride_;
    }
    void protect_all(const params& p);

    uint32_t identities_;
    uint32_t rounds_;
    uint32_t plain_bytes_;
    uint32_t srtp_bytes_;
    size_t stride_;  // bytes per stored packet: the largest body rounded up to a cache line
    leg_mode legs_;  // which identities are SRTP (srtp())
    std::vector<sender_identity> ids_;
    std::vector<uint8_t> bytes_;
    std::vector<uint32_t> sums_;
    double build_seconds_ = 0;
    uint64_t checked_ = 0;
    uint64_t mismatched_ = 0;
};

}  // namespace rtprelay::loadgen
