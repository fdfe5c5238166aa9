#include "dataplane/srtp/kdf.h"

#include <gtest/gtest.h>

#include "tests/dataplane/srtp/test_util.h"

namespace rtprelay::dp::srtp {
namespace {

using test::bytes;
using test::from_hex;

bytes derive(kdf_label label, size_t len) {
    const bytes master_key = from_hex("E1F97A0D3E018BE0D64FA32C06DE4139");
    const bytes master_salt = from_hex("0EC675AD498AFEEBB6960B3AABE6");
    bytes out(len);
    derive_session_key(master_key.data(), master_salt.data(), label, out.data(), out.size());
    return out;
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

TEST(kdf, labels_give_different_keys) {
    EXPECT_NE(derive(kdf_label::rtp_encryption, 16), derive(kdf_label::rtcp_encryption, 16));
    EXPECT_NE(derive(kdf_label::rtp_auth, 20), derive(kdf_label::rtcp_auth, 20));
    EXPECT_NE(derive(kdf_label::rtp_salt, 14), derive(kdf_label::rtcp_salt, 14));
}

}  // namespace
}  // namespace rtprelay::dp::srtp

namespace rtprelay::dp::srtp {
namespace {

// One key expansion for the three labels gives what three separate derivations give.
TEST(kdf, session_keys_at_once_match_one_label_at_a_time) {
    const bytes master_key = from_hex("E1F97A0D3E018BE0D64FA32C06DE4139");
    const bytes master_salt = from_hex("0EC675AD498AFEEBB6960B3AABE6");
    for (const bool rtcp : {false, true}) {
        uint8_t enc[16], auth[20], salt[14];
        derive_session_keys(master_key.data(), master_salt.data(), rtcp, enc, auth, salt);
        const size_t base = rtcp ? 3 : 0;
        EXPECT_EQ(bytes(enc, enc + 16), derive(static_cast<kdf_label>(base), 16)) << rtcp;
        EXPECT_EQ(bytes(auth, auth + 20), derive(static_cast<kdf_label>(base + 1), 20)) << rtcp;
        EXPECT_EQ(bytes(salt, salt + 14), derive(static_cast<kdf_label>(base + 2), 14)) << rtcp;
    }
    uint8_t enc[16], auth[20], salt[14];
    derive_session_keys(master_key.data(), master_salt.data(), false, enc, auth, salt);
    EXPECT_EQ(test::to_hex(bytes(enc, enc + 16)), "c61e7a93744f39ee10734afe3ff7a087");
    EXPECT_EQ(test::to_hex(bytes(salt, salt + 14)), "30cbbc08863d8c85d49db34a9ae1");
}

}  // namespace
}  // namespace rtprelay::dp::srtp
