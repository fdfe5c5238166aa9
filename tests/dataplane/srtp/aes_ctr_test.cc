#include "dataplane/srtp/aes_ctr.h"

#include <gtest/gtest.h>

#include <random>
#include <stdexcept>
#include <vector>

#include "tests/dataplane/srtp/test_util.h"

namespace rtprelay::dp::srtp {
namespace {

using test::bytes;
using test::from_hex;

std::vector<aes_impl> impls() {
    std::vector<aes_impl> v{aes_impl::openssl};
    if (cpu_has_aesni()) {
        v.push_back(aes_impl::aesni);
    }
    return v;
}

class aes_ctr_test : public ::testing::TestWithParam<aes_impl> {};

// RFC 3711 B.2: the AES-CM keystream for session key 2B7E..., salt F0F1...FD, SSRC 0 and
// index 0, i.e. counter blocks F0F1...FD0000 on; 0xFF02 blocks long, published at six blocks.
TEST_P(aes_ctr_test, rfc3711_b2_keystream) {
    const bytes key = from_hex("2B7E151628AED2A6ABF7158809CF4F3C");
    const bytes iv = from_hex("F0F1F2F3F4F5F6F7F8F9FAFBFCFD0000");
    aes_ctr aes;
    aes.set_key(key.data(), key.size(), GetParam());
    EXPECT_EQ(aes.impl(), GetParam());
    bytes ks(0xFF02 * 16, 0);
    aes.apply(iv.data(), ks.data(), ks.data(), ks.size());
    const std::pair<size_t, const char*> blocks[] = {
        {0x0000, "e03ead0935c95e80e166b16dd92b4eb4"}, {0x0001, "d23513162b02d0f72a43a2fe4a5f97ab"},
        {0x0002, "41e95b3bb0a2e8dd477901e4fca894c0"}, {0xFEFF, "ec8cdf7398607cb0f2d21675ea9ea1e4"},
        {0xFF00, "362b7c3c6773516318a077d7fc5073ae"}, {0xFF01, "6a2cc3787889374fbeb4c81b17ba6c44"},
    };
    for (const auto& [block, hex] : blocks) {
        const bytes got(ks.begin() + static_cast<long>(16 * block), ks.begin() + static_cast<long>(16 * block + 16));
        EXPECT_EQ(test::to_hex(got), hex) << "block " << block;
    }
}

// NIST SP 800-38A F.5.1 (CTR-AES128.Encrypt): the counter carries across bytes 14/15.
TEST_P(aes_ctr_test, sp800_38a_f51) {
    const bytes key = from_hex("2b7e151628aed2a6abf7158809cf4f3c");
    const bytes iv = from_hex("f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff");
    bytes data = from_hex(
        "6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51"
        "30c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710");
    aes_ctr aes;
    aes.set_key(key.data(), key.size(), GetParam());
    aes.apply(iv.data(), data.data(), data.data(), data.size());
    EXPECT_EQ(test::to_hex(data),
              "874d6191b620e3261bef6864990db6ce9806f66b7970fdff8617187bb9fffdff"
              "5ae4df3edbd5d35e5b4f09020db03eab1e031dda2fbe03d1792170a0f3009cee");
}

// NIST SP 800-38A F.5.5 (CTR-AES256.Encrypt): the AES-256 key schedule and 14 rounds.
TEST_P(aes_ctr_test, sp800_38a_f55) {
    const bytes key = from_hex("603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4");
    const bytes iv = from_hex("f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff");
    bytes data = from_hex(
        "6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51"
        "30c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710");
    aes_ctr aes;
    aes.set_key(key.data(), key.size(), GetParam());
    EXPECT_EQ(aes.key_len(), 32u);
    aes.apply(iv.data(), data.data(), data.data(), data.size());
    EXPECT_EQ(test::to_hex(data),
              "601ec313775789a5b7a7f504bbf3d228f443e3ca4d62b59aca84e990cacaf5c5"
              "2b0930daa23de94ce87017ba2d84988ddfc9c58db67aada613c2dd08457941a6");
}

TEST(aes_ctr, refuses_other_key_lengths) {
    const uint8_t key[24] = {};
    aes_ctr aes;
    EXPECT_THROW(aes.set_key(key, sizeof(key)), std::runtime_error);
}

// A counter whose low 64 bits wrap inside one call carries into the high 64 bits.
TEST_P(aes_ctr_test, carries_into_the_high_half) {
    const bytes key = from_hex("000102030405060708090a0b0c0d0e0f");
    bytes iv = from_hex("0000000000000005fffffffffffffffe");
    aes_ctr aes;
    aes.set_key(key.data(), key.size(), GetParam());
    bytes whole(64, 0);
    aes.apply(iv.data(), whole.data(), whole.data(), whole.size());
    // Blocks 2 and 3 are counters ...06 0000000000000000 and ...06 0000000000000001.
    const bytes next = from_hex("00000000000000060000000000000000");
    bytes tail(32, 0);
    aes.apply(next.data(), tail.data(), tail.data(), tail.size());
    EXPECT_TRUE(std::equal(tail.begin(), tail.end(), whole.begin() + 32));
}

INSTANTIATE_TEST_SUITE_P(impls, aes_ctr_test, ::testing::ValuesIn(impls()),
                         [](const auto& info) { return info.param == aes_impl::aesni ? "aesni" : "openssl"; });

// The two implementations agree for every length up to a few blocks past eight, at odd
// buffer alignments, in place and not, and each call is independent of the one before; for
// AES-128 and AES-256.
TEST(aes_ctr, aesni_matches_openssl) {
    if (!cpu_has_aesni()) {
        GTEST_SKIP() << "no AES-NI on this CPU";
    }
    std::mt19937_64 rng(1);
    for (int round = 0; round < 8; ++round) {
        uint8_t key[32];
        for (auto& k : key) {
            k = static_cast<uint8_t>(rng());
        }
        const size_t key_len = round % 2 == 0 ? 16 : 32;
        aes_ctr a;
        aes_ctr b;
        a.set_key(key, key_len, aes_impl::openssl);
        b.set_key(key, key_len, aes_impl::aesni);
        for (size_t len = 0; len <= 300; ++len) {
            uint8_t iv[16];
            for (auto& x : iv) {
                x = static_cast<uint8_t>(rng());
            }
            bytes in(len + 3);
            for (auto& x : in) {
                x = static_cast<uint8_t>(rng());
            }
            bytes out_a(len + 3, 0);
            bytes out_b(len + 3, 0);
            const size_t off = len % 4;
            a.apply(iv, in.data() + (len % 3), out_a.data() + off, len);
            b.apply(iv, in.data() + (len % 3), out_b.data() + off, len);
            ASSERT_EQ(out_a, out_b) << "len " << len;
            bytes inplace(in.begin() + static_cast<long>(len % 3), in.begin() + static_cast<long>(len % 3 + len));
            b.apply(iv, inplace.data(), inplace.data(), len);
            ASSERT_TRUE(std::equal(inplace.begin(), inplace.end(), out_a.begin() + static_cast<long>(off)));
        }
    }
}

}  // namespace
}  // namespace rtprelay::dp::srtp
