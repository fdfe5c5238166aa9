// rtcp-mux golden tests at the NG level (the harness: ng_golden.h): rtpengine's rtcp-mux
// options (offer, demux, accept, reject, require) on an offer from A (interface a, port
// 30000) to B (interface b, port 40000), and B's answer. What each SDP says of a=rtcp-mux is
// in the golden files; that the data plane multiplexes exactly where the SDPs agreed is
// checked on the flow entries (flow_rtcp_mux: RTCP accepted on the RTP port, and RTCP to
// that leg sent to its RTP port).

#include <gtest/gtest.h>

#include "tests/control/session/ng_golden.h"

namespace rtprelay {
namespace {

using namespace ng_golden;

class rtcp_mux_golden_test : public ng_golden_test {
 protected:
    // Offer and answer of `kase` with `options` as the NG rtcp-mux list; both replies golden.
    void run(const std::string& kase, std::initializer_list<const char*> options) {
        ng_keys keys = {{"direction", direction("a", "b")}};
        if (options.size() > 0) {
            keys.emplace_back("rtcp-mux", strings(options));
        }
        const value o = golden_offer(kase, keys);
        EXPECT_EQ(o.find("warning"), nullptr);
        const value a = golden_answer(kase);
        offer_sdp = sdp_of(o);
        answer_sdp = sdp_of(a);
    }
    bool muxed(const char* addr, uint16_t port) {
        const dp::flow_entry* e = entry(addr, port);
        return e != nullptr && (e->flags & dp::flow_rtcp_mux) != 0;
    }
    bool a_muxed() { return muxed("198.18.1.1", 30000); }
    bool b_muxed() { return muxed("198.18.2.1", 40000); }
    static bool says_mux(const std::string& sdp) { return !lines_with(sdp, "a=rtcp-mux").empty(); }

    std::string offer_sdp;
    std::string answer_sdp;
};

// No option: B is offered what A offered, A gets what B answered.
TEST_F(rtcp_mux_golden_test, default_goes_along_with_both_sides) {
    run("rtcp_mux_default", {});
    EXPECT_TRUE(says_mux(offer_sdp));
    EXPECT_TRUE(says_mux(answer_sdp));
    EXPECT_TRUE(a_muxed());
    EXPECT_TRUE(b_muxed());
}

// RFC 5761 5.1.1: an answer may carry a=rtcp-mux only if the offer did. B takes the
// multiplexing the relay offered it (`offer`); A, which never offered it, is not told.
TEST_F(rtcp_mux_golden_test, an_answers_mux_reaches_only_an_offerer_that_offered_it) {
    run("rtcp_mux_unoffered", {"offer"});
    EXPECT_TRUE(says_mux(offer_sdp)) << "offer: rtcp-mux offered to B anyway";
    EXPECT_FALSE(says_mux(answer_sdp)) << "A did not offer rtcp-mux: its answer must not have it";
    EXPECT_FALSE(a_muxed());
    EXPECT_TRUE(b_muxed());
}

// demux: B is not offered multiplexing, A gets it accepted anyway.
TEST_F(rtcp_mux_golden_test, demux_keeps_it_from_the_answerer_and_accepts_it_from_the_offerer) {
    run("rtcp_mux_demux", {"demux"});
    EXPECT_FALSE(says_mux(offer_sdp));
    EXPECT_TRUE(says_mux(answer_sdp));
    EXPECT_TRUE(a_muxed());
    EXPECT_FALSE(b_muxed());
}

// reject: A's offer of multiplexing is refused whatever B does (B took it here).
TEST_F(rtcp_mux_golden_test, reject_refuses_it_to_the_offerer) {
    run("rtcp_mux_reject", {"reject"});
    EXPECT_TRUE(says_mux(offer_sdp));
    EXPECT_FALSE(says_mux(answer_sdp));
    EXPECT_FALSE(a_muxed());
    EXPECT_TRUE(b_muxed());
}

// accept: A's multiplexing is accepted although B answered without it.
TEST_F(rtcp_mux_golden_test, accept_takes_it_from_the_offerer_whatever_the_answerer_says) {
    run("rtcp_mux_accept", {"accept"});
    EXPECT_TRUE(says_mux(offer_sdp));
    EXPECT_TRUE(says_mux(answer_sdp));
    EXPECT_TRUE(a_muxed());
    EXPECT_FALSE(b_muxed());
}

// require (for WebRTC peers): B is offered multiplexing with no separate RTCP port (a=rtcp
// names the RTP port) and is multiplexed even though its answer did not say so; A, which
// did not offer it, is not.
TEST_F(rtcp_mux_golden_test, require_multiplexes_the_answerer_from_the_offer_on) {
    run("rtcp_mux_require", {"require"});
    EXPECT_TRUE(says_mux(offer_sdp));
    EXPECT_EQ(lines_with(offer_sdp, "a=rtcp:"), std::vector<std::string>{"40000"});
    EXPECT_FALSE(says_mux(answer_sdp));
    EXPECT_FALSE(a_muxed());
    EXPECT_TRUE(b_muxed());
}

// The options in rtpengine's other spellings: a "rtcp mux" key, and "rtcp-mux-<option>" flags.
TEST_F(rtcp_mux_golden_test, options_in_every_spelling) {
    const std::string kase = "rtcp_mux_demux";
    value r = request("offer", kase, input(kase + ".offer.in.sdp"), {{"direction", direction("a", "b")}});
    r.set("flags", strings({"RTCP-mux-demux"}));
    value o = handle(r);
    expect_golden(kase + ".offer.out.sdp", o);
    EXPECT_EQ(o.find("warning"), nullptr);
    value a = answer(kase);
    expect_golden(kase + ".answer.out.sdp", a);

    const std::string k2 = "rtcp_mux_reject";
    value r2 = request("offer", k2, input(k2 + ".offer.in.sdp"), {{"direction", direction("a", "b")}});
    value d = value::dict();
    d.set("command", value::str("delete"));
    d.set("call-id", value::str(kase));
    ASSERT_EQ(result_of(handle(d)), "ok");
    r2.set("rtcp mux", strings({"Reject", "sideways"}));
    o = handle(r2);
    expect_golden(k2 + ".offer.out.sdp", o);
    EXPECT_EQ(o.find_string("warning"),
              "rtcp-mux 'sideways' is not an option (offer, demux, accept, reject, require): ignored");
    a = answer(k2);
    expect_golden(k2 + ".answer.out.sdp", a);
}

}  // namespace
}  // namespace rtprelay
