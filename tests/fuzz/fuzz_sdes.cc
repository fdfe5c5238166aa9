// libFuzzer target: SDES a=crypto lines (control/sdes/crypto_attr.h) and the offer/answer
// choices made from them (control/sdes/negotiate.h).
//
// Input: byte 0 chooses the policy and format options (bit 0: allow UNENCRYPTED_SRTCP,
// bit 1: accept only the _80 suite, bit 2: offer both AES_CM_128 suites, bit 3: SDES-pad,
// bit 4: SDES-lifetime, bit 5: mki=accept, bit 6: offer AEAD_AES_256_GCM and
// AES_256_CM_HMAC_SHA1_32 first); the rest is text, one item per line (LF):
//   "S:<opt>"  an entry of the NG "SDES" list      "F:<flag>"  an entry of NG "flags"
//   "A:<val>"  an a=crypto value of an answer      anything else: an a=crypto value of an offer
//
// Checked: every value parse_crypto() accepts formats into a line that parses back to the
// same tag, suite, key (with its MKI) and UNENCRYPTED_SRTCP (and lifetime), the key of its
// suite's length with nothing past it; a refusal has a reason and
// never quotes the key; choose_inbound() picks a line that exists, parses and is accepted
// by the policy; choose_answer() matches a line we offered, by suite.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "control/sdes/crypto_attr.h"
#include "control/sdes/negotiate.h"
#include "control/sdes/options.h"
#include "control/sdes/policy.h"

namespace {

namespace sdes = rtprelay::sdes;

constexpr size_t max_lines = 32;  // an offer lists a handful; more only costs run time

[[noreturn]] void fail(std::string_view what, std::string_view line) {
    std::fprintf(stderr, "fuzz_sdes: %.*s\n--- line ---\n%.*s\n", static_cast<int>(what.size()), what.data(),
                 static_cast<int>(line.size()), line.data());
    std::abort();
}

bool same_attr(const sdes::crypto_attr& a, const sdes::crypto_attr& b) {
    return a.tag == b.tag && a.crypto_suite == b.crypto_suite && sdes::same_key(a.key, b.key) &&
           a.unencrypted_srtcp == b.unencrypted_srtcp;
}

// The inline key parameter as written (third word, after "inline:", up to '|'), if any.
std::string_view key_text(std::string_view value) {
    size_t at = 0;
    for (int word = 0;; ++word) {
        at = value.find_first_not_of(" \t", at);
        if (at == std::string_view::npos) {
            return {};
        }
        if (word == 2) {
            break;
        }
        at = value.find_first_of(" \t", at);
        if (at == std::string_view::npos) {
            return {};
        }
    }
    std::string_view rest = value.substr(at);
    if (rest.rfind("inline:", 0) != 0) {
        return {};
    }
    rest.remove_prefix(7);
    return rest.substr(0, rest.find_first_of("| \t"));
}

// parse -> format -> parse gives the same line.
void check_line(std::string_view value, const sdes::parse_options& popt, const sdes::format_options& fopt) {
    std::string error;
    const auto a = sdes::parse_crypto(value, popt, &error);
    if (!a) {
        if (error.empty()) {
            fail("parse_crypto refused without a reason", value);
        }
        // Only a key that looks like one (20+ base64 characters) and is not also written
        // elsewhere on the line (as a tag, say) can be told apart from what a reason quotes.
        const std::string_view key = key_text(value);
        const bool base64 =
            key.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=") ==
            std::string_view::npos;
        if (key.size() >= 20 && base64 && value.find(key) == value.rfind(key) && error.find(key) != std::string::npos) {
            fail("parse_crypto reason quotes the key: " + error, value);
        }
        return;
    }
    if (a->tag == 0 || a->tag > sdes::max_tag) {
        fail("parse_crypto accepted a tag out of range", value);
    }
    const auto& si = rtprelay::dp::srtp::info(a->crypto_suite);
    for (size_t i = si.master_key_len; i < a->key.key.size(); ++i) {
        if (a->key.key[i] != 0) {
            fail("parse_crypto left bytes past the suite's key length", value);
        }
    }
    if (a->key.mki_len > sdes::max_mki_len || (a->key.mki_len != 0 && !popt.allow_mki)) {
        fail("parse_crypto accepted an MKI it should not have", value);
    }
    const std::string formatted = sdes::format_crypto(*a, fopt);
    const auto b = sdes::parse_crypto(formatted, popt, &error);
    if (!b) {
        fail("format_crypto output does not parse: " + error + "\n--- formatted ---\n" + formatted, value);
    }
    if (!same_attr(*a, *b)) {
        fail("format_crypto output parses to another line\n--- formatted ---\n" + formatted, value);
    }
    const bool lifetime_ok =
        a->lifetime ? b->lifetime == a->lifetime : (fopt.lifetime ? b->lifetime == (uint64_t{1} << 31) : !b->lifetime);
    if (!lifetime_ok) {
        fail("format_crypto changed the lifetime\n--- formatted ---\n" + formatted, value);
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size == 0) {
        return 0;
    }
    const uint8_t flags = data[0];
    std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);

    sdes::srtp_policy policy;
    policy.allow_unencrypted_srtcp = (flags & 0x01) != 0;
    if ((flags & 0x02) != 0) {
        policy.accept_suites = {sdes::suite::aes_cm_128_hmac_sha1_80};
    }
    if ((flags & 0x04) != 0) {
        policy.offer_suites = {sdes::suite::aes_cm_128_hmac_sha1_32, sdes::suite::aes_cm_128_hmac_sha1_80};
    }
    if ((flags & 0x40) != 0) {
        policy.offer_suites.insert(policy.offer_suites.begin(),
                                   {sdes::suite::aead_aes_256_gcm, sdes::suite::aes_256_cm_hmac_sha1_32});
    }
    policy.accept_mki = (flags & 0x20) != 0;
    const sdes::parse_options popt{.allow_unencrypted_srtcp = policy.allow_unencrypted_srtcp,
                                   .allow_mki = policy.accept_mki};
    const sdes::format_options fopt{.pad = (flags & 0x08) != 0, .lifetime = (flags & 0x10) != 0};

    std::vector<std::string> offer, answer, sdes_list, ng_flags;
    while (!text.empty() && offer.size() + answer.size() + sdes_list.size() + ng_flags.size() < max_lines) {
        const size_t nl = text.find('\n');
        const std::string_view line = text.substr(0, nl);
        text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
        if (line.rfind("S:", 0) == 0) {
            sdes_list.emplace_back(line.substr(2));
        } else if (line.rfind("F:", 0) == 0) {
            ng_flags.emplace_back(line.substr(2));
        } else if (line.rfind("A:", 0) == 0) {
            answer.emplace_back(line.substr(2));
        } else {
            offer.emplace_back(line);
        }
    }

    for (const auto& v : offer) {
        check_line(v, popt, fopt);
    }
    for (const auto& v : answer) {
        check_line(v, popt, fopt);
    }

    std::string error;
    sdes::sdes_request_options opts;
    if (auto parsed = sdes::parse_sdes_options(sdes_list, ng_flags, &error)) {
        opts = std::move(*parsed);
    } else if (error.empty()) {
        fail("parse_sdes_options refused without a reason", "");
    }
    for (const auto& f : ng_flags) {
        (void)sdes::is_sdes_flag(f);
    }

    error.clear();
    if (const auto chosen = sdes::choose_inbound(offer, policy, opts, &error)) {
        if (chosen->index >= offer.size()) {
            fail("choose_inbound index past the offer", "");
        }
        const auto again = sdes::parse_crypto(offer[chosen->index], popt, nullptr);
        if (!again || !same_attr(*again, chosen->line) || !policy.accepts(chosen->line.crypto_suite)) {
            fail("choose_inbound picked a line it should not have", offer[chosen->index]);
        }
        // Our answer: the offer's suite, a key of ours, an MKI of the offered line's length.
        const sdes::crypto_attr ours = sdes::make_answer_line(*chosen, policy);
        if (ours.crypto_suite != chosen->line.crypto_suite || ours.key.mki_len != chosen->line.key.mki_len ||
            sdes::same_key(ours.key, chosen->line.key)) {
            fail("make_answer_line does not answer the chosen line with a key of ours", offer[chosen->index]);
        }
    } else if (error.empty()) {
        fail("choose_inbound chose nothing without a reason", "");
    }

    // Our offer, narrowed by the request; what the answer says is matched against it.
    std::vector<sdes::crypto_attr> we_offered;
    try {
        we_offered = sdes::make_offer_lines(policy, opts);
    } catch (const std::runtime_error& e) {
        fail("make_offer_lines threw", e.what());
    }
    for (const auto& a : we_offered) {
        check_line(sdes::format_crypto(a, fopt), popt, fopt);
    }
    error.clear();
    if (const auto match = sdes::choose_answer(answer, we_offered, policy.accept_mki, &error)) {
        if (match->offered_index >= we_offered.size() ||
            match->peer.crypto_suite != we_offered[match->offered_index].crypto_suite) {
            fail("choose_answer matched a line we did not offer", "");
        }
    } else if (error.empty()) {
        fail("choose_answer matched nothing without a reason", "");
    }
    return 0;
}
