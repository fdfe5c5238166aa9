#include "dataplane/srtp/hmac_sha1.h"

#include <gtest/gtest.h>

#include <string>

#include "tests/dataplane/srtp/test_util.h"

namespace rtprelay::dp::srtp {
namespace {

using test::bytes;
using test::from_hex;

bytes text(const std::string& s) { return bytes(s.begin(), s.end()); }

struct rfc2202_case {
    bytes key;
    bytes data;
    const char* digest;
};

// RFC 2202 section 3, test cases 1-7 (HMAC-SHA-1).
std::vector<rfc2202_case> rfc2202() {
    return {
        {bytes(20, 0x0b), text("Hi There"), "b617318655057264e28bc0b6fb378c8ef146be00"},
        {text("Jefe"), text("what do ya want for nothing?"), "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79"},
        {bytes(20, 0xaa), bytes(50, 0xdd), "125d7342b9ac11cd91a39af48aa17b4f63f175d3"},
        {from_hex("0102030405060708090a0b0c0d0e0f10111213141516171819"), bytes(50, 0xcd),
         "4c9007f4026250c6bc8414f9bf50c86c2d7235da"},
        {bytes(20, 0x0c), text("Test With Truncation"), "4c1a03424b55e07fe7f27be1d58bb9324a9a5a04"},
        {bytes(80, 0xaa), text("Test Using Larger Than Block-Size Key - Hash Key First"),
         "aa4ae5e15272d00e95705637ce8a3b55ed402112"},
        {bytes(80, 0xaa), text("Test Using Larger Than Block-Size Key and Larger Than One Block-Size Data"),
         "e8e99d0f45237d786d6bbaa7965c7808bbff1a91"},
    };
}

TEST(hmac_sha1, rfc2202_vectors) {
    for (const auto& tc : rfc2202()) {
        hmac_sha1 mac;
        mac.set_key(tc.key.data(), tc.key.size());
        bytes out(hmac_sha1::digest_len);
        mac.compute(tc.data.data(), tc.data.size(), nullptr, 0, out.data());
        EXPECT_EQ(test::to_hex(out), tc.digest);
    }
}

// compute(a, b) is HMAC over a || b for every split (SRTP passes packet, then ROC), and a
// key stays usable for any number of messages.
TEST(hmac_sha1, any_split_is_the_concatenation) {
    for (const auto& tc : rfc2202()) {
        hmac_sha1 mac;
        mac.set_key(tc.key.data(), tc.key.size());
        for (size_t split = 0; split <= tc.data.size(); ++split) {
            bytes out(hmac_sha1::digest_len);
            mac.compute(tc.data.data(), split, tc.data.data() + split, tc.data.size() - split, out.data());
            ASSERT_EQ(test::to_hex(out), tc.digest) << "split " << split;
        }
    }
}

}  // namespace
}  // namespace rtprelay::dp::srtp
