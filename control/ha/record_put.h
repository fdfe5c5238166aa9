#pragma once
// Writing a call record's body (record.h: the format) from either form a call's state is
// kept in: a call_record (record.cc) or a flat record (flat_record.cc, the HA agent's fast
// path). Both go through the same helpers, so that the bytes cannot drift apart; a stream
// is read through the small accessors below, one pair per form.
//
// The writer appends to a buffer its caller owns: the agent reuses one for every record
// (no allocation once it has grown; the caller wipes it after sealing).

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>

#include "control/ha/flat_record.h"
#include "control/ha/record.h"

namespace rtprelay::ha::wire {

// Small writes (most fields are 1-8 bytes, a plain call's body ~80 of them in ~250 bytes)
// go into a buffer on the stack and reach `out` in a few appends: appending each to the
// string took ~30% of the HA thread's time per record (a capacity check, a call and a
// terminator per field; bench/RESULTS.md). What is written is the same byte for byte.
// `out` is complete only after flush() (or the writer's end): read it through out().
class writer {
 public:
    explicit writer(std::string& out) : out_(out) {}
    ~writer() { flush(); }
    writer(const writer&) = delete;
    writer& operator=(const writer&) = delete;
    void u8(uint8_t v) {
        room(1);
        buf_[n_++] = static_cast<char>(v);
    }
    void u16(uint16_t v) { le(v, 2); }
    void u32(uint32_t v) { le(v, 4); }
    void u64(uint64_t v) { le(v, 8); }
    void i64(int64_t v) { le(static_cast<uint64_t>(v), 8); }
    void bytes(const void* p, size_t n) {
        if (n > sizeof buf_ - n_) {
            flush();
            if (n > sizeof buf_) {
                out_.append(static_cast<const char*>(p), n);
                return;
            }
        }
        std::memcpy(buf_ + n_, p, n);
        n_ += n;
    }
    // Strings up to 65,535 bytes (the caller keeps them far shorter).
    void str(std::string_view s) {
        const size_t n = std::min<size_t>(s.size(), 0xffff);
        u16(static_cast<uint16_t>(n));
        bytes(s.data(), n);
    }
    // Everything written so far into `out`.
    void flush() {
        out_.append(buf_, n_);
        n_ = 0;
    }
    std::string& out() {
        flush();
        return out_;
    }

 private:
    void room(size_t n) {
        if (n > sizeof buf_ - n_) {
            flush();
        }
    }
    void le(uint64_t v, size_t n) {
        room(n);
        for (size_t i = 0; i < n; ++i) {
            buf_[n_ + i] = static_cast<char>(v >> (8 * i));
        }
        n_ += n;
    }
    std::string& out_;
    size_t n_ = 0;
    char buf_[512];
};

// A latch word (record.h): an IPv6 one carries its whole address after it. The writers
// (record written before, IPv4 only) never set bit 63, so their records read the same.
inline constexpr uint64_t latch_v6 = 1ull << 63;

inline void put_endpoint(writer& w, const endpoint_record& e) {
    w.u8(e.family);
    w.bytes(e.addr, e.family == 6 ? 16 : 4);
    w.u16(e.port);
}

inline void put_latch(writer& w, uint64_t word, const uint8_t (&addr6)[16]) {
    w.u64(word);
    if ((word & latch_v6) != 0) {
        w.bytes(addr6, 16);
    }
}

// Writes what it is given, never reading past the line: an unknown suite goes without key
// bytes and an over-long MKI length with max_mki_len bytes; get_line refuses both.
inline void put_line(writer& w, const crypto_line_record& c) {
    w.u32(c.tag);
    w.u8(c.suite);
    w.u8(static_cast<uint8_t>((c.unencrypted_srtcp ? 1 : 0) | (c.lifetime ? 2 : 0) | (c.mki_len != 0 ? 4 : 0)));
    if (c.suite < dp::srtp::suite_count) {
        const dp::srtp::suite_info& si = dp::srtp::info(static_cast<dp::srtp::suite>(c.suite));
        w.bytes(c.key, si.master_key_len);
        w.bytes(c.key + dp::srtp::max_master_key_len, si.master_salt_len);
    }
    if (c.mki_len != 0) {
        w.u8(c.mki_len);
        w.bytes(c.mki, std::min<size_t>(c.mki_len, sizeof c.mki));
    }
    if (c.lifetime) {
        w.u64(*c.lifetime);
    }
}

inline void put_indices(writer& w, std::span<const ssrc_index_record> v) {
    const size_t n = std::min(v.size(), max_record_ssrcs);
    w.u8(static_cast<uint8_t>(n));
    for (size_t i = 0; i < n; ++i) {
        w.u32(v[i].ssrc);
        w.u64(v[i].index);
    }
}

// A stream's variable parts, per form. srtp: [0..1] in RTP/RTCP, [2..3] out RTP/RTCP.
inline std::string_view media_type_of(const stream_record& s) { return s.media_type; }
inline std::string_view proto_of(const stream_record& s) { return s.proto; }
inline std::span<const crypto_line_record> offered_of(const stream_record& s) { return s.offered; }
inline std::span<const ssrc_index_record> srtp_of(const stream_record& s, int k) {
    return k < 2 ? std::span<const ssrc_index_record>(s.srtp_in[k])
                 : std::span<const ssrc_index_record>(s.srtp_out[k - 2]);
}
inline std::string_view media_type_of(const flat_stream& s) { return s.media_type.view(); }
inline std::string_view proto_of(const flat_stream& s) { return s.proto.view(); }
inline std::span<const crypto_line_record> offered_of(const flat_stream& s) { return {s.offered_lines, s.offered}; }
inline std::span<const ssrc_index_record> srtp_of(const flat_stream& s, int k) { return {s.srtp[k], s.srtp_n[k]}; }

template <class S>
void put_stream(writer& w, const S& s) {
    const auto has = [&s](stream_record::flag f) { return (s.flags & f) != 0; };
    w.u16(s.flags);
    w.u8(s.address_index);
    w.u16(s.rtp_port);
    put_endpoint(w, s.local);
    if (has(stream_record::has_peer_rtp)) {
        put_endpoint(w, s.peer_rtp);
    }
    if (has(stream_record::has_peer_rtcp)) {
        put_endpoint(w, s.peer_rtcp);
    }
    w.str(media_type_of(s));
    w.str(proto_of(s));
    put_latch(w, s.latched_rtp, s.latched_rtp6);
    put_latch(w, s.latched_rtcp, s.latched_rtcp6);
    if (has(stream_record::has_crypto)) {
        if (has(stream_record::has_from_peer)) {
            put_line(w, s.from_peer);
        }
        if (has(stream_record::has_to_peer)) {
            put_line(w, s.to_peer);
        }
        const std::span<const crypto_line_record> offered = offered_of(s);
        const size_t n = std::min(offered.size(), max_record_offered);
        w.u8(static_cast<uint8_t>(n));
        for (size_t i = 0; i < n; ++i) {
            put_line(w, offered[i]);
        }
    }
    for (int k = 0; k < 2; ++k) {
        put_indices(w, srtp_of(s, k));
        put_indices(w, srtp_of(s, k + 2));
    }
}

// The clear header (record.h) and the associated data a record is sealed with.
void put_header(std::string& out, uint8_t version);
void put_aad(std::string& out, std::string_view head, std::string_view group, std::string_view call_id);
// Appends to `out` the header and the sealed b.plain (the body written), then wipes b.plain.
// On a throw (sealing failed) `out` is as it was.
void seal_body(uint8_t version, std::string_view call_id, sealer& s, std::string_view group, encode_buffers& b,
               std::string& out);

}  // namespace rtprelay::ha::wire
