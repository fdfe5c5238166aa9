#pragma once
// The packets the load generator sends and recognises: RTP v2 with a payload that carries
// a magic, the call index and the sender's CLOCK_MONOTONIC time (sender and receiver are
// the same host, so arrival - send is the one-way latency); and RTCP sender reports.
// All lengths in bytes, all integers big-endian on the wire.

#include <cstddef>
#include <cstdint>

namespace rtprelay::loadgen {

inline constexpr size_t rtp_header_bytes = 12;
inline constexpr uint32_t payload_magic = 0x4c47'5631;  // "LGV1"
inline constexpr uint8_t payload_type_pcmu = 0;
inline constexpr uint32_t clock_rate_hz = 8000;  // PCMU
// Payload layout: magic (4) | call index (4) | send time ns (8) | fill.
inline constexpr size_t send_time_offset = rtp_header_bytes + 8;

struct rtp_fields {
    bool marker = false;
    uint16_t seq = 0;
    uint32_t timestamp = 0;
    uint32_t ssrc = 0;
    uint32_t call_index = 0;
};

// Writes header + payload (`payload_bytes` >= 16) into buf; the send time is left zero for
// stamp_send_time() right before the packet leaves.
void write_rtp(uint8_t* buf, size_t payload_bytes, const rtp_fields& f);
void stamp_send_time(uint8_t* buf, int64_t mono_ns);

struct rtp_view {
    uint16_t seq = 0;
    uint32_t timestamp = 0;
    uint32_t ssrc = 0;
    uint32_t call_index = 0;
    int64_t send_ns = 0;
};

// Parses an RTP packet carrying our payload (CSRCs and a header extension added on the way
// are skipped). False when it is not RTP v2 or not ours.
bool parse_rtp(const uint8_t* buf, size_t len, rtp_view* out);

// RTCP compound packet: SR (no report blocks) + SDES CNAME. Returns its length, 0 if
// `cap` is too small. `ntp` is a 64-bit NTP timestamp (seconds << 32 | fraction).
inline constexpr size_t rtcp_sr_max_bytes = 64;
size_t write_rtcp_sr(uint8_t* buf, size_t cap, uint32_t ssrc, uint64_t ntp, uint32_t rtp_ts, uint32_t packets,
                     uint32_t octets);

// The SSRC of the first packet of an RTCP compound packet if it is a sender report.
bool parse_rtcp_sr_ssrc(const uint8_t* buf, size_t len, uint32_t* ssrc);

}  // namespace rtprelay::loadgen
