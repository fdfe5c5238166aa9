#pragma once
// The SRTP suites as SDES names them. The suite and key types, and the suite names, belong
// to the data plane's SRTP engine (dataplane/srtp/srtp.h); this header adds what SDES needs
// on top: the list of suites and the length of an inline key.

#include <array>
#include <cstddef>
#include <optional>
#include <string_view>
#include <tuple>

#include "dataplane/srtp/srtp.h"

namespace rtprelay::sdes {

using suite = dp::srtp::suite;
using master_key = dp::srtp::master_key;

// key || salt as carried after "inline:", in bytes (16 + 14 for both supported suites).
inline constexpr size_t key_salt_bytes =
    std::tuple_size_v<decltype(master_key::key)> + std::tuple_size_v<decltype(master_key::salt)>;

// Every suite SDES can negotiate here, in a stable order (for "known:" lists).
inline constexpr suite all_suites[] = {suite::aes_cm_128_hmac_sha1_80, suite::aes_cm_128_hmac_sha1_32};

// The RFC 4568 spelling ("AES_CM_128_HMAC_SHA1_80"); exact, case-sensitive match.
std::string_view suite_name(suite s);
std::optional<suite> suite_from_sdes_name(std::string_view name);

}  // namespace rtprelay::sdes
