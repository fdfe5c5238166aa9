// libFuzzer target: SRTP/SRTCP (dataplane/srtp/srtp.h) on packets straight from the input,
// with the native engine and, when asked, the libsrtp2 one beside it.
//
// Input: byte 0 is options (bits 0, 6, 7: the suite, bit 0 + 2 x bits 6..7: 0..5 the suite
// table's (0 AES_CM_128_HMAC_SHA1_80, 1 _32, 2-3 AES_256_CM, 4-5 AEAD_AES_128/256_GCM), 6
// AES_CM_128_HMAC_SHA1_80 with a 2-byte MKI, 7 AEAD_AES_128_GCM with a 1-byte MKI; bit 1:
// RTCP, bits 2..4: extra room, bit 5: libsrtp2 too), then up to 16 packets, each a 2-byte little-endian length (mod
// 2048) and its bytes (the last one may be cut short by the end of the input). Each engine
// gets a send and a receive context under one fixed key, fresh per input, and each packet:
//  - is unprotected as received, in a buffer of exactly its size, so AddressSanitizer sees
//    any read past it; on failure the packet and its length must be as they were;
//  - is protected with `room` bytes after it (context overhead - 3 + 0..7, so too little
//    room happens too); on failure nothing changes, on success the length grows by the
//    overhead and the receive context must give the packet back byte for byte.
// With both engines, the first packet checks one against the other: the same protect
// result, the same SRTP bytes, and each engine's output goes to the other's receive
// context. For SRTCP that is a receive context of its own: the engines' first SRTCP index
// differs (native 0 as RFC 3711 3.4 says, libsrtp2 1), so sharing one would turn the next
// packet into a replay.
//
// Contexts are costly to make (libsrtp2 sets up NSS; the native engine runs CPUID, slow
// under virtualisation), hence libsrtp2 only on request and no context made per packet.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "dataplane/srtp/srtp.h"

namespace {

namespace srtp = rtprelay::dp::srtp;

constexpr size_t max_packets = 16;
constexpr uint32_t max_packet_len = 2048;

[[noreturn]] void fail(const std::string& what) {
    std::fprintf(stderr, "fuzz_rtp_srtp: %s\n", what.c_str());
    std::abort();
}

// The input's key: fixed bytes, with an MKI of `mki_len` bytes (0: none). A copy per input,
// beside the contexts made from it.
srtp::master_key fixed_key(uint8_t mki_len) {
    srtp::master_key m{};
    for (size_t i = 0; i < m.key.size(); ++i) {
        m.key[i] = static_cast<uint8_t>(0xa0 + i);
    }
    for (size_t i = 0; i < m.salt.size(); ++i) {
        m.salt[i] = static_cast<uint8_t>(0x10 + i);
    }
    if (mki_len != 0) {
        m.mki_len = mki_len;
        m.mki = {0x5a, 0xa5, 0x3c, 0xc3};
    }
    return m;
}

// A heap buffer of exactly `size` bytes: ASan reports the first byte past it.
struct exact_buffer {
    explicit exact_buffer(size_t size) : bytes(new uint8_t[size == 0 ? 1 : size]), n(size) {}
    std::unique_ptr<uint8_t[]> bytes;
    size_t n;
    uint8_t* data() { return bytes.get(); }
};

srtp::result unprotect(srtp::context& c, uint8_t* p, uint32_t* len) {
    return c.rtcp() ? srtp::unprotect_rtcp(c, p, len) : srtp::unprotect_rtp(c, p, len);
}
srtp::result protect(srtp::context& c, uint8_t* p, uint32_t* len, uint32_t room) {
    return c.rtcp() ? srtp::protect_rtcp(c, p, len, room) : srtp::protect_rtp(c, p, len, room);
}

const char* engine_name(srtp::engine e) { return e == srtp::engine::native ? "native" : "libsrtp2"; }

std::string describe(const char* step, srtp::engine e, srtp::result r) {
    return std::string(step) + " (" + engine_name(e) + "): " + srtp::result_name(r);
}

// Unprotects `wire` (len bytes) with `c` and requires the original packet back.
void expect_round_trip(srtp::context& c, const uint8_t* wire, uint32_t len, const uint8_t* orig, uint32_t orig_len,
                       const char* step) {
    exact_buffer rx(len);
    std::memcpy(rx.data(), wire, len);
    uint32_t rx_len = len;
    const srtp::result r = unprotect(c, rx.data(), &rx_len);
    if (r != srtp::result::ok) {
        fail(describe(step, c.which_engine(), r) + " on a packet just protected");
    }
    if (rx_len != orig_len || std::memcmp(rx.data(), orig, orig_len) != 0) {
        fail(describe(step, c.which_engine(), r) + " gave back other bytes than were protected");
    }
}

struct engine_state {
    std::unique_ptr<srtp::context> tx, rx;
    std::vector<uint8_t> first_wire;  // the first packet as this engine protected it
    srtp::result first_result = srtp::result::ok;
};

// `check_rx` is the receive context that gets what `st` protected (the other engine's on
// the first packet of a two-engine run, else st's own).
void run_packet(engine_state& st, srtp::context& check_rx, const uint8_t* pkt, uint32_t n, uint32_t room, bool first) {
    const srtp::engine e = st.tx->which_engine();

    // As received from the network.
    {
        exact_buffer b(n);
        std::memcpy(b.data(), pkt, n);
        uint32_t len = n;
        const srtp::result r = unprotect(*st.rx, b.data(), &len);
        if (r != srtp::result::ok && (len != n || std::memcmp(b.data(), pkt, n) != 0)) {
            fail(describe("unprotect", e, r) + " changed the packet");
        }
        if (r == srtp::result::ok && len >= n) {
            fail(describe("unprotect", e, r) + " did not shorten the packet");
        }
    }

    // As sent by us.
    exact_buffer b(size_t{n} + room);
    std::memcpy(b.data(), pkt, n);
    std::memset(b.data() + n, 0xee, room);
    uint32_t len = n;
    const srtp::result r = protect(*st.tx, b.data(), &len, room);
    if (first) {
        st.first_result = r;
    }
    if (r != srtp::result::ok) {
        if (len != n || std::memcmp(b.data(), pkt, n) != 0) {
            fail(describe("protect", e, r) + " changed the packet");
        }
        for (uint32_t i = 0; i < room; ++i) {
            if (b.data()[n + i] != 0xee) {
                fail(describe("protect", e, r) + " wrote into the room");
            }
        }
        return;
    }
    if (len != n + st.tx->overhead()) {
        fail(describe("protect", e, r) + ": length is not packet + overhead");
    }
    if (first) {
        st.first_wire.assign(b.data(), b.data() + len);
    }
    expect_round_trip(check_rx, b.data(), len, pkt, n,
                      &check_rx == st.rx.get() ? "unprotect after protect" : "unprotect by the other engine");
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    // libsrtp2 on NSS initialises NSS with its first session and shuts it down with its
    // last; one session kept for the whole run saves that (milliseconds) on every input.
    static auto keeper =
        srtp::make_context(srtp::engine::libsrtp2, srtp::suite::aes_cm_128_hmac_sha1_80, fixed_key(0), false);
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size == 0) {
        return 0;
    }
    const uint32_t which = (data[0] & 0x01) | ((data[0] >> 6) << 1);
    const srtp::suite s = which < srtp::suite_count ? srtp::all_suites[which]
                          : which == 6              ? srtp::suite::aes_cm_128_hmac_sha1_80
                                                    : srtp::suite::aead_aes_128_gcm;
    const srtp::master_key key = fixed_key(which < srtp::suite_count ? 0 : which == 6 ? 2 : 1);
    const bool rtcp = (data[0] & 0x02) != 0;
    const uint32_t extra = (data[0] >> 2) & 0x07;
    const size_t n_engines = (data[0] & 0x20) != 0 ? 2 : 1;
    const uint8_t* p = data + 1;
    size_t left = size - 1;

    engine_state engines[2];
    const srtp::engine kinds[2] = {srtp::engine::native, srtp::engine::libsrtp2};
    for (size_t i = 0; i < n_engines; ++i) {
        engines[i].tx = srtp::make_context(kinds[i], s, key, rtcp);
        engines[i].rx = srtp::make_context(kinds[i], s, key, rtcp);
    }
    std::unique_ptr<srtp::context> cross_rx[2];
    if (n_engines == 2) {
        for (size_t i = 0; i < 2; ++i) {
            cross_rx[i] = rtcp ? srtp::make_context(kinds[i], s, key, rtcp) : nullptr;
        }
    }
    const uint32_t overhead = engines[0].tx->overhead();
    const uint32_t room = overhead + extra >= 3 ? overhead + extra - 3 : 0;

    for (size_t k = 0; k < max_packets && left >= 2; ++k) {
        uint32_t n = (p[0] | (uint32_t{p[1]} << 8)) % max_packet_len;
        p += 2;
        left -= 2;
        if (n > left) {
            n = static_cast<uint32_t>(left);
        }
        for (size_t i = 0; i < n_engines; ++i) {
            srtp::context& check_rx = k != 0 || n_engines == 1 ? *engines[i].rx
                                      : rtcp                   ? *cross_rx[1 - i]
                                                               : *engines[1 - i].rx;
            run_packet(engines[i], check_rx, p, n, room, k == 0);
        }
        if (k == 0 && n_engines == 2) {
            if (engines[0].first_result != engines[1].first_result) {
                fail(std::string("protect results differ on the first packet: native ") +
                     srtp::result_name(engines[0].first_result) + ", libsrtp2 " +
                     srtp::result_name(engines[1].first_result));
            }
            if (!rtcp && engines[0].first_wire != engines[1].first_wire) {
                fail("the engines protect the first RTP packet into different bytes");
            }
        }
        p += n;
        left -= n;
    }
    return 0;
}
