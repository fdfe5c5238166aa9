#pragma once
// A call's record as plain data of a fixed capacity: what the control thread writes into a
// slot of the record ring (record_ring.h) so that handing a call's state to the HA agent
// allocates nothing. The call_record (record.h) it stands for has ~30 small strings and
// vectors; made on the control thread and freed on the agent's, they cost the control
// thread a third of its writer time (glibc's arena lock taken by both threads, a thread
// cache the agent's frees never refill). The agent encodes a flat record straight into the
// wire format (encode_record below, through the same writer as a call_record's), so the
// format on the wire is record.h's alone; expand() gives the call_record it stands for.
//
// Capacity covers the calls Kamailio sets up: two legs, four streams in all, two offered
// a=crypto lines and two SSRCs per direction. A call past it (forked branches, many
// streams, a recording, long names) does not fit: snapshot_flat says so and the caller
// falls back to snapshot_call (counted). One record is ~2.6 KB; a writer writes only the
// parts the call uses.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>

#include <rte_prefetch.h>

#include "control/ha/record.h"

namespace rtprelay::ha {

inline constexpr size_t flat_legs = 2;
inline constexpr size_t flat_streams = 4;  // over all legs
inline constexpr size_t flat_offered = 2;  // per stream
inline constexpr size_t flat_ssrcs = 2;    // per context direction (srtp_in/out[k])

// A string of at most N bytes, in place.
template <size_t N>
struct flat_string {
    uint8_t len = 0;
    char text[N];

    // False (and nothing written) when `s` is longer than N.
    bool set(std::string_view s) {
        if (s.size() > N) {
            return false;
        }
        len = static_cast<uint8_t>(s.size());
        std::memcpy(text, s.data(), s.size());
        return true;
    }
    std::string_view view() const { return {text, len}; }
};

struct flat_stream {
    uint16_t flags = 0;  // stream_record::flag
    uint8_t address_index = 0;
    uint8_t offered = 0;     // lines in offered[]
    uint8_t srtp_n[4] = {};  // entries in srtp[k]: [0..1] in RTP/RTCP, [2..3] out RTP/RTCP
    uint16_t rtp_port = 0;
    endpoint_record local, peer_rtp, peer_rtcp;
    flat_string<15> media_type, proto;
    uint64_t latched_rtp = 0, latched_rtcp = 0;
    uint8_t latched_rtp6[16], latched_rtcp6[16];
    crypto_line_record from_peer, to_peer;  // valid when flags say so
    crypto_line_record offered_lines[flat_offered];
    ssrc_index_record srtp[4][flat_ssrcs];
};

struct flat_leg {
    flat_string<63> tag;
    flat_string<31> iface;
    bool strict_source = false;
    bool parked = false;
    int8_t offerer = -1;
    uint8_t streams = 0;  // this leg's streams: the next `streams` of flat_record::stream
    int64_t created_unix_ms = 0;
};

struct flat_record {
    enum class kind : uint8_t { put, del };
    kind what = kind::put;
    bool admitted = false;
    uint8_t legs = 0;
    uint64_t token = 0;                              // write_op::token
    std::chrono::steady_clock::time_point queued{};  // when the oldest change it carries was queued
    flat_string<127> call_id;
    int64_t created_unix_ms = 0, last_signal_unix_ms = 0, answered_unix_ms = 0, delete_at_unix_ms = 0;
    flat_string<31> admitted_ifs[2];
    flat_leg leg[flat_legs];
    flat_stream stream[flat_streams];
};

// Asks the CPU for the lines of `f` that a put of a two-leg call reads and writes (its
// fields and legs, and the first 152 bytes of its first two streams: flags to latched
// addresses; 14 of the record's 45 lines), ahead of their use. A ring slot is cold when the
// control thread writes it (last touched a ring's length of records ago) and again when
// the agent reads it (the control thread ran ~4 ms in between): those misses were the
// largest single item of the HA thread's time per record (bench/RESULTS.md). An SRTP
// stream's keys and indices are left to their own loads. Costs 14 prefetch instructions.
inline void prefetch_flat(const flat_record* f) {
    constexpr size_t head_lines = (offsetof(flat_record, stream) + 63) / 64;
    constexpr size_t stream_lines = (offsetof(flat_stream, from_peer) + 63) / 64;
    const auto* p = reinterpret_cast<const char*>(f);
    // DPDK's rte_prefetch0 (an asm statement): GCC 12 dropped __builtin_prefetch of these
    // addresses (all but the first of a loop, all of them through a pointer to the record).
    const auto lines = [p]<size_t... i>(size_t at, std::index_sequence<i...>) {
        (rte_prefetch0(p + at + 64 * i), ...);
    };
    lines(0, std::make_index_sequence<head_lines>());
    lines(offsetof(flat_record, stream), std::make_index_sequence<stream_lines>());
    lines(offsetof(flat_record, stream) + sizeof(flat_stream), std::make_index_sequence<stream_lines>());
}

// The call_record a put stands for, owned by `owner` (recording off).
call_record expand(const flat_record& f, std::string_view owner);

// The Redis value of a put, appended to `out`: the same bytes as encode_record(expand(f,
// owner), s, group) but written straight from `f` (the HA agent's path: no call_record, no
// heap string, nothing allocated once `b` and `out` have grown). Throws as encode_record.
void encode_record(const flat_record& f, std::string_view owner, sealer& s, std::string_view group, encode_buffers& b,
                   std::string& out);

}  // namespace rtprelay::ha
