#include "control/ng/names.h"

namespace rtprelay::ng {

namespace {

struct command_row {
    const char* name;
    const char* short_name;
    command_effect effect;
};
constexpr command_row command_rows[] = {
#define NG_COMMAND(id, name, short_name, effect, reply) {name, short_name, command_effect::effect},
#include "control/ng/protocol.def"
    {"other", "Other", command_effect::read},
};
static_assert(std::size(command_rows) == command_count);

struct key_row {
    const char* spelling;
    key_kind kind;
};
constexpr key_row key_rows[] = {
#define NG_KEY(id, spelling, kind) {spelling, key_kind::kind},
#include "control/ng/protocol.def"
};
static_assert(std::size(key_rows) == key_count);

struct flag_row {
    const char* spelling;
    flag_support support;
};
constexpr flag_row flag_rows[] = {
#define NG_FLAG(id, spelling, support) {spelling, flag_support::support},
#include "control/ng/protocol.def"
};
static_assert(std::size(flag_rows) == flag_count);

// Flags that carry a key's value after a prefix (protocol.def, NG_FLAG's comment).
struct prefix_row {
    std::string_view prefix;
    key for_key;
};
constexpr prefix_row prefix_rows[] = {
    {"SDES-", key::sdes},
    {"rtcp-mux-", key::rtcp_mux},
    {"replace-", key::replace},
};

char normal_char(char c) {
    if (c == ' ') {
        return '-';
    }
    if (c >= 'A' && c <= 'Z') {
        return static_cast<char>(c - 'A' + 'a');
    }
    return c;
}

}  // namespace

const char* command_name(command c) { return command_rows[static_cast<size_t>(c)].name; }
const char* command_short_name(command c) { return command_rows[static_cast<size_t>(c)].short_name; }
command_effect effect_of(command c) { return command_rows[static_cast<size_t>(c)].effect; }

command command_of(std::string_view wire_name) {
    for (size_t i = 0; i + 1 < command_count; ++i) {
        if (wire_name == command_rows[i].name) {
            return static_cast<command>(i);
        }
    }
    return command::other;
}

const char* key_spelling(key k) { return key_rows[static_cast<size_t>(k)].spelling; }
key_kind kind_of(key k) { return key_rows[static_cast<size_t>(k)].kind; }
const char* flag_spelling(flag f) { return flag_rows[static_cast<size_t>(f)].spelling; }
flag_support support_of(flag f) { return flag_rows[static_cast<size_t>(f)].support; }

std::string normal_form(std::string_view written) {
    std::string out(written);
    for (char& c : out) {
        c = normal_char(c);
    }
    return out;
}

bool same_name(std::string_view written, std::string_view spelling) {
    if (written.size() != spelling.size()) {
        return false;
    }
    for (size_t i = 0; i < written.size(); ++i) {
        if (normal_char(written[i]) != normal_char(spelling[i])) {
            return false;
        }
    }
    return true;
}

// A few dozen rows compared a few bytes each: ~1 µs per request, against ~50 µs for an
// offer. A hash would save nothing measurable.
std::optional<key> find_key(std::string_view written) {
    for (size_t i = 0; i < key_count; ++i) {
        if (same_name(written, key_rows[i].spelling)) {
            return static_cast<key>(i);
        }
    }
    return std::nullopt;
}

std::optional<flag> find_flag(std::string_view written) {
    for (size_t i = 0; i < flag_count; ++i) {
        if (same_name(written, flag_rows[i].spelling)) {
            return static_cast<flag>(i);
        }
    }
    return std::nullopt;
}

std::optional<prefixed_flag> split_prefixed_flag(std::string_view written) {
    for (const prefix_row& p : prefix_rows) {
        if (written.size() > p.prefix.size() && same_name(written.substr(0, p.prefix.size()), p.prefix)) {
            return prefixed_flag{p.for_key, written.substr(p.prefix.size())};
        }
    }
    return std::nullopt;
}

}  // namespace rtprelay::ng
