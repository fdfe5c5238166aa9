// The burst path (batch.h) against the single-packet path and against libsrtp2. Bursts mix,
// on a dozen streams, good packets with forged, replayed (from an earlier burst and from the
// same burst), truncated and malformed ones, re-keyed (unprotect + protect), unprotect-only
// and protect-only items; every item must give the result, bytes, length and state of the
// one-by-one calls on twin contexts, and every packet it protects must authenticate and
// decrypt with libsrtp2. Run for each intel-ipsec-mb code path this CPU has and every
// suite, and with streams of different suites (so AES-128 and AES-256 counter jobs, HMAC and
// AES-GCM jobs share a burst) and MKIs.

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

#include "dataplane/srtp/batch.h"
#include "dataplane/srtp/srtp.h"
#include "tests/dataplane/srtp/test_util.h"

namespace rtprelay::dp::srtp {
namespace {

using test::bytes;

constexpr uint32_t n_streams = 12;
constexpr uint32_t n_bursts = 300;
constexpr uint32_t room = 64;  // bytes after each packet in its buffer

enum class role : uint8_t { rekey, unprotect_only, protect_only };

// One stream: an SRTP sender (libsrtp2) toward us, our receive/send contexts twice (burst
// path, reference), and a libsrtp2 receiver for what we send.
struct stream {
    role r;
    uint32_t ssrc;
    uint16_t seq;
    std::unique_ptr<context> sender;
    std::unique_ptr<context> in_batch, in_ref, out_batch, out_ref;
    std::unique_ptr<context> receiver;
    std::vector<bytes> sent;  // SRTP packets already offered (for replays)
};

struct offered {
    uint32_t stream;
    bytes plain;  // what a good packet decrypts to (empty when not a good packet)
    bytes wire;   // what arrives
};

// `in_s`/`out_s`: the suites of the leg toward us and of the leg we send on; `mki_len`: the
// MKI both keys carry (0: none).
std::unique_ptr<stream> make_stream(suite in_s, suite out_s, uint8_t mki_len, bool rtcp, role r, uint32_t ssrc,
                                    std::mt19937_64& rng) {
    auto st = std::make_unique<stream>();
    st->r = r;
    st->ssrc = ssrc;
    st->seq = static_cast<uint16_t>(65536 - 40 - rng() % 200);  // most wrap during the test
    master_key in_key = test::random_key(rng);
    master_key out_key = test::random_key(rng);
    in_key.mki_len = out_key.mki_len = mki_len;
    in_key.mki = {0x11, 0x22, 0x33, 0x44};
    out_key.mki = {0x55, 0x66, 0x77, 0x88};
    st->sender = make_context(engine::libsrtp2, in_s, in_key, rtcp);
    st->in_batch = make_context(engine::native, in_s, in_key, rtcp);
    st->in_ref = make_context(engine::native, in_s, in_key, rtcp);
    st->out_batch = make_context(engine::native, out_s, out_key, rtcp);
    st->out_ref = make_context(engine::native, out_s, out_key, rtcp);
    st->receiver = make_context(engine::libsrtp2, out_s, out_key, rtcp);
    return st;
}

// The next packet of a stream, plain and as it arrives (protected unless protect-only).
offered next_packet(stream& st, uint32_t index, bool rtcp, std::mt19937_64& rng) {
    offered o;
    o.stream = index;
    if (rtcp) {
        o.plain = test::make_rtcp(st.ssrc, 1 + rng() % 20, rng);
    } else {
        test::rtp_spec spec;
        spec.ssrc = st.ssrc;
        spec.seq = st.seq++;
        spec.ts = spec.seq * 160u;
        spec.payload_len = rng() % 8 == 0 ? rng() % 300 : 160;
        if (rng() % 10 == 0) {
            spec.csrcs = static_cast<uint8_t>(rng() % 4);
        }
        o.plain = test::make_rtp(spec, rng);
    }
    o.wire = o.plain;
    if (st.r != role::protect_only) {
        if (test::protect(*st.sender, o.wire) != result::ok) {
            throw std::logic_error("libsrtp2 sender failed");
        }
        st.sent.push_back(o.wire);
    }
    return o;
}

// A burst of up to 32 items, some of them bad. `runs`: the burst is runs of 1-10 packets of
// one stream (what grouping by stream sees), and in-burst replays repeat an earlier packet
// of the same run.
std::vector<offered> make_burst(std::vector<std::unique_ptr<stream>>& streams, bool rtcp, std::mt19937_64& rng,
                                bool runs = false) {
    std::vector<offered> burst;
    const uint32_t n = 1 + rng() % 32;
    uint32_t si = 0;
    uint32_t run_left = 0;
    size_t run_start = 0;
    for (uint32_t k = 0; k < n; ++k) {
        if (!runs || run_left == 0) {
            si = static_cast<uint32_t>(rng() % streams.size());
            run_left = 1 + static_cast<uint32_t>(rng() % 10);
            run_start = burst.size();
        }
        --run_left;
        stream& st = *streams[si];
        const uint32_t what = rng() % 16;
        if (what == 0 && !burst.empty()) {
            // Replay within the burst (within the run when grouping).
            const size_t from = runs && run_start < burst.size() ? run_start : 0;
            offered dup = burst[from + rng() % (burst.size() - from)];
            dup.plain.clear();
            burst.push_back(dup);
            continue;
        }
        if (what == 1 && st.r != role::protect_only && !st.sent.empty()) {
            offered old{si, {}, st.sent[rng() % st.sent.size()]};  // replay of an older packet
            burst.push_back(old);
            continue;
        }
        offered o = next_packet(st, si, rtcp, rng);
        if (what == 2 && st.r != role::protect_only) {
            o.wire[o.wire.size() - 1 - rng() % 4] ^= 0x01;  // forged tag
            o.plain.clear();
        } else if (what == 3 && st.r != role::protect_only && o.wire.size() > 20) {
            o.wire[12 + rng() % (o.wire.size() - 20)] ^= 0x80;  // forged payload
            o.plain.clear();
        } else if (what == 4) {
            o.wire.resize(rng() % 12);  // too short
            o.plain.clear();
        } else if (what == 5 && !o.wire.empty()) {
            o.wire[0] = static_cast<uint8_t>(o.wire[0] & 0x3f);  // version 0
            o.plain.clear();
        }
        burst.push_back(o);
    }
    return burst;
}

// A stream's suites: the same both ways (`mixed` false), or per stream from the table.
struct stream_suites {
    suite in, out;
    uint8_t mki_len;
};
stream_suites suites_of(uint32_t i, suite s, bool mixed) {
    if (!mixed) {
        return {s, s, 0};
    }
    return {all_suites[i % suite_count], all_suites[(i * 5 + 1) % suite_count], static_cast<uint8_t>(i % 3)};
}

void check_bursts(imb_arch arch, suite s, bool rtcp, bool runs, bool mixed);

using params = std::tuple<imb_arch, suite, bool>;

class batch : public ::testing::TestWithParam<params> {};

TEST_P(batch, matches_single_packet_path_and_libsrtp2) {
    const auto [arch, s, rtcp] = GetParam();
    check_bursts(arch, s, rtcp, false, false);
}

// Bursts made of runs of one stream, forged and replayed packets inside the runs: the burst
// path groups a stream's packets into successive batches, with the one-by-one results.
TEST_P(batch, grouped_runs_match_single_packet_path_and_libsrtp2) {
    const auto [arch, s, rtcp] = GetParam();
    check_bursts(arch, s, rtcp, true, false);
}

class batch_mixed : public ::testing::TestWithParam<std::tuple<imb_arch, bool>> {};

// Every suite and MKIs of 0-2 bytes in one burst, a stream re-keyed from one suite to another.
TEST_P(batch_mixed, suites_and_mkis_in_one_burst) {
    const auto [arch, rtcp] = GetParam();
    check_bursts(arch, suite::aes_cm_128_hmac_sha1_80, rtcp, false, true);
    check_bursts(arch, suite::aes_cm_128_hmac_sha1_80, rtcp, true, true);
}

void check_bursts(imb_arch arch, suite s, bool rtcp, bool runs, bool mixed) {
    std::unique_ptr<burst_crypto> bc;
    try {
        bc = std::make_unique<burst_crypto>(arch);
    } catch (const std::runtime_error& e) {
        GTEST_SKIP() << e.what();
    }
    ASSERT_EQ(bc->arch(), arch);
    bc->set_min_batch(1);
    std::mt19937_64 rng(77 + static_cast<uint64_t>(arch) * 10 + static_cast<uint64_t>(s) * 2 + (rtcp ? 1 : 0) +
                        (runs ? 1000 : 0) + (mixed ? 2000 : 0));
    std::vector<std::unique_ptr<stream>> streams;
    for (uint32_t i = 0; i < n_streams; ++i) {
        const role r = i % 3 == 0 ? role::rekey : i % 3 == 1 ? role::unprotect_only : role::protect_only;
        const stream_suites ss = suites_of(i, s, mixed);
        streams.push_back(make_stream(ss.in, ss.out, ss.mki_len, rtcp, r, 0x1000 + i, rng));
    }
    uint64_t good = 0, bad = 0, delivered = 0;
    for (uint32_t b = 0; b < n_bursts; ++b) {
        const std::vector<offered> burst = make_burst(streams, rtcp, rng, runs);
        const auto n = static_cast<uint32_t>(burst.size());
        std::vector<bytes> batch_buf(n), ref_buf(n);
        std::vector<batch_item> items(n), refs(n);
        for (uint32_t k = 0; k < n; ++k) {
            stream& st = *streams[burst[k].stream];
            for (auto* v : {&batch_buf[k], &ref_buf[k]}) {
                *v = burst[k].wire;
                v->resize(burst[k].wire.size() + room);
            }
            const bool in = st.r != role::protect_only;
            const bool out = st.r != role::unprotect_only;
            items[k].in = in ? st.in_batch.get() : nullptr;
            items[k].out = out ? st.out_batch.get() : nullptr;
            refs[k].in = in ? st.in_ref.get() : nullptr;
            refs[k].out = out ? st.out_ref.get() : nullptr;
            for (auto [it, buf] : {std::pair{&items[k], &batch_buf[k]}, std::pair{&refs[k], &ref_buf[k]}}) {
                it->pkt = buf->data();
                it->len = static_cast<uint32_t>(burst[k].wire.size());
                it->room = room;
                it->rtcp = rtcp;
            }
        }
        bc->run(items.data(), n);
        for (uint32_t k = 0; k < n; ++k) {
            run_item(refs[k]);
        }
        for (uint32_t k = 0; k < n; ++k) {
            SCOPED_TRACE("burst " + std::to_string(b) + " item " + std::to_string(k));
            ASSERT_EQ(result_name(items[k].res), std::string(result_name(refs[k].res)));
            ASSERT_EQ(items[k].unprotected, refs[k].unprotected);
            ASSERT_EQ(items[k].len, refs[k].len);
            if (items[k].res == result::ok || items[k].unprotected) {
                // Past the new length the two paths leave different scratch (ROC, old tag).
                ASSERT_TRUE(std::equal(batch_buf[k].begin(), batch_buf[k].begin() + items[k].len, ref_buf[k].begin()));
            } else {
                ASSERT_EQ(batch_buf[k], ref_buf[k]);  // a failed packet is left as it came
            }
            stream& st = *streams[burst[k].stream];
            if (items[k].res != result::ok) {
                ++bad;
                ASSERT_TRUE(burst[k].plain.empty()) << "a good packet failed: " << result_name(items[k].res);
                continue;
            }
            ++good;
            if (burst[k].plain.empty()) {
                continue;  // an older packet never received before: fresh, so accepted by both
            }
            bytes got(batch_buf[k].begin(), batch_buf[k].begin() + items[k].len);
            if (st.r == role::unprotect_only) {
                ASSERT_EQ(got, burst[k].plain);
                continue;
            }
            ASSERT_EQ(test::unprotect(*st.receiver, got), result::ok);
            ASSERT_EQ(got, burst[k].plain);
            ++delivered;
        }
        for (const auto& st : streams) {
            EXPECT_EQ(st->in_batch->highest_index(st->ssrc), st->in_ref->highest_index(st->ssrc));
            EXPECT_EQ(st->out_batch->highest_index(st->ssrc), st->out_ref->highest_index(st->ssrc));
        }
    }
    EXPECT_GT(good, n_bursts * 5);
    EXPECT_GT(bad, n_bursts / 2);
    EXPECT_GT(delivered, n_bursts * 3);
}

std::string name(const ::testing::TestParamInfo<params>& info) {
    const auto [arch, s, rtcp] = info.param;
    return std::string(imb_arch_name(arch)) + "_" + srtp::info(s).name + (rtcp ? "_rtcp" : "_rtp");
}

INSTANTIATE_TEST_SUITE_P(srtp, batch,
                         ::testing::Combine(::testing::Values(imb_arch::sse, imb_arch::avx, imb_arch::avx2,
                                                              imb_arch::avx512),
                                            ::testing::ValuesIn(all_suites), ::testing::Bool()),
                         name);

INSTANTIATE_TEST_SUITE_P(srtp, batch_mixed,
                         ::testing::Combine(::testing::Values(imb_arch::sse, imb_arch::avx, imb_arch::avx2,
                                                              imb_arch::avx512),
                                            ::testing::Bool()),
                         [](const auto& info) {
                             return std::string(imb_arch_name(std::get<0>(info.param))) +
                                    (std::get<1>(info.param) ? "_rtcp" : "_rtp");
                         });

// Contexts the burst path cannot take (libsrtp2 engine, OpenSSL AES) go one by one, in order,
// between batched ones, with the same results.
TEST(batch_fallback, mixed_engines_in_one_burst) {
    std::mt19937_64 rng(5);
    burst_crypto bc;
    bc.set_min_batch(1);
    const master_key k1 = test::random_key(rng), k2 = test::random_key(rng), k3 = test::random_key(rng);
    auto tx1 = make_context(engine::native, suite::aes_cm_128_hmac_sha1_80, k1, false);
    auto tx2 = make_context(engine::native, suite::aes_cm_128_hmac_sha1_80, k2, false);
    auto tx3 = make_context(engine::native, suite::aes_cm_128_hmac_sha1_80, k3, false);
    auto rx1 = make_context(engine::native, suite::aes_cm_128_hmac_sha1_80, k1, false);
    auto rx2 = make_context(engine::libsrtp2, suite::aes_cm_128_hmac_sha1_80, k2, false);
    auto rx3 = make_context(engine::native, suite::aes_cm_128_hmac_sha1_80, k3, false, aes_impl::openssl);
    context* tx[3] = {tx1.get(), tx2.get(), tx3.get()};
    context* rx[3] = {rx1.get(), rx2.get(), rx3.get()};
    for (uint16_t round = 0; round < 20; ++round) {
        std::vector<bytes> plain(6), buf(6);
        std::vector<batch_item> items(6);
        for (uint32_t k = 0; k < 6; ++k) {
            test::rtp_spec spec;
            spec.ssrc = 7;
            spec.seq = static_cast<uint16_t>(round * 2 + k / 3);
            plain[k] = test::make_rtp(spec, rng);
            buf[k] = plain[k];
            ASSERT_EQ(test::protect(*tx[k % 3], buf[k]), result::ok);
            items[k].in = rx[k % 3];
            items[k].pkt = buf[k].data();
            items[k].len = static_cast<uint32_t>(buf[k].size());
        }
        bc.run(items.data(), 6);
        for (uint32_t k = 0; k < 6; ++k) {
            ASSERT_EQ(items[k].res, result::ok) << "round " << round << " item " << k;
            ASSERT_EQ(bytes(buf[k].begin(), buf[k].begin() + items[k].len), plain[k]);
        }
    }
}

}  // namespace
}  // namespace rtprelay::dp::srtp
