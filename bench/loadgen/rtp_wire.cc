#include "bench/loadgen/rtp_wire.h"

#include <cstring>

namespace rtprelay::loadgen {

namespace {

void put16(uint8_t* p, uint16_t v) {
    p[0] = static_cast<uint8_t>(v >> 8);
    p[1] = static_cast<uint8_t>(v);
}

void put32(uint8_t* p, uint32_t v) {
    put16(p, static_cast<uint16_t>(v >> 16));
    put16(p + 2, static_cast<uint16_t>(v));
}

void put64(uint8_t* p, uint64_t v) {
    put32(p, static_cast<uint32_t>(v >> 32));
    put32(p + 4, static_cast<uint32_t>(v));
}

uint16_t get16(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }

uint32_t get32(const uint8_t* p) { return static_cast<uint32_t>(get16(p)) << 16 | get16(p + 2); }

uint64_t get64(const uint8_t* p) { return static_cast<uint64_t>(get32(p)) << 32 | get32(p + 4); }

constexpr uint8_t rtcp_pt_sr = 200;
constexpr uint8_t rtcp_pt_sdes = 202;
constexpr char cname[] = "rtprelay-loadgen";

}  // namespace

void write_rtp(uint8_t* buf, size_t payload_bytes, const rtp_fields& f) {
    buf[0] = 0x80;  // V=2, no padding, no extension, no CSRC
    buf[1] = static_cast<uint8_t>((f.marker ? 0x80 : 0) | payload_type_pcmu);
    put16(buf + 2, f.seq);
    put32(buf + 4, f.timestamp);
    put32(buf + 8, f.ssrc);
    uint8_t* payload = buf + rtp_header_bytes;
    put32(payload, payload_magic);
    put32(payload + 4, f.call_index);
    put64(payload + 8, 0);
    std::memset(payload + 16, 0xff, payload_bytes - 16);  // PCMU silence
}

void stamp_send_time(uint8_t* buf, int64_t mono_ns) { put64(buf + send_time_offset, static_cast<uint64_t>(mono_ns)); }

bool parse_rtp(const uint8_t* buf, size_t len, rtp_view* out) {
    if (len < rtp_header_bytes || (buf[0] >> 6) != 2) {
        return false;
    }
    size_t offset = rtp_header_bytes + 4 * static_cast<size_t>(buf[0] & 0x0f);
    if ((buf[0] & 0x10) != 0) {
        if (len < offset + 4) {
            return false;
        }
        offset += 4 + 4 * static_cast<size_t>(get16(buf + offset + 2));
    }
    if (len < offset + 16 || get32(buf + offset) != payload_magic) {
        return false;
    }
    out->seq = get16(buf + 2);
    out->timestamp = get32(buf + 4);
    out->ssrc = get32(buf + 8);
    out->call_index = get32(buf + offset + 4);
    out->send_ns = static_cast<int64_t>(get64(buf + offset + 8));
    return true;
}

size_t write_rtcp_sr(uint8_t* buf, size_t cap, uint32_t ssrc, uint64_t ntp, uint32_t rtp_ts, uint32_t packets,
                     uint32_t octets) {
    constexpr size_t sr_bytes = 28;
    // SDES: header (4) + SSRC (4) + CNAME item (2 + text) + end marker, padded to 4.
    constexpr size_t item_bytes = 2 + sizeof cname - 1;
    constexpr size_t sdes_bytes = (8 + item_bytes + 1 + 3) / 4 * 4;
    if (cap < sr_bytes + sdes_bytes) {
        return 0;
    }
    buf[0] = 0x80;  // V=2, no report blocks
    buf[1] = rtcp_pt_sr;
    put16(buf + 2, sr_bytes / 4 - 1);
    put32(buf + 4, ssrc);
    put64(buf + 8, ntp);
    put32(buf + 16, rtp_ts);
    put32(buf + 20, packets);
    put32(buf + 24, octets);

    uint8_t* s = buf + sr_bytes;
    std::memset(s, 0, sdes_bytes);  // also the end marker and padding
    s[0] = 0x81;                    // V=2, one chunk
    s[1] = rtcp_pt_sdes;
    put16(s + 2, sdes_bytes / 4 - 1);
    put32(s + 4, ssrc);
    s[8] = 1;  // CNAME
    s[9] = static_cast<uint8_t>(sizeof cname - 1);
    std::memcpy(s + 10, cname, sizeof cname - 1);
    return sr_bytes + sdes_bytes;
}

bool parse_rtcp_sr_ssrc(const uint8_t* buf, size_t len, uint32_t* ssrc) {
    if (len < 8 || (buf[0] >> 6) != 2 || buf[1] != rtcp_pt_sr) {
        return false;
    }
    *ssrc = get32(buf + 4);
    return true;
}

}  // namespace rtprelay::loadgen
