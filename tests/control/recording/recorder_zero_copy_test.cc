// Zero-copy records (dataplane/record_ring.h: record_ref, record_ref6) through the real
// recorder: the same packets recorded once as copies and once as references to mbufs give
// the same pcap and WAV files byte for byte, and every lent mbuf goes back to its pool, read
// or not (EAL and a real mbuf pool: serial).

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include <cmath>
#include <string>
#include <vector>

#include "control/recording/recorder.h"
#include "dataplane/record_ring.h"
#include "tests/control/recording/temp_files.h"

namespace rtprelay::recording {
namespace {

constexpr int64_t t0_ns = 1'700'000'000'000'000'000;
constexpr uint32_t lent_max = 64;

// One packet a leg sent: what the worker would record of it.
struct sent_packet {
    uint8_t channel;
    bool rtcp;
    bool v6;
    int64_t ms;  // after t0
    std::vector<uint8_t> bytes;
};

// A G.711 call over both families, RTCP, a packet longer than a record keeps, a burst:
// everything the recorder treats differently.
std::vector<sent_packet> a_call() {
    std::vector<sent_packet> out;
    for (uint16_t k = 0; k < 150; ++k) {
        for (uint8_t ch = 0; ch < 2; ++ch) {
            std::vector<uint8_t> p(12 + 160);
            p[0] = 0x80;
            p[1] = ch == 0 ? 0 : 8;  // PCMU on leg 1, PCMA on leg 2
            p[2] = static_cast<uint8_t>(k >> 8);
            p[3] = static_cast<uint8_t>(k);
            p[11] = static_cast<uint8_t>(0x40 + ch);
            for (int i = 0; i < 160; ++i) {
                p[12 + static_cast<size_t>(i)] =
                    static_cast<uint8_t>(128 + 100 * std::sin((k * 160 + i) * (ch == 0 ? 0.3 : 0.7)));
            }
            out.push_back({ch, false, ch == 1, 20 * k + ch, std::move(p)});
        }
    }
    out.push_back({0, true, false, 3001, {0x80, 200, 0, 6, 0, 0, 0, 0x40, 1, 2, 3, 4}});
    out.push_back({1, true, true, 3002, {0x80, 201, 0, 1, 0, 0, 0, 0x41}});
    std::vector<uint8_t> big(1500, 0x5a);
    big[0] = 0x80;
    big[1] = 0;
    out.push_back({0, false, false, 3003, big});  // cut to record_slot_data, its length kept
    return out;
}

class recorder_zero_copy_test : public ::testing::Test {
 protected:
    void SetUp() override {
        dir_ = test_files::make_temp_dir("rtprelay-rec-zc-test");
        ASSERT_FALSE(dir_.empty());
        prepare_directory(dir_);
        // No per-lcore cache: the in-use count is exact.
        pool_ = rte_pktmbuf_pool_create("ut_rec_zc", 1023, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, 0);
        ASSERT_NE(pool_, nullptr);
        recorder_config c;
        c.dir = dir_;
        c.tsc0 = 0;
        c.unix_ns0 = t0_ns;
        c.tsc_hz = 1'000'000'000;
        rec_ = std::make_unique<recorder>(c, std::vector<dp::record_ring*>{&ring_}, nullptr);
    }
    void TearDown() override {
        rec_.reset();
        rte_mempool_free(pool_);
        ASSERT_TRUE(test_files::remove_tree(dir_));
    }

    void open(uint32_t id, const std::string& base) {
        open_request o;
        o.id = id;
        o.base = base;
        o.start_ns = t0_ns;
        rec_->open(o);
        rec_->poll(std::chrono::steady_clock::now());
    }
    void close(uint32_t id) {
        close_request c;
        c.id = id;
        c.stop_ns = t0_ns + 3'500'000'000;
        c.reason = "deleted";
        rec_->close(c);
    }

    // Records `p` for recording `id` as the worker does: a copy, or a reference on an mbuf
    // holding the packet behind its headers (which the worker then sends and frees).
    // Returns the record.
    dp::record_slot* record(uint32_t id, const sent_packet& p, bool zero_copy) {
        const uint32_t src = htonl(p.channel == 0 ? 0xc612000a : 0xc612010b);
        const uint32_t dst = htonl(p.channel == 0 ? 0xc6120001 : 0xc6120101);
        uint8_t src6[16] = {0x20, 0x01, 0x00, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x11};
        uint8_t dst6[16] = {0x20, 0x01, 0x00, 0x02, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01};
        const uint16_t sport = htons(p.channel == 0 ? 4000 : 5000);
        const uint16_t dport = htons(static_cast<uint16_t>((p.channel == 0 ? 30000 : 40000) + (p.rtcp ? 1 : 0)));
        const uint64_t tsc = static_cast<uint64_t>(p.ms) * 1'000'000;
        const auto len = static_cast<uint32_t>(p.bytes.size());
        if (!zero_copy) {
            return p.v6 ? dp::record_copy6(ring_, tsc, id, p.channel, p.rtcp, src6, sport, dst6, dport, p.bytes.data(),
                                           len)
                        : dp::record_copy(ring_, tsc, id, p.channel, p.rtcp, src, sport, dst, dport, p.bytes.data(),
                                          len);
        }
        rte_mbuf* m = rte_pktmbuf_alloc(pool_);
        EXPECT_NE(m, nullptr);
        if (m == nullptr) {
            return nullptr;
        }
        const uint32_t headers = p.v6 ? 14 + 40 + 8 : 14 + 20 + 8;
        auto* d = reinterpret_cast<uint8_t*>(rte_pktmbuf_append(m, static_cast<uint16_t>(headers + len)));
        EXPECT_NE(d, nullptr);
        std::memcpy(d + headers, p.bytes.data(), len);
        dp::record_slot* s =
            p.v6 ? dp::record_ref6(ring_, m, tsc, id, p.channel, p.rtcp, src6, sport, dst6, dport, d + headers, len)
                 : dp::record_ref(ring_, m, tsc, id, p.channel, p.rtcp, src, sport, dst, dport, d + headers, len);
        rte_pktmbuf_free(m);  // the worker's own reference: sent
        return s;
    }

    std::string dir_;
    rte_mempool* pool_ = nullptr;
    dp::record_ring ring_{1 << 20, lent_max};
    std::unique_ptr<recorder> rec_;
};

TEST_F(recorder_zero_copy_test, references_and_copies_give_the_same_files) {
    open(1, "copied");
    open(2, "referenced");
    const std::vector<sent_packet> call = a_call();
    size_t referenced = 0;
    for (const sent_packet& p : call) {
        ASSERT_NE(record(1, p, false), nullptr);
        const dp::record_slot* s = record(2, p, true);
        ASSERT_NE(s, nullptr);
        referenced += s->ref() != nullptr ? 1 : 0;
        // A record the worker then did not relay: skipped, its mbuf freed all the same.
        dp::record_slot* dropped = record(2, p, true);
        ASSERT_NE(dropped, nullptr);
        dropped->flags |= dp::record_discard;
        ring_.commit();
        if (ring_.refs_out() + 2 > lent_max) {
            rec_->poll(std::chrono::steady_clock::now());
            // The recorder handed them back and freed none: the worker frees them on its turn.
            EXPECT_EQ(rte_mempool_in_use_count(pool_), ring_.refs_out());
            EXPECT_EQ(ring_.returned(), ring_.refs_out());
            ring_.reclaim(lent_max);
        }
    }
    EXPECT_EQ(referenced, call.size()) << "the recorder kept up: no copy in place of a reference";
    close(1);
    close(2);
    rec_->stop();
    EXPECT_EQ(ring_.returned(), ring_.refs_out()) << "every lent mbuf handed back";
    EXPECT_EQ(rte_mempool_in_use_count(pool_), ring_.refs_out()) << "none freed by the recorder";
    ring_.reclaim(lent_max);
    EXPECT_EQ(ring_.refs_out(), 0u);
    EXPECT_EQ(ring_.returned(), 0u);
    EXPECT_EQ(rte_mempool_in_use_count(pool_), 0u) << "every lent mbuf freed by the worker";
    const recorder_counters c = rec_->counters();
    EXPECT_EQ(c.packets, 2 * call.size());
    EXPECT_EQ(c.finished, 2u);
    for (const char* ext : {".pcap", ".wav"}) {
        const std::string a = test_files::read_file(dir_ + "/done/copied" + ext);
        const std::string b = test_files::read_file(dir_ + "/done/referenced" + ext);
        ASSERT_GT(a.size(), 1000u) << ext;
        EXPECT_TRUE(a == b) << ext << ": " << a.size() << " and " << b.size() << " bytes";
    }
}

// A recorder that reads nothing holds at most lent_max mbufs: the worker copies past them,
// so the pool is never emptied by it; once read, the budget is back.
TEST_F(recorder_zero_copy_test, a_stalled_recorder_holds_at_most_its_budget) {
    open(3, "stalled");
    const std::vector<sent_packet> call = a_call();
    size_t copies = 0;
    for (const sent_packet& p : call) {
        const dp::record_slot* s = record(3, p, true);
        ASSERT_NE(s, nullptr);
        copies += s->ref() == nullptr ? 1 : 0;
    }
    ring_.commit();
    EXPECT_EQ(copies, call.size() - lent_max);
    EXPECT_EQ(rte_mempool_in_use_count(pool_), lent_max);
    EXPECT_EQ(ring_.refs_out(), lent_max);
    rec_->poll(std::chrono::steady_clock::now());
    EXPECT_EQ(ring_.returned(), lent_max);
    EXPECT_EQ(rte_mempool_in_use_count(pool_), lent_max) << "the recorder frees nothing itself";
    {
        const dp::record_slot* s = record(3, call.front(), true);
        ASSERT_NE(s, nullptr);
        EXPECT_EQ(s->ref(), nullptr) << "the budget is back only once the worker freed them";
    }
    EXPECT_EQ(ring_.reclaim(lent_max), lent_max);
    EXPECT_EQ(rte_mempool_in_use_count(pool_), 0u);
    const dp::record_slot* s = record(3, call.front(), true);
    ASSERT_NE(s, nullptr);
    EXPECT_NE(s->ref(), nullptr) << "lending again";
    ring_.commit();
    close(3);
    rec_->stop();
    EXPECT_EQ(rec_->counters().packets, call.size() + 2);
    EXPECT_EQ(ring_.reclaim(lent_max), 1u);
    EXPECT_EQ(rte_mempool_in_use_count(pool_), 0u);
}

// Records nobody read when the plane goes (the recorder stopped or never ran), and mbufs
// handed back that the worker did not free: they go back before the pool could.
TEST_F(recorder_zero_copy_test, unread_references_are_freed_at_teardown) {
    const std::vector<sent_packet> call = a_call();
    for (size_t i = 0; i < 10; ++i) {
        ASSERT_NE(record(9, call[i], true), nullptr);
    }
    ring_.commit();
    EXPECT_EQ(rte_mempool_in_use_count(pool_), 10u);
    // The recorder read four and handed them back; the worker stopped before freeing them.
    uint64_t pos = ring_.consumed();
    {
        dp::record_ref_batch refs(ring_);
        for (int i = 0; i < 4; ++i) {
            const dp::record_slot* s = ring_.next(&pos, ring_.committed());
            ASSERT_NE(s, nullptr);
            refs.hold(*s);
        }
    }
    ring_.release(pos);
    EXPECT_EQ(ring_.returned(), 4u);
    EXPECT_EQ(rte_mempool_in_use_count(pool_), 10u);
    ring_.discard_unread();
    EXPECT_EQ(ring_.returned(), 0u);
    EXPECT_EQ(rte_mempool_in_use_count(pool_), 0u);
    EXPECT_EQ(ring_.refs_out(), 0u);
    EXPECT_EQ(ring_.consumed(), ring_.committed());
}

}  // namespace
}  // namespace rtprelay::recording
