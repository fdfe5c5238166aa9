#pragma once
// The names of protocol.def as enums, and how a request's spelling finds them.
//
// Two spellings match when they are equal after mapping every ' ' to '-' and ASCII letters
// to lower case: "transport protocol" (rtpengine-ng-client --protocol, older modules) and
// "transport-protocol" (Kamailio) are one key; "strict source", "Strict-Source" and
// "strict-source" one flag. rtpengine matches the same way, listing each name with spaces
// and with dashes, and its acronyms (ICE, SDES, RTCP, DTMF) in both cases; rtprelay applies
// the rule to every name, since no two names differ only in case.

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace rtprelay::ng {

enum class command : uint8_t {
#define NG_COMMAND(id, name, short_name, effect, reply) id,
#include "control/ng/protocol.def"
    other,  // no command, or one rtprelay does not have: counted, never a new label
};
inline constexpr size_t command_count = static_cast<size_t>(command::other) + 1;

enum class key : uint8_t {
#define NG_KEY(id, spelling, kind) id,
#include "control/ng/protocol.def"
};
inline constexpr size_t key_count = 0
#define NG_KEY(id, spelling, kind) +1
#include "control/ng/protocol.def"
    ;

enum class flag : uint8_t {
#define NG_FLAG(id, spelling, support) id,
#include "control/ng/protocol.def"
};
inline constexpr size_t flag_count = 0
#define NG_FLAG(id, spelling, support) +1
#include "control/ng/protocol.def"
    ;

enum class key_kind : uint8_t { string, strings, integer, any };
enum class command_effect : uint8_t { read, call, node };
enum class flag_support : uint8_t { acted, implied, ignored };

// The wire name ("delete"); "other" for command::other.
const char* command_name(command c);
// rtpengine's short name ("Delete"), for statistics' controlstatistics.
const char* command_short_name(command c);
command_effect effect_of(command c);
// Exact, as rtpengine: commands are not respelled. Unknown -> command::other.
command command_of(std::string_view wire_name);

const char* key_spelling(key k);
key_kind kind_of(key k);
const char* flag_spelling(flag f);
flag_support support_of(flag f);

// `written` in the normal form: ' ' -> '-', ASCII upper -> lower.
std::string normal_form(std::string_view written);
// True when `written` is `spelling` in another spelling.
bool same_name(std::string_view written, std::string_view spelling);

std::optional<key> find_key(std::string_view written);
std::optional<flag> find_flag(std::string_view written);

// A flag that stands for a key's value: "SDES-no-AES_CM_128_HMAC_SHA1_32" is SDES
// "no-AES_CM_128_HMAC_SHA1_32". The prefix matches in any spelling ("sdes-", "RTCP mux ");
// the value is kept as written.
struct prefixed_flag {
    key for_key;
    std::string_view value;
};
std::optional<prefixed_flag> split_prefixed_flag(std::string_view written);

}  // namespace rtprelay::ng
