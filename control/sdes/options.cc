#include "control/sdes/options.h"

#include <algorithm>

namespace rtprelay::sdes {

namespace {

constexpr std::string_view flag_prefix = "SDES-";

bool one_of(std::string_view word, std::string_view lower, std::string_view upper) {
    return word == lower || word == upper;
}

void add_unique(std::vector<suite>& v, suite s) {
    if (std::find(v.begin(), v.end(), s) == v.end()) {
        v.push_back(s);
    }
}

// One option without prefix. `shown` is how it was written, for messages.
bool apply(sdes_request_options& o, std::string_view w, const std::string& shown, std::string* error) {
    if (w == "off" || w == "no" || w == "disable") {
        o.off = true;
    } else if (w.starts_with("no-")) {
        // Suites rtprelay does not have are never offered anyway.
        if (auto s = suite_from_sdes_name(w.substr(3))) {
            add_unique(o.no, *s);
        }
    } else if (w.starts_with("only-")) {
        if (!o.only) {
            o.only.emplace();
        }
        if (auto s = suite_from_sdes_name(w.substr(5))) {
            add_unique(*o.only, *s);
        }
    } else if (w.starts_with("order:")) {
        std::string_view rest = w.substr(6);
        while (!rest.empty()) {
            const size_t semi = rest.find(';');
            if (auto s = suite_from_sdes_name(rest.substr(0, semi))) {
                add_unique(o.order, *s);
            }
            rest = semi == std::string_view::npos ? std::string_view() : rest.substr(semi + 1);
        }
    } else if (w == "pad") {
        o.pad = true;
    } else if (w == "lifetime") {
        o.lifetime = true;
    } else if (one_of(w, "unencrypted_srtcp", "UNENCRYPTED_SRTCP")) {
        o.unencrypted_srtcp = true;
    } else if (one_of(w, "encrypted_srtcp", "ENCRYPTED_SRTCP")) {
        o.unencrypted_srtcp = false;
    } else if (one_of(w, "unencrypted_srtp", "UNENCRYPTED_SRTP") ||
               one_of(w, "unauthenticated_srtp", "UNAUTHENTICATED_SRTP")) {
        if (error != nullptr) {
            *error = shown + " is not supported: rtprelay always encrypts and authenticates RTP";
        }
        return false;
    } else if (one_of(w, "encrypted_srtp", "ENCRYPTED_SRTP") || one_of(w, "authenticated_srtp", "AUTHENTICATED_SRTP")) {
        // What rtprelay does anyway.
    } else {
        // nonew, static, prefer, offerer_pref:, and anything unknown: reported, not refused.
        o.unsupported.push_back(shown);
    }
    return true;
}

}  // namespace

bool sdes_request_options::allows(suite s) const {
    if (only) {
        return std::find(only->begin(), only->end(), s) != only->end();
    }
    return std::find(no.begin(), no.end(), s) == no.end();
}

bool is_sdes_flag(std::string_view flag) { return flag.starts_with(flag_prefix) || flag == "pad-crypto"; }

std::optional<sdes_request_options> parse_sdes_options(const std::vector<std::string>& sdes_list,
                                                       const std::vector<std::string>& flags, std::string* error) {
    sdes_request_options o;
    for (const auto& w : sdes_list) {
        if (!apply(o, w, "SDES " + w, error)) {
            return std::nullopt;
        }
    }
    for (const auto& f : flags) {
        const std::string_view v = f;
        if (v == "pad-crypto") {
            o.pad = true;
        } else if (v.starts_with(flag_prefix)) {
            if (!apply(o, v.substr(flag_prefix.size()), f, error)) {
                return std::nullopt;
            }
        }
    }
    return o;
}

}  // namespace rtprelay::sdes
