// SDES per stream at the NG level (the harness: ng_golden.h). An m= line whose a=crypto
// lines are all unusable is answered with port 0 for that line alone and the other lines go
// on (RFC 3264 6, RFC 4568 5.1.2); the request fails only when no line is left. The reply's
// warning (or error-reason) names the line and why.

#include <gtest/gtest.h>

#include "tests/control/session/ng_golden.h"

namespace rtprelay {
namespace {

using namespace ng_golden;

class sdes_stream_golden_test : public ng_golden_test {
 protected:
    static std::vector<uint16_t> media_ports(const std::string& sdp) {
        std::vector<uint16_t> out;
        for (const std::string& m : lines_with(sdp, "m=")) {
            const size_t sp = m.find(' ');
            out.push_back(static_cast<uint16_t>(std::stoi(m.substr(sp + 1))));
        }
        return out;
    }
    std::string warning_of(const value& v) { return std::string(v.find_string("warning").value_or("")); }
};

// Audio has a good line; video has only an MKI line and one with KDR. B is offered audio
// (SRTP, our key) and video with port 0 and nothing of A's (no key, no RTCP port, no
// candidate, no rtcp-mux); A's answer keeps video at port 0 even though B (wrongly) answered
// a port for it.
TEST_F(sdes_stream_golden_test, a_stream_without_a_usable_line_is_refused_alone) {
    const std::string kase = "sdes_stream_refused";
    const value o = golden_offer(kase, {{"direction", direction("a", "b")}});
    EXPECT_EQ(media_ports(sdp_of(o)), (std::vector<uint16_t>{40000, 0}));
    const std::string w = warning_of(o);
    EXPECT_NE(w.find("m= line 2 (video): RTP/SAVP offer on interface 'a' has no acceptable a=crypto line: "
                     "a=crypto tag 1: MKI is not supported; a=crypto tag 2: session parameter KDR=1 is not supported"),
              std::string::npos)
        << w;
    EXPECT_NE(w.find("(answered with port 0)"), std::string::npos) << w;
    EXPECT_EQ(w.find("m= line 1"), std::string::npos) << w;
    ASSERT_EQ(crypto_lines(sdp_of(o)).size(), 1u) << "audio only";
    EXPECT_TRUE(lines_with(sdp_of(o), "a=candidate").empty());
    EXPECT_EQ(lines_with(sdp_of(o), "c=IN IP4 198.51.100.11").size(), 0u) << "A's video address does not leak";
    // Only audio holds ports: one pair each side.
    EXPECT_EQ(interfaces_.find("a")->addresses.front().pool->used(), 1u);
    EXPECT_EQ(interfaces_.find("b")->addresses.front().pool->used(), 1u);

    const value a = golden_answer(kase);
    EXPECT_EQ(media_ports(sdp_of(a)), (std::vector<uint16_t>{30000, 0}));
    EXPECT_EQ(sessions_->totals().streams_refused, 1u);

    // Audio is relayed with the keys the SDPs name.
    const dp::flow_entry* from_a = entry("198.18.1.1", 30000);
    const dp::flow_entry* from_b = entry("198.18.2.1", 40000);
    ASSERT_TRUE(from_a && from_b);
    EXPECT_EQ(from_a->forward, dp::forward_on);
    expect_receives_with(from_a->srtp_in[0], crypto_lines(input(kase + ".offer.in.sdp")).at(0));
    expect_sends_with(from_a->srtp_out[0], crypto_lines(sdp_of(o)).at(0));  // toward B
    expect_receives_with(from_b->srtp_in[0], crypto_lines(input(kase + ".answer.in.sdp")).at(0));
    expect_sends_with(from_b->srtp_out[0], crypto_lines(sdp_of(a)).at(0));  // toward A
    EXPECT_EQ(flows_after_grace(), 4u) << "audio RTP and RTCP, both ways; nothing for video";
}

// Every line unusable: nothing is left to relay, so the offer fails, naming each line.
TEST_F(sdes_stream_golden_test, the_call_fails_only_when_no_stream_is_left) {
    const value o = offer("sdes_all_streams_refused", {{"direction", direction("a", "b")}});
    expect_refused(o, {"m= line 1 (audio): RTP/SAVP offer on interface 'a' has no acceptable a=crypto line: "
                       "a=crypto tag 1: MKI is not supported",
                       "; m= line 2 (video): ", "KDR=1"});
    EXPECT_EQ(sessions_->totals().refused_policy, 1u);
}

// The answer's video line matches nothing we offered (_32 answered to an _80-only offer):
// A gets video at port 0 and audio as answered; nothing is forwarded on video's ports.
TEST_F(sdes_stream_golden_test, an_answer_stream_that_matches_no_offered_line_is_refused_alone) {
    const std::string kase = "sdes_answer_stream_refused";
    const value o = golden_offer(kase, {{"direction", direction("a2", "b2")}});
    EXPECT_EQ(o.find("warning"), nullptr);
    const auto b_ports = media_ports(sdp_of(o));
    ASSERT_EQ(b_ports.size(), 2u);
    const value a = golden_answer(kase);
    const auto a_ports = media_ports(sdp_of(a));
    ASSERT_EQ(a_ports.size(), 2u);
    EXPECT_NE(a_ports[0], 0);
    EXPECT_EQ(a_ports[1], 0);
    EXPECT_NE(warning_of(a).find("m= line 2 (video): answer on interface 'b2' has no a=crypto line matching our offer: "
                                 "a=crypto tag 1: AES_CM_128_HMAC_SHA1_32 was not offered"),
              std::string::npos)
        << warning_of(a);
    ASSERT_EQ(crypto_lines(sdp_of(a)).size(), 1u) << "a key for audio only";
    const dp::flow_entry* audio = entry("198.18.6.1", a_ports[0]);
    ASSERT_NE(audio, nullptr);
    EXPECT_EQ(audio->forward, dp::forward_on);
    // Video's ports (taken by the offer) forward nothing.
    const dp::flow_entry* video_b = entry("198.18.7.1", b_ports[1]);
    ASSERT_NE(video_b, nullptr);
    EXPECT_EQ(video_b->forward, dp::forward_off);
}

// FEC_ORDER=FEC_SRTP is RFC 4568's default order: a line with it is usable.
TEST_F(sdes_stream_golden_test, fec_order_fec_srtp_is_accepted) {
    const std::string kase = "fec_order_default";
    const value o = golden_offer(kase, {{"direction", direction("a", "b")}});
    EXPECT_EQ(o.find("warning"), nullptr);
    const dp::flow_entry* from_a = entry("198.18.1.1", 30000);
    ASSERT_NE(from_a, nullptr);
    expect_receives_with(from_a->srtp_in[0], crypto_lines(input(kase + ".offer.in.sdp")).at(0));
}

}  // namespace
}  // namespace rtprelay
