#pragma once
// What a recording's metadata says of each of its streams (one sender to one relay address,
// RTP or RTCP: the "streams" array), counted the same way whether the recorder saw the
// packets arrive (recorder.cc) or recovery reads them back from a pcap a node that died left
// open (recovery.cc). Recorder and finisher threads; plain data.

#include <cstdint>
#include <cstring>
#include <vector>

#include "control/recording/media_endpoint.h"

namespace rtprelay::recording {

class json_writer;

struct stream_stats {
    uint8_t channel = 0;
    bool rtcp = false;
    media_endpoint src, dst;  // the sender, the relay's address it arrived at
    uint64_t packets = 0;
    uint64_t bytes = 0;  // RTP/RTCP bytes (clear), as long as they arrived (before any cut)
    int64_t first_ns = 0, last_ns = 0;
    uint32_t ssrcs[4] = {};  // the first four SSRCs seen
    uint8_t n_ssrcs = 0;
    uint64_t payload_types[2] = {};  // bit set of RTP payload types seen
};

// Whether stream `x` is the one of a packet of `channel` (RTCP or not) from `src` to `dst`.
inline bool same_stream(const stream_stats& x, uint8_t channel, bool rtcp, const media_endpoint& src,
                        const media_endpoint& dst) {
    return (x.channel == channel) & (x.rtcp == rtcp) & (x.src == src) & (x.dst == dst);
}

// Where the last packets' streams were in a recording's `streams`, by leg parity and kind
// (RTP, RTCP): a call's two legs alternate, each mostly with one sender.
struct stream_hints {
    uint32_t at[4] = {UINT32_MAX, UINT32_MAX, UINT32_MAX, UINT32_MAX};
};

// The stream of `streams` a packet belongs to, added (first seen at `ns`) if new. The stream
// `hints` names for the packet's leg and kind is tried first, which is the packet's own for
// all but a new sender's first, so the search (linear: a recording has a few streams) is
// mostly one compare: the recorder asks once per packet.
inline stream_stats& stream_of(std::vector<stream_stats>& streams, uint8_t channel, bool rtcp,
                               const media_endpoint& src, const media_endpoint& dst, int64_t ns, stream_hints& hints) {
    uint32_t& last = hints.at[(channel & 1u) << 1 | (rtcp ? 1u : 0u)];
    if (last < streams.size() && same_stream(streams[last], channel, rtcp, src, dst)) {
        return streams[last];
    }
    for (uint32_t k = 0; k < streams.size(); ++k) {
        if (same_stream(streams[k], channel, rtcp, src, dst)) {
            last = k;
            return streams[k];
        }
    }
    last = static_cast<uint32_t>(streams.size());
    stream_stats& s = streams.emplace_back();
    s.channel = channel;
    s.rtcp = rtcp;
    s.src = src;
    s.dst = dst;
    s.first_ns = ns;
    return s;
}

// Counts packet `pkt` (the `len` bytes kept of `orig_len`) of stream `s` at `ns`: its SSRC
// and payload type when it is RTP. Returns whether it is G.711 (PCMU or PCMA) RTP.
inline bool count_packet(stream_stats& s, const uint8_t* pkt, uint32_t len, uint32_t orig_len, int64_t ns) {
    ++s.packets;
    s.bytes += orig_len;
    s.last_ns = ns;
    if (s.rtcp || len < 12 || (pkt[0] >> 6) != 2) {
        return false;
    }
    const uint8_t pt = pkt[1] & 0x7f;
    s.payload_types[pt >> 6] |= uint64_t{1} << (pt & 63);
    uint32_t ssrc = 0;
    std::memcpy(&ssrc, pkt + 8, 4);
    ssrc = __builtin_bswap32(ssrc);
    bool known = false;
    for (uint8_t k = 0; k < s.n_ssrcs; ++k) {
        known = known || s.ssrcs[k] == ssrc;
    }
    if (!known && s.n_ssrcs < 4) {
        s.ssrcs[s.n_ssrcs++] = ssrc;
    }
    return pt == 0 || pt == 8;
}

// The metadata's "streams" array, then the recording's "packets" and "bytes" (their sums),
// as members of the object `w` is writing.
void write_streams(json_writer& w, const std::vector<stream_stats>& streams);

}  // namespace rtprelay::recording
