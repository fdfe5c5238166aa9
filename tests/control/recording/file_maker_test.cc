// The recordings' files made off the recorder's thread (file_maker.h): a recording's packets
// wait in memory until its pcap exists, then reach it in order; a creation that fails fails
// the recording as a creation on the recorder's thread did; a close waits for the files; the
// memory that waits is bounded and what it refuses is counted. The file system's stall is
// hold_files(): the recorder's own switch, on real files in a temporary directory.

#include <gtest/gtest.h>
#include <pcap/pcap.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "control/recording/pcap_store.h"
#include "control/recording/recorder.h"
#include "tests/control/recording/temp_files.h"
#include "tests/control/recording/two_legs.h"

namespace rtprelay::recording {
namespace {

using test_files::read_file;

constexpr int64_t t0_ns = 1'700'000'000'000'000'000;

// An RTP packet whose payload says which it is (sequence number `seq`, 160 bytes of seq & 0xff).
std::vector<uint8_t> numbered(uint16_t seq) {
    std::vector<uint8_t> p(12 + 160, static_cast<uint8_t>(seq));
    p[0] = 0x80;
    p[1] = 0;
    p[2] = static_cast<uint8_t>(seq >> 8);
    p[3] = static_cast<uint8_t>(seq);
    return p;
}

// The RTP sequence numbers of the UDP payloads in the pcap at `path`, in file order; -1 in the
// list for a record that is not UDP.
std::vector<int> sequence_numbers(const std::string& path) {
    std::vector<int> out;
    char err[PCAP_ERRBUF_SIZE];
    pcap_t* p = pcap_open_offline(path.c_str(), err);
    EXPECT_NE(p, nullptr) << path << ": " << err;
    if (p == nullptr) {
        return out;
    }
    pcap_pkthdr* h;
    const u_char* d;
    while (pcap_next_ex(p, &h, &d) == 1) {
        record_udp u;
        if (!read_record_udp(d, h->caplen, h->len, &u) || u.len < 4) {
            out.push_back(-1);
            continue;
        }
        out.push_back(u.payload[2] << 8 | u.payload[3]);
    }
    pcap_close(p);
    return out;
}

bool exists(const std::string& path) { return ::access(path.c_str(), F_OK) == 0; }

class file_maker_test : public ::testing::Test {
 protected:
    void SetUp() override {
        dir_ = test_files::make_temp_dir("rtprelay-recfile-test");
        ASSERT_FALSE(dir_.empty());
        prepare_directory(dir_);
    }
    void TearDown() override {
        rec_.reset();
        ASSERT_TRUE(test_files::remove_tree(dir_));
    }

    void make(size_t flush_bytes = 64 * 1024) {
        recorder_config c;
        c.dir = dir_;
        c.flush_bytes = flush_bytes;
        c.unix_ns0 = t0_ns;
        rec_ = std::make_unique<recorder>(c, std::vector<dp::record_ring*>{&ring_}, nullptr);
    }
    void open(uint32_t id, const std::string& base) {
        open_request o;
        o.id = id;
        o.base = base;
        o.start_ns = t0_ns;
        rec_->open(o);
        rec_->update(test_files::two_leg_update(id, R"({"call-id":")" + base + R"("})"));
    }
    // Packets first..last (sequence numbers) of leg 0, 20 ms apart, read by a poll() whose
    // clock is the packets' (no flush by age while the file is held).
    void send(uint32_t id, uint16_t first, uint16_t last) {
        for (uint16_t k = first; k <= last; ++k) {
            ASSERT_NE(test_files::copy_from_leg(ring_, id, 0, numbered(k), 20 * k), nullptr);
            ring_.commit();
            if (ring_.committed() - ring_.consumed() > ring_.capacity() / 2) {
                rec_->poll(std::chrono::steady_clock::now());
            }
        }
        rec_->poll(std::chrono::steady_clock::now());
    }
    void close(uint32_t id) {
        close_request c;
        c.id = id;
        c.stop_ns = t0_ns + 60'000'000'000;
        c.reason = "deleted";
        rec_->close(c);
    }

    std::string dir_;
    dp::record_ring ring_{1 << 20};
    std::unique_ptr<recorder> rec_;
};

TEST_F(file_maker_test, packets_before_the_file_exists_reach_it_in_order) {
    make(4096);  // flushes by size every ~19 packets: all of them wait for the file
    rec_->hold_files(true);
    open(1, "slow/one");
    send(1, 0, 99);
    EXPECT_FALSE(exists(dir_ + "/slow/one.pcap")) << "held: not made yet";
    EXPECT_FALSE(exists(dir_ + "/slow/one.state")) << "after the pcap, never before";
    EXPECT_EQ(rec_->counters().packets, 0u) << "in memory, not yet written";
    EXPECT_EQ(rec_->counters().started, 1u);

    rec_->hold_files(false);
    rec_->poll(std::chrono::steady_clock::now());  // files made (inline: no thread), then flushed
    ASSERT_TRUE(exists(dir_ + "/slow/one.pcap"));
    EXPECT_NE(read_file(dir_ + "/slow/one.state").find(R"(call {"call-id":"slow/one"})"), std::string::npos);
    EXPECT_EQ(rec_->counters().packets, 100u);
    struct stat st {};
    ASSERT_EQ(::stat((dir_ + "/slow/one.pcap").c_str(), &st), 0);
    EXPECT_GT(st.st_size, 24) << "what waited was written once the file existed";

    send(1, 100, 149);
    close(1);
    rec_->stop();
    const std::vector<int> seqs = sequence_numbers(dir_ + "/done/slow/one.pcap");
    ASSERT_EQ(seqs.size(), 150u);
    for (int k = 0; k < 150; ++k) {
        EXPECT_EQ(seqs[static_cast<size_t>(k)], k) << "record " << k;
    }
    const recorder_counters c = rec_->counters();
    EXPECT_EQ(c.finished, 1u);
    EXPECT_EQ(c.failed, 0u);
    EXPECT_EQ(c.packets, 150u);
    EXPECT_EQ(c.packets_lost, 0u);
    EXPECT_EQ(c.file_wait_drops, 0u);
}

TEST_F(file_maker_test, a_creation_that_fails_fails_the_recording_and_counts_what_waited) {
    make();
    { std::ofstream(dir_ + "/taken.pcap") << "keep me"; }
    rec_->hold_files(true);
    open(1, "taken");
    open(2, "free");
    send(1, 0, 9);
    send(2, 0, 9);
    EXPECT_EQ(rec_->failure(1), "") << "not known yet";
    rec_->hold_files(false);
    rec_->poll(std::chrono::steady_clock::now());
    EXPECT_NE(rec_->failure(1).find("File exists"), std::string::npos) << rec_->failure(1);
    EXPECT_EQ(rec_->failure(2), "");
    EXPECT_FALSE(exists(dir_ + "/taken.state")) << "no state file for a recording that failed at once";
    recorder_counters c = rec_->counters();
    EXPECT_EQ(c.failed, 1u);
    EXPECT_EQ(c.packets_lost, 10u) << "the ten that waited";
    EXPECT_EQ(c.packets, 10u) << "the other recording's";

    send(1, 10, 14);  // later packets: lost as a failed recording's
    close(1);
    close(2);
    rec_->stop();
    c = rec_->counters();
    EXPECT_EQ(c.packets_lost, 15u);
    EXPECT_EQ(read_file(dir_ + "/taken.pcap"), "keep me") << "never overwritten";
    const std::string json = read_file(dir_ + "/done/taken.json");
    EXPECT_NE(json.find("\"status\": \"failed\""), std::string::npos) << json;
    EXPECT_NE(json.find("File exists"), std::string::npos) << json;
    EXPECT_EQ(sequence_numbers(dir_ + "/done/free.pcap").size(), 10u) << "the other recording is whole";
    EXPECT_EQ(rec_->failure(1), "") << "forgotten once closed";
}

TEST_F(file_maker_test, a_close_before_the_file_exists_waits_for_it) {
    make();
    rec_->hold_files(true);
    open(1, "quick");
    send(1, 0, 29);
    close(1);
    for (int pass = 0; pass < 3; ++pass) {
        rec_->poll(std::chrono::steady_clock::now());
    }
    EXPECT_EQ(rec_->open_recordings(), 1u) << "the close waits for its files";
    EXPECT_FALSE(exists(dir_ + "/done/quick.json"));
    rec_->hold_files(false);
    rec_->poll(std::chrono::steady_clock::now());
    EXPECT_EQ(rec_->open_recordings(), 0u) << "closed in the pass that saw its files made";
    rec_->stop();
    const std::vector<int> seqs = sequence_numbers(dir_ + "/done/quick.pcap");
    ASSERT_EQ(seqs.size(), 30u);
    for (int k = 0; k < 30; ++k) {
        EXPECT_EQ(seqs[static_cast<size_t>(k)], k);
    }
    EXPECT_NE(read_file(dir_ + "/done/quick.json").find("\"status\": \"complete\""), std::string::npos);
    EXPECT_FALSE(exists(dir_ + "/quick.state")) << "removed by the finish, not written after it";
    EXPECT_EQ(rec_->counters().finished, 1u);
}

TEST_F(file_maker_test, what_waits_is_bounded_and_the_rest_dropped_and_counted) {
    make(4096);  // bound: max_waiting_flushes x 4 KiB = 32 KiB, ~150 records of 216 bytes
    rec_->hold_files(true);
    open(1, "bounded");
    send(1, 0, 399);
    const recorder_counters held = rec_->counters();
    const uint64_t bound = recorder::max_waiting_flushes * 4096;
    const uint64_t kept = 400 - held.file_wait_drops;
    EXPECT_GT(held.file_wait_drops, 0u);
    EXPECT_GE(kept * 216, bound) << "up to the bound";
    EXPECT_LT(kept * 216, bound + 216) << "and no further";
    rec_->hold_files(false);
    send(1, 400, 409);  // after the file exists: written again
    close(1);
    rec_->stop();
    const std::vector<int> seqs = sequence_numbers(dir_ + "/done/bounded.pcap");
    ASSERT_EQ(seqs.size(), kept + 10);
    for (uint64_t k = 0; k < kept; ++k) {
        EXPECT_EQ(seqs[k], static_cast<int>(k)) << "the first ones kept, in order";
    }
    EXPECT_EQ(seqs[kept], 400) << "then those after the file was made";
    const recorder_counters c = rec_->counters();
    EXPECT_EQ(c.packets, kept + 10);
    EXPECT_EQ(c.packets_lost, 0u) << "the recording did not fail";
    EXPECT_EQ(c.failed, 0u);
}

TEST_F(file_maker_test, the_file_thread_makes_the_files_while_poll_reads_the_rings) {
    make();
    rec_->start_file_thread();
    for (uint32_t id = 1; id <= 64; ++id) {
        open(id, "burst/" + std::to_string(id));
    }
    for (uint16_t k = 0; k < 50; ++k) {
        for (uint32_t id = 1; id <= 64; ++id) {
            ASSERT_NE(test_files::copy_from_leg(ring_, id, 0, numbered(k), 20 * k), nullptr);
        }
        ring_.commit();
        rec_->poll(std::chrono::steady_clock::now());
    }
    for (uint32_t id = 1; id <= 64; ++id) {
        close(id);
    }
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (rec_->open_recordings() != 0 && std::chrono::steady_clock::now() < until) {
        rec_->poll(std::chrono::steady_clock::now());
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    EXPECT_EQ(rec_->open_recordings(), 0u) << "every close saw its files made";
    rec_->stop();
    for (uint32_t id = 1; id <= 64; ++id) {
        const std::vector<int> seqs = sequence_numbers(dir_ + "/done/burst/" + std::to_string(id) + ".pcap");
        ASSERT_EQ(seqs.size(), 50u) << id;
        for (int k = 0; k < 50; ++k) {
            EXPECT_EQ(seqs[static_cast<size_t>(k)], k) << id;
        }
    }
    EXPECT_EQ(rec_->counters().finished, 64u);
    EXPECT_EQ(rec_->counters().packets, 64u * 50);
}

}  // namespace
}  // namespace rtprelay::recording
