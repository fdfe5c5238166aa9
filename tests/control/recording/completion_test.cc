// A node that dies while it finishes a recording (control/recording/completion.h): for every
// point between two steps of the finish (WAV written, pcap and WAV synced, metadata written,
// committed, state removed, pcap moved, WAV moved, metadata linked, command started) a
// recorder finishes a
// real recording and stops there, as a kill -9 would leave it; a recorder started again on
// the directory then finishes it. done/ must hold the whole recording once (pcap libpcap
// reads, WAV libsndfile reads, metadata naming them), the open area nothing, and the
// completion command must have run with the paths in done/. The same for a batch of
// recordings finished together (finisher.h), dying at each step.

#include "control/recording/completion.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <gtest/gtest.h>
#include <pcap/pcap.h>
#include <sndfile.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <string>
#include <vector>

#include "control/recording/record_files.h"
#include "control/recording/recorder.h"
#include "tests/control/recording/temp_files.h"
#include "tests/control/recording/two_legs.h"

namespace rtprelay::recording {
namespace {

using test_files::pcap_packets;
using test_files::read_file;

constexpr int64_t t0_ns = 1'700'000'000'000'000'000;
constexpr int packets_per_leg = 25;

// Every name under `dir` (relative, sorted), directories marked with a trailing '/'.
void list(const std::string& dir, const std::string& prefix, std::vector<std::string>* out) {
    DIR* d = ::opendir(dir.c_str());
    if (d == nullptr) {
        return;
    }
    while (const dirent* e = ::readdir(d)) {
        const std::string name = e->d_name;
        if (name == "." || name == "..") {
            continue;
        }
        struct stat st {};
        ::lstat((dir + "/" + name).c_str(), &st);
        if (S_ISDIR(st.st_mode)) {
            out->push_back(prefix + name + "/");
            list(dir + "/" + name, prefix + name + "/", out);
        } else {
            out->push_back(prefix + name);
        }
    }
    ::closedir(d);
    std::sort(out->begin(), out->end());
}

std::vector<std::string> names_under(const std::string& dir) {
    std::vector<std::string> out;
    list(dir, "", &out);
    return out;
}

size_t count_of(const std::string& text, const std::string& what) {
    size_t n = 0;
    for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) {
        ++n;
    }
    return n;
}

// A recording of a batch for completion.h's steps: `json` its metadata, `error` a failure
// it had already.
finishing finishing_of(std::string base, bool pcap, bool wav, std::string json = {}, std::string error = {}) {
    finishing f;
    f.base = std::move(base);
    f.pcap = pcap;
    f.wav = wav;
    f.json = std::move(json);
    f.error = std::move(error);
    return f;
}

class completion_test : public ::testing::Test {
 protected:
    void SetUp() override {
        dir_ = test_files::make_temp_dir("rtprelay-complete");
        outside_ = test_files::make_temp_dir("rtprelay-complete-hook");
        ASSERT_FALSE(dir_.empty() || outside_.empty());
        prepare_directory(dir_);
        hook_log_ = outside_ + "/hook.log";
        hook_ = outside_ + "/hook.sh";
        {
            std::ofstream h(hook_);
            h << "#!/bin/sh\necho \"$@\" >> " << hook_log_ << "\n";
        }
        ::chmod(hook_.c_str(), 0700);
    }
    void TearDown() override {
        ASSERT_TRUE(test_files::remove_tree(dir_));
        ASSERT_TRUE(test_files::remove_tree(outside_));
    }

    recorder_config config() {
        recorder_config c;
        c.dir = dir_;
        c.command = hook_;
        c.flush_bytes = 1;
        c.unix_ns0 = t0_ns;
        return c;
    }

    // Two-leg G.711 recordings as `bases` (ids 3, 4, ...), closed together ("deleted"), so
    // that the finisher takes them as one batch; their finish stops after `step`.
    void record_and_die_after(const std::vector<std::string>& bases, completion_step step) {
        dp::record_ring ring(1 << 20);
        recorder rec(config(), {&ring}, nullptr);
        rec.die_after(step);
        const update_request u = test_files::two_leg_update(3, R"({"call-id": "dies-finishing", "part": 1})");
        for (uint32_t k = 0; k < bases.size(); ++k) {
            test_files::open_g711(rec, 3 + k, bases[k], "00000000feedbee" + std::to_string(k), t0_ns);
            update_request uk = u;
            uk.id = 3 + k;
            rec.update(uk);
        }
        rec.poll(std::chrono::steady_clock::now());
        std::vector<uint8_t> p(12 + 160, 0x10);  // PCMU
        p[0] = 0x80;
        p[1] = 0;
        for (int i = 0; i < packets_per_leg; ++i) {
            for (uint32_t k = 0; k < bases.size(); ++k) {
                for (uint8_t ch = 0; ch < 2; ++ch) {
                    p[3] = static_cast<uint8_t>(i);
                    p[11] = ch;
                    ASSERT_NE(test_files::copy_from_leg(ring, 3 + k, ch, p, 20 + i * 20), nullptr);
                }
            }
            ring.commit();
            rec.poll(std::chrono::steady_clock::now());
        }
        for (uint32_t k = 0; k < bases.size(); ++k) {
            close_request c;
            c.id = 3 + k;
            c.stop_ns = t0_ns + 520'000'000;
            c.reason = "deleted";
            c.call_json = u.call_json;
            rec.close(c);
        }
        rec.stop();
    }
    void record_and_die_after(const std::string& base, completion_step step) {
        record_and_die_after(std::vector<std::string>{base}, step);
    }

    // Files outside done/ but the directory's lock.
    std::vector<std::string> open_area() {
        std::vector<std::string> out;
        for (const auto& n : names_under(dir_)) {
            if (n.back() != '/' && n != ".lock" && n.rfind("done/", 0) != 0) {
                out.push_back(n);
            }
        }
        return out;
    }

    std::string dir_, outside_, hook_, hook_log_;
};

TEST_F(completion_test, a_death_between_any_two_steps_is_finished_at_the_next_start) {
    const completion_step steps[] = {
        completion_step::wav_written, completion_step::media_synced,    completion_step::metadata_written,
        completion_step::committed,   completion_step::state_removed,   completion_step::pcap_moved,
        completion_step::wav_moved,   completion_step::metadata_linked, completion_step::announced,
    };
    for (const completion_step step : steps) {
        const std::string base = "trunk/died-" + std::to_string(static_cast<int>(step));
        SCOPED_TRACE(base);
        ASSERT_TRUE(test_files::remove_tree(dir_));
        prepare_directory(dir_);
        record_and_die_after(base, step);
        EXPECT_EQ(count_of(read_file(hook_log_), base) != 0, step == completion_step::announced)
            << "the command ran only if the finish got that far";
        EXPECT_FALSE(open_area().empty()) << "the death left the finish undone";

        recorder again(config(), {}, nullptr);
        EXPECT_EQ(again.recover_left_open(), 1u);
        again.stop();
        EXPECT_EQ(again.counters().recovered, 1u);
        EXPECT_EQ(again.counters().failed, 0u);

        const std::string done = dir_ + "/done/" + base;
        EXPECT_EQ(open_area(), std::vector<std::string>{}) << "nothing left in the open area";
        std::vector<std::string> in_done;
        for (const auto& n : names_under(dir_ + "/done")) {
            if (n.back() != '/') {
                in_done.push_back(n);
            }
        }
        EXPECT_EQ(in_done, (std::vector<std::string>{base + ".json", base + ".pcap", base + ".wav"}))
            << "done/ holds the recording once";
        EXPECT_EQ(pcap_packets(done + ".pcap"), 2 * packets_per_leg);
        SF_INFO info{};
        SNDFILE* wav = sf_open((done + ".wav").c_str(), SFM_READ, &info);
        ASSERT_NE(wav, nullptr);
        sf_close(wav);
        EXPECT_EQ(info.channels, 2);
        const std::string json = read_file(done + ".json");
        EXPECT_EQ(json.find("{\n  \"status\": \"complete\""), 0u) << json;
        EXPECT_NE(json.find("\"pcap\": \"" + done + ".pcap\""), std::string::npos) << json;
        EXPECT_NE(json.find("\"wav\": \"" + done + ".wav\""), std::string::npos) << json;
        EXPECT_NE(json.find(R"("call-id": "dies-finishing")"), std::string::npos) << json;
        // Before the commit the finish is made again from the pcap; from it on, the metadata
        // the dead node wrote is kept.
        const bool kept = step >= completion_step::committed;
        EXPECT_NE(json.find(kept ? R"("stop reason": "deleted")" : R"("stop reason": "node died")"), std::string::npos)
            << json;
        const std::string hooked = read_file(hook_log_);
        const std::string paths = done + ".pcap " + done + ".wav " + done + ".json";
        EXPECT_EQ(count_of(hooked, paths), step == completion_step::announced ? 2u : 1u)
            << "the command runs at least once, with the paths in done/: " << hooked;
    }
}

TEST_F(completion_test, a_death_in_a_batch_of_finishes_is_finished_at_the_next_start) {
    // The finisher makes each step for a whole batch before the next (finisher.h): a node
    // that dies after any step leaves every recording of the batch at that step, in two
    // directories and the top one. Each is finished once at the next start.
    const completion_step steps[] = {
        completion_step::wav_written, completion_step::media_synced,    completion_step::metadata_written,
        completion_step::committed,   completion_step::state_removed,   completion_step::pcap_moved,
        completion_step::wav_moved,   completion_step::metadata_linked, completion_step::announced,
    };
    for (const completion_step step : steps) {
        const std::string n = std::to_string(static_cast<int>(step));
        const std::vector<std::string> bases = {"trunk/a-" + n, "other/b-" + n, "c-" + n, "trunk/d-" + n};
        SCOPED_TRACE(n);
        ASSERT_TRUE(test_files::remove_tree(dir_));
        prepare_directory(dir_);
        std::ofstream(hook_log_, std::ios::trunc).close();  // this step's commands only
        record_and_die_after(bases, step);
        EXPECT_FALSE(open_area().empty()) << "the death left the finishes undone";

        recorder again(config(), {}, nullptr);
        EXPECT_EQ(again.recover_left_open(), bases.size());
        again.stop();
        EXPECT_EQ(again.counters().recovered, bases.size());
        EXPECT_EQ(again.counters().failed, 0u);
        EXPECT_EQ(open_area(), std::vector<std::string>{}) << "nothing left in the open area";
        const std::string hooked = read_file(hook_log_);
        for (const std::string& base : bases) {
            const std::string done = dir_ + "/done/" + base;
            EXPECT_EQ(pcap_packets(done + ".pcap"), 2 * packets_per_leg) << base;
            const std::string json = read_file(done + ".json");
            EXPECT_EQ(json.find("{\n  \"status\": \"complete\""), 0u) << json;
            const bool kept = step >= completion_step::committed;
            EXPECT_NE(json.find(kept ? R"("stop reason": "deleted")" : R"("stop reason": "node died")"),
                      std::string::npos)
                << json;
            const std::string paths = done + ".pcap " + done + ".wav " + done + ".json";
            EXPECT_EQ(count_of(hooked, paths), step == completion_step::announced ? 2u : 1u) << hooked;
        }
    }
}

TEST_F(completion_test, files_that_are_not_a_finish_of_ours_are_left_alone) {
    // Metadata not as the finisher writes it, beside no pcap: not moved, not announced. A
    // state and a temporary file without a recording: removed.
    {
        std::ofstream f(dir_ + "/foreign.json");
        f << "{\"status\": \"complete\"}\n";
    }
    {
        std::ofstream f(dir_ + "/gone.state");
        f << "rtprelay-recording-state 1\n";
    }
    {
        std::ofstream f(dir_ + "/gone.json.tmp");
        f << "{\n  \"status\": ";
    }
    ASSERT_EQ(::symlink("/etc/passwd", (dir_ + "/link.json").c_str()), 0);
    recorder rec(config(), {}, nullptr);
    rec.recover_left_open();
    rec.stop();
    EXPECT_EQ(names_under(dir_), (std::vector<std::string>{".lock", "done/", "foreign.json", "link.json"}));
    EXPECT_EQ(read_file(hook_log_), "");
    EXPECT_EQ(rec.counters().recovered, 0u);
}

TEST_F(completion_test, syncing_refuses_what_is_not_a_recording_file) {
    // Step 2 opens the files it syncs without following a symlink, and only regular files:
    // a name swapped for a link to elsewhere is an error, never a sync of the other file.
    // Each recording of the batch gets its own first error.
    ASSERT_EQ(make_dirs(dir_ + "/a/b"), "");
    ASSERT_EQ(write_new(dir_ + "/a/b/x.pcap", "pcap"), "");
    ASSERT_EQ(write_new(dir_ + "/a/b/x.wav", "wav"), "");
    ASSERT_EQ(write_new(dir_ + "/a/b/v.pcap", "pcap"), "");  // and no v.wav
    ASSERT_EQ(::symlink("/etc/passwd", (dir_ + "/a/b/y.pcap").c_str()), 0);
    ASSERT_EQ(::mkfifo((dir_ + "/a/b/z.pcap").c_str(), 0600), 0);
    std::vector<finishing> batch = {
        finishing_of("a/b/x", true, true),                               // both synced
        finishing_of("a/b/gone", true, false),                           // no pcap
        finishing_of("a/b/v", true, false),                              // no WAV, none asked for
        finishing_of("a/b/y", true, false),                              // a symlink
        finishing_of("a/b/z", true, false),                              // a FIFO
        finishing_of("a/b/gone", true, false, {}, "failed while open"),  // failed before
        finishing_of("a/missing/m", false, false),                       // no directory
    };
    sync_media(dir_, batch);
    EXPECT_EQ(batch[0].error, "");
    EXPECT_EQ(batch[1].error.find("cannot open " + dir_ + "/a/b/gone.pcap"), 0u) << batch[1].error;
    EXPECT_EQ(batch[2].error, "") << "no WAV asked for: none synced";
    EXPECT_EQ(batch[3].error.find("cannot open " + dir_ + "/a/b/y.pcap"), 0u) << batch[3].error;
    EXPECT_EQ(batch[4].error, "cannot sync " + dir_ + "/a/b/z.pcap: not a regular file");
    EXPECT_EQ(batch[5].error, "failed while open") << "the first error is kept";
    EXPECT_EQ(batch[6].error.find("cannot open " + dir_ + "/a/missing"), 0u) << batch[6].error;
    EXPECT_EQ(sync_dirs(dir_, "a/b"), "");
    EXPECT_EQ(sync_dirs(dir_, ""), "");
    EXPECT_EQ(sync_dirs(dir_, "a/missing").find("cannot open " + dir_ + "/a/missing"), 0u);
}

TEST_F(completion_test, committed_metadata_names_its_files) {
    const std::string json =
        "{\n  \"status\": \"complete\",\n  \"files\": {\n    \"pcap\": \"/x/done/a.pcap\",\n"
        "    \"json\": \"/x/done/a.json\"\n  },\n  \"call\": {\"wav\": \"no\"}\n}\n";
    std::vector<finishing> batch = {finishing_of("a", true, false, json)};
    commit_metadata(dir_, batch, completion_step::none);
    ASSERT_EQ(batch[0].uncommitted, "");
    EXPECT_EQ(batch[0].unsynced, "");
    EXPECT_EQ(read_file(dir_ + "/a.json"), json);
    std::vector<finishing> again = {finishing_of("a", true, false, json)};
    commit_metadata(dir_, again, completion_step::none);
    EXPECT_EQ(again[0].uncommitted.find("cannot rename " + dir_ + "/a.json.tmp"), 0u)
        << "never over committed metadata: " << again[0].uncommitted;
    EXPECT_EQ(::access((dir_ + "/a.json.tmp").c_str(), F_OK), -1) << "the refused temporary file is removed";
    committed_files f;
    ASSERT_TRUE(read_committed(dir_, "a", &f));
    EXPECT_TRUE(f.pcap);
    EXPECT_FALSE(f.wav) << "a key inside the call is not one of the files";
    std::string base;
    EXPECT_TRUE(base_of_left_file("sub/x.json.tmp", &base));
    EXPECT_EQ(base, "sub/x");
    EXPECT_TRUE(base_of_left_file("x.state.pcap", &base));
    EXPECT_EQ(base, "x.state");
    EXPECT_FALSE(base_of_left_file(".pcap", &base));
    EXPECT_FALSE(base_of_left_file("x.wav", &base)) << "a WAV alone is never left behind";
}

TEST_F(completion_test, a_commit_refuses_names_taken_in_done_and_can_stop_before_the_rename) {
    // A name taken in done/ refuses that recording only; the others of the batch commit.
    // Stopped after metadata_written (a node that died there), the temporary file is all.
    ASSERT_EQ(write_new(dir_ + "/done/c.wav", "an earlier recording's"), "");
    std::vector<finishing> batch = {
        finishing_of("c", true, true, "{}\n"),
        finishing_of("d", true, false, "{}\n"),
    };
    commit_metadata(dir_, batch, completion_step::none);
    EXPECT_EQ(batch[0].uncommitted, dir_ + "/done/c.wav exists: an earlier recording has this name");
    EXPECT_EQ(::access((dir_ + "/c.json").c_str(), F_OK), -1);
    EXPECT_EQ(::access((dir_ + "/c.json.tmp").c_str(), F_OK), -1);
    EXPECT_EQ(batch[1].uncommitted, "");
    EXPECT_EQ(read_file(dir_ + "/d.json"), "{}\n");

    std::vector<finishing> stopped = {finishing_of("e", false, false, "{}\n")};
    commit_metadata(dir_, stopped, completion_step::metadata_written);
    EXPECT_EQ(stopped[0].uncommitted, "");
    EXPECT_EQ(read_file(dir_ + "/e.json.tmp"), "{}\n");
    EXPECT_EQ(::access((dir_ + "/e.json").c_str(), F_OK), -1) << "not renamed";
}

}  // namespace
}  // namespace rtprelay::recording
