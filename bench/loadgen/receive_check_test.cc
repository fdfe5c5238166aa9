#include "bench/loadgen/receive_check.h"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <rte_ip.h>
#include <rte_udp.h>

#include <cstring>
#include <vector>

#include "bench/loadgen/rtp_wire.h"
#include "bench/loadgen/srtp_call_fixture.h"

namespace rtprelay::loadgen {
namespace {

constexpr uint32_t identity = 77;
constexpr uint32_t payload_bytes = 160;

stream_set one_call() { return one_srtp_call(0x2000, offered_key(), offered_key()); }

// A frame as the generator receives it: RTP (SRTP-protected with `tx`) behind
// Ethernet/IPv4/UDP headers with a valid UDP checksum. *v gets the parsed headers.
std::vector<uint8_t> frame(srtp_sender* tx, uint16_t seq, uint32_t call_index, udp_frame_view* v) {
    std::vector<uint8_t> f(udp_frame_header_bytes + rtp_header_bytes + payload_bytes + dp::srtp::max_overhead);
    uint8_t* rtp = f.data() + udp_frame_header_bytes;
    rtp_fields r;
    r.seq = seq;
    r.timestamp = 160u * seq;
    r.ssrc = 0x2000;
    r.call_index = call_index;
    write_rtp(rtp, payload_bytes, r);
    auto len = static_cast<uint32_t>(rtp_header_bytes + payload_bytes);
    if (tx != nullptr) {
        EXPECT_TRUE(tx->protect(0, rtp, &len, dp::srtp::max_overhead));
    }
    udp_frame_addresses a;
    a.src_ip = inet_addr("198.18.2.1");
    a.dst_ip = inet_addr("198.18.2.2");
    a.src_port = 10002;
    a.dst_port = 20000;
    const size_t n = write_udp_headers(f.data(), a, len);
    f.resize(n);
    EXPECT_TRUE(parse_udp_frame(f.data(), f.size(), v));
    return f;
}

bool check(std::vector<uint8_t>& f, const udp_frame_view& v, srtp_receiver* rx, uint32_t want_identity) {
    return check_received(f.data(), v, f.data() + v.payload_offset, static_cast<uint32_t>(v.payload_len), rx, 0,
                          want_identity);
}

TEST(receive_check, srtp_packets_pass_and_a_flipped_bit_anywhere_fails) {
    const stream_set set = one_call();
    srtp_sender tx(set, 0);
    srtp_receiver rx(set, 0);
    udp_frame_view v;
    std::vector<uint8_t> good = frame(&tx, 100, identity, &v);
    EXPECT_TRUE(check(good, v, &rx, identity));

    // A corrupted payload byte with the UDP checksum left as it was: the checksum catches it.
    std::vector<uint8_t> bad = frame(&tx, 101, identity, &v);
    bad[v.payload_offset + rtp_header_bytes + 20] ^= 0x01;
    EXPECT_FALSE(check(bad, v, &rx, identity));

    // The same with the checksum cleared (UDP allows none): SRTP authentication catches it.
    bad = frame(&tx, 102, identity, &v);
    bad[v.payload_offset + rtp_header_bytes + 20] ^= 0x01;
    std::memset(bad.data() + v.payload_offset - 2, 0, 2);
    EXPECT_FALSE(check(bad, v, &rx, identity));

    // A corrupted authentication tag, checksum cleared.
    bad = frame(&tx, 103, identity, &v);
    bad[bad.size() - 1] ^= 0x80;
    std::memset(bad.data() + v.payload_offset - 2, 0, 2);
    EXPECT_FALSE(check(bad, v, &rx, identity));

    // The receiving context is not thrown off by the failures: the next good packet passes.
    good = frame(&tx, 104, identity, &v);
    EXPECT_TRUE(check(good, v, &rx, identity));
}

TEST(receive_check, another_streams_payload_fails_even_when_it_decrypts) {
    const stream_set set = one_call();
    srtp_sender tx(set, 0);
    srtp_receiver rx(set, 0);
    udp_frame_view v;
    std::vector<uint8_t> f = frame(&tx, 100, identity + 1, &v);
    EXPECT_FALSE(check(f, v, &rx, identity));
    // Plain RTP (no SRTP receiver): the identity is still checked.
    f = frame(nullptr, 101, identity + 1, &v);
    EXPECT_FALSE(check(f, v, nullptr, identity));
    f = frame(nullptr, 102, identity, &v);
    EXPECT_TRUE(check(f, v, nullptr, identity));
}

// An RTP<->SRTP call (--rtp-srtp): A's packets reach B protected by the relay (the key of
// its SDP toward B), B's reach A decrypted. Each side's check wants what its leg speaks.
TEST(receive_check, a_bridged_call_is_checked_as_srtp_at_b_and_as_plain_at_a) {
    const dp::srtp::master_key toward_b = offered_key();
    stream_set bridged = one_srtp_call(0x2000, offered_key(), offered_key());
    bridged.streams[0].send_srtp = false;  // A -> B: sent plain, arrives as SRTP
    bridged.streams[0].recv_key = toward_b;
    bridged.streams[1].recv_srtp = false;  // B -> A: sent as SRTP, arrives plain
    srtp_receiver rx(bridged, 0);
    const stream_set relay_toward_b = one_srtp_call(0x2000, toward_b, toward_b);
    srtp_sender relay(relay_toward_b, 0);
    const auto check_stream = [&](std::vector<uint8_t>& f, const udp_frame_view& v, uint32_t stream) {
        return check_received(f.data(), v, f.data() + v.payload_offset, static_cast<uint32_t>(v.payload_len), &rx,
                              stream, identity);
    };
    udp_frame_view v;
    std::vector<uint8_t> f = frame(&relay, 100, identity, &v);
    EXPECT_TRUE(check_stream(f, v, 0)) << "SRTP at B, under the relay's key";
    f = frame(nullptr, 101, identity, &v);
    EXPECT_FALSE(check_stream(f, v, 0)) << "plain at B: the relay did not protect it";
    f = frame(nullptr, 100, identity, &v);
    EXPECT_TRUE(check_stream(f, v, 1)) << "plain at A";
    f = frame(&relay, 102, identity, &v);
    EXPECT_FALSE(check_stream(f, v, 1)) << "still SRTP at A: the relay did not decrypt it";
    f = frame(nullptr, 103, identity + 1, &v);
    EXPECT_FALSE(check_stream(f, v, 1)) << "plain at A, another stream's payload";
}

TEST(receive_check, the_sample_covers_first_packets_checked_streams_and_one_in_n) {
    const uint32_t mask = 63;  // 1 in 64
    const uint32_t checked = 8;
    // Each stream's first packet, whatever its sequence number.
    EXPECT_TRUE(full_check_due(100, checked, 0x1235, mask, true));
    // Every packet of the checked streams.
    for (uint32_t seq = 0; seq < 200; ++seq) {
        EXPECT_TRUE(full_check_due(checked - 1, checked, static_cast<uint16_t>(seq), mask, false));
    }
    // Elsewhere exactly 1 in 64 of consecutive sequence numbers, across the 16-bit wrap.
    uint32_t due = 0;
    for (uint32_t i = 0; i < 64 * 100; ++i) {
        due += full_check_due(checked, checked, static_cast<uint16_t>(65536 - 64 * 50 + i), mask, false) ? 1 : 0;
    }
    EXPECT_EQ(due, 100u);
    EXPECT_TRUE(full_check_due(checked, checked, 0, mask, false));
    EXPECT_FALSE(full_check_due(checked, checked, 65535, mask, false));
}

}  // namespace
}  // namespace rtprelay::loadgen
