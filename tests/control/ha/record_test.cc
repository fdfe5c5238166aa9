// Call records as they go to Redis: sealed round trips, and every way a stored value can be
// wrong (truncated, corrupted, newer format, another key or call, a sealed body that does
// not parse) refused with its reason and without a crash.

#include "control/ha/record.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <set>
#include <string>

#include "control/ha/seal.h"
#include "tests/control/ha/record_compare.h"

namespace rtprelay::ha {
namespace {

group_key key_of(uint8_t fill) {
    std::array<uint8_t, group_key::size> k{};
    k.fill(fill);
    return group_key(k);
}

crypto_line_record line(uint32_t tag, uint8_t fill) {
    crypto_line_record c;
    c.tag = tag;
    c.suite = 0;  // AES_CM_128_HMAC_SHA1_80: a 16-byte key, a 14-byte salt after the largest key
    std::memset(c.key, fill, 16);
    std::memset(c.key + dp::srtp::max_master_key_len, fill, 14);
    return c;
}

endpoint_record v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d, uint16_t port) {
    endpoint_record e;
    e.family = 4;
    e.addr[0] = a;
    e.addr[1] = b;
    e.addr[2] = c;
    e.addr[3] = d;
    e.port = port;
    return e;
}

// Two legs, one SRTP stream each, every optional part present.
call_record full_record() {
    call_record r;
    r.call_id = "a84b4c76e66710@pbx";
    r.owner = "node-1";
    r.created_unix_ms = 1700000000123;
    r.last_signal_unix_ms = 1700000001123;
    r.answered_unix_ms = 1700000002123;
    r.admitted = true;
    r.admitted_ifs[0] = "ext";
    r.admitted_ifs[1] = "int";
    for (int l = 0; l < 2; ++l) {
        leg_record leg;
        leg.tag = l == 0 ? "from-1928301774" : "to-314159";
        leg.iface = l == 0 ? "ext" : "int";
        leg.strict_source = l == 1;
        leg.offerer = static_cast<int8_t>(l == 1 ? 0 : -1);
        leg.created_unix_ms = 1700000000123 + l;
        stream_record s;
        s.flags = stream_record::allocated | stream_record::is_rtp | stream_record::published |
                  stream_record::has_peer_rtp | stream_record::has_peer_rtcp | stream_record::has_crypto |
                  stream_record::srtp | stream_record::has_from_peer | stream_record::has_to_peer;
        s.address_index = 0;
        s.rtp_port = static_cast<uint16_t>(30000 + 2 * l);
        s.local = v4(198, 18, static_cast<uint8_t>(1 + l), 1, 0);
        s.peer_rtp = v4(198, 18, static_cast<uint8_t>(1 + l), 2, 4000);
        s.peer_rtcp = v4(198, 18, static_cast<uint8_t>(1 + l), 2, 4001);
        s.media_type = "audio";
        s.proto = "RTP/SAVP";
        s.latched_rtp = 0x1234567890ull;
        s.from_peer = line(1, static_cast<uint8_t>(0xa0 + l));
        s.from_peer.lifetime = uint64_t{1} << 31;
        s.to_peer = line(1, static_cast<uint8_t>(0xb0 + l));
        s.offered = {line(1, static_cast<uint8_t>(0xb0 + l)), line(2, static_cast<uint8_t>(0xc0 + l))};
        s.srtp_in[0] = {{0x11223344, (uint64_t{3} << 16) | 65000}};
        s.srtp_out[1] = {{0x55667788, 12345}, {0x99aabbcc, 7}};
        leg.streams.push_back(s);
        r.legs.push_back(leg);
    }
    return r;
}

TEST(seal, round_trip_and_every_kind_of_tampering_fails) {
    const group_key k = key_of(7);
    const std::string sealed = seal(k, "media keys", "where it lives");
    EXPECT_EQ(sealed.size(), std::string("media keys").size() + seal_overhead);
    EXPECT_EQ(open(k, sealed, "where it lives"), std::optional<std::string>("media keys"));
    EXPECT_FALSE(open(key_of(8), sealed, "where it lives")) << "another group's key";
    EXPECT_FALSE(open(k, sealed, "somewhere else")) << "moved to another name";
    for (size_t i = 0; i < sealed.size(); ++i) {
        std::string bad = sealed;
        bad[i] = static_cast<char>(bad[i] ^ 0x01);
        EXPECT_FALSE(open(k, bad, "where it lives")) << "bit flipped in byte " << i;
    }
    for (size_t n = 0; n < sealed.size(); ++n) {
        EXPECT_FALSE(open(k, sealed.substr(0, n), "where it lives")) << "cut at " << n;
    }
    EXPECT_NE(seal(k, "media keys", "x"), seal(k, "media keys", "x")) << "a fresh nonce every time";
}

namespace {
// AES-256-GCM through OpenSSL's EVP directly, as the records of earlier versions were sealed:
// the reference the project's cipher (intel-ipsec-mb where the CPU has AES-NI) must match.
std::string evp_seal(const group_key& k, const std::string& nonce, const std::string& plain, const std::string& aad) {
    EVP_CIPHER_CTX* c = EVP_CIPHER_CTX_new();
    std::string out = nonce + std::string(plain.size() + seal_tag_bytes, '\0');
    auto* o = reinterpret_cast<unsigned char*>(out.data()) + seal_nonce_bytes;
    int len = 0;
    const bool ok = EVP_EncryptInit_ex(c, EVP_aes_256_gcm(), nullptr, k.data(),
                                       reinterpret_cast<const unsigned char*>(nonce.data())) == 1 &&
                    EVP_EncryptUpdate(c, nullptr, &len, reinterpret_cast<const unsigned char*>(aad.data()),
                                      static_cast<int>(aad.size())) == 1 &&
                    EVP_EncryptUpdate(c, o, &len, reinterpret_cast<const unsigned char*>(plain.data()),
                                      static_cast<int>(plain.size())) == 1 &&
                    EVP_EncryptFinal_ex(c, o + len, &len) == 1 &&
                    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, seal_tag_bytes, o + plain.size()) == 1;
    EVP_CIPHER_CTX_free(c);
    EXPECT_TRUE(ok);
    return out;
}
}  // namespace

TEST(seal, both_implementations_and_openssls_evp_make_the_same_blob_and_open_each_others) {
    const group_key k = key_of(9);
    for (size_t n :
         {size_t{0}, size_t{1}, size_t{15}, size_t{16}, size_t{17}, size_t{300}, size_t{483}, size_t{4099}}) {
        std::string plain(n, '\0');
        for (size_t i = 0; i < n; ++i) {
            plain[i] = static_cast<char>(i * 7 + n);
        }
        const std::string aad = "v1 group call-" + std::to_string(n);
        const std::string nonce = "nonce-" + std::to_string(100000 + n);  // 12 bytes
        ASSERT_EQ(nonce.size(), seal_nonce_bytes);
        const std::string reference = evp_seal(k, nonce, plain, aad);
        for (auto kind : {gcm_key::impl_kind::best, gcm_key::impl_kind::openssl}) {
            gcm_key g(k, kind);
            std::string blob = nonce + plain + std::string(seal_tag_bytes, '\0');
            auto* b = reinterpret_cast<uint8_t*>(blob.data());
            g.seal(b, aad, b + seal_nonce_bytes, n, b + seal_nonce_bytes + n);
            EXPECT_EQ(blob, reference) << n << " bytes, implementation " << static_cast<int>(kind);
            // What EVP sealed opens, and a flipped tag bit is refused with the bytes left as they were.
            std::string in = reference;
            auto* p = reinterpret_cast<uint8_t*>(in.data());
            EXPECT_TRUE(g.open(p, aad, p + seal_nonce_bytes, n, p + seal_nonce_bytes + n));
            EXPECT_EQ(in.substr(seal_nonce_bytes, n), plain);
            std::string bad = reference;
            bad.back() = static_cast<char>(bad.back() ^ 0x80);
            auto* q = reinterpret_cast<uint8_t*>(bad.data());
            EXPECT_FALSE(g.open(q, aad, q + seal_nonce_bytes, n, q + seal_nonce_bytes + n));
            EXPECT_EQ(bad.substr(0, seal_nonce_bytes + n), reference.substr(0, seal_nonce_bytes + n));
        }
        EXPECT_EQ(open(k, reference, aad), std::optional<std::string>(plain)) << "a record sealed by OpenSSL";
    }
    EXPECT_THROW(gcm_key(group_key{}), std::runtime_error) << "no key";
}

TEST(seal, a_kept_sealer_seals_as_seal_does_with_a_fresh_nonce_every_time) {
    const group_key k = key_of(3);
    sealer s(k);
    std::string last;
    for (int i = 0; i < 50; ++i) {
        const std::string plain = "record " + std::to_string(i);
        const std::string sealed = s.seal(plain, "aad");
        EXPECT_EQ(sealed.size(), plain.size() + seal_overhead);
        EXPECT_EQ(open(k, sealed, "aad"), std::optional<std::string>(plain)) << "round " << i;
        EXPECT_FALSE(open(k, sealed, "other aad"));
        EXPECT_FALSE(open(key_of(4), sealed, "aad"));
        EXPECT_NE(sealed.substr(0, seal_nonce_bytes), last.substr(0, seal_nonce_bytes)) << "nonce reused";
        last = sealed;
    }
    EXPECT_NE(s.seal("same", "x"), s.seal("same", "x"));
    EXPECT_EQ(open(k, s.seal("", ""), ""), std::optional<std::string>("")) << "empty text and aad";
    EXPECT_THROW(sealer{group_key{}}, std::runtime_error) << "no key";
}

// A sealer draws its nonces sealer::nonce_pool at a time: across refills no nonce repeats,
// and a forked child never uses what its parent drew (the parent's next nonces).
TEST(seal, nonces_never_repeat_across_the_pool_and_a_fork) {
    const group_key k = key_of(5);
    sealer s(k);
    std::set<std::string> seen;
    const size_t n = 4 * sealer::nonce_pool + 3;
    for (size_t i = 0; i < n; ++i) {
        seen.insert(s.seal("x", "aad").substr(0, seal_nonce_bytes));
    }
    EXPECT_EQ(seen.size(), n) << "a nonce was used twice";

    int fds[2];
    ASSERT_EQ(pipe(fds), 0);
    const pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        const std::string nonce = s.seal("x", "aad").substr(0, seal_nonce_bytes);
        const bool ok = write(fds[1], nonce.data(), nonce.size()) == static_cast<ssize_t>(nonce.size());
        _exit(ok ? 0 : 1);
    }
    close(fds[1]);
    std::string from_child(seal_nonce_bytes, '\0');
    const ssize_t got = read(fds[0], from_child.data(), from_child.size());
    close(fds[0]);
    int status = 0;
    ASSERT_EQ(waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    ASSERT_EQ(got, static_cast<ssize_t>(seal_nonce_bytes));
    for (size_t i = 0; i < sealer::nonce_pool; ++i) {
        const std::string nonce = s.seal("x", "aad").substr(0, seal_nonce_bytes);
        EXPECT_NE(nonce, from_child) << "the child sealed with the parent's nonce " << i;
        EXPECT_TRUE(seen.insert(nonce).second) << "nonce reused";
    }
}

TEST(seal, key_from_hex) {
    EXPECT_TRUE(group_key::from_hex(std::string(64, 'a')));
    EXPECT_TRUE(group_key::from_hex(" " + std::string(64, 'F') + "\n"));
    EXPECT_FALSE(group_key::from_hex(std::string(63, 'a')));
    EXPECT_FALSE(group_key::from_hex(std::string(65, 'a')));
    EXPECT_FALSE(group_key::from_hex(std::string(63, 'a') + "g"));
    EXPECT_FALSE(group_key::from_hex(""));
}

TEST(record, round_trip_keeps_every_field) {
    const group_key k = key_of(1);
    const call_record in = full_record();
    const std::string bytes = encode_record(in, k, "tokyo");
    EXPECT_EQ(record_version_of(bytes), 1) << "a call never recorded is written in the oldest format";
    decode_error why = decode_error::none;
    const auto out = decode_record(bytes, k, "tokyo", in.call_id, &why);
    ASSERT_TRUE(out) << decode_error_name(why);
    expect_same_record(in, *out);
    // And the sample's own values, so a sample that lost a field would show here too.
    EXPECT_EQ(out->admitted_ifs[0], "ext");
    EXPECT_EQ(out->admitted_ifs[1], "int");
    ASSERT_EQ(out->legs.size(), 2u);
    for (const leg_record& b : out->legs) {
        ASSERT_EQ(b.streams.size(), 1u);
        const stream_record& y = b.streams[0];
        ASSERT_EQ(y.offered.size(), 2u);
        ASSERT_EQ(y.srtp_in[0].size(), 1u);
        ASSERT_EQ(y.srtp_out[1].size(), 2u);
        EXPECT_EQ(y.srtp_out[1][1].ssrc, 0x99aabbccu);
        EXPECT_TRUE(y.srtp_in[1].empty());
    }
}

TEST(record, no_media_key_in_the_stored_bytes) {
    const std::string bytes = encode_record(full_record(), key_of(1), "tokyo");
    for (uint8_t fill : {0xa0, 0xa1, 0xb0, 0xb1, 0xc0, 0xc1}) {
        const std::string key(30, static_cast<char>(fill));
        EXPECT_EQ(bytes.find(key.substr(0, 8)), std::string::npos) << "key bytes " << int(fill) << " in the clear";
    }
    EXPECT_EQ(bytes.find("a84b4c76"), std::string::npos) << "the body is sealed whole";
}

TEST(record, an_srtp_call_fits_in_a_small_value) {
    call_record r = full_record();
    for (auto& l : r.legs) {
        l.streams[0].offered.resize(1);
    }
    const std::string bytes = encode_record(r, key_of(1), "tokyo");
    EXPECT_LT(bytes.size(), 700u) << "SRTP<->SRTP, one stream, is " << bytes.size() << " bytes";
}

TEST(record, refuses_every_truncation) {
    const call_record in = full_record();
    const std::string bytes = encode_record(in, key_of(1), "tokyo");
    for (size_t n = 0; n < bytes.size(); ++n) {
        decode_error why = decode_error::none;
        EXPECT_FALSE(decode_record(bytes.substr(0, n), key_of(1), "tokyo", in.call_id, &why)) << n;
        EXPECT_NE(why, decode_error::none);
    }
}

TEST(record, refuses_every_corrupted_byte) {
    const call_record in = full_record();
    const std::string bytes = encode_record(in, key_of(1), "tokyo");
    for (size_t i = 0; i < bytes.size(); ++i) {
        std::string bad = bytes;
        bad[i] = static_cast<char>(bad[i] ^ 0x40);
        decode_error why = decode_error::none;
        EXPECT_FALSE(decode_record(bad, key_of(1), "tokyo", in.call_id, &why)) << i;
        if (i == 4) {
            EXPECT_EQ(why, decode_error::newer_version);
        } else if (i < 4) {
            EXPECT_EQ(why, decode_error::bad_magic);
        } else if (i >= record_header_bytes) {
            EXPECT_EQ(why, decode_error::seal) << i;
        }
    }
}

TEST(record, refuses_a_newer_version_before_opening_it) {
    const call_record in = full_record();
    std::string bytes = encode_record(in, key_of(1), "tokyo");
    bytes[4] = static_cast<char>(record_version + 1);
    decode_error why = decode_error::none;
    EXPECT_FALSE(decode_record(bytes, key_of(1), "tokyo", in.call_id, &why));
    EXPECT_EQ(why, decode_error::newer_version);
    EXPECT_EQ(record_version_of(bytes), record_version + 1);
}

TEST(record, refuses_another_key_group_or_call) {
    const call_record in = full_record();
    const std::string bytes = encode_record(in, key_of(1), "tokyo");
    decode_error why = decode_error::none;
    EXPECT_FALSE(decode_record(bytes, key_of(2), "tokyo", in.call_id, &why));
    EXPECT_EQ(why, decode_error::seal);
    EXPECT_FALSE(decode_record(bytes, key_of(1), "osaka", in.call_id, &why));
    EXPECT_EQ(why, decode_error::seal);
    EXPECT_FALSE(decode_record(bytes, key_of(1), "tokyo", "another-call", &why)) << "a record copied to another name";
    EXPECT_EQ(why, decode_error::seal);
}

// A body sealed correctly (by someone holding the key: a buggy or newer writer) that does
// not parse is refused too.
TEST(record, refuses_a_sealed_body_that_does_not_parse) {
    const std::string id = "c1";
    std::string head("rtpR\x00\x00\x00\x00", 8);
    head[4] = static_cast<char>(record_version);
    const std::string aad = head + "tokyo" + std::string(1, '\0') + id;
    for (const std::string& body :
         {std::string(), std::string("\x02\x00", 2) + "c1" + std::string(200, '\xff'), std::string(3000, '\0')}) {
        decode_error why = decode_error::none;
        EXPECT_FALSE(decode_record(head + seal(key_of(1), body, aad), key_of(1), "tokyo", id, &why));
        EXPECT_EQ(why, decode_error::malformed);
    }
    // Bytes after a valid record.
    std::string ok = encode_record(full_record(), key_of(1), "tokyo");
    const std::string ok_head = ok.substr(0, record_header_bytes);
    const auto plain = open(key_of(1), std::string_view(ok).substr(8),
                            ok_head + "tokyo" + std::string(1, '\0') + full_record().call_id);
    ASSERT_TRUE(plain);
    decode_error why = decode_error::none;
    const std::string aad2 = ok_head + "tokyo" + std::string(1, '\0') + full_record().call_id;
    EXPECT_FALSE(
        decode_record(ok_head + seal(key_of(1), *plain + "x", aad2), key_of(1), "tokyo", full_record().call_id, &why));
    EXPECT_EQ(why, decode_error::malformed);
}

// Records from Redis with an address family other than 4 and 6, or a latch word with bits
// no writer sets, are bad input: refused as malformed, never read on.
TEST(record, refuses_an_unknown_family_or_latch_word) {
    const group_key k = key_of(1);
    auto refused = [&](const call_record& r, const char* what) {
        decode_error why = decode_error::none;
        EXPECT_FALSE(decode_record(encode_record(r, k, "tokyo"), k, "tokyo", r.call_id, &why)) << what;
        EXPECT_EQ(why, decode_error::malformed) << what;
    };
    for (uint8_t fam : {0, 5, 41, 255}) {
        call_record r = full_record();
        r.legs[1].streams[0].peer_rtp.family = fam;
        refused(r, "peer family");
        r = full_record();
        r.legs[0].streams[0].local.family = fam;
        refused(r, "local family");
    }
    for (int bit = 48; bit < 63; ++bit) {
        call_record r = full_record();
        r.legs[0].streams[0].latched_rtcp = (uint64_t{1} << bit) | 0x1234;
        refused(r, "latch word bit");
    }
}

// Every suite's key and salt (by the suite's lengths) and an MKI survive the round trip; an
// unknown suite or an MKI longer than srtp::max_mki_len is refused.
TEST(record, every_suite_and_an_mki_round_trip) {
    const group_key k = key_of(1);
    for (size_t i = 0; i < dp::srtp::suite_count; ++i) {
        const dp::srtp::suite_info& si = dp::srtp::suite_table[i];
        call_record in = full_record();
        crypto_line_record& c = in.legs[0].streams[0].from_peer;
        c.suite = static_cast<uint8_t>(i);
        std::memset(c.key, 0, sizeof c.key);
        for (size_t b = 0; b < si.master_key_len; ++b) {
            c.key[b] = static_cast<uint8_t>(0x40 + b);
        }
        for (size_t b = 0; b < si.master_salt_len; ++b) {
            c.key[dp::srtp::max_master_key_len + b] = static_cast<uint8_t>(0x80 + b);
        }
        c.mki_len = static_cast<uint8_t>(1 + i % dp::srtp::max_mki_len);
        std::memset(c.mki, 0, sizeof c.mki);
        std::memset(c.mki, 0xa5, c.mki_len);
        decode_error why = decode_error::none;
        const auto out = decode_record(encode_record(in, k, "tokyo"), k, "tokyo", in.call_id, &why);
        ASSERT_TRUE(out) << si.name << " " << decode_error_name(why);
        expect_same_line(c, out->legs[0].streams[0].from_peer);
        expect_same_line(in.legs[0].streams[0].to_peer, out->legs[0].streams[0].to_peer);
    }
    auto refused = [&](const call_record& r, const char* what) {
        decode_error why = decode_error::none;
        EXPECT_FALSE(decode_record(encode_record(r, k, "tokyo"), k, "tokyo", r.call_id, &why)) << what;
        EXPECT_EQ(why, decode_error::malformed) << what;
    };
    call_record r = full_record();
    r.legs[0].streams[0].to_peer.suite = static_cast<uint8_t>(dp::srtp::suite_count);
    refused(r, "unknown suite");
    r = full_record();
    r.legs[1].streams[0].offered[0].mki_len = dp::srtp::max_mki_len + 1;
    refused(r, "MKI too long");
}

// IPv6 addresses and an IPv6 latch's whole address survive the round trip.
TEST(record, ipv6_addresses_and_latches_round_trip) {
    const group_key k = key_of(1);
    call_record in = full_record();
    stream_record& s = in.legs[0].streams[0];
    s.local.family = 6;
    s.peer_rtp.family = 6;
    for (uint8_t i = 0; i < 16; ++i) {
        s.local.addr[i] = static_cast<uint8_t>(0x20 + i);
        s.peer_rtp.addr[i] = static_cast<uint8_t>(0x40 + i);
        s.latched_rtp6[i] = static_cast<uint8_t>(0x60 + i);
        s.latched_rtcp6[i] = static_cast<uint8_t>(0x80 + i);
    }
    s.latched_rtp = (uint64_t{1} << 63) | 0xabcdef011234ull;
    s.latched_rtcp = (uint64_t{1} << 63) | 0x1235;
    decode_error why = decode_error::none;
    const auto out = decode_record(encode_record(in, k, "tokyo"), k, "tokyo", in.call_id, &why);
    ASSERT_TRUE(out) << decode_error_name(why);
    const stream_record& y = out->legs[0].streams[0];
    EXPECT_EQ(y.local.family, 6);
    EXPECT_EQ(0, std::memcmp(y.local.addr, s.local.addr, 16));
    EXPECT_EQ(0, std::memcmp(y.peer_rtp.addr, s.peer_rtp.addr, 16));
    EXPECT_EQ(y.latched_rtp, s.latched_rtp);
    EXPECT_EQ(y.latched_rtcp, s.latched_rtcp);
    EXPECT_EQ(0, std::memcmp(y.latched_rtp6, s.latched_rtp6, 16));
    EXPECT_EQ(0, std::memcmp(y.latched_rtcp6, s.latched_rtcp6, 16));
    EXPECT_EQ(out->legs[1].streams[0].latched_rtp, in.legs[1].streams[0].latched_rtp) << "IPv4 after IPv6";
}

// The call's recording (version 2): every field round trips; a version 1 record (written by
// a node from before recordings moved) reads as a call without one; recording fields no
// writer produces are refused as malformed.
recording_record open_recording() {
    recording_record r;
    r.st = recording_record::state::paused;
    r.when = 2;
    r.layout = 0;
    r.refused = true;
    r.from_first_packet = true;
    r.file = "trunk-7/call";
    r.dir = "trunk-7";
    r.pattern = "%Y/%c-%r";
    r.id = "0123456789abcdef";
    r.base = "trunk-7/2026/a84b-0123";
    r.part = 3;
    r.started_unix_ms = 1700000003123;
    return r;
}

TEST(record, the_recording_round_trips) {
    const group_key k = key_of(1);
    for (auto st : {recording_record::state::off, recording_record::state::pending, recording_record::state::recording,
                    recording_record::state::paused, recording_record::state::stopped}) {
        call_record in = full_record();
        in.recording = open_recording();
        in.recording.st = st;
        if (st == recording_record::state::off) {
            in.recording = recording_record{};
        }
        decode_error why = decode_error::none;
        const auto out = decode_record(encode_record(in, k, "tokyo"), k, "tokyo", in.call_id, &why);
        ASSERT_TRUE(out) << decode_error_name(why);
        EXPECT_TRUE(out->recording == in.recording) << static_cast<int>(st);
        EXPECT_EQ(out->legs.size(), 2u);
    }
}

TEST(record, an_unrecorded_call_is_written_as_version_1_and_both_forms_read) {
    const group_key k = key_of(1);
    const call_record in = full_record();  // not recorded
    const std::string v1 = encode_record(in, k, "tokyo");
    ASSERT_EQ(record_version_of(v1), 1);
    decode_error why = decode_error::none;
    auto out = decode_record(v1, k, "tokyo", in.call_id, &why);
    ASSERT_TRUE(out) << decode_error_name(why);
    EXPECT_EQ(out->recording.st, recording_record::state::off);
    EXPECT_EQ(out->legs.size(), 2u);
    // The same call as version 2 wrote it before (the body ends with one byte: off).
    const std::string tail = "tokyo" + std::string(1, '\0') + in.call_id;
    auto plain = open(k, std::string_view(v1).substr(8), v1.substr(0, 8) + tail);
    ASSERT_TRUE(plain);
    const std::string head2("rtpR\x02\x00\x00\x00", 8);
    out = decode_record(head2 + seal(k, *plain + std::string(1, '\0'), head2 + tail), k, "tokyo", in.call_id, &why);
    ASSERT_TRUE(out) << decode_error_name(why);
    EXPECT_EQ(out->recording.st, recording_record::state::off);
    EXPECT_EQ(out->legs.size(), 2u);
    // A recorded call needs version 2 (version 3 only once its recording carries SDPs).
    call_record rec = in;
    rec.recording = open_recording();
    EXPECT_EQ(record_version_of(encode_record(rec, k, "tokyo")), 2);
}

TEST(record, refuses_recording_fields_no_writer_produces) {
    const group_key k = key_of(1);
    const call_record in = full_record();
    auto mutated = [&](auto change) {
        call_record r = in;
        r.recording = open_recording();
        const std::string bytes = encode_record(r, k, "tokyo");
        const std::string aad = bytes.substr(0, 8) + "tokyo" + std::string(1, '\0') + in.call_id;
        auto plain = open(k, std::string_view(bytes).substr(8), aad);
        EXPECT_TRUE(plain);
        change(*plain);
        decode_error why = decode_error::none;
        EXPECT_FALSE(decode_record(bytes.substr(0, 8) + seal(k, *plain, aad), k, "tokyo", in.call_id, &why));
        EXPECT_EQ(why, decode_error::malformed);
    };
    // The recording section: state, when, layout, flags, 5 strings, part, started.
    const size_t tail = 1 + 3 + (2 + 12) + (2 + 7) + (2 + 8) + (2 + 16) + (2 + 22) + 2 + 8;
    mutated([&](std::string& b) { b[b.size() - tail] = 5; });         // no such state
    mutated([&](std::string& b) { b[b.size() - tail + 1] = 3; });     // no such mode
    mutated([&](std::string& b) { b[b.size() - tail + 2] = 2; });     // no such layout
    mutated([&](std::string& b) { b[b.size() - tail + 3] = 4; });     // an unknown flag
    mutated([&](std::string& b) { b[b.size() - 10] = 0; });           // an open recording in part 0
    mutated([&](std::string& b) { b.resize(b.size() - 3); });         // cut short
    mutated([&](std::string& b) { b[b.size() - tail + 4] = 0x7f; });  // a name longer than what follows
    // An open recording without the id its next part needs.
    call_record r = in;
    r.recording = open_recording();
    r.recording.id.clear();
    decode_error why = decode_error::none;
    EXPECT_FALSE(decode_record(encode_record(r, k, "tokyo"), k, "tokyo", in.call_id, &why));
    EXPECT_EQ(why, decode_error::malformed);
}

// The SDP a recording carries to the next node (version 3): it round trips; a recording
// carrying none is still written as version 2; counts, flags and states no writer produces
// are refused. What it costs in Redis is measured here (an answered SRTP<->SRTP call).
recording_sdp_record carried_sdp(bool offer) {
    recording_sdp_record d;
    d.unix_ns = offer ? 1700000000123456789 : 1700000002123456789;
    d.offer = offer;
    d.from_tag = "from-1928301774";
    d.to_tag = offer ? "" : "to-314159";
    // An SRTP trunk's SDP as the metadata keeps it (the keys removed): offer 345 bytes, answer 298.
    d.sdp = std::string("v=0\r\no=- 3912345678 3912345678 IN IP4 198.51.100.10\r\ns=-\r\n") +
            "c=IN IP4 198.51.100.10\r\nt=0 0\r\nm=audio 4000 RTP/SAVP " + (offer ? "0 8 101" : "0 101") +
            "\r\na=rtpmap:0 PCMU/8000\r\n" + (offer ? "a=rtpmap:8 PCMA/8000\r\n" : "") +
            "a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\na=ptime:20\r\na=sendrecv\r\n"
            "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:[removed]\r\n" +
            (offer ? "a=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:[removed]\r\n" : "");
    return d;
}

TEST(record, the_sdp_a_recording_carries_round_trips_as_version_3) {
    const group_key k = key_of(1);
    call_record in = full_record();
    const size_t unrecorded = encode_record(in, k, "tokyo").size();
    in.recording = open_recording();
    const size_t recorded = encode_record(in, k, "tokyo").size();
    in.recording.sdps = {carried_sdp(false)};
    const std::string bytes = encode_record(in, k, "tokyo");
    EXPECT_EQ(record_version_of(bytes), 3);
    decode_error why = decode_error::none;
    auto out = decode_record(bytes, k, "tokyo", in.call_id, &why);
    ASSERT_TRUE(out) << decode_error_name(why);
    EXPECT_TRUE(out->recording == in.recording);
    // The SDP costs its bytes and its tags plus 15 bytes of framing, nothing more.
    const recording_sdp_record& d = in.recording.sdps[0];
    EXPECT_EQ(bytes.size(), recorded + 1 + 15 + d.sdp.size() + d.from_tag.size() + d.to_tag.size())
        << "unrecorded " << unrecorded << ", recorded " << recorded << ", with the SDP " << bytes.size();
    // A pending recording (from-answer, before the answer) carries the offer.
    in.recording.st = recording_record::state::pending;
    in.recording.sdps = {carried_sdp(true)};
    out = decode_record(encode_record(in, k, "tokyo"), k, "tokyo", in.call_id, &why);
    ASSERT_TRUE(out) << decode_error_name(why);
    EXPECT_TRUE(out->recording == in.recording);
}

TEST(record, refuses_carried_sdps_no_writer_produces) {
    const group_key k = key_of(1);
    call_record in = full_record();
    in.recording = open_recording();
    in.recording.sdps = {carried_sdp(false)};
    const std::string bytes = encode_record(in, k, "tokyo");
    const std::string aad = bytes.substr(0, 8) + "tokyo" + std::string(1, '\0') + in.call_id;
    const auto plain = open(k, std::string_view(bytes).substr(8), aad);
    ASSERT_TRUE(plain);
    // From the end: the count (1), time (8), flags (1), from-tag, to-tag, the SDP.
    const recording_sdp_record& d = in.recording.sdps[0];
    const size_t count_at =
        plain->size() - (1 + 8 + 1 + 2 + d.from_tag.size() + 2 + d.to_tag.size() + 2 + d.sdp.size());
    const size_t flags_at = count_at + 1 + 8;
    const size_t state_at = count_at - (1 + 3 + (2 + 12) + (2 + 7) + (2 + 8) + (2 + 16) + (2 + 22) + 2 + 8);
    auto refused = [&](auto change, const char* what) {
        std::string b = *plain;
        change(b);
        decode_error why = decode_error::none;
        EXPECT_FALSE(decode_record(bytes.substr(0, 8) + seal(k, b, aad), k, "tokyo", in.call_id, &why)) << what;
        EXPECT_EQ(why, decode_error::malformed) << what;
    };
    refused([&](std::string& b) { b[count_at] = 2; }, "more SDPs than a writer carries");
    refused([&](std::string& b) { b[flags_at] = 2; }, "an unknown flag");
    refused([&](std::string& b) { b[state_at] = static_cast<char>(recording_record::state::stopped); },
            "a stopped recording carries nothing");
    refused([&](std::string& b) { b.resize(b.size() - 1); }, "cut short");
    // An SDP past the limit is not carried by a writer, and refused from a record.
    in.recording.sdps[0].sdp.assign(max_record_sdp_bytes + 1, 'x');
    decode_error why = decode_error::none;
    auto out = decode_record(encode_record(in, k, "tokyo"), k, "tokyo", in.call_id, &why);
    ASSERT_TRUE(out) << decode_error_name(why);
    EXPECT_EQ(out->recording.sdps[0].sdp, "") << "written empty";
}

}  // namespace
}  // namespace rtprelay::ha
