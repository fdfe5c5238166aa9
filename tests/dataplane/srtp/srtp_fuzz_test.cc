// Bounds fuzz: random and mutated packets in buffers of exactly their size (heap, so ASan
// builds catch a read or write one byte past the end). Nothing may crash, nothing malformed
// may pass, and a mutated packet never authenticates.

#include <gtest/gtest.h>

#include <memory>
#include <random>

#include "dataplane/srtp/srtp.h"
#include "tests/dataplane/srtp/test_util.h"

namespace rtprelay::dp::srtp {
namespace {

using test::bytes;

// Calls one operation on a copy of `in` held in an exactly-sized heap buffer with `room`
// writable bytes after it.
result call(context& c, bool protect, const bytes& in, uint32_t room) {
    const size_t cap = in.size() + room;
    std::unique_ptr<uint8_t[]> buf(new uint8_t[cap == 0 ? 1 : cap]);
    std::copy(in.begin(), in.end(), buf.get());
    auto len = static_cast<uint32_t>(in.size());
    result r;
    if (c.rtcp()) {
        r = protect ? protect_rtcp(c, buf.get(), &len, room) : unprotect_rtcp(c, buf.get(), &len);
    } else {
        r = protect ? protect_rtp(c, buf.get(), &len, room) : unprotect_rtp(c, buf.get(), &len);
    }
    if (r == result::ok) {
        EXPECT_LE(len, cap);
    } else {
        EXPECT_EQ(len, in.size());
        EXPECT_TRUE(std::equal(in.begin(), in.end(), buf.get()));
    }
    return r;
}

class fuzz : public ::testing::TestWithParam<engine> {};

TEST_P(fuzz, random_bytes) {
    std::mt19937_64 rng(5);
    const master_key k = test::random_key(rng);
    const int rounds = GetParam() == engine::native ? 200'000 : 20'000;
    for (const bool rtcp : {false, true}) {
        for (const suite s : {suite::aes_cm_128_hmac_sha1_80, suite::aes_cm_128_hmac_sha1_32}) {
            auto c = make_context(GetParam(), s, k, rtcp);
            for (int i = 0; i < rounds; ++i) {
                bytes p(rng() % 120);
                for (auto& x : p) {
                    x = static_cast<uint8_t>(rng());
                }
                if (!p.empty() && rng() % 2 == 0) {
                    p[0] = static_cast<uint8_t>(0x80 | (p[0] & 0x3f));  // version 2 more often
                }
                const uint32_t room = static_cast<uint32_t>(rng() % 16);
                const result u = call(*c, false, p, 0);
                ASSERT_NE(u, result::ok) << "random bytes authenticated";
                const result pr = call(*c, true, p, room);
                if (pr == result::ok) {
                    ASSERT_GE(room, c->overhead());
                }
            }
        }
    }
}

TEST_P(fuzz, mutated_packets_never_authenticate) {
    std::mt19937_64 rng(6);
    const master_key k = test::random_key(rng);
    for (const bool rtcp : {false, true}) {
        for (const suite s : {suite::aes_cm_128_hmac_sha1_80, suite::aes_cm_128_hmac_sha1_32}) {
            auto tx = make_context(GetParam(), s, k, rtcp);
            auto rx = make_context(GetParam(), s, k, rtcp);
            for (uint16_t seq = 0; seq < 2000; ++seq) {
                bytes plain;
                if (rtcp) {
                    plain = test::make_rtcp(0x1234, rng() % 20, rng);
                } else {
                    test::rtp_spec spec;
                    spec.seq = seq;
                    spec.ssrc = 0x1234;
                    spec.csrcs = static_cast<uint8_t>(rng() % 3);
                    spec.extension = rng() % 3 == 0;
                    spec.ext_words = static_cast<uint16_t>(rng() % 3);
                    spec.payload_len = rng() % 64;
                    plain = test::make_rtp(spec, rng);
                }
                bytes c = plain;
                ASSERT_EQ(test::protect(*tx, c), result::ok);
                for (int m = 0; m < 4; ++m) {
                    bytes f = c;
                    switch (rng() % 4) {
                        case 0:
                            f[rng() % f.size()] ^= static_cast<uint8_t>(1 + rng() % 255);
                            break;
                        case 1:
                            f.resize(rng() % f.size());
                            break;
                        case 2:
                            f.push_back(static_cast<uint8_t>(rng()));
                            break;
                        default:
                            f[rng() % 4] ^= static_cast<uint8_t>(1u << (rng() % 8));
                            break;
                    }
                    ASSERT_NE(call(*rx, false, f, 0), result::ok) << "mutation authenticated";
                }
                bytes g = c;
                ASSERT_EQ(test::unprotect(*rx, g), result::ok);
                ASSERT_EQ(g, plain);
            }
        }
    }
}

INSTANTIATE_TEST_SUITE_P(engines, fuzz, ::testing::Values(engine::native, engine::libsrtp2),
                         [](const auto& info) { return info.param == engine::native ? "native" : "libsrtp2"; });

}  // namespace
}  // namespace rtprelay::dp::srtp
