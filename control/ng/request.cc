#include "control/ng/request.h"

#include <charconv>

namespace rtprelay::ng {

namespace {

bool has_kind(const value& v, key_kind kind) {
    switch (kind) {
        case key_kind::string:
            return v.is_string();
        case key_kind::strings:
            return v.is_string() || v.is_list();
        case key_kind::integer:
            return v.is_integer() || v.is_string();
        case key_kind::any:
            return true;
    }
    return false;
}

const char* kind_text(key_kind kind) {
    switch (kind) {
        case key_kind::string:
            return "a string";
        case key_kind::strings:
            return "a string or a list";
        case key_kind::integer:
            return "an integer";
        case key_kind::any:
            break;
    }
    return "a value";
}

// At most this many names are quoted per warning: a hostile request with thousands of
// keys gets a bounded reply.
constexpr size_t max_named = 8;
constexpr size_t max_name_bytes = 64;

void append_names(std::string& out, std::string_view what, const std::vector<std::string>& names) {
    if (names.empty()) {
        return;
    }
    out += out.empty() ? "" : "; ";
    out += what;
    for (size_t i = 0; i < names.size() && i < max_named; ++i) {
        out += i == 0 ? " '" : ", '";
        out += names[i].size() <= max_name_bytes ? names[i] : names[i].substr(0, max_name_bytes) + "...";
        out += "'";
    }
    if (names.size() > max_named) {
        out += " and " + std::to_string(names.size() - max_named) + " more";
    }
}

}  // namespace

std::optional<request> request::parse(const value& dict, std::string* error) {
    request r;
    for (const auto& [name, v] : dict.as_dict()) {
        const auto k = find_key(name);
        if (!k) {
            r.unknown_keys_.push_back(name);
            continue;
        }
        const value*& slot = r.keys_[static_cast<size_t>(*k)];
        if (slot != nullptr) {
            if (error != nullptr) {
                *error = "key '" + std::string(key_spelling(*k)) + "' given twice, in two spellings";
            }
            return std::nullopt;
        }
        if (!has_kind(v, kind_of(*k))) {
            r.warn("key '" + name + "' is not " + kind_text(kind_of(*k)) + ": ignored");
            continue;
        }
        slot = &v;
    }
    if (const value* c = r.find(key::command)) {
        r.cmd_ = command_of(c->as_string());
    }
    const value* flags = r.find(key::flags);
    auto take_flag = [&r](const std::string& f) {
        if (const auto known = find_flag(f)) {
            r.flags_.set(static_cast<size_t>(*known));
            if (*known == flag::pad_crypto) {
                r.sdes_flags_.emplace_back("pad-crypto");
            } else if (support_of(*known) == flag_support::ignored) {
                r.ignored_flags_.push_back(f);
            }
        } else if (const auto p = split_prefixed_flag(f)) {
            r.prefixed_[static_cast<size_t>(p->for_key)].emplace_back(p->value);
            if (p->for_key == key::sdes) {
                r.sdes_flags_.push_back("SDES-" + std::string(p->value));
            }
        } else {
            r.unknown_flags_.push_back(f);
        }
    };
    if (flags != nullptr && flags->is_string()) {
        take_flag(flags->as_string());
    } else if (flags != nullptr) {
        for (const value& f : flags->as_list()) {
            if (f.is_string()) {
                take_flag(f.as_string());
            }
        }
    }
    return r;
}

std::string request::string(key k) const {
    const value* v = find(k);
    return v != nullptr && v->is_string() ? v->as_string() : std::string();
}

std::vector<std::string> request::strings(key k) const {
    std::vector<std::string> out;
    if (const value* v = find(k); v != nullptr) {
        if (v->is_string()) {
            out.push_back(v->as_string());
        }
        for (const value& item : v->as_list()) {
            if (item.is_string()) {
                out.push_back(item.as_string());
            }
        }
    }
    // SDES flags go to control/sdes as flags (sdes_flags()), the others join their key.
    if (k != key::sdes) {
        const auto& extra = prefixed_[static_cast<size_t>(k)];
        out.insert(out.end(), extra.begin(), extra.end());
    }
    return out;
}

std::optional<int64_t> request::integer(key k, bool* bad) const {
    const value* v = find(k);
    if (v == nullptr) {
        return std::nullopt;
    }
    if (v->is_integer()) {
        return v->as_integer();
    }
    const std::string& s = v->as_string();
    int64_t n = 0;
    const char* end = s.data() + s.size();
    auto [at, ec] = std::from_chars(s.data(), end, n);
    if (s.empty() || ec != std::errc() || at != end) {
        if (bad != nullptr) {
            *bad = true;
        }
        return std::nullopt;
    }
    return n;
}

std::string request::warning() const {
    std::string out;
    append_names(out, "unknown keys ignored:", unknown_keys_);
    append_names(out, "unknown flags ignored:", unknown_flags_);
    append_names(out, "flags not supported, ignored:", ignored_flags_);
    for (size_t i = 0; i < warnings_.size() && i < max_named; ++i) {
        out += out.empty() ? "" : "; ";
        out += warnings_[i];
    }
    if (warnings_.size() > max_named) {
        out += "; and " + std::to_string(warnings_.size() - max_named) + " more";
    }
    return out;
}

}  // namespace rtprelay::ng
