// The SDES decisions: offerer preference, our offers, answers that renumber tags, the
// interface policies, and a whole offer/answer through the four steps.

#include "control/sdes/negotiate.h"

#include <gtest/gtest.h>

#include <array>
#include <string>
#include <vector>

namespace rtprelay::sdes {
namespace {

constexpr suite s80 = suite::aes_cm_128_hmac_sha1_80;
constexpr suite s32 = suite::aes_cm_128_hmac_sha1_32;
constexpr std::string_view key1 = "PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR";
constexpr std::string_view key2 = "d0RmdmcmVCspeEc3QGZiNWpVLFJhQX1cfHAwJSoj";

std::string line(uint32_t tag, std::string_view suite_text, std::string_view key, std::string_view tail = "") {
    return std::to_string(tag) + " " + std::string(suite_text) + " inline:" + std::string(key) + std::string(tail);
}

master_key key_of(std::string_view value) {
    auto a = parse_crypto(value, parse_options{true, true}, nullptr);
    EXPECT_TRUE(a.has_value()) << value;
    return a ? a->key : master_key{};
}

srtp_policy policy(srtp_mode m) {
    srtp_policy p;
    p.mode = m;
    return p;
}

const sdes_request_options no_options{};

sdes_request_options options(const std::vector<std::string>& flags) {
    auto o = parse_sdes_options({}, flags, nullptr);
    EXPECT_TRUE(o.has_value());
    return o.value_or(sdes_request_options{});
}

// --- choose_inbound ---

TEST(choose_inbound, offerer_preference_decides) {
    const std::vector<std::string> offer{line(1, "AES_CM_128_HMAC_SHA1_32", key1),
                                         line(2, "AES_CM_128_HMAC_SHA1_80", key2)};
    std::string error;
    auto c = choose_inbound(offer, srtp_policy{}, no_options, &error);
    ASSERT_TRUE(c) << error;
    EXPECT_EQ(c->line.crypto_suite, s32);
    EXPECT_EQ(c->line.tag, 1U);
    EXPECT_EQ(c->index, 0U);
    EXPECT_TRUE(same_key(c->line.key, key_of(offer[0])));

    // An interface that does not accept _32 takes the offerer's next line.
    srtp_policy only80;
    only80.accept_suites = {s80};
    c = choose_inbound(offer, only80, no_options, &error);
    ASSERT_TRUE(c) << error;
    EXPECT_EQ(c->line.crypto_suite, s80);
    EXPECT_EQ(c->line.tag, 2U);
    EXPECT_EQ(c->index, 1U);
}

TEST(choose_inbound, unusable_lines_are_skipped) {
    const std::vector<std::string> offer{
        line(1, "AES_256_CM_HMAC_SHA1_80", key1),
        line(2, "AES_CM_128_HMAC_SHA1_80", key1, "|2^20|1:4"),
        line(3, "AES_CM_128_HMAC_SHA1_32", key2),
    };
    std::string error;
    auto c = choose_inbound(offer, srtp_policy{}, no_options, &error);
    ASSERT_TRUE(c) << error;
    EXPECT_EQ(c->line.tag, 3U);
    EXPECT_EQ(c->index, 2U);
}

TEST(choose_inbound, nothing_acceptable_lists_every_reason) {
    srtp_policy only80;
    only80.accept_suites = {s80};
    const std::vector<std::string> offer{
        line(1, "AES_CM_128_HMAC_SHA1_80", key1, "|2^20|1:4"),
        line(2, "AES_192_CM_HMAC_SHA1_80", key1),
        line(3, "AES_CM_128_HMAC_SHA1_32", key2),
        line(4, "AES_CM_128_HMAC_SHA1_80", key1.substr(0, 39)),
        line(5, "AES_CM_128_HMAC_SHA1_80", key1, " UNENCRYPTED_SRTCP"),
        line(6, "AES_CM_128_HMAC_SHA1_80", key1, " KDR=1"),
    };
    std::string error;
    EXPECT_FALSE(choose_inbound(offer, only80, no_options, &error));
    EXPECT_EQ(error,
              "a=crypto tag 1: MKI is not supported; a=crypto tag 2: suite AES_192_CM_HMAC_SHA1_80 is not supported; "
              "a=crypto tag 3: AES_CM_128_HMAC_SHA1_32 is not accepted on this interface; "
              "a=crypto tag 4: key is 29 bytes, AES_CM_128_HMAC_SHA1_80 needs 30; and 2 more");
    EXPECT_FALSE(choose_inbound({}, only80, no_options, &error));
    EXPECT_EQ(error, "no a=crypto line");
}

TEST(choose_inbound, unencrypted_srtcp_follows_policy) {
    const std::vector<std::string> offer{line(1, "AES_CM_128_HMAC_SHA1_80", key1, " UNENCRYPTED_SRTCP")};
    std::string error;
    EXPECT_FALSE(choose_inbound(offer, srtp_policy{}, no_options, &error));
    EXPECT_EQ(error, "a=crypto tag 1: UNENCRYPTED_SRTCP is not allowed by the interface's SRTP policy");
    srtp_policy allow;
    allow.allow_unencrypted_srtcp = true;
    auto c = choose_inbound(offer, allow, no_options, &error);
    ASSERT_TRUE(c) << error;
    EXPECT_TRUE(c->line.unencrypted_srtcp);
}

TEST(choose_inbound, sdes_flags_prefer_but_do_not_fail) {
    const std::vector<std::string> offer{line(1, "AES_CM_128_HMAC_SHA1_32", key1),
                                         line(2, "AES_CM_128_HMAC_SHA1_80", key2)};
    auto c = choose_inbound(offer, srtp_policy{}, options({"SDES-no-AES_CM_128_HMAC_SHA1_32"}), nullptr);
    ASSERT_TRUE(c);
    EXPECT_EQ(c->line.crypto_suite, s80);
    // Nothing the flags allow: the offerer's first acceptable line still answers the call.
    c = choose_inbound({offer[0]}, srtp_policy{}, options({"SDES-only-AES_CM_128_HMAC_SHA1_80"}), nullptr);
    ASSERT_TRUE(c);
    EXPECT_EQ(c->line.crypto_suite, s32);
}

// --- make_offer_lines ---

TEST(make_offer_lines, default_policy_offers_exactly_one_80_line) {
    const auto lines = make_offer_lines(srtp_policy{}, no_options);
    ASSERT_EQ(lines.size(), 1U);
    EXPECT_EQ(lines[0].tag, 1U);
    EXPECT_EQ(lines[0].crypto_suite, s80);
    EXPECT_FALSE(lines[0].lifetime);
    EXPECT_FALSE(lines[0].unencrypted_srtcp);
}

TEST(make_offer_lines, policy_order_and_tags) {
    srtp_policy p;
    p.offer_suites = {s32, s80};
    const auto lines = make_offer_lines(p, no_options);
    ASSERT_EQ(lines.size(), 2U);
    EXPECT_EQ(lines[0].crypto_suite, s32);
    EXPECT_EQ(lines[0].tag, 1U);
    EXPECT_EQ(lines[1].crypto_suite, s80);
    EXPECT_EQ(lines[1].tag, 2U);
    EXPECT_FALSE(same_key(lines[0].key, lines[1].key));
}

TEST(make_offer_lines, sdes_only_and_no_narrow_the_policy) {
    srtp_policy both;
    both.offer_suites = {s80, s32};
    auto lines = make_offer_lines(both, options({"SDES-only-AES_CM_128_HMAC_SHA1_32"}));
    ASSERT_EQ(lines.size(), 1U);
    EXPECT_EQ(lines[0].crypto_suite, s32);
    EXPECT_EQ(lines[0].tag, 1U);

    lines = make_offer_lines(both, options({"SDES-no-AES_CM_128_HMAC_SHA1_80"}));
    ASSERT_EQ(lines.size(), 1U);
    EXPECT_EQ(lines[0].crypto_suite, s32);

    // only- wins over no-.
    lines = make_offer_lines(both, options({"SDES-no-AES_CM_128_HMAC_SHA1_32", "SDES-only-AES_CM_128_HMAC_SHA1_32"}));
    ASSERT_EQ(lines.size(), 1U);
    EXPECT_EQ(lines[0].crypto_suite, s32);

    // The request never widens the policy: _32 is not offered on a default interface.
    EXPECT_TRUE(make_offer_lines(srtp_policy{}, options({"SDES-only-AES_CM_128_HMAC_SHA1_32"})).empty());
    EXPECT_TRUE(make_offer_lines(both, options({"SDES-only-AEAD_AES_256_GCM"})).empty());

    lines = make_offer_lines(both, options({"SDES-order:AES_CM_128_HMAC_SHA1_32;AES_CM_128_HMAC_SHA1_80"}));
    ASSERT_EQ(lines.size(), 2U);
    EXPECT_EQ(lines[0].crypto_suite, s32);
    EXPECT_EQ(lines[1].crypto_suite, s80);
}

TEST(make_offer_lines, fresh_keys_every_call_unless_kept) {
    const auto a = make_offer_lines(srtp_policy{}, no_options);
    const auto b = make_offer_lines(srtp_policy{}, no_options);
    ASSERT_EQ(a.size(), 1U);
    ASSERT_EQ(b.size(), 1U);
    EXPECT_FALSE(same_key(a[0].key, b[0].key));
    const auto c = make_offer_lines(srtp_policy{}, no_options, a);
    ASSERT_EQ(c.size(), 1U);
    EXPECT_TRUE(same_key(a[0].key, c[0].key));
}

TEST(make_offer_lines, unencrypted_srtcp_needs_request_and_policy) {
    srtp_policy allow;
    allow.allow_unencrypted_srtcp = true;
    EXPECT_FALSE(make_offer_lines(allow, no_options)[0].unencrypted_srtcp);
    EXPECT_FALSE(make_offer_lines(srtp_policy{}, options({"SDES-unencrypted_srtcp"}))[0].unencrypted_srtcp);
    EXPECT_TRUE(make_offer_lines(allow, options({"SDES-unencrypted_srtcp"}))[0].unencrypted_srtcp);
}

// --- choose_answer ---

TEST(choose_answer, matches_by_suite_even_with_a_renumbered_tag) {
    srtp_policy both;
    both.offer_suites = {s80, s32};
    const auto offered = make_offer_lines(both, no_options);  // 1: _80, 2: _32
    std::string error;
    // Tag 7 was never offered; the suite says which line the answerer took.
    auto c = choose_answer({line(7, "AES_CM_128_HMAC_SHA1_32", key1)}, offered, false, &error);
    ASSERT_TRUE(c) << error;
    EXPECT_EQ(c->offered_index, 1U);
    EXPECT_EQ(c->peer.tag, 7U);
    EXPECT_TRUE(same_key(c->peer.key, key_of(line(7, "AES_CM_128_HMAC_SHA1_32", key1))));
    // Tag 1 with suite _32: the suite wins.
    c = choose_answer({line(1, "AES_CM_128_HMAC_SHA1_32", key1)}, offered, false, &error);
    ASSERT_TRUE(c) << error;
    EXPECT_EQ(c->offered_index, 1U);
    // The normal case.
    c = choose_answer({line(1, "AES_CM_128_HMAC_SHA1_80", key2)}, offered, false, &error);
    ASSERT_TRUE(c) << error;
    EXPECT_EQ(c->offered_index, 0U);
}

TEST(choose_answer, refusals) {
    const auto offered = make_offer_lines(srtp_policy{}, no_options);  // 1: _80
    std::string error;
    EXPECT_FALSE(choose_answer({line(1, "AES_CM_128_HMAC_SHA1_32", key1)}, offered, false, &error));
    EXPECT_EQ(error, "a=crypto tag 1: AES_CM_128_HMAC_SHA1_32 was not offered");
    EXPECT_FALSE(choose_answer({line(1, "AES_CM_128_HMAC_SHA1_80", key1, "|2^20|1:4")}, offered, false, &error));
    EXPECT_EQ(error, "a=crypto tag 1: MKI is not supported");
    EXPECT_FALSE(
        choose_answer({line(1, "AES_CM_128_HMAC_SHA1_80", key1, " UNENCRYPTED_SRTCP")}, offered, false, &error));
    EXPECT_EQ(error, "a=crypto tag 1: UNENCRYPTED_SRTCP was not offered");
    EXPECT_FALSE(choose_answer({}, offered, false, &error));
    EXPECT_EQ(error, "no a=crypto line");
    EXPECT_FALSE(choose_answer({line(1, "AES_CM_128_HMAC_SHA1_80", key1)}, {}, false, &error));
    EXPECT_EQ(error, "we offered no a=crypto line");

    srtp_policy allow;
    allow.allow_unencrypted_srtcp = true;
    const auto clear = make_offer_lines(allow, options({"SDES-unencrypted_srtcp"}));
    EXPECT_FALSE(choose_answer({line(1, "AES_CM_128_HMAC_SHA1_80", key1)}, clear, false, &error));
    EXPECT_EQ(error, "a=crypto tag 1: UNENCRYPTED_SRTCP was offered but not answered");
    EXPECT_TRUE(choose_answer({line(1, "AES_CM_128_HMAC_SHA1_80", key1, " UNENCRYPTED_SRTCP")}, clear, false, &error));
}

// --- make_answer_line ---

TEST(make_answer_line, offer_tag_and_suite_with_a_key_of_our_own) {
    const auto c = choose_inbound({line(42, "AES_CM_128_HMAC_SHA1_32", key1)}, srtp_policy{}, no_options, nullptr);
    ASSERT_TRUE(c);
    const crypto_attr a = make_answer_line(*c, srtp_policy{});
    EXPECT_EQ(a.tag, 42U);
    EXPECT_EQ(a.crypto_suite, s32);
    EXPECT_FALSE(same_key(a.key, c->line.key));
    const crypto_attr b = make_answer_line(*c, srtp_policy{});
    EXPECT_FALSE(same_key(a.key, b.key));
    // Kept when the suite is unchanged (repeated answers name one key), not otherwise.
    EXPECT_TRUE(same_key(make_answer_line(*c, srtp_policy{}, &a).key, a.key));
    crypto_attr other = a;
    other.crypto_suite = s80;
    EXPECT_FALSE(same_key(make_answer_line(*c, srtp_policy{}, &other).key, a.key));
}

// --- the steps and the interface policies ---

TEST(offer_received, required_refuses_plain_and_unusable_offers) {
    const auto r = offer_received("jp1", policy(srtp_mode::required), no_options, "RTP/AVP", {}, {});
    EXPECT_EQ(r.error,
              "SRTP required on interface 'jp1' but the offer has no acceptable a=crypto line (m= proto is RTP/AVP)");

    const auto m = offer_received("jp1", policy(srtp_mode::required), no_options, "RTP/SAVP",
                                  {line(1, "AES_CM_128_HMAC_SHA1_80", key1, "|2^20|1:4")}, {});
    EXPECT_EQ(m.error,
              "SRTP required on interface 'jp1' but the offer has no acceptable a=crypto line: a=crypto tag 1: MKI is "
              "not supported");

    const auto o = offer_received("ext", policy(srtp_mode::optional), no_options, "RTP/SAVP", {}, {});
    EXPECT_EQ(o.error, "RTP/SAVP offer on interface 'ext' has no acceptable a=crypto line: no a=crypto line");
}

TEST(offer_received, off_and_optional) {
    const auto off = offer_received("int", policy(srtp_mode::off), no_options, "RTP/SAVP",
                                    {line(1, "AES_CM_128_HMAC_SHA1_80", key1)}, {});
    EXPECT_EQ(off.error, "SRTP is off on interface 'int' but the offer is RTP/SAVP");

    const auto plain = offer_received("int", policy(srtp_mode::off), no_options, "RTP/AVP", {}, {});
    EXPECT_TRUE(plain.error.empty());
    EXPECT_FALSE(plain.state.srtp);

    const auto opt = offer_received("ext", policy(srtp_mode::optional), no_options, "RTP/AVP", {}, {});
    EXPECT_TRUE(opt.error.empty());
    EXPECT_FALSE(opt.state.srtp);

    // Not RTP at all: SRTP policy does not apply.
    const auto t38 = offer_received("jp1", policy(srtp_mode::required), no_options, "udptl", {}, {});
    EXPECT_TRUE(t38.error.empty());
    EXPECT_FALSE(t38.state.srtp);

    const auto dtls = offer_received("jp1", policy(srtp_mode::optional), no_options, "UDP/TLS/RTP/SAVPF", {}, {});
    EXPECT_EQ(dtls.error, "interface 'jp1': UDP/TLS/RTP/SAVPF (DTLS-SRTP) is not supported");
}

TEST(offer_to_send, which_legs_get_srtp) {
    // optional: like the other leg, or as transport-protocol asks.
    auto r = offer_to_send("ext", policy(srtp_mode::optional), no_options, "RTP/AVP", false, "", {});
    EXPECT_TRUE(r.error.empty());
    EXPECT_FALSE(r.state.srtp);
    EXPECT_EQ(r.plan.proto, "RTP/AVP");
    EXPECT_TRUE(r.plan.replace_crypto);
    EXPECT_TRUE(r.plan.crypto.empty());

    r = offer_to_send("ext", policy(srtp_mode::optional), no_options, "RTP/SAVPF", true, "", {});
    EXPECT_TRUE(r.state.srtp);
    EXPECT_EQ(r.plan.proto, "RTP/SAVPF");
    ASSERT_EQ(r.plan.crypto.size(), 1U);

    r = offer_to_send("ext", policy(srtp_mode::optional), no_options, "RTP/AVP", false, "RTP/SAVP", {});
    EXPECT_TRUE(r.state.srtp);
    EXPECT_EQ(r.plan.proto, "RTP/SAVP");

    r = offer_to_send("ext", policy(srtp_mode::optional), options({"SDES-off"}), "RTP/SAVP", true, "", {});
    EXPECT_FALSE(r.state.srtp);
    EXPECT_EQ(r.plan.proto, "RTP/AVP");

    // required: always SRTP (plain RTP from the other leg is bridged).
    r = offer_to_send("jp1", policy(srtp_mode::required), no_options, "RTP/AVP", false, "", {});
    EXPECT_TRUE(r.error.empty());
    EXPECT_TRUE(r.state.srtp);
    EXPECT_EQ(r.plan.proto, "RTP/SAVP");
    ASSERT_EQ(r.plan.crypto.size(), 1U);
    EXPECT_TRUE(r.plan.crypto[0].starts_with("1 AES_CM_128_HMAC_SHA1_80 inline:"));

    // off: always plain (SRTP from the other leg is bridged).
    r = offer_to_send("int", policy(srtp_mode::off), no_options, "RTP/SAVP", true, "", {});
    EXPECT_TRUE(r.error.empty());
    EXPECT_FALSE(r.state.srtp);
    EXPECT_EQ(r.plan.proto, "RTP/AVP");
    EXPECT_TRUE(r.plan.replace_crypto);
    EXPECT_TRUE(r.plan.crypto.empty());

    // Not RTP: no proto change, no SRTP, but an a=crypto line in it (X's key) is dropped.
    r = offer_to_send("ext", policy(srtp_mode::optional), no_options, "udptl", false, "", {});
    EXPECT_FALSE(r.plan.proto);
    EXPECT_FALSE(r.state.srtp);
    EXPECT_TRUE(r.plan.replace_crypto);
    EXPECT_TRUE(r.plan.crypto.empty());
}

TEST(offer_to_send, refusals) {
    EXPECT_EQ(offer_to_send("jp1", policy(srtp_mode::required), options({"SDES-off"}), "RTP/AVP", false, "", {}).error,
              "SRTP required on interface 'jp1' but the request says SDES-off");
    EXPECT_EQ(offer_to_send("jp1", policy(srtp_mode::required), no_options, "RTP/SAVP", true, "RTP/AVP", {}).error,
              "SRTP required on interface 'jp1' but the request asks for transport-protocol RTP/AVP");
    EXPECT_EQ(offer_to_send("int", policy(srtp_mode::off), no_options, "RTP/AVP", false, "RTP/SAVP", {}).error,
              "SRTP is off on interface 'int' but the request asks for transport-protocol RTP/SAVP");
    EXPECT_EQ(
        offer_to_send("ext", policy(srtp_mode::optional), no_options, "RTP/AVP", false, "UDP/TLS/RTP/SAVPF", {}).error,
        "transport-protocol UDP/TLS/RTP/SAVPF is not supported");
    EXPECT_EQ(
        offer_to_send("jp1", policy(srtp_mode::required), options({"SDES-unencrypted_srtcp"}), "RTP/AVP", false, "", {})
            .error,
        "SDES-unencrypted_srtcp is not allowed on interface 'jp1'");
    EXPECT_EQ(offer_to_send("jp1", policy(srtp_mode::required), options({"SDES-only-AES_CM_128_HMAC_SHA1_32"}),
                            "RTP/AVP", false, "", {})
                  .error,
              "no SRTP suite left to offer on interface 'jp1': the policy offers AES_CM_128_HMAC_SHA1_80 and the "
              "request's SDES-only-/SDES-no- exclude them");
}

TEST(answer_received, plain_fallback_and_refusals) {
    const auto offer = offer_to_send("jp1", policy(srtp_mode::optional), no_options, "RTP/SAVP", true, "", {});
    ASSERT_TRUE(offer.state.srtp);
    // An answerer that falls back to RTP/AVP: accepted where SRTP is optional ...
    auto r = answer_received("jp1", policy(srtp_mode::optional), "RTP/AVP", {}, offer.state);
    EXPECT_TRUE(r.error.empty());
    EXPECT_FALSE(r.state.srtp);
    // ... refused where it is required.
    r = answer_received("jp1", policy(srtp_mode::required), "RTP/AVP", {}, offer.state);
    EXPECT_EQ(r.error, "SRTP required on interface 'jp1' but the answer is RTP/AVP");
    // The m= proto decides, as for offers: RTP/AVP carrying a=crypto is still plain RTP.
    r = answer_received("jp1", policy(srtp_mode::optional), "RTP/AVP", {line(1, "AES_CM_128_HMAC_SHA1_80", key1)},
                        offer.state);
    EXPECT_TRUE(r.error.empty());
    EXPECT_FALSE(r.state.srtp);
    r = answer_received("jp1", policy(srtp_mode::required), "RTP/AVP", {line(1, "AES_CM_128_HMAC_SHA1_80", key1)},
                        offer.state);
    EXPECT_FALSE(r.error.empty());
    r = answer_received("jp1", policy(srtp_mode::optional), "RTP/SAVP", {line(1, "AES_CM_128_HMAC_SHA1_32", key1)},
                        offer.state);
    EXPECT_EQ(r.error,
              "answer on interface 'jp1' has no a=crypto line matching our offer: a=crypto tag 1: "
              "AES_CM_128_HMAC_SHA1_32 was not offered");
}

// Customer PBX (leg X, "ext", optional) offers SRTP preferring _32; the carrier side (leg Y,
// "jp1", required, default suites) gets our own _80 offer and answers with tag 9.
TEST(steps, whole_offer_answer_keeps_the_legs_apart) {
    srtp_policy ext = policy(srtp_mode::optional);
    srtp_policy jp1 = policy(srtp_mode::required);
    const std::vector<std::string> x_offer{line(1, "AES_CM_128_HMAC_SHA1_32", key1),
                                           line(2, "AES_CM_128_HMAC_SHA1_80", key2)};

    const step_result s1 = offer_received("ext", ext, no_options, "RTP/SAVP", x_offer, {});
    ASSERT_TRUE(s1.error.empty()) << s1.error;
    ASSERT_TRUE(s1.state.srtp);
    EXPECT_EQ(s1.state.from_peer->crypto_suite, s32);  // offerer's preference
    EXPECT_TRUE(same_key(s1.state.from_peer->key, key_of(x_offer[0])));

    const step_result s2 = offer_to_send("jp1", jp1, no_options, "RTP/SAVP", s1.state.srtp, "", {});
    ASSERT_TRUE(s2.error.empty()) << s2.error;
    ASSERT_EQ(s2.plan.crypto.size(), 1U);  // exactly one _80 line towards the carrier
    EXPECT_TRUE(s2.plan.crypto[0].starts_with("1 AES_CM_128_HMAC_SHA1_80 inline:"));
    EXPECT_EQ(s2.plan.crypto[0].find(key1), std::string::npos);  // X's keys never reach Y
    EXPECT_EQ(s2.plan.crypto[0].find(key2), std::string::npos);

    const std::string y_answer = line(9, "AES_CM_128_HMAC_SHA1_80", key2);
    const step_result s3 = answer_received("jp1", jp1, "RTP/SAVP", {y_answer}, s2.state);
    ASSERT_TRUE(s3.error.empty()) << s3.error;
    ASSERT_TRUE(s3.state.srtp);
    EXPECT_TRUE(same_key(s3.state.from_peer->key, key_of(y_answer)));         // Y -> relay
    EXPECT_TRUE(same_key(s3.state.to_peer->key, key_of(s2.plan.crypto[0])));  // relay -> Y

    const media_crypto_plan s4 = answer_to_send(s1.state, "RTP/SAVP", no_options);
    EXPECT_EQ(s4.proto, "RTP/SAVP");
    EXPECT_TRUE(s4.replace_crypto);
    ASSERT_EQ(s4.crypto.size(), 1U);
    EXPECT_TRUE(s4.crypto[0].starts_with("1 AES_CM_128_HMAC_SHA1_32 inline:"));  // X's tag and suite
    EXPECT_EQ(s4.crypto[0].find(key1), std::string::npos);                       // Y's and X's keys stay put
    EXPECT_EQ(s4.crypto[0].find(key2), std::string::npos);
    EXPECT_TRUE(same_key(s1.state.to_peer->key, key_of(s4.crypto[0])));  // relay -> X

    // Four different keys, one per direction and leg.
    const master_key keys[] = {s1.state.from_peer->key, s1.state.to_peer->key, s3.state.from_peer->key,
                               s3.state.to_peer->key};
    for (size_t i = 0; i < 4; ++i) {
        for (size_t j = i + 1; j < 4; ++j) {
            EXPECT_FALSE(same_key(keys[i], keys[j])) << i << " " << j;
        }
    }

    // A re-offer with the same suites keeps our keys on both legs; the established answer
    // keys on Y stay until the next answer.
    const step_result r1 = offer_received("ext", ext, no_options, "RTP/SAVP", x_offer, s1.state);
    EXPECT_TRUE(same_key(r1.state.to_peer->key, s1.state.to_peer->key));
    const step_result r2 = offer_to_send("jp1", jp1, no_options, "RTP/SAVP", true, "", s3.state);
    EXPECT_EQ(r2.plan.crypto, s2.plan.crypto);
    EXPECT_TRUE(same_key(r2.state.from_peer->key, s3.state.from_peer->key));

    // SDES-pad / SDES-lifetime shape the text of the answer, not the key.
    const media_crypto_plan s4l = answer_to_send(s1.state, "RTP/SAVP", options({"SDES-lifetime"}));
    EXPECT_EQ(s4l.crypto[0], s4.crypto[0] + "|2^31");
}

TEST(steps, plain_offerer_bridged_to_srtp_carrier) {
    const step_result s1 = offer_received("ext", policy(srtp_mode::optional), no_options, "RTP/AVP", {}, {});
    ASSERT_TRUE(s1.error.empty());
    const step_result s2 = offer_to_send("jp1", policy(srtp_mode::required), no_options, "RTP/AVP", false, "", {});
    ASSERT_TRUE(s2.error.empty());
    EXPECT_EQ(s2.plan.proto, "RTP/SAVP");
    const std::string y_answer = line(1, "AES_CM_128_HMAC_SHA1_80", key2);
    const step_result s3 = answer_received("jp1", policy(srtp_mode::required), "RTP/SAVP", {y_answer}, s2.state);
    ASSERT_TRUE(s3.error.empty()) << s3.error;
    EXPECT_TRUE(s3.state.srtp);
    // The answer to the plain offerer is plain, Y's a=crypto removed.
    const media_crypto_plan s4 = answer_to_send(s1.state, "RTP/AVP", no_options);
    EXPECT_EQ(s4.proto, "RTP/AVP");
    EXPECT_TRUE(s4.replace_crypto);
    EXPECT_TRUE(s4.crypto.empty());
}

TEST(steps, answer_to_a_non_rtp_offer_carries_no_keys) {
    // X offered T.38 (udptl); whatever Y's answer holds there, a=crypto lines (Y's key)
    // are dropped and none of ours written: the proto stays the answer's.
    const step_result s1 = offer_received("ext", policy(srtp_mode::optional), no_options, "udptl", {}, {});
    ASSERT_TRUE(s1.error.empty());
    const media_crypto_plan s4 = answer_to_send(s1.state, "udptl", no_options);
    EXPECT_FALSE(s4.proto);
    EXPECT_TRUE(s4.replace_crypto);
    EXPECT_TRUE(s4.crypto.empty());
}

// --- the suites beyond AES_CM_128, and the MKI ---

constexpr std::string_view key28 = "AwoRGB8mLTQ7QklQV15lbHN6gYiPlp2kq7K5wA";                       // AEAD_AES_128_GCM
constexpr std::string_view key44 = "AwoRGB8mLTQ7QklQV15lbHN6gYiPlp2kq7K5wMfO1dzj6vH4/wYNFBsiKTA";  // AEAD_AES_256_GCM

TEST(new_suites, accepted_by_default_in_the_offerers_order) {
    const std::vector<std::string> offer{line(1, "AEAD_AES_256_GCM", key44), line(2, "AES_CM_128_HMAC_SHA1_80", key1)};
    const step_result r = offer_received("ext", policy(srtp_mode::optional), no_options, "RTP/SAVP", offer, {});
    ASSERT_TRUE(r.error.empty()) << r.error;
    ASSERT_TRUE(r.state.from_peer && r.state.to_peer);
    EXPECT_EQ(r.state.from_peer->crypto_suite, suite::aead_aes_256_gcm);
    EXPECT_EQ(r.state.to_peer->crypto_suite, suite::aead_aes_256_gcm);
    EXPECT_EQ(r.state.to_peer->tag, 1U);
    // Our answer line: the suite's key length (44 bytes: 59 base64 characters).
    const media_crypto_plan a = answer_to_send(r.state, "RTP/SAVP", no_options);
    ASSERT_EQ(a.crypto.size(), 1U);
    EXPECT_TRUE(a.crypto[0].starts_with("1 AEAD_AES_256_GCM inline:"));
    EXPECT_EQ(a.crypto[0].size(), std::string("1 AEAD_AES_256_GCM inline:").size() + 59);
    // An interface that accepts only AES_CM_128 takes the next line.
    srtp_policy cm_only = policy(srtp_mode::optional);
    cm_only.accept_suites = {s80, s32};
    const step_result c = offer_received("ext", cm_only, no_options, "RTP/SAVP", offer, {});
    ASSERT_TRUE(c.state.from_peer);
    EXPECT_EQ(c.state.from_peer->crypto_suite, s80);
}

TEST(new_suites, offers_and_sdes_flags) {
    srtp_policy all = policy(srtp_mode::optional);
    all.offer_suites = {suite::aead_aes_128_gcm, suite::aes_256_cm_hmac_sha1_80, s80};
    auto r = offer_to_send("ext", all, no_options, "RTP/SAVP", true, "", {});
    ASSERT_EQ(r.plan.crypto.size(), 3U);
    EXPECT_TRUE(r.plan.crypto[0].starts_with("1 AEAD_AES_128_GCM inline:"));
    EXPECT_TRUE(r.plan.crypto[1].starts_with("2 AES_256_CM_HMAC_SHA1_80 inline:"));
    EXPECT_TRUE(r.plan.crypto[2].starts_with("3 AES_CM_128_HMAC_SHA1_80 inline:"));
    for (const std::string& l : r.plan.crypto) {
        EXPECT_EQ(l.find('|'), std::string::npos) << "our offers carry no MKI: " << l;
    }
    r = offer_to_send("ext", all, options({"SDES-only-AES_256_CM_HMAC_SHA1_80"}), "RTP/SAVP", true, "", {});
    ASSERT_EQ(r.plan.crypto.size(), 1U);
    EXPECT_TRUE(r.plan.crypto[0].starts_with("1 AES_256_CM_HMAC_SHA1_80 inline:"));
    r = offer_to_send("ext", all, options({"SDES-no-AEAD_AES_128_GCM"}), "RTP/SAVP", true, "", {});
    ASSERT_EQ(r.plan.crypto.size(), 2U);
    EXPECT_TRUE(r.plan.crypto[0].starts_with("1 AES_256_CM_HMAC_SHA1_80 inline:"));
    // The default still offers AES_CM_128_HMAC_SHA1_80 only.
    r = offer_to_send("ext", policy(srtp_mode::optional), no_options, "RTP/SAVP", true, "", {});
    ASSERT_EQ(r.plan.crypto.size(), 1U);
    EXPECT_TRUE(r.plan.crypto[0].starts_with("1 AES_CM_128_HMAC_SHA1_80 inline:"));
    // SDES-only- / SDES-no- of a new suite narrow what the offerer's lines we take.
    const std::vector<std::string> offer{line(1, "AEAD_AES_128_GCM", key28), line(2, "AES_CM_128_HMAC_SHA1_80", key1)};
    auto c = choose_inbound(offer, srtp_policy{}, options({"SDES-no-AEAD_AES_128_GCM"}), nullptr);
    ASSERT_TRUE(c);
    EXPECT_EQ(c->line.crypto_suite, s80);
}

TEST(mki, refused_by_default_accepted_with_mki_accept) {
    const std::vector<std::string> offer{line(1, "AES_CM_128_HMAC_SHA1_80", key1, "|2^20|1:4")};
    const step_result refused = offer_received("ext", policy(srtp_mode::optional), no_options, "RTP/SAVP", offer, {});
    EXPECT_EQ(refused.error,
              "RTP/SAVP offer on interface 'ext' has no acceptable a=crypto line: "
              "a=crypto tag 1: MKI is not supported");

    srtp_policy mki_ok = policy(srtp_mode::optional);
    mki_ok.accept_mki = true;
    const step_result r = offer_received("ext", mki_ok, no_options, "RTP/SAVP", offer, {});
    ASSERT_TRUE(r.error.empty()) << r.error;
    // The peer's key with its MKI (checked on its packets)...
    EXPECT_EQ(r.state.from_peer->key.mki_len, 4);
    EXPECT_EQ(r.state.from_peer->key.mki, (std::array<uint8_t, 4>{0, 0, 0, 1}));
    // ... and ours with one of the same length, value 1 (sent on ours).
    EXPECT_EQ(r.state.to_peer->key.mki_len, 4);
    EXPECT_EQ(r.state.to_peer->key.mki, (std::array<uint8_t, 4>{0, 0, 0, 1}));
    const media_crypto_plan a = answer_to_send(r.state, "RTP/SAVP", no_options);
    ASSERT_EQ(a.crypto.size(), 1U);
    EXPECT_TRUE(a.crypto[0].ends_with("|1:4")) << a.crypto[0];
    // A repeated offer keeps our key and its MKI; a line without MKI gets a key without.
    const step_result again = offer_received("ext", mki_ok, no_options, "RTP/SAVP", offer, r.state);
    EXPECT_TRUE(same_key(again.state.to_peer->key, r.state.to_peer->key));
    const step_result plain =
        offer_received("ext", mki_ok, no_options, "RTP/SAVP", {line(1, "AES_CM_128_HMAC_SHA1_80", key1)}, r.state);
    EXPECT_EQ(plain.state.to_peer->key.mki_len, 0);
    EXPECT_FALSE(same_key(plain.state.to_peer->key, r.state.to_peer->key));
}

TEST(mki, answers_with_one_where_accepted) {
    const auto offered = make_offer_lines(srtp_policy{}, no_options);  // 1: _80, no MKI
    const std::string answer = line(1, "AES_CM_128_HMAC_SHA1_80", key2, "|7:1");
    std::string error;
    EXPECT_FALSE(choose_answer({answer}, offered, false, &error));
    EXPECT_EQ(error, "a=crypto tag 1: MKI is not supported");
    const auto c = choose_answer({answer}, offered, true, &error);
    ASSERT_TRUE(c) << error;
    EXPECT_EQ(c->peer.key.mki_len, 1);
    EXPECT_EQ(c->peer.key.mki[0], 7);
    // Through the step: the peer's MKI is taken, our line (its key) stays without one.
    srtp_policy mki_ok = policy(srtp_mode::optional);
    mki_ok.accept_mki = true;
    const step_result sent = offer_to_send("ext", mki_ok, no_options, "RTP/SAVP", true, "", {});
    const step_result got = answer_received("ext", mki_ok, "RTP/SAVP", {answer}, sent.state);
    ASSERT_TRUE(got.error.empty()) << got.error;
    EXPECT_EQ(got.state.from_peer->key.mki_len, 1);
    EXPECT_EQ(got.state.to_peer->key.mki_len, 0);
    const step_result no = answer_received("ext", policy(srtp_mode::optional), "RTP/SAVP", {answer}, sent.state);
    EXPECT_NE(no.error.find("MKI is not supported"), std::string::npos) << no.error;
}

TEST(protos, bridging) {
    EXPECT_EQ(bridged_proto("RTP/AVP", true), "RTP/SAVP");
    EXPECT_EQ(bridged_proto("RTP/AVPF", true), "RTP/SAVPF");
    EXPECT_EQ(bridged_proto("RTP/SAVP", false), "RTP/AVP");
    EXPECT_EQ(bridged_proto("RTP/SAVPF", false), "RTP/AVPF");
    EXPECT_TRUE(is_dtls_proto("UDP/TLS/RTP/SAVP"));
    EXPECT_FALSE(is_dtls_proto("RTP/SAVP"));
}

}  // namespace
}  // namespace rtprelay::sdes
