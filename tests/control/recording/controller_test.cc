// Recording decisions through the NG front door: requests bencoded as Kamailio sends them,
// ng::commands -> session_manager -> recording::controller, flows published into a real flow
// table (EAL up, no worker), the recorder run by hand on a temporary directory.

#include "control/recording/controller.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <fstream>

#include "control/ha/record.h"
#include "control/ha/snapshot.h"
#include "control/interfaces.h"
#include "control/ng/commands.h"
#include "control/recording/recorder.h"
#include "control/recording/time_text.h"
#include "dataplane/flow_table.h"
#include "dataplane/local_addresses.h"
#include "dataplane/neighbour_table.h"
#include "tests/control/recording/temp_files.h"

namespace rtprelay::recording {
namespace {

using ng::value;
using test_files::read_file;

size_t count_of(const std::string& text, const std::string& what) {
    size_t n = 0;
    for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) {
        ++n;
    }
    return n;
}

std::string sdp(const std::string& ip, uint16_t port) {
    const std::string fam = ip.find(':') != std::string::npos ? "IP6 " : "IP4 ";
    return "v=0\r\no=- 1 1 IN " + fam + ip + "\r\ns=-\r\nc=IN " + fam + ip + "\r\nt=0 0\r\nm=audio " +
           std::to_string(port) + " RTP/AVP 0 101\r\na=rtpmap:101 telephone-event/8000\r\na=sendrecv\r\n";
}

uint16_t media_port(const std::string& s) {
    const size_t at = s.find("m=audio ");
    return static_cast<uint16_t>(std::stoi(s.substr(at + 8)));
}

class controller_test : public ::testing::Test {
 protected:
    void SetUp() override {
        dir_ = test_files::make_temp_dir("rtprelay-recctl-test");
        ASSERT_FALSE(dir_.empty());
        prepare_directory(dir_);
        flows_ = std::make_unique<dp::flow_table>(4096, 1, 0);
        neighbours_ = std::make_unique<dp::neighbour_table>(256, 0);
        interfaces_.add(parse_interface("a address=198.18.1.1/24 dpdk-port=0 ports=30000-30099", 11));
        interfaces_.add(parse_interface("b address=198.18.2.1/24 dpdk-port=1 ports=40000-40099", 12));
        interfaces_.add(
            parse_interface("ans address=198.18.3.1/24 dpdk-port=1 ports=41000-41099 recording=from-answer "
                            "recording-channels=mixed",
                            13));
        interfaces_.add(
            parse_interface("ring address=198.18.4.1/24 dpdk-port=1 ports=42000-42099 "
                            "recording=from-ringing",
                            14));
        interfaces_.add(
            parse_interface("dual address=198.18.5.1/24,2001:2:5::1/64 dpdk-port=1 ports=43000-43099 "
                            "recording=from-ringing",
                            15));
        // The relay's addresses, as the plane registers them: IPv6 flows are keyed by slot.
        for (const auto& i : interfaces_.all()) {
            for (const auto& a : i.addresses) {
                ASSERT_TRUE(locals_.add(local_address_of(a.net.base, i.dpdk_port, i.vlan)));
            }
        }
        pub_ = std::make_unique<publisher>(*flows_, *neighbours_, 1);
        pub_->set_local_addresses(&locals_);
        session_timeouts t;
        t.offer = std::chrono::seconds(5);
        sessions_ = std::make_unique<session_manager>(interfaces_, *pub_, t);
        recorder_config rc;
        rc.dir = dir_;
        rc.unix_ns0 = unix_now_ns();
        rec_ = std::make_unique<recorder>(rc, std::vector<dp::record_ring*>{&ring_}, nullptr);
        ctl_ = std::make_unique<controller>(*sessions_, *pub_, policy{}, rec_.get(), nullptr);
        commands_ = std::make_unique<ng::commands>(*sessions_, std::function<ng::dataplane_report()>{});
        commands_->set_recordings(ctl_.get());
    }
    void TearDown() override {
        commands_.reset();
        ctl_.reset();
        sessions_.reset();
        rec_.reset();
        pub_.reset();
        flows_->reclaim_all();
        ASSERT_TRUE(test_files::remove_tree(dir_));
    }

    value handle(const value& req) {
        std::string err;
        const auto decoded = ng::decode(ng::encode(req), &err);
        EXPECT_TRUE(decoded.has_value()) << err;
        return commands_->handle(*decoded, std::chrono::steady_clock::now());
    }
    static value dict(std::initializer_list<std::pair<const char*, value>> items) {
        value v = value::dict();
        for (const auto& [k, item] : items) {
            v.set(k, item);
        }
        return v;
    }
    static value list(std::initializer_list<const char*> items) {
        value l = value::list();
        for (const char* s : items) {
            l.as_list().push_back(value::str(s));
        }
        return l;
    }
    value offer(const std::string& id, const std::string& to_iface, value extra = value::dict()) {
        value r = dict({{"command", value::str("offer")},
                        {"call-id", value::str(id)},
                        {"from-tag", value::str("ft")},
                        {"sdp", value::str(sdp("198.51.100.10", 4000))},
                        {"direction", list({"a", to_iface.c_str()})}});
        for (auto& [k, v] : extra.as_dict()) {
            r.set(k, v);
        }
        value reply = handle(r);
        if (auto s = reply.find_string("sdp")) {
            b_port_ = media_port(std::string(*s));
        }
        return reply;
    }
    value answer(const std::string& id, value extra = value::dict(), const std::string& to_tag = "tt") {
        value r = dict({{"command", value::str("answer")},
                        {"call-id", value::str(id)},
                        {"from-tag", value::str("ft")},
                        {"to-tag", value::str(to_tag)},
                        {"sdp", value::str(sdp("203.0.113.20", 5000))}});
        for (auto& [k, v] : extra.as_dict()) {
            r.set(k, v);
        }
        value reply = handle(r);
        if (auto s = reply.find_string("sdp")) {
            a_port_ = media_port(std::string(*s));
        }
        return reply;
    }
    value cmd(const std::string& name, const std::string& id, value extra = value::dict()) {
        value r = dict({{"command", value::str(name)}, {"call-id", value::str(id)}});
        for (auto& [k, v] : extra.as_dict()) {
            r.set(k, v);
        }
        return handle(r);
    }
    static std::string str(const value& v, const char* key) {
        const auto s = v.find_string(key);
        return s ? std::string(*s) : std::string();
    }
    // The record stamp of the entry on `addr`:`port` (rtp) and port+1 (rtcp).
    std::pair<uint32_t, uint8_t> stamp(const char* addr, uint16_t port) {
        dp::flow_key k;
        if (std::string_view(addr).find(':') != std::string_view::npos) {
            uint8_t a6[16] = {};
            inet_pton(AF_INET6, addr, a6);
            k.v6_slot = locals_.slot6(a6);  // IPv6 flows are keyed by the address's slot
        } else {
            inet_pton(AF_INET, addr, &k.local_addr);
        }
        k.local_port = htons(port);
        const dp::flow_entry* e = flows_->lookup(k);
        EXPECT_NE(e, nullptr) << addr << ":" << port;
        k.local_port = htons(static_cast<uint16_t>(port + 1));
        const dp::flow_entry* r = flows_->lookup(k);
        EXPECT_NE(r, nullptr);
        if (e == nullptr || r == nullptr) {
            return {0, 0};
        }
        EXPECT_EQ(e->record_id, r->record_id) << "RTP and RTCP carry the same stamp";
        EXPECT_EQ((e->flags & dp::flow_recorded) != 0, e->record_id != 0) << "the worker tests the flag";
        EXPECT_EQ((r->flags & dp::flow_recorded) != 0, r->record_id != 0);
        return {e->record_id, static_cast<uint8_t>((e->flags & dp::flow_record_leg_b) != 0 ? 1 : 0)};
    }
    value recording_of(const std::string& id) {
        const value q = cmd("query", id);
        const value* r = q.find("recording");
        return r != nullptr ? *r : value();
    }
    void finish() {
        rec_->poll(std::chrono::steady_clock::now());
        rec_->stop();
    }
    std::vector<std::string> done_files() {
        std::vector<std::string> out;
        FILE* p = popen(("cd " + dir_ + "/done && find . -type f | sort").c_str(), "r");
        char line[512];
        while (fgets(line, sizeof line, p) != nullptr) {
            out.emplace_back(line, strcspn(line, "\n"));
        }
        pclose(p);
        return out;
    }

    std::string dir_;
    std::unique_ptr<dp::flow_table> flows_;
    std::unique_ptr<dp::neighbour_table> neighbours_;
    interface_set interfaces_;
    dp::local_addresses locals_;
    std::unique_ptr<publisher> pub_;
    std::unique_ptr<session_manager> sessions_;
    dp::record_ring ring_{65536};
    std::unique_ptr<recorder> rec_;
    std::unique_ptr<controller> ctl_;
    std::unique_ptr<ng::commands> commands_;
    uint16_t b_port_ = 0;  // the relay's port facing the answerer
    uint16_t a_port_ = 0;  // ... facing the offerer
};

TEST_F(controller_test, nothing_is_recorded_without_policy_or_request) {
    offer("c1", "b");
    answer("c1");
    EXPECT_EQ(stamp("198.18.1.1", a_port_).first, 0u);
    EXPECT_EQ(stamp("198.18.2.1", b_port_).first, 0u);
    EXPECT_EQ(cmd("query", "c1").find("recording"), nullptr);
    EXPECT_EQ(ctl_->open_recordings(), 0u);
}

TEST_F(controller_test, from_answer_stamps_both_legs_at_the_answer_and_closes_at_delete) {
    offer("c2", "ans");
    EXPECT_EQ(stamp("198.18.3.1", b_port_).first, 0u) << "not before the answer";
    answer("c2");
    const auto leg1 = stamp("198.18.1.1", a_port_);
    const auto leg2 = stamp("198.18.3.1", b_port_);
    EXPECT_NE(leg1.first, 0u);
    EXPECT_EQ(leg1.first, leg2.first);
    EXPECT_EQ(leg1.second, 0) << "the offerer's leg is channel 0";
    EXPECT_EQ(leg2.second, 1);
    const value r = recording_of("c2");
    EXPECT_EQ(str(r, "state"), "recording");
    EXPECT_EQ(str(r, "policy"), "from-answer");
    EXPECT_EQ(str(r, "channels"), "mixed");
    const std::string pcap = str(*r.find("files"), "pcap");
    EXPECT_EQ(pcap.rfind(dir_ + "/", 0), 0u) << pcap;
    EXPECT_NE(pcap.find("c2"), std::string::npos);
    EXPECT_EQ(str(cmd("delete", "c2"), "result"), "ok");
    EXPECT_EQ(ctl_->open_recordings(), 0u);
    finish();
    const auto files = done_files();
    ASSERT_EQ(files.size(), 3u) << "pcap, wav (PCMU offered), json";
    const std::string json = read_file(dir_ + "/done/" + files[0]);
    EXPECT_NE(json.find("\"call-id\": \"c2\""), std::string::npos) << json;
    EXPECT_NE(json.find("\"stop reason\": \"deleted\""), std::string::npos) << json;
    EXPECT_NE(json.find("\"type\": \"answer\""), std::string::npos) << "the answer's SDP with its time";
    EXPECT_NE(json.find("\"name\": \"PCMU\""), std::string::npos) << "codecs";
    EXPECT_NE(json.find("\"interface\": \"ans\""), std::string::npos);
    EXPECT_NE(json.find("\"event\": \"start\""), std::string::npos);
}

TEST_F(controller_test, the_metadata_never_holds_an_sdes_key) {
    const std::string key = "WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz";
    const std::string savp =
        "v=0\r\no=- 1 1 IN IP4 198.51.100.10\r\ns=-\r\nc=IN IP4 198.51.100.10\r\nt=0 0\r\n"
        "m=audio 4000 RTP/SAVP 0\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" +
        key + "\r\na=sendrecv\r\n";
    value o = handle(dict({{"command", value::str("offer")},
                           {"call-id", value::str("k1")},
                           {"from-tag", value::str("ft")},
                           {"sdp", value::str(savp)},
                           {"direction", list({"a", "ans"})},
                           {"record call", value::str("yes")}}));
    ASSERT_EQ(str(o, "result"), "ok") << str(o, "error-reason");
    const std::string sent = str(o, "sdp");
    const size_t at = sent.find("inline:");
    ASSERT_NE(at, std::string::npos) << "the relay's own key toward the callee";
    const std::string relay_key = sent.substr(at + 7, 40);
    cmd("delete", "k1");
    finish();
    for (const auto& f : done_files()) {
        if (f.size() > 5 && f.substr(f.size() - 5) == ".json") {
            const std::string json = read_file(dir_ + "/done/" + f);
            EXPECT_EQ(json.find(key), std::string::npos) << "the caller's key";
            EXPECT_EQ(json.find(relay_key), std::string::npos) << "the relay's key";
            EXPECT_NE(json.find("inline:[removed]"), std::string::npos) << json;
        }
    }
}

TEST_F(controller_test, from_ringing_stamps_at_the_offer) {
    offer("c3", "ring");
    EXPECT_NE(stamp("198.18.4.1", b_port_).first, 0u);
    EXPECT_EQ(str(recording_of("c3"), "state"), "recording");
}

TEST_F(controller_test, a_call_with_an_ipv6_leg_is_recorded_on_both_legs) {
    // IPv4 offerer, answerer's leg on IPv6 (bridged): both legs are stamped, whichever family.
    const value r = offer("v6a", "dual", dict({{"address family", value::str("IP6")}}));
    ASSERT_EQ(str(r, "result"), "ok") << str(r, "error-reason");
    EXPECT_NE(str(r, "sdp").find("IN IP6 2001:2:5::1"), std::string::npos) << str(r, "sdp");
    EXPECT_EQ(r.find("warning"), nullptr) << str(r, "warning");
    EXPECT_EQ(str(recording_of("v6a"), "state"), "recording");
    const value an = answer("v6a", dict({{"sdp", value::str(sdp("2001:2:5::20", 5000))}}));
    ASSERT_EQ(str(an, "result"), "ok") << str(an, "error-reason");
    EXPECT_EQ(an.find("warning"), nullptr) << str(an, "warning");
    const auto leg_a = stamp("198.18.1.1", a_port_);
    const auto leg_b = stamp("2001:2:5::1", b_port_);
    EXPECT_NE(leg_a.first, 0u);
    EXPECT_EQ(leg_a.first, leg_b.first) << "one recording for the call";
    EXPECT_EQ(leg_a.second, 0);
    EXPECT_EQ(leg_b.second, 1) << "the IPv6 leg is the answerer's channel";
    rec_->poll(std::chrono::steady_clock::now());  // the recorder opens it
    EXPECT_EQ(rec_->counters().started, 1u);
    EXPECT_EQ(ctl_->statistics().find("refused ipv6"), nullptr) << "no refusal left to count";
    // Stopped: the IPv6 leg's stamp goes as the IPv4 one's.
    cmd("stop recording", "v6a");
    EXPECT_EQ(stamp("198.18.1.1", a_port_).first, 0u);
    EXPECT_EQ(stamp("2001:2:5::1", b_port_).first, 0u);
}

TEST_F(controller_test, record_call_keys_and_flag) {
    offer("c4", "b", dict({{"record call", value::str("yes")}}));
    EXPECT_NE(stamp("198.18.2.1", b_port_).first, 0u);
    answer("c4", dict({{"record-call", value::str("no")}}));
    EXPECT_EQ(stamp("198.18.2.1", b_port_).first, 0u);
    EXPECT_EQ(stamp("198.18.1.1", a_port_).first, 0u);
    EXPECT_EQ(str(recording_of("c4"), "state"), "stopped");

    offer("c5", "b", dict({{"flags", list({"record-call"})}}));
    EXPECT_NE(stamp("198.18.2.1", b_port_).first, 0u);

    // "no" holds against the policy: a from-answer interface's answer does not start it.
    offer("c6", "ans", dict({{"record-call", value::str("off")}}));
    answer("c6");
    EXPECT_EQ(stamp("198.18.3.1", b_port_).first, 0u);
}

TEST_F(controller_test, start_pause_resume_stop_and_start_again) {
    offer("c7", "b");
    answer("c7");
    EXPECT_EQ(str(cmd("start recording", "c7"), "result"), "ok");
    const uint32_t first = stamp("198.18.2.1", b_port_).first;
    EXPECT_NE(first, 0u);
    EXPECT_EQ(str(cmd("pause recording", "c7"), "result"), "ok");
    EXPECT_EQ(stamp("198.18.2.1", b_port_).first, 0u);
    EXPECT_EQ(str(recording_of("c7"), "state"), "paused");
    cmd("start recording", "c7");
    EXPECT_EQ(stamp("198.18.2.1", b_port_).first, first) << "resumed: the same recording";
    cmd("stop recording", "c7", dict({{"flags", list({"pause"})}}));
    EXPECT_EQ(str(recording_of("c7"), "state"), "paused") << "stop with the pause flag pauses";
    cmd("start recording", "c7");
    cmd("stop recording", "c7");
    EXPECT_EQ(stamp("198.18.2.1", b_port_).first, 0u);
    EXPECT_EQ(str(recording_of("c7"), "state"), "stopped");
    cmd("start recording", "c7", dict({{"recording-file", value::str("again/c7")}}));
    const uint32_t second = stamp("198.18.2.1", b_port_).first;
    EXPECT_NE(second, 0u);
    EXPECT_NE(second, first) << "a new recording";
    EXPECT_EQ(recording_of("c7").find("finished")->as_list().size(), 1u);
    cmd("delete", "c7");
    finish();
    const auto files = done_files();
    EXPECT_EQ(std::count(files.begin(), files.end(), "./again/c7.json"), 1) << files.size();
    EXPECT_EQ(rec_->counters().finished, 2u);
}

TEST_F(controller_test, hostile_file_names_refuse_the_request_and_change_nothing) {
    for (const char* key : {"recording-file", "recording-dir", "recording-pattern"}) {
        for (const std::string& bad : {std::string("../../etc/x"), std::string("/etc/x"), std::string("a\0b", 3)}) {
            const value r = offer("h1", "b", dict({{key, value::str(bad)}, {"record-call", value::str("yes")}}));
            EXPECT_EQ(str(r, "result"), "error") << key;
            EXPECT_NE(str(r, "error-reason").find(key), std::string::npos) << str(r, "error-reason");
            EXPECT_EQ(sessions_->size(), 0u) << "no call made";
        }
    }
    offer("h2", "b");
    const value r = cmd("start recording", "h2", dict({{"recording-file", value::str("x/../../y")}}));
    EXPECT_EQ(str(r, "result"), "error");
    EXPECT_EQ(str(r, "error-reason"), "recording-file: '..' is refused (names stay inside the recording directory)");
    EXPECT_EQ(stamp("198.18.2.1", b_port_).first, 0u);
    EXPECT_EQ(str(cmd("start recording", "nope"), "error-reason"), "Unknown call-id");
    finish();
    EXPECT_EQ(rec_->counters().started, 0u);
}

TEST_F(controller_test, a_timeout_closes_the_recording) {
    offer("t1", "ring");
    EXPECT_EQ(sessions_->expire(std::chrono::steady_clock::now() + std::chrono::seconds(6), 0, 0), 1u);
    EXPECT_EQ(ctl_->open_recordings(), 0u);
    finish();
    const auto files = done_files();
    ASSERT_EQ(files.size(), 3u);
    EXPECT_NE(read_file(dir_ + "/done/" + files[0]).find("\"stop reason\": \"offer timeout\""), std::string::npos)
        << files[0];
}

TEST_F(controller_test, a_forked_branch_that_answers_is_stamped_too) {
    offer("f1", "ring");
    answer("f1", value::dict(), "branch1");
    const uint32_t id = stamp("198.18.4.1", b_port_).first;
    answer("f1", value::dict(), "branch2");
    EXPECT_EQ(stamp("198.18.4.1", b_port_).first, id);
    EXPECT_EQ(stamp("198.18.4.1", b_port_).second, 1);
}

TEST_F(controller_test, close_all_at_node_stop) {
    offer("s1", "ring");
    offer("s2", "ring");
    EXPECT_EQ(ctl_->open_recordings(), 2u);
    ctl_->close_all("node stop");
    EXPECT_EQ(ctl_->open_recordings(), 0u);
    finish();
    EXPECT_EQ(rec_->counters().finished, 2u);
}

// A group lets a call go to the node that serves its address now (session_manager::
// drop_address): its recording ends here as for a delete, with the files finished and the
// reason "moved"; the call is not counted as closed. The node that adopted the call records
// the next part (below).
TEST_F(controller_test, a_call_let_go_to_another_node_closes_its_recording) {
    offer("m1", "ring");
    offer("m2", "b");
    ASSERT_EQ(ctl_->open_recordings(), 1u);
    EXPECT_EQ(sessions_->drop_address(*ip_address::parse("198.18.1.1")), 2u);
    EXPECT_EQ(sessions_->size(), 0u);
    EXPECT_EQ(sessions_->totals().calls_deleted, 0u) << "moved, not closed";
    EXPECT_EQ(ctl_->open_recordings(), 0u);
    finish();
    EXPECT_EQ(rec_->counters().finished, 1u);
    const auto files = done_files();
    ASSERT_EQ(files.size(), 3u);
    EXPECT_NE(read_file(dir_ + "/done/" + files[0]).find("\"stop reason\": \"moved\""), std::string::npos) << files[0];
}

// The recording moves with its call: the record carries it (recording_of), the call let go
// here ends its part "moved", and adopting the call from its record opens part 2: same id,
// the first part's name with -part2, a fresh local record id on the legs, metadata naming
// the node it continues. A paused recording stays paused on arrival.
TEST_F(controller_test, an_adopted_call_records_the_next_part_of_its_recording) {
    offer("mv", "ring", dict({{"recording-file", value::str("trunk/mv")}}));
    offer("other", "dual");
    const call* c = sessions_->find("mv");
    ASSERT_NE(c, nullptr);
    const ha::recording_record carried = ctl_->recording_of(*c);
    EXPECT_EQ(carried.st, ha::recording_record::state::recording);
    EXPECT_EQ(carried.part, 1);
    EXPECT_EQ(carried.base, "trunk/mv");
    EXPECT_EQ(carried.file, "trunk/mv");
    EXPECT_EQ(carried.id.size(), 16u);
    EXPECT_EQ(ctl_->recording_of(*sessions_->find("other")).id.size(), 16u);
    EXPECT_NE(ctl_->recording_of(*sessions_->find("other")).id, carried.id);
    const auto now = std::chrono::steady_clock::now();
    ha::call_record rec = ha::snapshot_call(*c, "n1", now, ha::unix_now_ms());
    const uint16_t other_id = sessions_->find("other")->legs.front()->record_id;

    ASSERT_EQ(sessions_->drop_address(*ip_address::parse("198.18.4.1")), 1u);  // let go: part 1 "moved"
    std::string why;
    std::unique_ptr<call> back = ha::rebuild_call(rec, interfaces_, now, ha::unix_now_ms(), &why);
    ASSERT_TRUE(back) << why;
    sessions_->adopt(std::move(back));
    call* adopted = sessions_->find("mv");
    ASSERT_NE(adopted, nullptr);
    ctl_->adopted(*adopted, carried, "n1");
    const ha::recording_record now_carried = ctl_->recording_of(*adopted);
    EXPECT_EQ(now_carried.st, ha::recording_record::state::recording);
    EXPECT_EQ(now_carried.part, 2);
    EXPECT_EQ(now_carried.id, carried.id);
    EXPECT_EQ(now_carried.base, "trunk/mv") << "the first part's base goes on in the record";
    for (const auto& l : adopted->legs) {
        EXPECT_NE(l->record_id, 0) << "stamped with this node's own id";
        EXPECT_NE(l->record_id, other_id);
    }
    const value r = recording_of("mv");
    EXPECT_EQ(r.find_string("state").value_or(""), "recording");
    EXPECT_EQ(r.find_string("recording id").value_or(""), carried.id);
    ASSERT_NE(r.find("files"), nullptr);
    EXPECT_EQ(r.find("files")->find_string("pcap").value_or(""), dir_ + "/trunk/mv-part2.pcap");
    rec_->poll(std::chrono::steady_clock::now());
    EXPECT_NE(read_file(dir_ + "/trunk/mv-part2.state").find("rtprelay-recording-state 1"), std::string::npos)
        << "the open part has its state file";
    EXPECT_EQ(cmd("delete", "mv").find_string("result").value_or(""), "ok");

    // A paused recording arrives paused: files open, nothing stamped.
    ha::recording_record paused = carried;
    paused.st = ha::recording_record::state::paused;
    paused.part = 4;
    std::unique_ptr<call> again = ha::rebuild_call(rec, interfaces_, now, ha::unix_now_ms(), &why);
    ASSERT_TRUE(again) << why;
    sessions_->adopt(std::move(again));
    ctl_->adopted(*sessions_->find("mv"), paused, "n3");
    EXPECT_EQ(ctl_->recording_of(*sessions_->find("mv")).st, ha::recording_record::state::paused);
    EXPECT_EQ(ctl_->recording_of(*sessions_->find("mv")).part, 5);
    for (const auto& l : sessions_->find("mv")->legs) {
        EXPECT_EQ(l->record_id, 0) << "paused: no packets copied";
    }
    EXPECT_EQ(cmd("delete", "mv").find_string("result").value_or(""), "ok");
    EXPECT_EQ(cmd("delete", "other").find_string("result").value_or(""), "ok");
    finish();
    const std::string part1 = read_file(dir_ + "/done/trunk/mv.json");
    EXPECT_NE(part1.find("\"stop reason\": \"moved\""), std::string::npos) << part1;
    const std::string part2 = read_file(dir_ + "/done/trunk/mv-part2.json");
    EXPECT_NE(part2.find("\"continues\""), std::string::npos) << part2;
    EXPECT_NE(part2.find("\"node\": \"n1\""), std::string::npos) << part2;
    EXPECT_NE(part2.find("\"base\": \"trunk/mv\""), std::string::npos) << part2;
    EXPECT_NE(part2.find("\"started by\": \"adopted from n1\""), std::string::npos) << part2;
    EXPECT_NE(read_file(dir_ + "/done/trunk/mv-part5.json").find("\"event\": \"pause\""), std::string::npos);
    EXPECT_FALSE(std::ifstream(dir_ + "/trunk/mv-part2.state").good()) << "state files go with the recording";
}

// A later part lists the SDP in effect when it began: the call's record carries the latest
// answer's SDP as received (sealed, SDES keys removed) through Redis's encoding, and the
// taker's metadata lists it with its time, marked as carried from the part before (whose
// metadata has the rest), and takes its codecs (and the WAV's G.711) from it. SDPs received
// during the part itself are listed as any are, with the SDP sent, and carried on from then.
TEST_F(controller_test, a_later_part_lists_the_sdp_in_effect_carried_from_the_part_before) {
    const std::string key = "WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz";
    auto savp = [&](const std::string& ip, uint16_t port) {
        return "v=0\r\no=- 1 1 IN IP4 " + ip + "\r\ns=-\r\nc=IN IP4 " + ip + "\r\nt=0 0\r\nm=audio " +
               std::to_string(port) +
               " RTP/SAVP 8 101\r\na=rtpmap:101 telephone-event/8000\r\n"
               "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" +
               key + "\r\na=sendrecv\r\n";
    };
    ASSERT_EQ(
        str(offer("sd", "ring",
                  dict({{"recording-file", value::str("trunk/sd")}, {"sdp", value::str(savp("198.51.100.10", 4000))}})),
            "result"),
        "ok");
    const call* c = sessions_->find("sd");
    ASSERT_NE(c, nullptr);
    ASSERT_EQ(ctl_->recording_of(*c).sdps.size(), 1u);
    EXPECT_TRUE(ctl_->recording_of(*c).sdps[0].offer) << "before the answer, the offer";
    ASSERT_EQ(str(answer("sd", dict({{"sdp", value::str(savp("203.0.113.20", 5000))}})), "result"), "ok");
    const ha::recording_record carried = ctl_->recording_of(*c);
    ASSERT_EQ(carried.sdps.size(), 1u);
    EXPECT_FALSE(carried.sdps[0].offer) << "the answer: its codecs are the call's";
    EXPECT_EQ(carried.sdps[0].from_tag, "ft");
    EXPECT_EQ(carried.sdps[0].to_tag, "tt");
    EXPECT_NE(carried.sdps[0].sdp.find("c=IN IP4 203.0.113.20"), std::string::npos) << "as received";
    EXPECT_EQ(carried.sdps[0].sdp.find(key), std::string::npos) << "no media key in a record's SDP";
    EXPECT_NE(carried.sdps[0].sdp.find("inline:[removed]"), std::string::npos);

    // Through the record as Redis holds it (version 3), then let go and adopted as part 2.
    const auto now = std::chrono::steady_clock::now();
    ha::call_record rec = ha::snapshot_call(*c, "n1", now, ha::unix_now_ms());
    rec.recording = carried;
    std::array<uint8_t, ha::group_key::size> key_bytes{};
    key_bytes.fill(7);
    const ha::group_key gk(key_bytes);
    const std::string stored = ha::encode_record(rec, gk, "g");
    EXPECT_EQ(ha::record_version_of(stored), 3);
    ha::decode_error why_not = ha::decode_error::none;
    const auto loaded = ha::decode_record(stored, gk, "g", "sd", &why_not);
    ASSERT_TRUE(loaded) << ha::decode_error_name(why_not);
    EXPECT_TRUE(loaded->recording == carried);
    ASSERT_EQ(sessions_->drop_address(*ip_address::parse("198.18.4.1")), 1u);
    std::string why;
    std::unique_ptr<call> back = ha::rebuild_call(*loaded, interfaces_, now, ha::unix_now_ms(), &why);
    ASSERT_TRUE(back) << why;
    sessions_->adopt(std::move(back));
    ctl_->adopted(*sessions_->find("sd"), loaded->recording, "n1");
    EXPECT_EQ(ctl_->recording_of(*sessions_->find("sd")).sdps, carried.sdps) << "carried on to a part 3";
    EXPECT_EQ(cmd("delete", "sd").find_string("result").value_or(""), "ok");
    finish();

    const std::string part2 = read_file(dir_ + "/done/trunk/sd-part2.json");
    const size_t sdps = part2.find("\"sdps\": [");
    ASSERT_NE(sdps, std::string::npos) << part2;
    const std::string listed = part2.substr(sdps, part2.find("\"codecs\"", sdps) - sdps);
    EXPECT_EQ(count_of(listed, "\"type\": \"answer\""), 1u) << listed;
    EXPECT_EQ(count_of(listed, "\"carried from\": {"), 1u) << listed;
    EXPECT_NE(listed.find("\"node\": \"n1\""), std::string::npos) << listed;
    EXPECT_NE(listed.find("\"part\": 1"), std::string::npos) << listed;
    EXPECT_NE(listed.find("\"base\": \"trunk/sd\""), std::string::npos) << "where the part before is: " << listed;
    EXPECT_EQ(listed.find("\"sent\": "), std::string::npos) << "a record carries no SDP the relay sent: " << listed;
    EXPECT_NE(listed.find("\"time\": \"" + time_text(carried.sdps[0].unix_ns) + "\""), std::string::npos)
        << "the answer's own time: " << listed;
    EXPECT_NE(listed.find("inline:[removed]"), std::string::npos) << listed;
    EXPECT_EQ(part2.find(key), std::string::npos);
    EXPECT_NE(part2.find("\"name\": \"telephone-event\""), std::string::npos) << "the codecs: " << part2;
    EXPECT_TRUE(std::ifstream(dir_ + "/done/trunk/sd-part2.wav").good())
        << "the carried SDP has G.711 (PCMA): a WAV even before a packet came";
}

// What a taker receives during its part is carried from then on: a re-offer and its answer.
TEST_F(controller_test, an_sdp_received_during_a_later_part_is_carried_on) {
    offer("re", "ring");
    answer("re");
    const auto now = std::chrono::steady_clock::now();
    const ha::recording_record carried = ctl_->recording_of(*sessions_->find("re"));
    ha::call_record rec = ha::snapshot_call(*sessions_->find("re"), "n1", now, ha::unix_now_ms());
    ASSERT_EQ(sessions_->drop_address(*ip_address::parse("198.18.4.1")), 1u);
    std::string why;
    std::unique_ptr<call> back = ha::rebuild_call(rec, interfaces_, now, ha::unix_now_ms(), &why);
    ASSERT_TRUE(back) << why;
    sessions_->adopt(std::move(back));
    ctl_->adopted(*sessions_->find("re"), carried, "n1");
    ASSERT_EQ(str(offer("re", "ring"), "result"), "ok");
    EXPECT_EQ(ctl_->recording_of(*sessions_->find("re")).sdps, carried.sdps) << "the answer still in effect";
    ASSERT_EQ(str(answer("re", dict({{"sdp", value::str(sdp("203.0.113.21", 5002))}})), "result"), "ok");
    const ha::recording_record later = ctl_->recording_of(*sessions_->find("re"));
    ASSERT_EQ(later.sdps.size(), 1u);
    EXPECT_NE(later.sdps[0].sdp.find("203.0.113.21"), std::string::npos) << "the new answer";
    EXPECT_GE(later.sdps[0].unix_ns, carried.sdps[0].unix_ns);
    cmd("delete", "re");
    finish();
    const std::string part2 = read_file(dir_ + "/done/" + carried.base + "-part2.json");
    EXPECT_EQ(count_of(part2, "\"carried from\": {"), 1u) << part2;
    EXPECT_EQ(count_of(part2, "\"sent\": "), 2u) << "the re-offer and its answer, received here: " << part2;
}

TEST(controller_unconfigured, recording_requests_get_a_clear_error) {
    dp::flow_table flows(256, 1, 0);
    dp::neighbour_table neighbours(16, 0);
    interface_set ifs;
    ifs.add(parse_interface("a address=198.18.1.1/24 dpdk-port=0 ports=30000-30099", 1));
    publisher pub(flows, neighbours, 1);
    session_manager sessions(ifs, pub);
    controller ctl(sessions, pub, policy{}, nullptr, nullptr);
    ng::commands commands(sessions, std::function<ng::dataplane_report()>{});
    commands.set_recordings(&ctl);
    value o = value::dict();
    o.set("command", value::str("offer"));
    o.set("call-id", value::str("u1"));
    o.set("from-tag", value::str("f"));
    o.set("sdp", value::str(sdp("198.51.100.10", 4000)));
    o.set("record call", value::str("yes"));
    const value r = commands.handle(o, std::chrono::steady_clock::now());
    EXPECT_EQ(r.find_string("result").value_or(""), "ok") << "the call goes on";
    EXPECT_NE(std::string(r.find_string("warning").value_or("")).find("not configured"), std::string::npos);
    value s = value::dict();
    s.set("command", value::str("start recording"));
    s.set("call-id", value::str("u1"));
    EXPECT_EQ(commands.handle(s, std::chrono::steady_clock::now()).find_string("error-reason").value_or(""),
              "Call recording is not configured (no recording-dir)");
    flows.reclaim_all();
}

}  // namespace
}  // namespace rtprelay::recording
