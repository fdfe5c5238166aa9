// context::indices and context::seed: what a group's call record reads from a context, and
// how a context made again on another node goes on from there (control/ha/srtp_progress.h).
// Every suite, with and without an MKI: a group adopts calls of any suite.

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <tuple>

#include "dataplane/srtp/srtp.h"
#include "tests/dataplane/srtp/test_util.h"

namespace rtprelay::dp::srtp {
namespace {

using test::bytes;

constexpr uint32_t ssrc = 0x11223344;

bytes rtp(uint16_t seq, std::mt19937_64& rng) {
    return test::make_rtp({.seq = seq, .ts = seq * 160u, .ssrc = ssrc}, rng);
}

// The E/index word: before the MKI and tag with AES-CM (RFC 3711 3.4), after the tag and
// before the MKI with AES-GCM (RFC 7714 9).
uint32_t srtcp_index(const context& c, const bytes& protected_rtcp) {
    const size_t at = protected_rtcp.size() - c.mki_len() - 4 - (c.kind() == transform::aes_gcm ? 0 : c.tag_len());
    return (uint32_t{protected_rtcp[at]} << 24 | uint32_t{protected_rtcp[at + 1]} << 16 |
            uint32_t{protected_rtcp[at + 2]} << 8 | protected_rtcp[at + 3]) &
           0x7fffffffu;
}

class seed_test : public ::testing::TestWithParam<std::tuple<suite, uint8_t>> {
 protected:
    void SetUp() override {
        key.mki_len = std::get<1>(GetParam());
        key.mki = {0x0a, 0x0b, 0x0c, 0x0d};
    }
    std::mt19937_64 rng{7};
    master_key key = test::random_key(rng);
    std::unique_ptr<context> make(bool rtcp) {
        return make_context(engine::native, std::get<0>(GetParam()), key, rtcp);
    }
};

TEST_P(seed_test, indices_report_every_ssrc_and_its_highest_index) {
    auto out = make(false);
    context::ssrc_index got[max_ssrcs];
    EXPECT_EQ(out->indices(got, max_ssrcs), 0u);
    for (uint16_t seq : {100, 101, 103}) {
        bytes p = rtp(seq, rng);
        ASSERT_EQ(test::protect(*out, p), result::ok);
    }
    bytes other = test::make_rtp({.seq = 7, .ts = 0, .ssrc = 0x55}, rng);
    ASSERT_EQ(test::protect(*out, other), result::ok);
    ASSERT_EQ(out->indices(got, max_ssrcs), 2u);
    EXPECT_EQ(got[0].ssrc, ssrc);
    EXPECT_EQ(got[0].index, 103u);
    EXPECT_EQ(got[1].ssrc, 0x55u);
    EXPECT_EQ(got[1].index, 7u);
    EXPECT_EQ(out->indices(got, 1), 1u) << "never more than asked for";
}

// A stream past its third wrap (ROC 3): a context made from the key alone computes ROC 0 and
// fails every packet; one seeded with the last index goes on, and refuses what came before.
TEST_P(seed_test, a_seeded_receiver_takes_the_streams_roc_and_refuses_what_came_before) {
    auto sender = make(false);
    ASSERT_TRUE(sender->seed(ssrc, (uint64_t{3} << 16) | 100));
    bytes old_pkt = rtp(90, rng);  // a packet the sender sent under ROC 3 earlier (index 3:90)
    auto sender_copy = make(false);
    ASSERT_TRUE(sender_copy->seed(ssrc, (uint64_t{3} << 16) | 89));
    ASSERT_EQ(test::protect(*sender_copy, old_pkt), result::ok);
    bytes next = rtp(101, rng);
    ASSERT_EQ(test::protect(*sender, next), result::ok);

    auto fresh = make(false);
    bytes copy = next;
    EXPECT_EQ(test::unprotect(*fresh, copy), result::auth_failed) << "ROC 0 is wrong for this stream";

    auto seeded = make(false);
    ASSERT_TRUE(seeded->seed(ssrc, (uint64_t{3} << 16) | 100));
    EXPECT_EQ(test::unprotect(*seeded, next), result::ok);
    EXPECT_EQ(seeded->highest_index(ssrc), (uint64_t{3} << 16) | 101);
    EXPECT_EQ(test::unprotect(*seeded, old_pkt), result::replay) << "at or below the seed: refused";
}

// The same on the sending side: a seeded sender continues at ROC 3, across the next wrap too,
// and never protects an index at or below its seed again.
TEST_P(seed_test, a_seeded_sender_continues_the_roc_and_never_reuses_an_index) {
    auto sender = make(false);
    ASSERT_TRUE(sender->seed(ssrc, (uint64_t{3} << 16) | 0xfff0));
    auto receiver = make(false);
    ASSERT_TRUE(receiver->seed(ssrc, (uint64_t{3} << 16) | 0xfff0));
    for (uint32_t s = 0xfff1; s <= 0x10005; ++s) {
        bytes p = rtp(static_cast<uint16_t>(s), rng);
        ASSERT_EQ(test::protect(*sender, p), result::ok) << s;
        ASSERT_EQ(test::unprotect(*receiver, p), result::ok) << s;
    }
    EXPECT_EQ(sender->highest_index(ssrc), (uint64_t{4} << 16) | 5) << "ROC 4 after the wrap";
    bytes again = rtp(0xfff0, rng);
    EXPECT_EQ(test::protect(*sender, again), result::index_reuse);
}

// SRTCP indices are the sender's own: a seeded sender starts above the seed.
TEST_P(seed_test, a_seeded_srtcp_sender_starts_above_the_reservation) {
    auto sender = make(true);
    ASSERT_TRUE(sender->seed(ssrc, 73));
    bytes r = test::make_rtcp(ssrc, 6, rng);
    ASSERT_EQ(test::protect(*sender, r), result::ok);
    EXPECT_EQ(srtcp_index(*sender, r), 74u);
    auto receiver = make(true);
    EXPECT_EQ(test::unprotect(*receiver, r), result::ok) << "the receiver takes any fresh SRTCP index";
}

TEST_P(seed_test, seed_refuses_a_held_ssrc_a_full_context_and_libsrtp2) {
    auto c = make(false);
    ASSERT_TRUE(c->seed(ssrc, 5));
    EXPECT_FALSE(c->seed(ssrc, 9)) << "an SSRC it holds already";
    for (uint32_t k = 1; k < max_ssrcs; ++k) {
        EXPECT_TRUE(c->seed(ssrc + k, k));
    }
    EXPECT_FALSE(c->seed(0x99999999, 1)) << "max_ssrcs held";
    EXPECT_EQ(c->ssrc_count(), max_ssrcs);
    auto lib = make_context(engine::libsrtp2, std::get<0>(GetParam()), key, false);
    EXPECT_FALSE(lib->seed(ssrc, 5));
    context::ssrc_index got[max_ssrcs];
    EXPECT_EQ(lib->indices(got, max_ssrcs), 0u);
}

INSTANTIATE_TEST_SUITE_P(srtp, seed_test,
                         ::testing::Combine(::testing::ValuesIn(all_suites), ::testing::Values(uint8_t{0}, uint8_t{2})),
                         [](const auto& info) {
                             return std::string(srtp::info(std::get<0>(info.param)).name) +
                                    (std::get<1>(info.param) != 0 ? "_mki" : "");
                         });

}  // namespace
}  // namespace rtprelay::dp::srtp
