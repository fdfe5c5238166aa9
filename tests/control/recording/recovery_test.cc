// Recordings left open by a node that died (control/recording/recovery.h): a recorder writes
// a recording as it would, its open files are kept as a kill -9 would leave them (the pcap
// and its state file still in the open area, a record cut short), and a recorder started on
// that directory finishes them into done/ with stop reason "node died". libpcap and
// libsndfile read the results. Hostile directory contents never crash it, never touch a
// file outside the directory, never hang it.

#include "control/recording/recovery.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <pcap/pcap.h>
#include <sndfile.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "control/recording/recorder.h"
#include "control/recording/state_file.h"
#include "tests/control/recording/temp_files.h"
#include "tests/control/recording/two_legs.h"

namespace rtprelay::recording {
namespace {

using test_files::pcap_packets;
using test_files::read_file;

constexpr int64_t t0_ns = 1'700'000'000'000'000'000;

std::vector<uint8_t> pcmu_packet(uint32_t ssrc, uint16_t seq) {
    std::vector<uint8_t> p(12 + 160, 0xff);  // mu-law silence-ish payload
    p[0] = 0x80;
    p[1] = 0;
    p[2] = static_cast<uint8_t>(seq >> 8);
    p[3] = static_cast<uint8_t>(seq);
    const uint32_t ts = seq * 160u;
    for (int i = 0; i < 4; ++i) {
        p[4 + i] = static_cast<uint8_t>(ts >> (24 - 8 * i));
        p[8 + i] = static_cast<uint8_t>(ssrc >> (24 - 8 * i));
    }
    for (int k = 0; k < 160; k += 2) {
        p[12 + static_cast<size_t>(k)] = 0x10;  // not silence: the WAV has something to show
    }
    return p;
}

bool exists(const std::string& path) {
    struct stat st {};
    return ::lstat(path.c_str(), &st) == 0;
}

off_t size_of(const std::string& path) {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0 ? st.st_size : -1;
}

void append(const std::string& path, const std::string& bytes) {
    std::ofstream f(path, std::ios::app | std::ios::binary);
    f << bytes;
}

class recovery_test : public ::testing::Test {
 protected:
    void SetUp() override {
        live_ = test_files::make_temp_dir("rtprelay-recov-live");
        dead_ = test_files::make_temp_dir("rtprelay-recov-dead");
        outside_ = test_files::make_temp_dir("rtprelay-recov-outside");
        ASSERT_FALSE(live_.empty() || dead_.empty() || outside_.empty());
        prepare_directory(live_);
        prepare_directory(dead_);
    }
    void TearDown() override {
        ASSERT_TRUE(test_files::remove_tree(live_));
        ASSERT_TRUE(test_files::remove_tree(dead_));
        ASSERT_TRUE(test_files::remove_tree(outside_));
    }

    recorder_config config(const std::string& dir, const std::string& command = {}) {
        recorder_config c;
        c.dir = dir;
        c.command = command;
        c.flush_bytes = 1;  // every packet on disk at once, as a long call's would be
        c.tsc0 = 0;
        c.unix_ns0 = t0_ns;
        c.tsc_hz = 1'000'000'000;
        return c;
    }

    // Records `n` packets of each leg into `live_` as BASE, and copies the open pcap and its
    // state file into `dead_` as the node's death would leave them (then closes the live one).
    void record_and_die(const std::string& base, int n) {
        dp::record_ring ring(1 << 20);
        recorder rec(config(live_), {&ring}, nullptr);
        test_files::open_g711(rec, 7, base, "0123456789abcdef", t0_ns);
        rec.update(
            test_files::two_leg_update(7, R"({"call-id": "died-1", "recording id": "0123456789abcdef", "part": 1})"));
        rec.poll(std::chrono::steady_clock::now());
        for (int i = 0; i < n; ++i) {
            for (uint8_t ch = 0; ch < 2; ++ch) {
                const std::vector<uint8_t> p = pcmu_packet(ch == 0 ? 0x1111 : 0x2222, static_cast<uint16_t>(i));
                ASSERT_NE(test_files::copy_from_leg(ring, 7, ch, p, 20 + i * 20), nullptr);
                ring.commit();
            }
            rec.poll(std::chrono::steady_clock::now());
        }
        rec.poll(std::chrono::steady_clock::now() + std::chrono::seconds(5));  // flushed
        ASSERT_TRUE(exists(live_ + "/" + base + ".state"));
        const std::string parent =
            dead_ + "/" + base.substr(0, base.rfind('/') == std::string::npos ? 0 : base.rfind('/'));
        ASSERT_EQ(std::system(("mkdir -p '" + parent + "' && cp '" + live_ + "/" + base + ".pcap' '" + live_ + "/" +
                               base + ".state' '" + parent + "/'")
                                  .c_str()),
                  0);
        close_request c;  // the live one ends at its last packet (not at the wall clock's now)
        c.id = 7;
        c.stop_ns = t0_ns + 1'000'000'000;
        c.reason = "deleted";
        rec.close(c);
        rec.stop();
    }

    std::string live_, dead_, outside_;
};

TEST_F(recovery_test, a_cut_last_record_is_removed_and_the_recording_finished_into_done) {
    record_and_die("trunk/call-1", 50);
    const std::string pcap = dead_ + "/trunk/call-1.pcap";
    const off_t whole = size_of(pcap);
    // The death cut the next record short: its header and part of its packet.
    std::string partial(16, '\0');
    partial[8] = static_cast<char>(200);  // caplen 200 ...
    partial[12] = static_cast<char>(200);
    append(pcap, partial + std::string(37, 'x'));  // ... of which 37 bytes made it
    EXPECT_EQ(pcap_packets(pcap), -2) << "libpcap refuses the torn file";

    const std::string hook_log = outside_ + "/hook.log";
    const std::string hook = outside_ + "/hook.sh";
    {
        std::ofstream h(hook);
        h << "#!/bin/sh\necho \"$@\" >> " << hook_log << "\n";
    }
    ::chmod(hook.c_str(), 0700);
    {
        dp::record_ring ring(1 << 16);
        recorder rec(config(dead_, hook), {&ring}, nullptr);
        EXPECT_EQ(rec.recover_left_open(), 1u);
        rec.stop();
        EXPECT_EQ(rec.counters().recovered, 1u);
        EXPECT_EQ(rec.counters().failed, 0u);
        EXPECT_EQ(rec.counters().active, 0u);
    }
    const std::string done = dead_ + "/done/trunk/call-1";
    EXPECT_FALSE(exists(pcap)) << "nothing left in the open area";
    EXPECT_FALSE(exists(dead_ + "/trunk/call-1.state"));
    EXPECT_EQ(size_of(done + ".pcap"), whole) << "cut back to the last whole record";
    EXPECT_EQ(pcap_packets(done + ".pcap"), 100) << "libpcap reads every whole record";
    const std::string json = read_file(done + ".json");
    EXPECT_NE(json.find(R"("stop reason": "node died")"), std::string::npos) << json;
    EXPECT_NE(json.find(R"("partial record bytes cut": 53)"), std::string::npos) << json;
    EXPECT_NE(json.find(R"("call-id": "died-1")"), std::string::npos) << "the call's details from the state file";
    EXPECT_NE(json.find(R"("recording id": "0123456789abcdef")"), std::string::npos);
    EXPECT_NE(json.find(R"("status": "complete")"), std::string::npos) << json;
    EXPECT_NE(json.find(R"("destination": "198.18.1.1:40000")"), std::string::npos) << json;
    EXPECT_NE(json.find(R"("leg": 2)"), std::string::npos) << "the answerer's leg, from the channel map: " << json;
    SF_INFO info{};
    SNDFILE* wav = sf_open((done + ".wav").c_str(), SFM_READ, &info);
    ASSERT_NE(wav, nullptr) << "a WAV from the state file's channel map";
    sf_close(wav);
    EXPECT_EQ(info.channels, 2);
    EXPECT_NEAR(static_cast<double>(info.frames) / 8000.0, 1.0, 0.03) << "start to the last packet (20 ms .. 1000 ms)";
    const std::string hooked = read_file(hook_log);
    EXPECT_NE(hooked.find(done + ".pcap"), std::string::npos) << "the completion command ran: " << hooked;
    EXPECT_NE(hooked.find(done + ".json"), std::string::npos);
}

TEST_F(recovery_test, without_its_state_file_the_pcap_and_counts_still_reach_done) {
    record_and_die("call-2", 10);
    ASSERT_EQ(::unlink((dead_ + "/call-2.state").c_str()), 0);
    {
        recorder rec(config(dead_), {}, nullptr);
        EXPECT_EQ(rec.recover_left_open(), 1u);
        rec.stop();
        EXPECT_EQ(rec.counters().recovered, 1u);
    }
    EXPECT_EQ(pcap_packets(dead_ + "/done/call-2.pcap"), 20);
    EXPECT_FALSE(exists(dead_ + "/done/call-2.wav")) << "no channel map, no WAV";
    const std::string json = read_file(dead_ + "/done/call-2.json");
    EXPECT_NE(json.find(R"("stop reason": "node died")"), std::string::npos) << json;
    EXPECT_NE(json.find("no state file"), std::string::npos) << json;
    EXPECT_NE(json.find(R"("packets": 20)"), std::string::npos) << json;
}

TEST_F(recovery_test, recovered_streams_read_as_the_recorder_counted_them) {
    // The same packets, once finished by the live recorder and once recovered from the pcap
    // the death left: the streams (SSRCs, payload types, bytes, times) and totals agree.
    record_and_die("call-3", 25);
    {
        recorder rec(config(dead_), {}, nullptr);
        EXPECT_EQ(rec.recover_left_open(), 1u);
        rec.stop();
    }
    const std::string live = read_file(live_ + "/done/call-3.json");
    const std::string recovered = read_file(dead_ + "/done/call-3.json");
    const size_t a = live.find(R"("streams")");
    const size_t b = recovered.find(R"("streams")");
    ASSERT_NE(a, std::string::npos) << live;
    ASSERT_NE(b, std::string::npos) << recovered;
    EXPECT_EQ(live.substr(a), recovered.substr(b));
    EXPECT_NE(recovered.find(R"("payload types": [)"), std::string::npos) << recovered;
    EXPECT_NE(recovered.find(std::to_string(0x2222)), std::string::npos) << "leg 2's SSRC: " << recovered;
    EXPECT_NE(recovered.find(R"("packets": 50)"), std::string::npos) << recovered;
}

TEST_F(recovery_test, a_torn_or_hostile_state_file_is_refused_not_trusted) {
    record_and_die("call-3", 5);
    const std::string state = dead_ + "/call-3.state";
    const std::string text = read_file(state);
    ASSERT_EQ(::unlink(state.c_str()), 0);
    {
        std::ofstream f(state);
        f << text.substr(0, text.size() / 2);  // torn mid-line
    }
    std::string why;
    EXPECT_FALSE(read_state(state, &why));
    EXPECT_FALSE(why.empty());
    for (const std::string bad :
         {"rtprelay-recording-state 1\nstart-ns 1\nleg 7 1.2.3.4 5\n",
          "rtprelay-recording-state 1\nstart-ns 1\ncall {\"a\":\x01}\n", "rtprelay-recording-state 1\nstart-ns -5\n",
          "rtprelay-recording-state 2\nstart-ns 1\n", "rtprelay-recording-state 1\nstart-ns 1\nlayout stereo\n", ""}) {
        EXPECT_FALSE(parse_state(bad, &why)) << bad;
    }
    recording_state s;
    s.rec_id = "ab";
    s.start_ns = 42;
    s.layout = channels::mixed;
    s.legs = {{media_endpoint::v6_of(reinterpret_cast<const uint8_t*>("\x20\x01\x00\x02\0\0\0\0\0\0\0\0\0\0\0\x01"),
                                     htons(30000)),
               1}};
    s.call_json = "{\n  \"sdp\": \"v=0\\r\\n\"\n}";
    const auto back = parse_state(format_state(s), &why);
    ASSERT_TRUE(back) << why;
    EXPECT_EQ(back->start_ns, 42);
    EXPECT_EQ(back->layout, channels::mixed);
    ASSERT_EQ(back->legs.size(), 1u);
    EXPECT_TRUE(back->legs[0].dst == s.legs[0].dst);
    EXPECT_EQ(back->legs[0].channel, 1);
    {
        recorder rec(config(dead_), {}, nullptr);
        EXPECT_EQ(rec.recover_left_open(), 1u);
        rec.stop();
    }
    EXPECT_EQ(pcap_packets(dead_ + "/done/call-3.pcap"), 10);
    EXPECT_NE(read_file(dead_ + "/done/call-3.json").find("ends in the middle of a line"), std::string::npos);
}

TEST_F(recovery_test, hostile_names_and_files_never_crash_hang_or_reach_outside) {
    const std::string victim = outside_ + "/victim.pcap";
    const std::string victim_text = "not yours to cut or move\n";
    {
        std::ofstream f(victim);
        f << victim_text;
    }
    ASSERT_EQ(::mkdir((outside_ + "/sub").c_str(), 0700), 0);
    {
        std::ofstream f(outside_ + "/sub/elsewhere.pcap");
        f << victim_text;
    }
    // A symlink named like a recording, to a file outside; a directory symlink out; a FIFO
    // (opening it for reading would block); a directory named .pcap; a file that is no pcap
    // with a newline in its name; a file header cut short; a state file that is a symlink.
    ASSERT_EQ(::symlink(victim.c_str(), (dead_ + "/link.pcap").c_str()), 0);
    ASSERT_EQ(::symlink((outside_ + "/sub").c_str(), (dead_ + "/sublink").c_str()), 0);
    ASSERT_EQ(::mkfifo((dead_ + "/fifo.pcap").c_str(), 0600), 0);
    ASSERT_EQ(::mkdir((dead_ + "/dir.pcap").c_str(), 0700), 0);
    {
        std::ofstream f(dead_ + "/evil\nname.pcap");
        f << "garbage, not a pcap at all";
    }
    {
        std::ofstream f(dead_ + "/short.pcap");
        f << std::string("\xd4\xc3\xb2\xa1\x02\x00", 6);
    }
    record_and_die("call-4", 3);
    ASSERT_EQ(::unlink((dead_ + "/call-4.state").c_str()), 0);
    ASSERT_EQ(::symlink(victim.c_str(), (dead_ + "/call-4.state").c_str()), 0);
    // Already finished recordings in done/ are not looked at.
    {
        std::ofstream f(dead_ + "/done/finished.pcap");
        f << "x";
    }
    // A tree deeper than the walk goes.
    std::string deep = dead_;
    for (int i = 0; i < max_depth + 4; ++i) {
        deep += "/d";
        ASSERT_EQ(::mkdir(deep.c_str(), 0700), 0);
    }
    {
        std::ofstream f(deep + "/deep.pcap");
        f << "x";
    }

    const std::vector<std::string> found = find_left_open(dead_);
    std::vector<std::string> sorted = found;
    std::sort(sorted.begin(), sorted.end());
    EXPECT_EQ(sorted, (std::vector<std::string>{"call-4", "evil\nname", "short"}));
    {
        recorder rec(config(dead_), {}, nullptr);
        EXPECT_EQ(rec.recover_left_open(), 3u);
        rec.stop();
        EXPECT_EQ(rec.counters().recovered, 1u) << "call-4";
        EXPECT_EQ(rec.counters().failed, 2u) << "the two files libpcap cannot read";
    }
    EXPECT_EQ(read_file(victim), victim_text) << "the file behind the symlink is untouched";
    EXPECT_EQ(read_file(outside_ + "/sub/elsewhere.pcap"), victim_text);
    EXPECT_TRUE(exists(dead_ + "/link.pcap")) << "a symlink is not ours to move";
    EXPECT_TRUE(exists(dead_ + "/fifo.pcap"));
    EXPECT_EQ(pcap_packets(dead_ + "/done/call-4.pcap"), 6);
    EXPECT_NE(read_file(dead_ + "/done/call-4.json").find("no WAV, no call details"), std::string::npos)
        << "a state file that is a symlink is not read";
    // What libpcap cannot read still leaves the open area, marked failed, so that it is not
    // found again at every start.
    EXPECT_TRUE(exists(dead_ + "/done/evil\nname.pcap"));
    EXPECT_NE(read_file(dead_ + "/done/evil\nname.json").find(R"("status": "failed")"), std::string::npos);
    EXPECT_TRUE(exists(dead_ + "/done/short.pcap"));
    EXPECT_TRUE(exists(deep + "/deep.pcap")) << "beyond the walk's depth: left alone";
    EXPECT_TRUE(find_left_open(dead_ + "/nonexistent").empty());
}

// Recordings of a live process are not "left open": the directory's lock says who records
// there, and a second recorder leaves them alone until that one is gone.
TEST_F(recovery_test, a_directory_another_live_recorder_holds_is_left_alone) {
    auto holder = std::make_unique<recorder>(config(dead_), std::vector<dp::record_ring*>{}, nullptr);
    EXPECT_EQ(holder->recover_left_open(), 0u);  // nothing yet, and the lock is its own
    record_and_die("call-5", 3);
    {
        recorder second(config(dead_), {}, nullptr);
        EXPECT_EQ(second.recover_left_open(), 0u);
        second.stop();
    }
    EXPECT_TRUE(exists(dead_ + "/call-5.pcap")) << "untouched while its recorder lives";
    holder.reset();
    {
        recorder third(config(dead_), {}, nullptr);
        EXPECT_EQ(third.recover_left_open(), 1u);
        third.stop();
    }
    EXPECT_EQ(pcap_packets(dead_ + "/done/call-5.pcap"), 6);
}

}  // namespace
}  // namespace rtprelay::recording
