#pragma once
// One RFC 4568 crypto attribute, the value after "a=crypto:":
//
//   <tag> <suite> inline:<base64 key||salt>[|<lifetime>][|<MKI>:<length>] [<session param> ...]
//
// Parsing is of untrusted SDP text. A line rtprelay cannot use is not an error of the whole
// SDP: parse_crypto() returns the reason, and the caller drops the line and moves on to the
// next one (the offerer listed them as alternatives). Reasons never quote key material.
//
// What is accepted, and why the rest is not:
// - tag 1..999999999 (RFC 4568: 1*9DIGIT);
// - the suites of the suite table (dataplane/srtp/suites.def): AES_CM_128_HMAC_SHA1_80/_32,
//   AES_256_CM_HMAC_SHA1_80/_32, AEAD_AES_128_GCM, AEAD_AES_256_GCM;
// - exactly one inline: key of exactly the suite's key + salt length (30, 46, 28 or 44
//   bytes), standard base64 with or without '=' padding;
// - lifetime as decimal or 2^n, at most 2^48 packets (SRTP's own limit); kept, not enforced;
// - an MKI only where the interface accepts them (mki=accept; the trunk does not support
//   them, so refused by default), of 1..4 bytes (max_mki_len) with a value that fits: one
//   key per direction, and its MKI checked on every packet;
// - no session parameters except UNENCRYPTED_SRTCP (only where the policy allows it), WSH
//   (a replay-window hint the receiver may ignore) and FEC_ORDER=FEC_SRTP (RFC 4568's
//   default order, nothing to do without FEC). KDR, FEC_ORDER=SRTP_FEC, FEC_KEY,
//   UNENCRYPTED_SRTP, UNAUTHENTICATED_SRTP and unknown ones change how packets are protected
//   in ways the data plane does not implement.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "control/sdes/suite.h"

namespace rtprelay::sdes {

inline constexpr uint32_t max_tag = 999'999'999;
inline constexpr uint64_t max_lifetime = uint64_t{1} << 48;  // packets

struct crypto_attr {
    // Ordered so the struct packs into 80 bytes (it is kept per stream and leg).
    uint32_t tag = 1;
    suite crypto_suite = suite::aes_cm_128_hmac_sha1_80;
    bool unencrypted_srtcp = false;    // UNENCRYPTED_SRTCP: SRTCP authenticated, not encrypted
    master_key key{};                  // with the line's MKI (master_key::mki_len 0: none)
    std::optional<uint64_t> lifetime;  // packets, as the peer wrote it; never set on our lines
};

bool same_key(const master_key& a, const master_key& b);

struct parse_options {
    bool allow_unencrypted_srtcp = false;  // the interface policy's allow_unencrypted_srtcp
    bool allow_mki = false;                // the interface policy's accept_mki
};

// Parses `value`. On a line rtprelay cannot use returns std::nullopt and sets *error (if not
// null) to one reason naming the tag: "a=crypto tag 2: MKI is not supported".
std::optional<crypto_attr> parse_crypto(std::string_view value, const parse_options& opt, std::string* error);

struct format_options {
    bool pad = false;       // NG SDES-pad: keep base64 '=' padding (none for 30-byte keys: AES_CM_128)
    bool lifetime = false;  // NG SDES-lifetime: append |2^31 when the line has no lifetime
};

// "1 AES_CM_128_HMAC_SHA1_80 inline:<40 chars>[|2^31][|<MKI>:<length>][ UNENCRYPTED_SRTCP]";
// a lifetime that is a power of two is written as 2^n.
std::string format_crypto(const crypto_attr& a, const format_options& opt = {});

// A fresh master key and salt of suite `s`'s lengths from OpenSSL's CSPRNG (RAND_bytes), no
// MKI. Throws std::runtime_error if the generator fails (it is seeded by the OS; failure
// means the process is unfit).
master_key random_key(suite s);

// A line of our own: fresh key, no lifetime, no MKI.
crypto_attr fresh_attr(uint32_t tag, suite s, bool unencrypted_srtcp);

// The MKI we write on a line of ours that must carry one (our answer to a line with an MKI:
// negotiate.h): value 1 in `len` bytes.
void set_our_mki(master_key& k, uint8_t len);

}  // namespace rtprelay::sdes
