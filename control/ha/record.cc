#include "control/ha/record.h"

#include <openssl/crypto.h>

#include "control/ha/record_put.h"

#include <algorithm>
#include <cstring>

namespace rtprelay::ha {

namespace {

using wire::latch_v6;
using wire::put_stream;
using wire::writer;

constexpr char magic[4] = {'r', 't', 'p', 'R'};

// Every read checks the length left; the first failure sticks and the result is refused.
class reader {
 public:
    explicit reader(std::string_view in) : in_(in) {}
    bool ok() const { return ok_; }
    bool at_end() const { return ok_ && in_.empty(); }
    uint8_t u8() { return static_cast<uint8_t>(le(1)); }
    uint16_t u16() { return static_cast<uint16_t>(le(2)); }
    uint32_t u32() { return static_cast<uint32_t>(le(4)); }
    uint64_t u64() { return le(8); }
    int64_t i64() { return static_cast<int64_t>(le(8)); }
    void bytes(void* p, size_t n) {
        if (!take(n)) {
            std::memset(p, 0, n);
            return;
        }
        std::memcpy(p, in_.data() - n, n);
    }
    std::string str(size_t max) {
        const uint16_t n = u16();
        if (n > max || !take(n)) {
            ok_ = false;
            return {};
        }
        return std::string(in_.data() - n, n);
    }
    void fail() { ok_ = false; }

 private:
    bool take(size_t n) {
        if (!ok_ || in_.size() < n) {
            ok_ = false;
            return false;
        }
        in_.remove_prefix(n);
        return true;
    }
    uint64_t le(int n) {
        if (!take(static_cast<size_t>(n))) {
            return 0;
        }
        const char* p = in_.data() - n;  // what take() just consumed
        uint64_t v = 0;
        for (int i = 0; i < n; ++i) {
            v |= static_cast<uint64_t>(static_cast<uint8_t>(p[i])) << (8 * i);
        }
        return v;
    }
    std::string_view in_;
    bool ok_ = true;
};

constexpr size_t max_name = 255;  // tags, interface names, node names, media types
constexpr size_t max_call_id = 1024;

endpoint_record get_endpoint(reader& r) {
    endpoint_record e;
    e.family = r.u8();
    if (e.family != 4 && e.family != 6) {
        r.fail();
        return e;
    }
    r.bytes(e.addr, e.family == 6 ? 16 : 4);
    e.port = r.u16();
    return e;
}

constexpr uint64_t latch_unused_bits = ((1ull << 15) - 1) << 48;  // bits 48..62

uint64_t get_latch(reader& r, uint8_t (&addr6)[16]) {
    const uint64_t word = r.u64();
    if ((word & latch_unused_bits) != 0) {
        r.fail();
        return 0;
    }
    if ((word & latch_v6) != 0) {
        r.bytes(addr6, 16);
    }
    return word;
}

crypto_line_record get_line(reader& r) {
    crypto_line_record c;
    c.tag = r.u32();
    c.suite = r.u8();
    const uint8_t f = r.u8();
    if (c.suite >= dp::srtp::suite_count || (f & ~7u) != 0) {
        r.fail();
        return c;
    }
    const dp::srtp::suite_info& si = dp::srtp::info(static_cast<dp::srtp::suite>(c.suite));
    c.unencrypted_srtcp = (f & 1) != 0;
    r.bytes(c.key, si.master_key_len);
    r.bytes(c.key + dp::srtp::max_master_key_len, si.master_salt_len);
    if ((f & 4) != 0) {
        c.mki_len = r.u8();
        if (c.mki_len == 0 || c.mki_len > dp::srtp::max_mki_len) {
            c.mki_len = 0;
            r.fail();
            return c;
        }
        r.bytes(c.mki, c.mki_len);
    }
    if ((f & 2) != 0) {
        c.lifetime = r.u64();
    }
    return c;
}

std::vector<ssrc_index_record> get_indices(reader& r) {
    std::vector<ssrc_index_record> v;
    const uint8_t n = r.u8();
    if (n > max_record_ssrcs) {
        r.fail();
        return v;
    }
    for (uint8_t i = 0; i < n && r.ok(); ++i) {
        ssrc_index_record x;
        x.ssrc = r.u32();
        x.index = r.u64();
        v.push_back(x);
    }
    return v;
}

constexpr uint16_t known_stream_flags = (1u << 13) - 1;

stream_record get_stream(reader& r) {
    stream_record s;
    s.flags = r.u16();
    if ((s.flags & ~known_stream_flags) != 0) {
        r.fail();
        return s;
    }
    s.address_index = r.u8();
    s.rtp_port = r.u16();
    s.local = get_endpoint(r);
    if (s.has(stream_record::has_peer_rtp)) {
        s.peer_rtp = get_endpoint(r);
    }
    if (s.has(stream_record::has_peer_rtcp)) {
        s.peer_rtcp = get_endpoint(r);
    }
    s.media_type = r.str(max_name);
    s.proto = r.str(max_name);
    s.latched_rtp = get_latch(r, s.latched_rtp6);
    s.latched_rtcp = get_latch(r, s.latched_rtcp6);
    if (s.has(stream_record::has_crypto)) {
        if (s.has(stream_record::has_from_peer)) {
            s.from_peer = get_line(r);
        }
        if (s.has(stream_record::has_to_peer)) {
            s.to_peer = get_line(r);
        }
        const uint8_t n = r.u8();
        if (n > max_record_offered) {
            r.fail();
        }
        for (uint8_t i = 0; i < n && r.ok(); ++i) {
            s.offered.push_back(get_line(r));
        }
    } else if (s.has(stream_record::srtp) || s.has(stream_record::has_from_peer) || s.has(stream_record::has_to_peer)) {
        r.fail();
    }
    for (int k = 0; k < 2; ++k) {
        s.srtp_in[k] = get_indices(r);
        s.srtp_out[k] = get_indices(r);
    }
    return s;
}

constexpr size_t max_recording_name = 1024;  // names and base paths (file_names.h keeps them shorter)
constexpr size_t max_recording_id = 64;

// The oldest version that holds `r` (record.h: Versions).
uint8_t version_for(const recording_record& r) {
    if (r.st == recording_record::state::off) {
        return 1;
    }
    return r.sdps.empty() ? 2 : 3;
}

void put_recording(writer& w, const recording_record& r, uint8_t version) {
    w.u8(static_cast<uint8_t>(r.st));
    if (r.st == recording_record::state::off) {
        return;
    }
    w.u8(r.when);
    w.u8(r.layout);
    w.u8(static_cast<uint8_t>((r.refused ? 1 : 0) | (r.from_first_packet ? 2 : 0)));
    w.str(r.file);
    w.str(r.dir);
    w.str(r.pattern);
    w.str(r.id);
    w.str(r.base);
    w.u16(r.part);
    w.i64(r.started_unix_ms);
    if (version < 3) {
        return;
    }
    const size_t n = std::min(r.sdps.size(), max_record_sdps);
    w.u8(static_cast<uint8_t>(n));
    for (size_t i = 0; i < n; ++i) {
        const recording_sdp_record& d = r.sdps[i];
        w.i64(d.unix_ns);
        w.u8(d.offer ? 1 : 0);
        w.str(d.from_tag);
        w.str(d.to_tag);
        w.str(d.sdp.size() <= max_record_sdp_bytes ? d.sdp : std::string());
    }
}

recording_record get_recording(reader& r, uint8_t version) {
    recording_record x;
    const uint8_t st = r.u8();
    if (st > static_cast<uint8_t>(recording_record::state::stopped)) {
        r.fail();
        return x;
    }
    x.st = static_cast<recording_record::state>(st);
    if (x.st == recording_record::state::off) {
        return x;
    }
    x.when = r.u8();
    x.layout = r.u8();
    const uint8_t f = r.u8();
    if (x.when > 2 || x.layout > 1 || (f & ~3u) != 0) {
        r.fail();
        return x;
    }
    x.refused = (f & 1) != 0;
    x.from_first_packet = (f & 2) != 0;
    x.file = r.str(max_recording_name);
    x.dir = r.str(max_recording_name);
    x.pattern = r.str(max_recording_name);
    x.id = r.str(max_recording_id);
    x.base = r.str(max_recording_name);
    x.part = r.u16();
    x.started_unix_ms = r.i64();
    const bool open = x.st == recording_record::state::recording || x.st == recording_record::state::paused;
    if (open && (x.part == 0 || x.base.empty() || x.id.empty())) {
        r.fail();  // an open recording without the names its next part needs
    }
    if (version < 3 || !r.ok()) {
        return x;
    }
    const uint8_t n = r.u8();
    if (n > max_record_sdps || (n != 0 && !open && x.st != recording_record::state::pending)) {
        r.fail();  // only a recording open or still to start carries SDPs to the next node
        return x;
    }
    for (uint8_t i = 0; i < n && r.ok(); ++i) {
        recording_sdp_record d;
        d.unix_ns = r.i64();
        const uint8_t f = r.u8();
        if ((f & ~1u) != 0) {
            r.fail();
        }
        d.offer = (f & 1) != 0;
        d.from_tag = r.str(max_recording_name);
        d.to_tag = r.str(max_recording_name);
        d.sdp = r.str(max_record_sdp_bytes);
        x.sdps.push_back(std::move(d));
    }
    return x;
}

std::string aad_for(std::string_view head, std::string_view group, std::string_view call_id) {
    std::string a;
    wire::put_aad(a, head, group, call_id);
    return a;
}
}  // namespace

const char* decode_error_name(decode_error e) {
    constexpr const char* names[] = {"none", "too_short", "bad_magic", "newer_version",
                                     "seal", "malformed", "wrong_call"};
    return names[static_cast<size_t>(e)];
}

uint8_t record_version_of(std::string_view bytes) {
    if (bytes.size() < record_header_bytes || std::memcmp(bytes.data(), magic, sizeof magic) != 0) {
        return 0;
    }
    return static_cast<uint8_t>(bytes[4]);
}

std::string encode_record(const call_record& r, const group_key& key, std::string_view group) {
    sealer s(key);
    return encode_record(r, s, group);
}

std::string encode_record(const call_record& r, sealer& s, std::string_view group) {
    encode_buffers b;
    std::string out;
    encode_record(r, s, group, b, out);
    return out;
}

void encode_record(const call_record& r, sealer& s, std::string_view group, encode_buffers& b, std::string& out) {
    b.plain.clear();
    writer w(b.plain);
    w.str(r.call_id);
    w.str(r.owner);
    w.i64(r.created_unix_ms);
    w.i64(r.last_signal_unix_ms);
    w.i64(r.answered_unix_ms);
    w.i64(r.delete_at_unix_ms);
    w.u8(r.admitted ? 1 : 0);
    w.str(r.admitted_ifs[0]);
    w.str(r.admitted_ifs[1]);
    const size_t n_legs = std::min(r.legs.size(), max_record_legs);
    w.u8(static_cast<uint8_t>(n_legs));
    for (size_t l = 0; l < n_legs; ++l) {
        const leg_record& leg = r.legs[l];
        w.str(leg.tag);
        w.str(leg.iface);
        w.u8(static_cast<uint8_t>((leg.strict_source ? 1 : 0) | (leg.parked ? 2 : 0)));
        w.u8(static_cast<uint8_t>(leg.offerer));
        w.i64(leg.created_unix_ms);
        const size_t n_streams = std::min(leg.streams.size(), max_record_streams);
        w.u8(static_cast<uint8_t>(n_streams));
        for (size_t s = 0; s < n_streams; ++s) {
            put_stream(w, leg.streams[s]);
        }
    }
    // A call never recorded is written as a version 1 record (no recording field), which
    // every node since version 1 reads: a group upgraded one node at a time keeps moving its
    // unrecorded calls between old and new nodes; only a recorded call needs version 2, and
    // only one whose recording carries SDPs version 3.
    const uint8_t version = version_for(r.recording);
    if (version >= 2) {
        put_recording(w, r.recording, version);
    }
    w.flush();  // b.plain complete before it is sealed
    wire::seal_body(version, r.call_id, s, group, b, out);
}

namespace wire {

void put_header(std::string& out, uint8_t version) {
    out.append(magic, sizeof magic);
    out.push_back(static_cast<char>(version));
    out.append(3, '\0');  // key id 0, reserved
}

void put_aad(std::string& out, std::string_view head, std::string_view group, std::string_view call_id) {
    out.append(head);
    out.append(group);
    out.push_back('\0');
    out.append(call_id);
}

void seal_body(uint8_t version, std::string_view call_id, sealer& s, std::string_view group, encode_buffers& b,
               std::string& out) {
    const size_t at = out.size();
    put_header(out, version);
    b.aad.clear();
    put_aad(b.aad, std::string_view(out).substr(at, record_header_bytes), group, call_id);
    try {
        s.seal_into(b.plain, b.aad, out);
    } catch (...) {
        OPENSSL_cleanse(b.plain.data(), b.plain.size());
        out.resize(at);
        throw;
    }
    OPENSSL_cleanse(b.plain.data(), b.plain.size());
}

}  // namespace wire

std::optional<call_record> decode_record(std::string_view bytes, const group_key& key, std::string_view group,
                                         std::string_view call_id, decode_error* why) {
    auto fail = [why](decode_error e) -> std::optional<call_record> {
        *why = e;
        return std::nullopt;
    };
    *why = decode_error::none;
    if (bytes.size() < record_header_bytes + seal_overhead) {
        return fail(decode_error::too_short);
    }
    if (bytes.size() > max_record_bytes) {
        return fail(decode_error::malformed);
    }
    if (std::memcmp(bytes.data(), magic, sizeof magic) != 0) {
        return fail(decode_error::bad_magic);
    }
    const uint8_t version = static_cast<uint8_t>(bytes[4]);
    if (version > record_version) {
        return fail(decode_error::newer_version);
    }
    if (version == 0 || bytes[5] != 0 || bytes[6] != 0 || bytes[7] != 0) {
        return fail(decode_error::malformed);
    }
    const std::string_view head = bytes.substr(0, record_header_bytes);
    std::optional<std::string> body = open(key, bytes.substr(record_header_bytes), aad_for(head, group, call_id));
    if (!body) {
        return fail(decode_error::seal);
    }
    reader r(*body);
    call_record c;
    c.call_id = r.str(max_call_id);
    c.owner = r.str(max_name);
    c.created_unix_ms = r.i64();
    c.last_signal_unix_ms = r.i64();
    c.answered_unix_ms = r.i64();
    c.delete_at_unix_ms = r.i64();
    const uint8_t admitted = r.u8();
    c.admitted = admitted == 1;
    if (admitted > 1) {
        r.fail();
    }
    c.admitted_ifs[0] = r.str(max_name);
    c.admitted_ifs[1] = r.str(max_name);
    const uint8_t n_legs = r.u8();
    if (n_legs > max_record_legs) {
        r.fail();
    }
    for (uint8_t l = 0; l < n_legs && r.ok(); ++l) {
        leg_record leg;
        leg.tag = r.str(max_name);
        leg.iface = r.str(max_name);
        const uint8_t f = r.u8();
        if ((f & ~3u) != 0) {
            r.fail();
        }
        leg.strict_source = (f & 1) != 0;
        leg.parked = (f & 2) != 0;
        leg.offerer = static_cast<int8_t>(r.u8());
        if (leg.offerer < -1 || leg.offerer >= static_cast<int>(n_legs) || leg.offerer == static_cast<int>(l)) {
            r.fail();
        }
        leg.created_unix_ms = r.i64();
        const uint8_t n_streams = r.u8();
        if (n_streams > max_record_streams) {
            r.fail();
        }
        for (uint8_t s = 0; s < n_streams && r.ok(); ++s) {
            leg.streams.push_back(get_stream(r));
        }
        c.legs.push_back(std::move(leg));
    }
    if (version >= 2 && r.ok()) {
        c.recording = get_recording(r, version);
    }
    const bool ok = r.at_end();
    OPENSSL_cleanse(body->data(), body->size());
    if (!ok) {
        return fail(decode_error::malformed);
    }
    if (c.call_id != call_id) {
        return fail(decode_error::wrong_call);
    }
    return c;
}

}  // namespace rtprelay::ha
