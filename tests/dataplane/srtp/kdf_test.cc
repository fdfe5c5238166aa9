#include "dataplane/srtp/kdf.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string_view>

#include "tests/dataplane/srtp/test_util.h"

namespace rtprelay::dp::srtp {
namespace {

using test::bytes;
using test::from_hex;

bytes derive(kdf_label label, size_t len, std::string_view key_hex = "E1F97A0D3E018BE0D64FA32C06DE4139",
             std::string_view salt_hex = "0EC675AD498AFEEBB6960B3AABE6") {
    const bytes master_key = from_hex(key_hex);
    const bytes master_salt = from_hex(salt_hex);
    bytes out(len);
    derive_session_key(master_key.data(), master_key.size(), master_salt.data(), master_salt.size(), label, out.data(),
                       out.size());
    return out;
}

master_key make_key(std::string_view key_hex, std::string_view salt_hex) {
    const bytes k = from_hex(key_hex);
    const bytes s = from_hex(salt_hex);
    master_key m{};
    std::copy(k.begin(), k.end(), m.key.begin());
    std::copy(s.begin(), s.end(), m.salt.begin());
    return m;
}

// RFC 3711 B.3 (key derivation rate 0).
TEST(kdf, rfc3711_b3_vectors) {
    EXPECT_EQ(test::to_hex(derive(kdf_label::rtp_encryption, 16)), "c61e7a93744f39ee10734afe3ff7a087");
    EXPECT_EQ(test::to_hex(derive(kdf_label::rtp_salt, 14)), "30cbbc08863d8c85d49db34a9ae1");
    // The RFC lists 94 bytes of the auth key stream; SRTP uses the first 20.
    EXPECT_EQ(test::to_hex(derive(kdf_label::rtp_auth, 94)),
              "cebe321f6ff7716b6fd4ab49af256a156d38baa48f0a0acf3c34e2359e6cdbce"
              "e049646c43d9327ad175578ef72270986371c10c9a369ac2f94a8c5fbcdddc25"
              "6d6e919a48b610ef17c2041e474035766b68642c59bbfc2f34db60dbdfb2");
    EXPECT_EQ(test::to_hex(derive(kdf_label::rtp_auth, 20)), "cebe321f6ff7716b6fd4ab49af256a156d38baa4");
}

// RFC 6188 7.2: the AES-256 PRF (AES_256_CM suites), 32-byte encryption key.
constexpr std::string_view rfc6188_key = "F0F04914B513F2763A1B1FA130F10E2998F6F6E43E4309D1E622A0E332B9F1B6";
constexpr std::string_view rfc6188_salt = "3B04803DE51EE7C96423AB5B78D2";

TEST(kdf, rfc6188_aes256_vectors) {
    EXPECT_EQ(test::to_hex(derive(kdf_label::rtp_encryption, 32, rfc6188_key, rfc6188_salt)),
              "5ba1064e30ec51613cad926c5a28ef731ec7fb397f70a960653caf06554cd8c4");
    EXPECT_EQ(test::to_hex(derive(kdf_label::rtp_salt, 14, rfc6188_key, rfc6188_salt)), "fa31791685ca444a9e07c6c64e93");
}

// AEAD suites: the 12-byte master salt is zero-padded to 14 (as libsrtp2 does; the suites'
// cross-checks against libsrtp2 in srtp_crosscheck_test.cc depend on it). Expected values
// from `openssl enc -aes-128-ctr` / `-aes-256-ctr` on zeros with the padded counter block.
TEST(kdf, aead_master_salt_is_zero_padded) {
    EXPECT_EQ(test::to_hex(derive(kdf_label::rtp_encryption, 16, "000102030405060708090a0b0c0d0e0f",
                                  "a0a1a2a3a4a5a6a7a8a9aaab")),
              "077c6143cb221bc355ff23d5f984a16e");
    EXPECT_EQ(
        test::to_hex(derive(kdf_label::rtp_salt, 12, "000102030405060708090a0b0c0d0e0f", "a0a1a2a3a4a5a6a7a8a9aaab")),
        "9af3e95364ebac9c99c5a7c4");
    EXPECT_EQ(test::to_hex(derive(kdf_label::rtp_encryption, 32,
                                  "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
                                  "a0a1a2a3a4a5a6a7a8a9aaab")),
              "b7a435ce454463b760dc82c838468a115c699625af4b93a0f8220a2a6119c5d0");
}

TEST(kdf, labels_give_different_keys) {
    EXPECT_NE(derive(kdf_label::rtp_encryption, 16), derive(kdf_label::rtcp_encryption, 16));
    EXPECT_NE(derive(kdf_label::rtp_auth, 20), derive(kdf_label::rtcp_auth, 20));
    EXPECT_NE(derive(kdf_label::rtp_salt, 14), derive(kdf_label::rtcp_salt, 14));
}

}  // namespace
}  // namespace rtprelay::dp::srtp

namespace rtprelay::dp::srtp {
namespace {

// One key expansion for all labels gives what separate derivations give, for every suite
// (its key, auth key and salt lengths) and both protocols.
TEST(kdf, session_keys_at_once_match_one_label_at_a_time) {
    const std::string_view key_hex = "E1F97A0D3E018BE0D64FA32C06DE4139F0F04914B513F2763A1B1FA130F10E29";
    const std::string_view salt_hex = "0EC675AD498AFEEBB6960B3AABE6";
    for (const suite s : all_suites) {
        const suite_info& si = info(s);
        const std::string_view k = key_hex.substr(0, 2 * si.master_key_len);
        const std::string_view st = salt_hex.substr(0, 2 * si.master_salt_len);
        const master_key mk = make_key(k, st);
        for (const bool rtcp : {false, true}) {
            session_keys out{};
            derive_session_keys(s, mk, rtcp, &out);
            const size_t base = rtcp ? 3 : 0;
            EXPECT_EQ(bytes(out.enc, out.enc + si.session_key_len),
                      derive(static_cast<kdf_label>(base), si.session_key_len, k, st))
                << si.name << rtcp;
            EXPECT_EQ(bytes(out.auth, out.auth + si.session_auth_key_len),
                      derive(static_cast<kdf_label>(base + 1), si.session_auth_key_len, k, st))
                << si.name << rtcp;
            EXPECT_EQ(bytes(out.salt, out.salt + si.session_salt_len),
                      derive(static_cast<kdf_label>(base + 2), si.session_salt_len, k, st))
                << si.name << rtcp;
        }
    }
    session_keys out{};
    derive_session_keys(suite::aes_cm_128_hmac_sha1_80, make_key("E1F97A0D3E018BE0D64FA32C06DE4139", salt_hex), false,
                        &out);
    EXPECT_EQ(test::to_hex(bytes(out.enc, out.enc + 16)), "c61e7a93744f39ee10734afe3ff7a087");
    EXPECT_EQ(test::to_hex(bytes(out.salt, out.salt + 14)), "30cbbc08863d8c85d49db34a9ae1");
    derive_session_keys(suite::aes_256_cm_hmac_sha1_80, make_key(rfc6188_key, rfc6188_salt), false, &out);
    EXPECT_EQ(test::to_hex(bytes(out.enc, out.enc + 32)),
              "5ba1064e30ec51613cad926c5a28ef731ec7fb397f70a960653caf06554cd8c4");
}

}  // namespace
}  // namespace rtprelay::dp::srtp
