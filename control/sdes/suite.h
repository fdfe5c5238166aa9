#pragma once
// The SRTP suites as SDES names them. The suite table (dataplane/srtp/suites.def, through
// dataplane/srtp/suite.h) is the one place that knows them; this header gives SDES the names
// and the length of an inline key.

#include <cstddef>
#include <optional>
#include <string_view>

#include "dataplane/srtp/suite.h"

namespace rtprelay::sdes {

using suite = dp::srtp::suite;
using master_key = dp::srtp::master_key;
using dp::srtp::all_suites;
using dp::srtp::max_mki_len;

// key || salt as carried after "inline:", in bytes: 30 for AES_CM_128, 46 for AES_256_CM,
// 28 for AEAD_AES_128_GCM, 44 for AEAD_AES_256_GCM.
inline constexpr size_t key_salt_bytes(suite s) {
    return dp::srtp::info(s).master_key_len + dp::srtp::info(s).master_salt_len;
}
inline constexpr size_t max_key_salt_bytes = dp::srtp::max_master_key_len + dp::srtp::max_master_salt_len;

// The SDES spelling ("AES_CM_128_HMAC_SHA1_80"); exact, case-sensitive match.
std::string_view suite_name(suite s);
std::optional<suite> suite_from_sdes_name(std::string_view name);

}  // namespace rtprelay::sdes
