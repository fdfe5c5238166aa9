#include "control/sdes/policy.h"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace rtprelay::sdes {

namespace {

[[noreturn]] void bad(std::string_view key, std::string_view value, const std::string& why) {
    throw std::invalid_argument(std::string(key) + " '" + std::string(value) + "': " + why);
}

// A key with two words, the first meaning yes ("mki=accept|refuse").
bool yes_or_no(std::string_view key, std::string_view value, std::string_view yes, std::string_view no) {
    if (value != yes && value != no) {
        bad(key, value, "expected " + std::string(yes) + " or " + std::string(no));
    }
    return value == yes;
}

std::string known_suites() {
    std::string out;
    for (suite s : all_suites) {
        out += out.empty() ? "" : ", ";
        out += suite_name(s);
    }
    return out;
}

std::vector<suite> suite_list(std::string_view key, std::string_view value) {
    std::vector<suite> out;
    std::string_view rest = value;
    while (true) {
        const size_t comma = rest.find(',');
        const std::string_view name = rest.substr(0, comma);
        if (name.empty()) {
            bad(key, value, "empty suite name (the list is NAME[,NAME...])");
        }
        const auto s = suite_from_sdes_name(name);
        if (!s) {
            bad(key, value, "unknown suite '" + std::string(name) + "' (known: " + known_suites() + ")");
        }
        if (std::find(out.begin(), out.end(), *s) != out.end()) {
            bad(key, value, std::string(name) + " is listed twice");
        }
        out.push_back(*s);
        if (comma == std::string_view::npos) {
            break;
        }
        rest = rest.substr(comma + 1);
    }
    return out;
}

}  // namespace

bool srtp_policy::accepts(suite s) const {
    return std::find(accept_suites.begin(), accept_suites.end(), s) != accept_suites.end();
}

bool apply_policy_option(srtp_policy& p, std::string_view key, std::string_view value) {
    if (key == "srtp") {
        if (value == "off") {
            p.mode = srtp_mode::off;
        } else if (value == "optional") {
            p.mode = srtp_mode::optional;
        } else if (value == "required") {
            p.mode = srtp_mode::required;
        } else {
            bad(key, value, "expected off, optional or required");
        }
        return true;
    }
    if (key == "offer-suites") {
        p.offer_suites = suite_list(key, value);
        return true;
    }
    if (key == "accept-suites") {
        p.accept_suites = suite_list(key, value);
        return true;
    }
    if (key == "mki") {
        p.accept_mki = yes_or_no(key, value, "accept", "refuse");
        return true;
    }
    if (key == "unencrypted-srtcp") {
        p.allow_unencrypted_srtcp = yes_or_no(key, value, "allow", "refuse");
        return true;
    }
    return false;
}

}  // namespace rtprelay::sdes
