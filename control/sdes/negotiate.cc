#include "control/sdes/negotiate.h"

#include <algorithm>
#include <stdexcept>

namespace rtprelay::sdes {

namespace {

// A reply stays readable however many lines an SDP carries.
constexpr size_t max_reasons = 4;

class reasons {
 public:
    void add(std::string r) {
        if (list_.size() < max_reasons) {
            list_.push_back(std::move(r));
        } else {
            ++more_;
        }
    }
    std::string join() const {
        std::string out;
        for (const auto& r : list_) {
            out += out.empty() ? "" : "; ";
            out += r;
        }
        if (more_ > 0) {
            out += "; and " + std::to_string(more_) + " more";
        }
        return out;
    }

 private:
    std::vector<std::string> list_;
    size_t more_ = 0;
};

std::string quoted(std::string_view iface) { return "'" + std::string(iface) + "'"; }

std::string suite_list_text(const std::vector<suite>& suites) {
    std::string out;
    for (suite s : suites) {
        out += out.empty() ? "" : ", ";
        out += suite_name(s);
    }
    return out.empty() ? "nothing" : out;
}

bool is_rtp_family(std::string_view proto) {
    return proto.starts_with("RTP/") || proto.find("/RTP/") != std::string_view::npos;
}

format_options format_for(const sdes_request_options& opts) { return format_options{opts.pad, opts.lifetime}; }

}  // namespace

bool is_plain_rtp_proto(std::string_view proto) { return proto == "RTP/AVP" || proto == "RTP/AVPF"; }

bool is_srtp_proto(std::string_view proto) { return proto == "RTP/SAVP" || proto == "RTP/SAVPF"; }

bool is_dtls_proto(std::string_view proto) { return proto.find("/TLS/RTP/") != std::string_view::npos; }

std::string_view bridged_proto(std::string_view proto, bool srtp) {
    const bool feedback = proto == "RTP/AVPF" || proto == "RTP/SAVPF";
    if (feedback) {
        return srtp ? "RTP/SAVPF" : "RTP/AVPF";
    }
    return srtp ? "RTP/SAVP" : "RTP/AVP";
}

std::optional<chosen_crypto> choose_inbound(const std::vector<std::string>& crypto_values,
                                            const srtp_policy& accepting_side, const sdes_request_options& opts,
                                            std::string* error) {
    if (crypto_values.empty()) {
        if (error != nullptr) {
            *error = "no a=crypto line";
        }
        return std::nullopt;
    }
    const parse_options po{.allow_unencrypted_srtcp = accepting_side.allow_unencrypted_srtcp,
                           .allow_mki = accepting_side.accept_mki};
    reasons why;
    std::optional<chosen_crypto> first_acceptable;
    for (size_t i = 0; i < crypto_values.size(); ++i) {
        std::string reason;
        auto a = parse_crypto(crypto_values[i], po, &reason);
        if (!a) {
            why.add(std::move(reason));
            continue;
        }
        if (!accepting_side.accepts(a->crypto_suite)) {
            why.add("a=crypto tag " + std::to_string(a->tag) + ": " + std::string(suite_name(a->crypto_suite)) +
                    " is not accepted on this interface");
            continue;
        }
        chosen_crypto c{*a, i};
        if (opts.allows(a->crypto_suite)) {
            return c;
        }
        if (!first_acceptable) {
            first_acceptable = c;
        }
    }
    if (first_acceptable) {
        return first_acceptable;
    }
    if (error != nullptr) {
        *error = why.join();
    }
    return std::nullopt;
}

std::vector<crypto_attr> make_offer_lines(const srtp_policy& offering_side, const sdes_request_options& opts,
                                          const std::vector<crypto_attr>& previous) {
    std::vector<suite> suites;
    for (suite s : opts.order) {
        const auto& p = offering_side.offer_suites;
        if (std::find(p.begin(), p.end(), s) != p.end() && opts.allows(s)) {
            suites.push_back(s);
        }
    }
    for (suite s : offering_side.offer_suites) {
        if (opts.allows(s) && std::find(suites.begin(), suites.end(), s) == suites.end()) {
            suites.push_back(s);
        }
    }
    const bool srtcp_clear = opts.unencrypted_srtcp && offering_side.allow_unencrypted_srtcp;
    std::vector<crypto_attr> out;
    for (suite s : suites) {
        crypto_attr a;
        a.tag = static_cast<uint32_t>(out.size() + 1);
        a.crypto_suite = s;
        a.unencrypted_srtcp = srtcp_clear;
        auto kept = std::find_if(previous.begin(), previous.end(), [&](const crypto_attr& p) {
            return p.crypto_suite == s && p.unencrypted_srtcp == srtcp_clear;
        });
        // A kept key keeps its MKI too (a key of ours answered with one): the data plane's
        // context, and so its index history, stays as long as the key does.
        a.key = kept != previous.end() ? kept->key : random_key(s);
        out.push_back(a);
    }
    return out;
}

std::optional<answer_choice> choose_answer(const std::vector<std::string>& answer_crypto_values,
                                           const std::vector<crypto_attr>& we_offered, bool allow_mki,
                                           std::string* error) {
    auto fail = [&](std::string why) -> std::optional<answer_choice> {
        if (error != nullptr) {
            *error = std::move(why);
        }
        return std::nullopt;
    };
    if (we_offered.empty()) {
        return fail("we offered no a=crypto line");
    }
    if (answer_crypto_values.empty()) {
        return fail("no a=crypto line");
    }
    // UNENCRYPTED_SRTCP is parsed here and compared with what we offered below.
    const parse_options po{.allow_unencrypted_srtcp = true, .allow_mki = allow_mki};
    reasons why;
    for (const auto& value : answer_crypto_values) {
        std::string reason;
        auto a = parse_crypto(value, po, &reason);
        if (!a) {
            why.add(std::move(reason));
            continue;
        }
        // Each suite is offered once, so the suite names the line; a tag that agrees too is
        // the normal case, a renumbered one is tolerated.
        auto it = std::find_if(we_offered.begin(), we_offered.end(),
                               [&](const crypto_attr& o) { return o.crypto_suite == a->crypto_suite; });
        const std::string head = "a=crypto tag " + std::to_string(a->tag) + ": ";
        if (it == we_offered.end()) {
            why.add(head + std::string(suite_name(a->crypto_suite)) + " was not offered");
            continue;
        }
        if (it->unencrypted_srtcp != a->unencrypted_srtcp) {
            why.add(head + (a->unencrypted_srtcp ? "UNENCRYPTED_SRTCP was not offered"
                                                 : "UNENCRYPTED_SRTCP was offered but not answered"));
            continue;
        }
        return answer_choice{*a, static_cast<size_t>(it - we_offered.begin())};
    }
    return fail(why.join());
}

crypto_attr make_answer_line(const chosen_crypto& offered_choice, const srtp_policy& answering_side,
                             const crypto_attr* keep) {
    const crypto_attr& o = offered_choice.line;
    crypto_attr a;
    a.tag = o.tag;
    a.crypto_suite = o.crypto_suite;
    // choose_inbound only lets UNENCRYPTED_SRTCP through when the policy allows it; an
    // accepted one is repeated in the answer (RFC 4568: both sides declare the same).
    a.unencrypted_srtcp = o.unencrypted_srtcp && answering_side.allow_unencrypted_srtcp;
    // A peer that puts an MKI on its key gets one on ours (value 1, its length): it reads MKIs.
    if (keep != nullptr && keep->crypto_suite == a.crypto_suite && keep->unencrypted_srtcp == a.unencrypted_srtcp &&
        keep->key.mki_len == o.key.mki_len) {
        a.key = keep->key;
    } else {
        a.key = random_key(a.crypto_suite);
        set_our_mki(a.key, o.key.mki_len);
    }
    return a;
}

step_result offer_received(std::string_view iface, const srtp_policy& policy, const sdes_request_options& opts,
                           std::string_view proto, const std::vector<std::string>& crypto_values,
                           const stream_crypto& now) {
    step_result r;
    if (!is_rtp_family(proto)) {
        return r;
    }
    if (is_dtls_proto(proto)) {
        r.error = "interface " + quoted(iface) + ": " + std::string(proto) + " (DTLS-SRTP) is not supported";
        return r;
    }
    if (!is_srtp_proto(proto)) {
        if (policy.mode == srtp_mode::required) {
            r.error = "SRTP required on interface " + quoted(iface) +
                      " but the offer has no acceptable a=crypto line (m= proto is " + std::string(proto) + ")";
        }
        return r;  // plain RTP (a=crypto on RTP/AVP, RFC 8643 best effort, is not taken up)
    }
    if (policy.mode == srtp_mode::off) {
        r.error = "SRTP is off on interface " + quoted(iface) + " but the offer is " + std::string(proto);
        return r;
    }
    std::string why;
    auto chosen = choose_inbound(crypto_values, policy, opts, &why);
    if (!chosen) {
        r.error = (policy.mode == srtp_mode::required ? "SRTP required on interface " + quoted(iface) + " but the offer"
                                                      : std::string(proto) + " offer on interface " + quoted(iface)) +
                  " has no acceptable a=crypto line: " + why;
        return r;
    }
    try {
        r.state.to_peer = make_answer_line(*chosen, policy, now.to_peer ? &*now.to_peer : nullptr);
    } catch (const std::runtime_error& e) {
        r.error = e.what();
        return r;
    }
    r.state.srtp = true;
    r.state.from_peer = chosen->line;
    return r;
}

step_result offer_to_send(std::string_view iface, const srtp_policy& policy, const sdes_request_options& opts,
                          std::string_view in_proto, bool x_srtp, std::string_view transport_protocol,
                          const stream_crypto& now) {
    step_result r;
    r.state = now;
    if (!is_rtp_family(in_proto)) {
        // Not SRTP, but an a=crypto line in it still carries X's key: dropped.
        r.state = stream_crypto{};
        r.plan.replace_crypto = true;
        return r;
    }
    const std::string where = " on interface " + quoted(iface);
    std::string_view proto_base = in_proto;  // decides AVP vs AVPF
    std::optional<bool> asked;               // what transport-protocol asks for
    if (!transport_protocol.empty()) {
        if (is_srtp_proto(transport_protocol) || is_plain_rtp_proto(transport_protocol)) {
            asked = is_srtp_proto(transport_protocol);
            proto_base = transport_protocol;
        } else {
            r.error = "transport-protocol " + std::string(transport_protocol) + " is not supported";
            return r;
        }
    }
    bool srtp = false;
    switch (policy.mode) {
        case srtp_mode::required:
            if (asked && !*asked) {
                r.error = "SRTP required" + where + " but the request asks for transport-protocol " +
                          std::string(transport_protocol);
                return r;
            }
            if (opts.off) {
                r.error = "SRTP required" + where + " but the request says SDES-off";
                return r;
            }
            srtp = true;
            break;
        case srtp_mode::off:
            if (asked && *asked) {
                r.error = "SRTP is off" + where + " but the request asks for transport-protocol " +
                          std::string(transport_protocol);
                return r;
            }
            break;
        case srtp_mode::optional:
            srtp = (asked ? *asked : x_srtp) && !opts.off;
            break;
    }
    r.plan.proto = std::string(bridged_proto(proto_base, srtp));
    r.plan.replace_crypto = true;  // X's lines carry X's key: never passed on
    if (!srtp) {
        r.state = stream_crypto{};
        return r;
    }
    r.state.srtp = true;
    if (opts.unencrypted_srtcp && !policy.allow_unencrypted_srtcp) {
        r.error = "SDES-unencrypted_srtcp is not allowed" + where;
        return r;
    }
    // The key we already send this peer with comes first: a re-offer toward the side that
    // answered the first offer (the callee's re-INVITE) keeps it, so the peer's decryption
    // does not change under a re-INVITE.
    std::vector<crypto_attr> previous;
    if (now.to_peer) {
        previous.push_back(*now.to_peer);
    }
    previous.insert(previous.end(), now.offered.begin(), now.offered.end());
    try {
        r.state.offered = make_offer_lines(policy, opts, previous);
    } catch (const std::runtime_error& e) {
        r.error = e.what();
        return r;
    }
    if (r.state.offered.empty()) {
        r.error = "no SRTP suite left to offer" + where + ": the policy offers " +
                  suite_list_text(policy.offer_suites) + " and the request's SDES-only-/SDES-no- exclude them";
        return r;
    }
    for (const auto& a : r.state.offered) {
        r.plan.crypto.push_back(format_crypto(a, format_for(opts)));
    }
    return r;
}

step_result answer_received(std::string_view iface, const srtp_policy& policy, std::string_view answer_proto,
                            const std::vector<std::string>& crypto_values, const stream_crypto& now) {
    step_result r;
    r.state = now;
    if (!now.srtp || now.offered.empty()) {
        // We offered plain RTP; a=crypto in the answer would be an error of the answerer and
        // is ignored.
        r.state.srtp = false;
        r.state.from_peer.reset();
        r.state.to_peer.reset();
        return r;
    }
    if (is_plain_rtp_proto(answer_proto)) {
        // An answerer that falls back to plain RTP (against RFC 3264, but seen in the wild).
        // The m= proto decides, as for offers: RTP/AVP with a=crypto lines is plain RTP.
        if (policy.mode == srtp_mode::required) {
            r.error = "SRTP required on interface " + quoted(iface) + " but the answer is " + std::string(answer_proto);
            return r;
        }
        r.state.srtp = false;
        r.state.from_peer.reset();
        r.state.to_peer.reset();
        return r;
    }
    std::string why;
    auto choice = choose_answer(crypto_values, now.offered, policy.accept_mki, &why);
    if (!choice) {
        r.error = "answer on interface " + quoted(iface) + " has no a=crypto line matching our offer: " + why;
        return r;
    }
    r.state.srtp = true;
    r.state.from_peer = choice->peer;
    r.state.to_peer = now.offered[choice->offered_index];
    return r;
}

media_crypto_plan answer_to_send(const stream_crypto& x, std::string_view x_offer_proto,
                                 const sdes_request_options& opts) {
    media_crypto_plan p;
    p.replace_crypto = true;  // Y's lines carry Y's key: never passed on
    if (!is_rtp_family(x_offer_proto)) {
        return p;  // nothing of ours to write either: X offered no RTP here
    }
    p.proto = std::string(x_offer_proto);
    if (x.srtp && x.to_peer) {
        p.crypto.push_back(format_crypto(*x.to_peer, format_for(opts)));
    }
    return p;
}

}  // namespace rtprelay::sdes
