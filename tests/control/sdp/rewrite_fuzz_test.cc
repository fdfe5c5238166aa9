// rewrite() properties over every golden input and thousands of random mutations of them:
// no crash, the output parses again, and no input address survives in o=, c= or a=rtcp.

#include <gtest/gtest.h>

#include <random>
#include <string>

#include "control/sdp/sdp.h"
#include "tests/control/sdp/golden.h"

namespace rtprelay::sdp {
namespace {

// Relays every stream to 192.0.2.1 with ICE removed, fresh crypto and a new origin.
rewrite_plan relay_everything(const session_description& sd) {
    rewrite_plan plan;
    plan.replace_origin = true;
    plan.origin_address = "192.0.2.1";
    for (size_t i = 0; i < sd.medias.size(); ++i) {
        media_plan mp;
        mp.address = "192.0.2.1";
        mp.port = static_cast<uint16_t>(40000 + 2 * i);
        mp.rtcp_port = static_cast<uint16_t>(40001 + 2 * i);
        mp.remove_ice = true;
        mp.replace_crypto = !sd.medias[i].crypto.empty();
        mp.crypto = {"1 AES_CM_128_HMAC_SHA1_80 inline:d0RmdmcmVCspeEc3QGZiNWpVLFJhQX1cfHAwJSoj"};
        plan.medias.push_back(mp);
    }
    return plan;
}

// The rewritten SDP parses again, carries the relay's ports, and no address of the input
// survives in o=, c= or a=rtcp except a hold address: nothing internal leaks.
void expect_relayed_everything(const std::string& in, const session_description& sd, const std::string& out) {
    std::string error;
    const auto again = parse(out, &error);
    ASSERT_TRUE(again) << error << "\n" << test::visible(in) << "--\n" << test::visible(out);
    ASSERT_EQ(again->medias.size(), sd.medias.size());
    EXPECT_EQ(again->origin_address, "192.0.2.1");
    bool any_relayed = false;
    for (const media& m : sd.medias) {
        any_relayed = any_relayed || m.port != 0;
    }
    if (any_relayed) {
        EXPECT_FALSE(again->has_ice);
    }
    for (size_t i = 0; i < sd.medias.size(); ++i) {
        const media& m = again->medias[i];
        if (sd.medias[i].port == 0) {
            EXPECT_EQ(m.port, 0);
            continue;
        }
        EXPECT_EQ(m.port, 40000 + 2 * i);
        EXPECT_FALSE(m.has_ice);
        const connection* c = effective_connection(*again, i);
        ASSERT_NE(c, nullptr);
        EXPECT_TRUE(c->address == "192.0.2.1" || is_hold_address(c->address)) << c->address;
        if (m.rtcp_conn) {
            EXPECT_TRUE(m.rtcp_conn->address == "192.0.2.1" || is_hold_address(m.rtcp_conn->address));
        }
    }
}

TEST(sdp_rewrite, every_golden_input_relays_cleanly) {
    for (const std::string& name : test::golden_cases()) {
        SCOPED_TRACE(name);
        const std::string in = test::read_golden(name + ".in.sdp");
        const auto sd = parse(in, nullptr);
        ASSERT_TRUE(sd);
        std::string error;
        const auto out = rewrite(in, *sd, relay_everything(*sd), &error);
        ASSERT_TRUE(out) << error;
        expect_relayed_everything(in, *sd, *out);
    }
}

TEST(sdp_rewrite, mutated_inputs_never_crash) {
    // Bytes that matter to the grammar, so mutations reach the interesting paths.
    const std::string alphabet = std::string("\0\r\n =:/0123456789maocv", 23);
    std::mt19937 rng(20240611);
    size_t accepted = 0;
    for (const std::string& name : test::golden_cases()) {
        const std::string original = test::read_golden(name + ".in.sdp");
        for (int round = 0; round < 2000; ++round) {
            std::string text = original;
            const int edits = 1 + static_cast<int>(rng() % 4);
            for (int e = 0; e < edits && !text.empty(); ++e) {
                const size_t at = rng() % text.size();
                switch (rng() % 4) {
                    case 0:
                        text.erase(at, 1 + rng() % 8);
                        break;
                    case 1:
                        text.insert(at, 1, alphabet[rng() % alphabet.size()]);
                        break;
                    case 2:
                        text[at] = alphabet[rng() % alphabet.size()];
                        break;
                    default:
                        text.resize(at);
                        break;
                }
            }
            const auto sd = parse(text, nullptr);
            if (!sd) {
                continue;
            }
            ++accepted;
            std::string error;
            const auto out = rewrite(text, *sd, relay_everything(*sd), &error);
            ASSERT_TRUE(out) << error << "\n" << test::visible(text);
            expect_relayed_everything(text, *sd, *out);
            if (HasFatalFailure() || HasNonfatalFailure()) {
                return;
            }
        }
    }
    EXPECT_GT(accepted, 1000U);  // the mutations must not all be rejected outright
}

}  // namespace
}  // namespace rtprelay::sdp
