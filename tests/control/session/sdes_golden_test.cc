// SDES golden tests at the NG level (the harness: ng_golden.h): suites, policies, SDES
// flags, keys per leg, re-offers.

#include <gtest/gtest.h>

#include <set>

#include "tests/control/session/ng_golden.h"

namespace rtprelay {
namespace {

using namespace ng_golden;

class sdes_golden_test : public ng_golden_test {};

TEST_F(sdes_golden_test, golden_directory_holds_only_known_cases) {
    const std::set<std::string_view> known(std::begin(known_cases), std::end(known_cases));
    std::set<std::string> with_offer;
    for (const auto& e : fs::directory_iterator(golden_dir())) {
        const std::string name = e.path().filename().string();
        bool matched = false;
        for (std::string_view suffix : {".offer.in.sdp", ".offer.out.sdp", ".answer.in.sdp", ".answer.out.sdp"}) {
            if (name.ends_with(suffix) &&
                known.contains(std::string_view(name).substr(0, name.size() - suffix.size()))) {
                matched = true;
                if (suffix == ".offer.in.sdp") {
                    with_offer.insert(name.substr(0, name.size() - suffix.size()));
                }
            }
        }
        EXPECT_TRUE(matched) << name << " belongs to no case of this test";
    }
    EXPECT_EQ(with_offer.size(), known.size());
}

// A plain phone, a trunk that wants SRTP: transport-protocol RTP/SAVP makes the B leg
// SRTP with the default policy's single AES_CM_128_HMAC_SHA1_80 line; A stays plain.
TEST_F(sdes_golden_test, plain_to_savp) {
    const std::string kase = "plain_to_savp";
    const value o =
        golden_offer(kase, {{"direction", direction("a", "b")}, {"transport-protocol", value::str("RTP/SAVP")}});
    const auto offered = crypto_lines(sdp_of(o));
    ASSERT_EQ(offered.size(), 1u);
    EXPECT_EQ(offered[0].tag, "1");
    EXPECT_EQ(offered[0].suite_name, s80);
    EXPECT_EQ(lines_with(sdp_of(o), "m=").at(0), "audio 40000 RTP/SAVP 0 8 101");
    // Until B answers, B's keys are unknown: nothing is relayed yet.
    EXPECT_EQ(entry("198.18.1.1", 30000)->forward, dp::forward_no_key);

    const value a = golden_answer(kase);
    EXPECT_TRUE(crypto_lines(sdp_of(a)).empty());
    EXPECT_EQ(lines_with(sdp_of(a), "m=").at(0), "audio 30000 RTP/AVP 0 101");
    expect_query(kase, "a", "RTP/AVP", "b", "RTP/SAVP");
    EXPECT_EQ(flows_after_grace(), 4u);

    const dp::flow_entry* from_a = entry("198.18.1.1", 30000);
    const dp::flow_entry* from_b = entry("198.18.2.1", 40000);
    ASSERT_TRUE(from_a && from_b);
    EXPECT_EQ(from_a->forward, dp::forward_on);
    EXPECT_EQ(from_b->forward, dp::forward_on);
    EXPECT_EQ(from_a->srtp_in[0], nullptr);
    EXPECT_EQ(from_b->srtp_out[0], nullptr);
    expect_sends_with(from_a->srtp_out[0], offered[0]);
    expect_receives_with(from_b->srtp_in[0], crypto_lines(input(kase + ".answer.in.sdp")).at(0));
}

// The offerer lists _32 first: our answer to it takes _32 (the offerer's preference), tag 1.
// Towards B the default policy offers _80 only, with a key of its own.
TEST_F(sdes_golden_test, savp_32_first) {
    const std::string kase = "savp_32_first";
    const value o = golden_offer(kase, {{"direction", direction("a", "b")}});
    ASSERT_EQ(crypto_lines(sdp_of(o)).size(), 1u);
    EXPECT_EQ(crypto_lines(sdp_of(o))[0].suite_name, s80);

    const value a = golden_answer(kase);
    const auto answered = crypto_lines(sdp_of(a));
    ASSERT_EQ(answered.size(), 1u);
    EXPECT_EQ(answered[0].tag, "1");
    EXPECT_EQ(answered[0].suite_name, s32);
    EXPECT_NE(answered[0].key, crypto_lines(sdp_of(o))[0].key) << "each leg has its own key";
    expect_query(kase, "a", "RTP/SAVP", "b", "RTP/SAVP");

    const dp::flow_entry* from_a = entry("198.18.1.1", 30000);
    const dp::flow_entry* from_b = entry("198.18.2.1", 40000);
    ASSERT_TRUE(from_a && from_b);
    const auto a_lines = crypto_lines(input(kase + ".offer.in.sdp"));
    expect_receives_with(from_a->srtp_in[0], a_lines.at(0));  // A's _32 line
    expect_sends_with(from_a->srtp_out[0], crypto_lines(sdp_of(o)).at(0));
    expect_receives_with(from_b->srtp_in[0], crypto_lines(input(kase + ".answer.in.sdp")).at(0));
    expect_sends_with(from_b->srtp_out[0], answered[0]);
}

// Tag 1 carries an MKI: that line is not usable, tag 2 (_32) is taken instead.
TEST_F(sdes_golden_test, mki_line_dropped) {
    const std::string kase = "mki_line_dropped";
    const value o = golden_offer(kase, {{"direction", direction("a", "b")}});
    const value a = golden_answer(kase);
    const auto answered = crypto_lines(sdp_of(a));
    ASSERT_EQ(answered.size(), 1u);
    EXPECT_EQ(answered[0].tag, "2");
    EXPECT_EQ(answered[0].suite_name, s32);
    const dp::flow_entry* from_a = entry("198.18.1.1", 30000);
    ASSERT_NE(from_a, nullptr);
    expect_receives_with(from_a->srtp_in[0], crypto_lines(input(kase + ".offer.in.sdp")).at(1));
}

// A prefers AEAD_AES_256_GCM: answered with it (a 44-byte key of ours); B is offered the
// interface's default, AES_CM_128_HMAC_SHA1_80; each leg's contexts take its own suite.
TEST_F(sdes_golden_test, gcm_offer_is_answered_with_gcm) {
    const std::string kase = "gcm_256_first";
    const value o = golden_offer(kase, {{"direction", direction("a", "b")}});
    const value a = golden_answer(kase);
    const auto answered = crypto_lines(sdp_of(a));
    ASSERT_EQ(answered.size(), 1u);
    EXPECT_EQ(answered[0].tag, "1");
    EXPECT_EQ(answered[0].suite_name, "AEAD_AES_256_GCM");
    const dp::flow_entry* from_a = entry("198.18.1.1", 30000);
    const dp::flow_entry* from_b = entry("198.18.2.1", 40000);
    ASSERT_TRUE(from_a && from_b);
    expect_receives_with(from_a->srtp_in[0], crypto_lines(input(kase + ".offer.in.sdp")).at(0));
    expect_sends_with(from_a->srtp_out[0], crypto_lines(sdp_of(o)).at(0));
    expect_receives_with(from_b->srtp_in[0], crypto_lines(input(kase + ".answer.in.sdp")).at(0));
    expect_sends_with(from_b->srtp_out[0], answered[0]);
}

// offer-suites=AES_256_CM_HMAC_SHA1_32,AEAD_AES_128_GCM toward B, which answers the second.
TEST_F(sdes_golden_test, aes256_and_gcm_offered) {
    const std::string kase = "aes256_and_gcm_offered";
    const value o = golden_offer(kase, {{"direction", direction("a", "strong")}});
    const auto offered = crypto_lines(sdp_of(o));
    ASSERT_EQ(offered.size(), 2u);
    EXPECT_EQ(offered[0].suite_name, "AES_256_CM_HMAC_SHA1_32");
    EXPECT_EQ(offered[1].suite_name, "AEAD_AES_128_GCM");
    const value a = golden_answer(kase);
    const dp::flow_entry* from_a = entry("198.18.1.1", 30000);
    const dp::flow_entry* from_b = entry("198.18.9.1", 50000);
    ASSERT_TRUE(from_a && from_b);
    expect_sends_with(from_a->srtp_out[0], offered[1]);
    expect_receives_with(from_b->srtp_in[0], crypto_lines(input(kase + ".answer.in.sdp")).at(0));
    expect_sends_with(from_b->srtp_out[0], crypto_lines(sdp_of(a)).at(0));
}

// On an interface with mki=accept the MKI line is taken: A's packets must carry its MKI, and
// our answer carries one of the same length (1:4), which our packets to A carry.
TEST_F(sdes_golden_test, mki_accepted_where_the_interface_says) {
    const std::string kase = "mki_accepted";
    const value o = golden_offer(kase, {{"direction", direction("mki", "b")}});
    const value a = golden_answer(kase);
    const auto answered = crypto_lines(sdp_of(a));
    ASSERT_EQ(answered.size(), 1u);
    EXPECT_EQ(answered[0].tag, "1");
    EXPECT_EQ(answered[0].mki, "1:4");
    EXPECT_TRUE(crypto_lines(sdp_of(o)).at(0).mki.empty()) << "our offers carry no MKI";
    const dp::flow_entry* from_a = entry("198.18.8.1", 52000);
    const dp::flow_entry* from_b = entry("198.18.2.1", 40000);
    ASSERT_TRUE(from_a && from_b);
    const crypto_line a_line = crypto_lines(input(kase + ".offer.in.sdp")).at(0);
    ASSERT_EQ(a_line.mki, "1:4");
    expect_receives_with(from_a->srtp_in[0], a_line);
    expect_sends_with(from_b->srtp_out[0], answered[0]);
    // A packet from A without its MKI, or with another, is not taken.
    crypto_line no_mki = a_line;
    no_mki.mki.clear();
    auto peer =
        dp::srtp::make_context(dp::srtp::engine::native, suite_of(a_line.suite_name), master_key_of(no_mki), false);
    rtp_packet p = make_packet();
    ASSERT_EQ(dp::srtp::protect_rtp(*peer, p.buf.data(), &p.len, p.room()), dp::srtp::result::ok);
    EXPECT_NE(dp::srtp::unprotect_rtp(*from_a->srtp_in[0], p.buf.data(), &p.len), dp::srtp::result::ok);
    crypto_line other_mki = a_line;
    other_mki.mki = "2:4";
    peer =
        dp::srtp::make_context(dp::srtp::engine::native, suite_of(a_line.suite_name), master_key_of(other_mki), false);
    p = make_packet();
    ASSERT_EQ(dp::srtp::protect_rtp(*peer, p.buf.data(), &p.len, p.room()), dp::srtp::result::ok);
    EXPECT_EQ(dp::srtp::unprotect_rtp(*from_a->srtp_in[0], p.buf.data(), &p.len), dp::srtp::result::bad_mki);
}

TEST_F(sdes_golden_test, mki_only_is_refused) {
    const value o = offer("mki_only", {{"direction", direction("a", "b")}});
    expect_refused(o, {"MKI", "interface 'a'"});
}

TEST_F(sdes_golden_test, lifetime_above_2_48_is_refused) {
    const value o = offer("lifetime_2_49", {{"direction", direction("a", "b")}});
    expect_refused(o, {"lifetime", "2^49", "interface 'a'"});
}

TEST_F(sdes_golden_test, required_interface_refuses_a_plain_offer) {
    const value o = offer("required_plain_offer", {{"direction", direction("req", "b")}});
    expect_refused(o, {"SRTP required", "interface 'req'"});
}

// B's interface has srtp=off: B is offered plain RTP without a=crypto; A still gets SRTP.
TEST_F(sdes_golden_test, srtp_off_on_the_answerer_side) {
    const std::string kase = "srtp_off_b";
    const value o = golden_offer(kase, {{"direction", direction("a", "off")}});
    EXPECT_TRUE(crypto_lines(sdp_of(o)).empty());
    EXPECT_EQ(lines_with(sdp_of(o), "m=").at(0), "audio 44000 RTP/AVP 0 8 101");

    const value a = golden_answer(kase);
    ASSERT_EQ(crypto_lines(sdp_of(a)).size(), 1u);
    EXPECT_EQ(crypto_lines(sdp_of(a))[0].suite_name, s80);
    expect_query(kase, "a", "RTP/SAVP", "off", "RTP/AVP");
    const dp::flow_entry* from_a = entry("198.18.1.1", 30000);
    const dp::flow_entry* from_b = entry("198.18.4.1", 44000);
    ASSERT_TRUE(from_a && from_b);
    EXPECT_EQ(from_a->forward, dp::forward_on);
    EXPECT_EQ(from_a->srtp_out[0], nullptr);
    EXPECT_EQ(from_b->srtp_in[0], nullptr);
    expect_receives_with(from_a->srtp_in[0], crypto_lines(input(kase + ".offer.in.sdp")).at(0));
    expect_sends_with(from_b->srtp_out[0], crypto_lines(sdp_of(a)).at(0));
}

// offer-suites=_32,_80: two lines in that order; B answers the second (tag 2).
TEST_F(sdes_golden_test, interface_offer_suites_in_order) {
    const std::string kase = "offer_suites_two";
    const value o =
        golden_offer(kase, {{"direction", direction("a", "two")}, {"transport-protocol", value::str("RTP/SAVP")}});
    const auto offered = crypto_lines(sdp_of(o));
    ASSERT_EQ(offered.size(), 2u);
    EXPECT_EQ(offered[0].tag, "1");
    EXPECT_EQ(offered[0].suite_name, s32);
    EXPECT_EQ(offered[1].tag, "2");
    EXPECT_EQ(offered[1].suite_name, s80);
    EXPECT_NE(offered[0].key, offered[1].key);

    const value a = golden_answer(kase);
    const dp::flow_entry* from_a = entry("198.18.1.1", 30000);
    ASSERT_NE(from_a, nullptr);
    expect_sends_with(from_a->srtp_out[0], offered[1]);
}

// SDES-only-<suite> in "flags" narrows the interface's two suites to one.
TEST_F(sdes_golden_test, sdes_only_flag_narrows_our_offer) {
    const std::string kase = "sdes_only_32";
    const value o = golden_offer(kase, {{"direction", direction("a", "two")},
                                        {"transport-protocol", value::str("RTP/SAVP")},
                                        {"flags", strings({"SDES-only-AES_CM_128_HMAC_SHA1_32"})}});
    EXPECT_EQ(o.find("warning"), nullptr);
    const auto offered = crypto_lines(sdp_of(o));
    ASSERT_EQ(offered.size(), 1u);
    EXPECT_EQ(offered[0].tag, "1");
    EXPECT_EQ(offered[0].suite_name, s32);

    const value a = golden_answer(kase);
    const dp::flow_entry* from_a = entry("198.18.1.1", 30000);
    ASSERT_NE(from_a, nullptr);
    expect_sends_with(from_a->srtp_out[0], offered[0]);
}

// no-<suite> in the NG "SDES" list (Kamailio's other spelling) does the same.
TEST_F(sdes_golden_test, sdes_no_list_entry_narrows_our_offer) {
    const std::string kase = "sdes_no_80";
    const value o = golden_offer(kase, {{"direction", direction("a", "two")},
                                        {"transport-protocol", value::str("RTP/SAVP")},
                                        {"SDES", strings({"no-AES_CM_128_HMAC_SHA1_80"})}});
    const auto offered = crypto_lines(sdp_of(o));
    ASSERT_EQ(offered.size(), 1u);
    EXPECT_EQ(offered[0].suite_name, s32);
}

// The default policy offers _80 only: SDES-only-_32 leaves nothing, which is an error.
TEST_F(sdes_golden_test, sdes_only_flag_outside_the_policy_is_refused) {
    const value o = offer("sdes_only_32_default_policy", {{"direction", direction("a", "b")},
                                                          {"transport-protocol", value::str("RTP/SAVP")},
                                                          {"flags", strings({"SDES-only-AES_CM_128_HMAC_SHA1_32"})}});
    expect_refused(o, {"no SRTP suite left to offer", "interface 'b'"});
}

// We offer tag 1, B answers the same suite as tag 7 (rtpengine #2098): matched by suite.
// Our answer to A keeps A's tag.
TEST_F(sdes_golden_test, answerer_renumbering_the_tag_still_works) {
    const std::string kase = "answer_renumbered_tag";
    const value o = golden_offer(kase, {{"direction", direction("a", "b")}});
    ASSERT_EQ(crypto_lines(sdp_of(o)).at(0).tag, "1");
    const value a = golden_answer(kase);
    EXPECT_EQ(crypto_lines(sdp_of(a)).at(0).tag, "1");
    const dp::flow_entry* from_a = entry("198.18.1.1", 30000);
    const dp::flow_entry* from_b = entry("198.18.2.1", 40000);
    ASSERT_TRUE(from_a && from_b);
    EXPECT_EQ(from_b->forward, dp::forward_on);
    expect_receives_with(from_b->srtp_in[0], crypto_lines(input(kase + ".answer.in.sdp")).at(0));
    expect_sends_with(from_a->srtp_out[0], crypto_lines(sdp_of(o)).at(0));
}

// The same offer again (a retransmission, or a re-INVITE before the answer), and after the
// answer a re-INVITE with the to-tag and a repeated answer: every copy names the same keys,
// and the data plane keeps its contexts (ROC and replay state survive).
TEST_F(sdes_golden_test, reoffer_keeps_the_relays_keys) {
    const std::string kase = "reoffer_keeps_keys";
    const ng_keys keys = {{"direction", direction("a", "b")}};
    const value first = golden_offer(kase, keys);
    const value again = golden_offer(kase, keys);
    EXPECT_EQ(sdp_of(again), sdp_of(first)) << "unmasked: the same key";

    const value a = golden_answer(kase);
    const dp::flow_entry* from_a = entry("198.18.1.1", 30000);
    ASSERT_NE(from_a, nullptr);
    const dp::srtp::context* in_before = from_a->srtp_in[0];
    const dp::srtp::context* out_before = from_a->srtp_out[0];

    ng_keys with_to_tag = keys;
    with_to_tag.emplace_back("to-tag", value::str(to_tag));
    const value reinvite = golden_offer(kase, with_to_tag);
    EXPECT_EQ(sdp_of(reinvite), sdp_of(first));
    const value a2 = answer(kase);
    EXPECT_EQ(sdp_of(a2), sdp_of(a));

    from_a = entry("198.18.1.1", 30000);
    ASSERT_NE(from_a, nullptr);
    EXPECT_EQ(from_a->srtp_in[0], in_before);
    EXPECT_EQ(from_a->srtp_out[0], out_before);
    expect_receives_with(from_a->srtp_in[0], crypto_lines(input(kase + ".offer.in.sdp")).at(0));
    expect_sends_with(from_a->srtp_out[0], crypto_lines(sdp_of(first)).at(0));
    EXPECT_EQ(sessions_->size(), 1u);
    EXPECT_EQ(flows_after_grace(), 4u);
}

// B, offered SRTP on an optional interface, answers plain RTP/AVP: accepted, A keeps SRTP.
TEST_F(sdes_golden_test, plain_answer_on_an_optional_interface_is_accepted) {
    const std::string kase = "answer_plain_optional";
    const value o = golden_offer(kase, {{"direction", direction("a", "b")}});
    ASSERT_EQ(crypto_lines(sdp_of(o)).size(), 1u);
    const value a = golden_answer(kase);
    ASSERT_EQ(crypto_lines(sdp_of(a)).size(), 1u);
    EXPECT_EQ(lines_with(sdp_of(a), "m=").at(0), "audio 30000 RTP/SAVP 0 101");
    expect_query(kase, "a", "RTP/SAVP", "b", "RTP/AVP");
    const dp::flow_entry* from_a = entry("198.18.1.1", 30000);
    const dp::flow_entry* from_b = entry("198.18.2.1", 40000);
    ASSERT_TRUE(from_a && from_b);
    EXPECT_EQ(from_a->forward, dp::forward_on);
    EXPECT_EQ(from_b->forward, dp::forward_on);
    EXPECT_EQ(from_a->srtp_out[0], nullptr);
    EXPECT_EQ(from_b->srtp_in[0], nullptr);
    expect_receives_with(from_a->srtp_in[0], crypto_lines(input(kase + ".offer.in.sdp")).at(0));
    expect_sends_with(from_b->srtp_out[0], crypto_lines(sdp_of(a)).at(0));
}

// The same on a required interface: refused, naming the interface; nothing is relayed.
TEST_F(sdes_golden_test, plain_answer_on_a_required_interface_is_refused) {
    const std::string kase = "answer_plain_required";
    const value o = golden_offer(kase, {{"direction", direction("a", "req")}});
    ASSERT_EQ(crypto_lines(sdp_of(o)).size(), 1u);
    const value a = answer(kase);
    EXPECT_EQ(result_of(a), "error");
    EXPECT_NE(reason_of(a).find("SRTP required on interface 'req'"), std::string::npos) << reason_of(a);
    EXPECT_EQ(a.find("sdp"), nullptr);
    const dp::flow_entry* from_a = entry("198.18.1.1", 30000);
    ASSERT_NE(from_a, nullptr);
    EXPECT_EQ(from_a->forward, dp::forward_no_key);
}

// Audio SRTP plus a disabled (port 0) video line: the video line passes as it is.
TEST_F(sdes_golden_test, disabled_video_line_is_left_alone) {
    const std::string kase = "video_port0";
    const value o = golden_offer(kase, {{"direction", direction("a", "b")}});
    EXPECT_EQ(lines_with(sdp_of(o), "m=").at(1), "video 0 RTP/SAVP 96");
    EXPECT_EQ(crypto_lines(sdp_of(o)).size(), 1u);
    const value a = golden_answer(kase);
    EXPECT_EQ(lines_with(sdp_of(a), "m=").at(1), "video 0 RTP/SAVP 96");
    EXPECT_EQ(crypto_lines(sdp_of(a)).size(), 1u);
    EXPECT_EQ(interfaces_.find("a")->addresses.front().pool->used(), 1u);
    EXPECT_EQ(interfaces_.find("b")->addresses.front().pool->used(), 1u);
    EXPECT_EQ(flows_after_grace(), 4u);
}

// --- re-offers through Kamailio: each leg keeps its protocol ---------------------------
// Kamailio passes the trunk's SRTP policy (transport-protocol) only toward the side it is
// configured for; a re-INVITE from the other side comes without it. As in rtpengine, an
// offerer that keeps its m= proto leaves the other leg as negotiated.

std::string inline_sdp(const char* addr, uint16_t port, const char* proto, const std::string& crypto = "",
                       const char* dir = "sendrecv") {
    std::string s = std::string("v=0\r\no=- 7 2 IN IP4 ") + addr + "\r\ns=-\r\nc=IN IP4 " + addr + "\r\nt=0 0\r\n";
    s += "m=audio " + std::to_string(port) + " " + proto + " 0\r\na=rtpmap:0 PCMU/8000\r\n";
    if (!crypto.empty()) {
        s += "a=crypto:" + crypto + "\r\n";
    }
    return s + "a=" + dir + "\r\n";
}

const std::string key_a = "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFB";  // 30 bytes, base64
const std::string key_b = "QkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJC";

TEST_F(sdes_golden_test, reinvite_from_the_plain_side_keeps_the_srtp_leg) {
    const std::string kase = "reinvite_keeps_srtp_leg";
    const ng_keys to_carrier = {{"direction", direction("a", "b")}, {"transport-protocol", value::str("RTP/AVP")}};
    input_keys_.push_back(key_a);
    // The SRTP customer A calls the plain carrier B: B gets RTP/AVP, A's answer SAVP.
    const value o = handle(request(
        "offer", kase, inline_sdp("198.51.100.10", 4000, "RTP/SAVP", "1 " + std::string(s80) + " inline:" + key_a),
        to_carrier));
    ASSERT_EQ(result_of(o), "ok") << reason_of(o);
    EXPECT_EQ(lines_with(sdp_of(o), "m=").at(0), "audio 40000 RTP/AVP 0");
    value ar = request("answer", kase, inline_sdp("203.0.113.20", 5000, "RTP/AVP"), {});
    ar.set("to-tag", value::str(to_tag));
    const value a = handle(ar);
    ASSERT_EQ(result_of(a), "ok") << reason_of(a);
    const auto to_a = crypto_lines(sdp_of(a));
    ASSERT_EQ(to_a.size(), 1u);

    // B puts A on hold: B's offer, plain as before, without transport-protocol. A is
    // still offered SRTP, with the key it already has from us.
    value hold = request("offer", kase, inline_sdp("203.0.113.20", 5000, "RTP/AVP", "", "sendonly"),
                         {{"direction", direction("b", "a")}});
    hold.set("from-tag", value::str(to_tag));
    hold.set("to-tag", value::str(from_tag));
    const value h = handle(hold);
    ASSERT_EQ(result_of(h), "ok") << reason_of(h);
    EXPECT_EQ(lines_with(sdp_of(h), "m=").at(0), "audio 30000 RTP/SAVP 0");
    const auto reoffered = crypto_lines(sdp_of(h));
    ASSERT_EQ(reoffered.size(), 1u);
    EXPECT_EQ(reoffered[0].suite_name, s80);
    EXPECT_EQ(reoffered[0].key, to_a[0].key) << "A keeps the key it has";
    // A answers (recvonly) with its key: B gets plain RTP/AVP again.
    value ha = request("answer", kase,
                       inline_sdp("198.51.100.10", 4000, "RTP/SAVP",
                                  reoffered[0].tag + " " + std::string(s80) + " inline:" + key_a, "recvonly"),
                       {});
    ha.set("from-tag", value::str(to_tag));
    ha.set("to-tag", value::str(from_tag));
    const value hr = handle(ha);
    ASSERT_EQ(result_of(hr), "ok") << reason_of(hr);
    EXPECT_EQ(lines_with(sdp_of(hr), "m=").at(0), "audio 40000 RTP/AVP 0");
    EXPECT_TRUE(crypto_lines(sdp_of(hr)).empty());
    expect_query(kase, "a", "RTP/SAVP", "b", "RTP/AVP");
    const dp::flow_entry* from_a = entry("198.18.1.1", 30000);
    ASSERT_NE(from_a, nullptr);
    expect_receives_with(
        from_a->srtp_in[0],
        crypto_lines(inline_sdp("x", 1, "RTP/SAVP", "1 " + std::string(s80) + " inline:" + key_a)).at(0));
}

TEST_F(sdes_golden_test, reinvite_without_flags_keeps_each_legs_protocol) {
    const std::string kase = "reinvite_keeps_protocols";
    input_keys_.push_back(key_b);
    // A plain customer calls an SRTP carrier: Kamailio asks for RTP/SAVP toward B.
    const ng_keys to_carrier = {{"direction", direction("a", "b")}, {"transport-protocol", value::str("RTP/SAVP")}};
    const value o = handle(request("offer", kase, inline_sdp("198.51.100.10", 4000, "RTP/AVP"), to_carrier));
    ASSERT_EQ(result_of(o), "ok") << reason_of(o);
    const auto to_b = crypto_lines(sdp_of(o));
    ASSERT_EQ(to_b.size(), 1u);
    value ar = request(
        "answer", kase,
        inline_sdp("203.0.113.20", 5000, "RTP/SAVP", to_b[0].tag + " " + std::string(s80) + " inline:" + key_b), {});
    ar.set("to-tag", value::str(to_tag));
    ASSERT_EQ(result_of(handle(ar)), "ok");

    // A re-INVITEs, plain as before, and this time the request has no transport-protocol:
    // B still gets SRTP (no downgrade), with the same key.
    value re =
        request("offer", kase, inline_sdp("198.51.100.10", 4000, "RTP/AVP"), {{"direction", direction("a", "b")}});
    re.set("to-tag", value::str(to_tag));
    const value r = handle(re);
    ASSERT_EQ(result_of(r), "ok") << reason_of(r);
    EXPECT_EQ(lines_with(sdp_of(r), "m=").at(0), "audio 40000 RTP/SAVP 0");
    ASSERT_EQ(crypto_lines(sdp_of(r)).size(), 1u);
    EXPECT_EQ(crypto_lines(sdp_of(r))[0].key, to_b[0].key);
    ASSERT_EQ(result_of(handle(ar)), "ok");

    // B re-INVITEs, SAVP as before: A stays plain.
    value rb = request("offer", kase,
                       inline_sdp("203.0.113.20", 5000, "RTP/SAVP", "1 " + std::string(s80) + " inline:" + key_b),
                       {{"direction", direction("b", "a")}});
    rb.set("from-tag", value::str(to_tag));
    rb.set("to-tag", value::str(from_tag));
    const value b = handle(rb);
    ASSERT_EQ(result_of(b), "ok") << reason_of(b);
    EXPECT_EQ(lines_with(sdp_of(b), "m=").at(0), "audio 30000 RTP/AVP 0");
    EXPECT_TRUE(crypto_lines(sdp_of(b)).empty());
}

// rtpengine-ng-client --protocol and older modules write "transport protocol". Ignoring it
// would leave an SRTP->RTP bridge silently SRTP toward the plain side: every spelling must
// bridge.
TEST_F(sdes_golden_test, transport_protocol_in_every_spelling_bridges_srtp_to_rtp) {
    int n = 0;
    for (const char* spelling : {"transport-protocol", "transport protocol", "Transport Protocol"}) {
        SCOPED_TRACE(spelling);
        const std::string kase = "savp_32_first";
        value r = request("offer", kase + "-" + std::to_string(n++), input(kase + ".offer.in.sdp"),
                          {{"direction", direction("a", "b")}});
        r.set(spelling, value::str("RTP/AVP"));
        const value o = handle(r);
        ASSERT_EQ(result_of(o), "ok") << reason_of(o);
        EXPECT_EQ(o.find("warning"), nullptr);
        EXPECT_EQ(lines_with(sdp_of(o), "m=").at(0), "audio 40000 RTP/AVP 0 8 101") << sdp_of(o);
        EXPECT_TRUE(crypto_lines(sdp_of(o)).empty()) << "the plain side gets no a=crypto";
        value d = value::dict();
        d.set("command", value::str("delete"));
        d.set("call-id", r.find("call-id") ? *r.find("call-id") : value());
        ASSERT_EQ(result_of(handle(d)), "ok");
    }
}

}  // namespace
}  // namespace rtprelay
