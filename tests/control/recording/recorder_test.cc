// The recorder without workers: packets put into real record rings by hand, files written to
// a temporary directory and read back with libpcap and libsndfile (the same libraries, but
// their readers), metadata parsed for its key facts, the completion command run for real.

#include "control/recording/recorder.h"
#include "control/recording/pcap_store.h"

#include <dirent.h>
#include <gtest/gtest.h>
#include <pcap/pcap.h>
#include <sndfile.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <csignal>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "control/recording/record_files.h"
#include "control/recording/time_text.h"
#include "tests/control/recording/temp_files.h"
#include "tests/control/recording/two_legs.h"

namespace rtprelay::recording {
namespace {

using test_files::read_file;

constexpr uint64_t hz = 1'000'000'000;  // TSC = nanoseconds in these tests
constexpr int64_t t0_ns = 1'700'000'000'000'000'000;

// G.711 mu-law encoder (the usual biased-segment search), independent of the decoder under test.
uint8_t ulaw_encode(int16_t sample) {
    int s = sample;
    const int sign = s < 0 ? 0x80 : 0;
    if (s < 0) {
        s = -s;
    }
    s = std::min(s, 32635) + 0x84;
    int exponent = 7;
    for (int mask = 0x4000; (s & mask) == 0 && exponent > 0; mask >>= 1) {
        --exponent;
    }
    const int mantissa = (s >> (exponent + 3)) & 0x0f;
    return static_cast<uint8_t>(~(sign | (exponent << 4) | mantissa));
}

// An RTP packet of 160 mu-law samples of a `freq` Hz tone, at sample offset `seq * 160`.
std::vector<uint8_t> tone_packet(uint32_t ssrc, uint16_t seq, double freq, uint8_t pt = 0) {
    std::vector<uint8_t> p(12 + 160);
    p[0] = 0x80;
    p[1] = pt;
    p[2] = static_cast<uint8_t>(seq >> 8);
    p[3] = static_cast<uint8_t>(seq);
    const uint32_t ts = 1000u + seq * 160u;
    for (int i = 0; i < 4; ++i) {
        p[4 + i] = static_cast<uint8_t>(ts >> (24 - 8 * i));
        p[8 + i] = static_cast<uint8_t>(ssrc >> (24 - 8 * i));
    }
    for (int k = 0; k < 160; ++k) {
        const double t = (seq * 160.0 + k) / 8000.0;
        p[12 + static_cast<size_t>(k)] = ulaw_encode(static_cast<int16_t>(8000 * std::sin(2 * M_PI * freq * t)));
    }
    return p;
}

// Power of `freq` in samples (Goertzel), normalised by their length.
double power_at(const std::vector<int16_t>& s, double freq) {
    const double w = 2 * M_PI * freq / 8000.0;
    const double c = 2 * std::cos(w);
    double q1 = 0, q2 = 0;
    for (int16_t v : s) {
        const double q0 = c * q1 - q2 + v;
        q2 = q1;
        q1 = q0;
    }
    return (q1 * q1 + q2 * q2 - c * q1 * q2) / static_cast<double>(s.size() * s.size());
}

int open_fds() {
    int n = 0;
    DIR* d = opendir("/proc/self/fd");
    while (readdir(d) != nullptr) {
        ++n;
    }
    closedir(d);
    return n;
}

class recorder_test : public ::testing::Test {
 protected:
    void SetUp() override {
        dir_ = test_files::make_temp_dir("rtprelay-rec-test");
        ASSERT_FALSE(dir_.empty());
        prepare_directory(dir_);
    }
    void TearDown() override {
        rec_.reset();
        ASSERT_TRUE(test_files::remove_tree(dir_));
    }

    void make(size_t max_open = 256, std::string command = {}, size_t flush_bytes = 64 * 1024,
              int64_t unix_ns0 = t0_ns) {
        recorder_config c;
        c.dir = dir_;
        c.command = std::move(command);
        c.max_open_files = max_open;
        c.flush_bytes = flush_bytes;
        c.tsc0 = 0;
        c.unix_ns0 = unix_ns0;
        c.tsc_hz = hz;
        rec_ = std::make_unique<recorder>(c, std::vector<dp::record_ring*>{&ring_}, nullptr);
    }

    // Leg `ch` sends `p` at `ms` milliseconds after t0 (two_legs.h).
    void send(uint32_t id, uint8_t ch, const std::vector<uint8_t>& p, int64_t ms, bool rtcp = false) {
        ASSERT_NE(test_files::copy_from_leg(ring_, id, ch, p, ms, rtcp), nullptr);
        ring_.commit();
        if (ring_.committed() - ring_.consumed() > ring_.capacity() / 2) {
            rec_->poll(std::chrono::steady_clock::now());
        }
    }

    // Leg `ch` sends `p` over IPv6 from 2001:2::10 / ::11 to the relay's 2001:2::1 / 2001:2:1::1.
    void send6(uint32_t id, uint8_t ch, const std::vector<uint8_t>& p, int64_t ms, bool rtcp = false) {
        uint8_t src[16] = {0x20, 0x01, 0x00, 0x02};
        uint8_t dst[16] = {0x20, 0x01, 0x00, 0x02};
        src[15] = ch == 0 ? 0x10 : 0x11;
        dst[5] = ch == 0 ? 0 : 1;
        dst[15] = 1;
        const uint16_t sport = htons(ch == 0 ? 4000 : 5000);
        const uint16_t dport = htons(static_cast<uint16_t>((ch == 0 ? 30000 : 40000) + (rtcp ? 1 : 0)));
        ASSERT_NE(dp::record_copy6(ring_, static_cast<uint64_t>(ms) * 1'000'000, id, ch, rtcp, src, sport, dst, dport,
                                   p.data(), static_cast<uint32_t>(p.size())),
                  nullptr);
        ring_.commit();
        if (ring_.committed() - ring_.consumed() > ring_.capacity() / 2) {
            rec_->poll(std::chrono::steady_clock::now());
        }
    }

    void open(uint32_t id, const std::string& base, channels layout = channels::dual, bool first = false,
              int64_t start_ms = 0) {
        open_request o;
        o.id = id;
        o.base = base;
        o.layout = layout;
        o.from_first_packet = first;
        o.start_ns = t0_ns + start_ms * 1'000'000;
        rec_->open(o);
        rec_->poll(std::chrono::steady_clock::now());
    }
    void close(uint32_t id, int64_t stop_ms, const std::string& why = "deleted") {
        close_request c;
        c.id = id;
        c.stop_ns = t0_ns + stop_ms * 1'000'000;
        c.reason = why;
        c.call_json = R"({"call-id":"c-)" + std::to_string(id) + R"("})";
        rec_->close(c);
    }

    struct pcap_read {
        int linktype = 0;
        std::vector<std::vector<uint8_t>> payloads;  // UDP payloads
        std::vector<int64_t> times_ns;
        std::vector<uint16_t> dst_ports;
        std::vector<bool> v6;                       // the packet is IPv6
        std::vector<std::vector<uint8_t>> packets;  // whole, from the IP header on
    };
    // RFC 8200's check of an IPv6/UDP packet: the one's complement sum over the pseudo-header
    // and the datagram, its checksum included, is 0xffff when the checksum is right.
    static uint32_t udp6_sum(const u_char* d, uint32_t n) {
        uint32_t sum = 0;
        auto add = [&sum](const u_char* b, uint32_t len) {
            for (uint32_t i = 0; i < len; i += 2) {
                sum += static_cast<uint32_t>(b[i] << 8 | (i + 1 < len ? b[i + 1] : 0));
            }
        };
        add(d + 8, 32);
        const uint32_t ulen = static_cast<uint32_t>(d[44] << 8 | d[45]);
        sum += ulen + 17;
        add(d + 40, std::min(ulen, n - 40));
        while (sum >> 16) {
            sum = (sum & 0xffff) + (sum >> 16);
        }
        return sum;
    }
    pcap_read read_pcap(const std::string& path) {
        pcap_read r;
        char err[PCAP_ERRBUF_SIZE];
        pcap_t* p = pcap_open_offline(path.c_str(), err);
        EXPECT_NE(p, nullptr) << err;
        if (p == nullptr) {
            return r;
        }
        r.linktype = pcap_datalink(p);
        pcap_pkthdr* h;
        const u_char* d;
        while (pcap_next_ex(p, &h, &d) == 1) {
            const bool v6 = (d[0] >> 4) == 6;
            if (v6) {
                EXPECT_EQ(d[0], 0x60);
                EXPECT_EQ(d[6], 17);
                EXPECT_EQ(d[4] << 8 | d[5], static_cast<int>(h->len) - 40) << "IPv6 payload length";
                EXPECT_EQ(udp6_sum(d, h->caplen), 0xffff) << "a UDP checksum that verifies";
            } else {
                EXPECT_EQ(d[0], 0x45);
                EXPECT_EQ(d[9], 17);
            }
            const uint32_t ip_len = v6 ? 40 : 20;
            r.v6.push_back(v6);
            r.packets.emplace_back(d, d + h->caplen);
            r.payloads.emplace_back(d + ip_len + 8, d + h->caplen);
            r.times_ns.push_back(static_cast<int64_t>(h->ts.tv_sec) * 1'000'000'000 + h->ts.tv_usec * 1000);
            r.dst_ports.push_back(static_cast<uint16_t>(d[ip_len + 2] << 8 | d[ip_len + 3]));
        }
        pcap_close(p);
        return r;
    }
    // The WAV's samples, channel by channel.
    std::vector<std::vector<int16_t>> read_wav(const std::string& path, SF_INFO* info) {
        *info = {};
        SNDFILE* f = sf_open(path.c_str(), SFM_READ, info);
        EXPECT_NE(f, nullptr) << sf_strerror(nullptr);
        std::vector<std::vector<int16_t>> out(static_cast<size_t>(f != nullptr ? info->channels : 0));
        if (f == nullptr) {
            return out;
        }
        std::vector<int16_t> frames(static_cast<size_t>(info->frames * info->channels));
        sf_readf_short(f, frames.data(), info->frames);
        sf_close(f);
        for (sf_count_t i = 0; i < info->frames; ++i) {
            for (int c = 0; c < info->channels; ++c) {
                out[static_cast<size_t>(c)].push_back(frames[static_cast<size_t>(i * info->channels + c)]);
            }
        }
        return out;
    }
    static std::vector<int16_t> slice(const std::vector<int16_t>& s, double from_s, double to_s) {
        return {s.begin() + static_cast<long>(from_s * 8000), s.begin() + static_cast<long>(to_s * 8000)};
    }
    static bool silent(const std::vector<int16_t>& s) {
        for (int16_t v : s) {
            if (v != 0) {
                return false;
            }
        }
        return true;
    }

    std::string dir_;
    dp::record_ring ring_{1 << 20};
    std::unique_ptr<recorder> rec_;
};

TEST_F(recorder_test, a_dual_call_becomes_pcap_wav_and_json_in_done) {
    make();
    open(7, "calls/one");
    EXPECT_EQ(::access((dir_ + "/calls/one.pcap").c_str(), F_OK), 0) << "files exist from the start";
    // Leg 1: 440 Hz for 2 s from 100 ms; leg 2: 1000 Hz for 1 s from 600 ms; an RTCP each.
    std::vector<std::vector<uint8_t>> sent;
    for (uint16_t k = 0; k < 100; ++k) {
        sent.push_back(tone_packet(0x1111, k, 440));
        send(7, 0, sent.back(), 100 + 20 * k);
        if (k < 50) {
            send(7, 1, tone_packet(0x2222, k, 1000), 600 + 20 * k);
        }
    }
    send(7, 0, {0x80, 200, 0, 6, 0, 0, 0x11, 0x11}, 2200, true);
    close(7, 3000);
    rec_->stop();

    EXPECT_NE(::access((dir_ + "/calls/one.pcap").c_str(), F_OK), 0) << "moved away from the active area";
    const std::string done = dir_ + "/done/calls/one";
    const pcap_read p = read_pcap(done + ".pcap");
    EXPECT_EQ(p.linktype, DLT_RAW);
    ASSERT_EQ(p.payloads.size(), 151u);
    size_t leg1 = 0;
    int64_t last = 0;
    for (size_t i = 0; i < p.payloads.size(); ++i) {
        if (p.dst_ports[i] == 30000) {
            EXPECT_EQ(p.payloads[i], sent[leg1]) << "packet " << i;
            EXPECT_EQ(p.times_ns[i], t0_ns + (100 + 20 * static_cast<int64_t>(leg1)) * 1'000'000) << "arrival time";
            EXPECT_GT(p.times_ns[i], last) << "in order";
            last = p.times_ns[i];
            ++leg1;
        }
    }
    EXPECT_EQ(leg1, 100u);
    EXPECT_EQ(p.times_ns.front(), t0_ns + 100'000'000);

    SF_INFO info;
    const auto ch = read_wav(done + ".wav", &info);
    ASSERT_EQ(info.channels, 2);
    EXPECT_EQ(info.samplerate, 8000);
    EXPECT_EQ(info.frames, 3 * 8000) << "as long as the recording";
    EXPECT_TRUE(silent(slice(ch[0], 0, 0.1))) << "before leg 1's first packet";
    const auto a = slice(ch[0], 0.2, 2.0);
    EXPECT_GT(power_at(a, 440), 100 * power_at(a, 1000));
    EXPECT_TRUE(silent(slice(ch[0], 2.1, 3.0)));
    const auto b = slice(ch[1], 0.7, 1.5);
    EXPECT_GT(power_at(b, 1000), 100 * power_at(b, 440));
    EXPECT_TRUE(silent(slice(ch[1], 0, 0.6)));
    EXPECT_TRUE(silent(slice(ch[1], 1.61, 3.0)));

    const std::string json = read_file(done + ".json");
    EXPECT_NE(json.find("\"status\": \"complete\""), std::string::npos) << json;
    EXPECT_NE(json.find("\"call-id\":\"c-7\""), std::string::npos) << json;
    EXPECT_NE(json.find("\"stop reason\": \"deleted\""), std::string::npos) << json;
    EXPECT_NE(json.find("\"packets\": 100"), std::string::npos) << json;
    EXPECT_NE(json.find("\"packets\": 151"), std::string::npos) << json;
    EXPECT_NE(json.find(done + ".wav"), std::string::npos) << json;
    for (const char* ext : {".pcap", ".wav", ".json"}) {
        struct stat st {};
        ASSERT_EQ(::stat((done + ext).c_str(), &st), 0) << ext;
        EXPECT_EQ(st.st_mode & 0777, 0600u) << ext;
    }
    const recorder_counters c = rec_->counters();
    EXPECT_EQ(c.started, 1u);
    EXPECT_EQ(c.finished, 1u);
    EXPECT_EQ(c.failed, 0u);
    EXPECT_EQ(c.active, 0u);
    EXPECT_EQ(c.packets, 151u);
    EXPECT_GT(c.bytes, 48000u);
}

TEST_F(recorder_test, a_state_file_is_rewritten_only_when_what_it_holds_changes) {
    make();
    const std::string state = dir_ + "/st-1.state";
    auto inode = [&state] {
        struct stat sb {};
        EXPECT_EQ(::stat(state.c_str(), &sb), 0) << state;
        return sb.st_ino;
    };
    update_request u;
    u.id = 1;
    u.call_json = R"({"call-id": "st-1", "sdps": 1})";
    u.legs = {{media_endpoint::v4(0x010012c6u, htons(30000)), 0}};
    open_request o;
    o.id = 1;
    o.base = "st-1";
    o.start_ns = t0_ns;
    rec_->open(o);
    rec_->update(u);  // an open comes with the call's description
    rec_->poll(std::chrono::steady_clock::now());
    EXPECT_NE(read_file(state).find(R"(call {"call-id": "st-1", "sdps": 1})"), std::string::npos) << read_file(state);
    EXPECT_NE(read_file(state).find("leg 0 198.18.0.1 30000"), std::string::npos) << read_file(state);
    const ino_t first = inode();

    rec_->update(u);  // an NG request that changed nothing the file holds
    rec_->poll(std::chrono::steady_clock::now());
    EXPECT_EQ(inode(), first) << "not written again";

    u.call_json = R"({"call-id": "st-1", "sdps": 2})";
    rec_->update(u);
    rec_->poll(std::chrono::steady_clock::now());
    EXPECT_NE(inode(), first) << "replaced (renamed over)";
    EXPECT_NE(read_file(state).find(R"("sdps": 2)"), std::string::npos) << read_file(state);
    const ino_t second = inode();

    u.legs.push_back({media_endpoint::v4(0x010112c6u, htons(40000)), 1});  // a leg came
    rec_->update(u);
    rec_->poll(std::chrono::steady_clock::now());
    EXPECT_NE(inode(), second);
    EXPECT_NE(read_file(state).find("leg 1 198.18.1.1 40000"), std::string::npos) << read_file(state);

    close(1, 100);
    rec_->stop();
    EXPECT_FALSE(std::ifstream(state).good()) << "gone with the recording into done/";
}

TEST_F(recorder_test, a_bridged_call_has_both_families_in_one_pcap_and_its_wav) {
    make();
    open(8, "bridged");
    // Leg 1 over IPv4: 440 Hz for 1 s; leg 2 over IPv6: 1000 Hz for 1 s; an RTCP over IPv6.
    std::vector<std::vector<uint8_t>> sent4, sent6;
    for (uint16_t k = 0; k < 50; ++k) {
        sent4.push_back(tone_packet(0x1111, k, 440));
        send(8, 0, sent4.back(), 100 + 20 * k);
        sent6.push_back(tone_packet(0x2222, k, 1000));
        send6(8, 1, sent6.back(), 110 + 20 * k);
    }
    const std::vector<uint8_t> rtcp = {0x80, 200, 0, 6, 0, 0, 0x22, 0x22, 1, 2, 3};  // odd length
    send6(8, 1, rtcp, 1200, true);
    close(8, 2000);
    rec_->stop();

    const std::string done = dir_ + "/done/bridged";
    const pcap_read p = read_pcap(done + ".pcap");
    EXPECT_EQ(p.linktype, DLT_RAW) << "one link type for both families";
    ASSERT_EQ(p.payloads.size(), 101u);
    size_t n4 = 0, n6 = 0;
    for (size_t i = 0; i < p.payloads.size(); ++i) {
        if (!p.v6[i]) {
            EXPECT_EQ(p.dst_ports[i], 30000);
            EXPECT_EQ(p.payloads[i], sent4[n4++]) << "packet " << i;
            continue;
        }
        const std::vector<uint8_t>& whole = p.packets[i];
        const uint8_t relay_b[16] = {0x20, 0x01, 0x00, 0x02, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
        EXPECT_EQ(std::memcmp(whole.data() + 24, relay_b, 16), 0) << "to the relay's IPv6 address";
        EXPECT_EQ(whole[23], 0x11) << "from the sender's";
        EXPECT_EQ(whole[40] << 8 | whole[41], 5000) << "source port";
        if (n6 < sent6.size()) {
            EXPECT_EQ(p.dst_ports[i], 40000);
            EXPECT_EQ(p.payloads[i], sent6[n6]) << "packet " << i;
        } else {
            EXPECT_EQ(p.dst_ports[i], 40001);
            EXPECT_EQ(p.payloads[i], rtcp);
        }
        ++n6;
    }
    EXPECT_EQ(n4, 50u);
    EXPECT_EQ(n6, 51u);

    SF_INFO info;
    const auto ch = read_wav(done + ".wav", &info);
    ASSERT_EQ(info.channels, 2);
    EXPECT_EQ(info.frames, 2 * 8000);
    const auto a = slice(ch[0], 0.2, 1.0);
    EXPECT_GT(power_at(a, 440), 100 * power_at(a, 1000)) << "the IPv4 leg in channel 1";
    const auto b = slice(ch[1], 0.2, 1.0);
    EXPECT_GT(power_at(b, 1000), 100 * power_at(b, 440)) << "the IPv6 leg in channel 2";
    EXPECT_TRUE(silent(slice(ch[1], 1.2, 2.0)));

    const std::string json = read_file(done + ".json");
    EXPECT_NE(json.find("\"source\": \"[2001:2::11]:5000\""), std::string::npos) << json;
    EXPECT_NE(json.find("\"destination\": \"[2001:2:1::1]:40000\""), std::string::npos) << json;
    EXPECT_NE(json.find("\"destination\": \"[2001:2:1::1]:40001\""), std::string::npos) << json;
    EXPECT_NE(json.find("\"destination\": \"198.18.0.1:30000\""), std::string::npos) << json;
    EXPECT_NE(json.find("\"packets\": 101"), std::string::npos) << json;
    EXPECT_EQ(rec_->counters().packets, 101u);
}

TEST_F(recorder_test, a_cut_ipv6_packet_keeps_its_length_and_has_no_checksum) {
    make();
    open(9, "cut6");
    std::vector<uint8_t> big(1600, 0x5a);
    big[0] = 0x80;
    send6(9, 0, big, 100);
    close(9, 500);
    rec_->stop();
    pcap_t* p = nullptr;
    char err[PCAP_ERRBUF_SIZE];
    p = pcap_open_offline((dir_ + "/done/cut6.pcap").c_str(), err);
    ASSERT_NE(p, nullptr) << err;
    pcap_pkthdr* h;
    const u_char* d;
    ASSERT_EQ(pcap_next_ex(p, &h, &d), 1);
    EXPECT_EQ(h->len, 40u + 8 + 1600) << "the length it had";
    EXPECT_EQ(h->caplen, 40u + 8 + dp::record_slot_data) << "what the record kept";
    EXPECT_EQ(d[4] << 8 | d[5], 8 + 1600);
    EXPECT_EQ(d[46] << 8 | d[47], 0) << "a checksum over bytes not kept cannot be made";
    EXPECT_EQ(pcap_next_ex(p, &h, &d), PCAP_ERROR_BREAK);
    pcap_close(p);
}

TEST_F(recorder_test, mixed_sums_both_legs_into_one_channel) {
    make();
    open(1, "mixed");
    for (uint16_t k = 0; k < 50; ++k) {
        send(1, 0, tone_packet(1, k, 440), 20 * k);
        send(1, 1, tone_packet(2, k, 1000), 20 * k);
    }
    close(1, 1000);
    rec_->stop();
    SF_INFO info;
    const auto ch = read_wav(dir_ + "/done/mixed.wav", &info);
    ASSERT_EQ(info.channels, 2) << "dual asked";
    rec_.reset();
    ring_.release(ring_.committed());

    make();
    open(2, "mixed2", channels::mixed);
    for (uint16_t k = 0; k < 50; ++k) {
        send(2, 0, tone_packet(1, k, 440), 20 * k);
        send(2, 1, tone_packet(2, k, 1000), 20 * k);
    }
    close(2, 1000);
    rec_->stop();
    const auto m = read_wav(dir_ + "/done/mixed2.wav", &info);
    ASSERT_EQ(info.channels, 1);
    EXPECT_EQ(info.frames, 8000);
    const auto s = slice(m[0], 0.1, 0.9);
    EXPECT_GT(power_at(s, 440), 0.2 * power_at(s, 1000));
    EXPECT_GT(power_at(s, 1000), 0.2 * power_at(s, 440));
}

TEST_F(recorder_test, loss_and_a_pause_are_silence_of_their_length) {
    make();
    open(3, "gaps");
    // 0-1 s tone, then 1-1.5 s nothing (paused: no packet reaches the ring), then 1.5-2.5 s
    // tone again with timestamps that kept running, then packets 100..109 lost.
    for (uint16_t k = 0; k < 125; ++k) {
        if ((k >= 50 && k < 75) || (k >= 100 && k < 110)) {
            continue;
        }
        send(3, 0, tone_packet(9, k, 440), 20 * k);
    }
    close(3, 2500);
    rec_->stop();
    SF_INFO info;
    const auto ch = read_wav(dir_ + "/done/gaps.wav", &info);
    ASSERT_EQ(info.frames, 20000);
    EXPECT_FALSE(silent(slice(ch[0], 0.9, 1.0)));
    EXPECT_TRUE(silent(slice(ch[0], 1.0, 1.5)));
    EXPECT_FALSE(silent(slice(ch[0], 1.5, 1.6)));
    EXPECT_TRUE(silent(slice(ch[0], 2.0, 2.2)));
    EXPECT_FALSE(silent(slice(ch[0], 2.2, 2.3)));
}

TEST_F(recorder_test, from_ringing_starts_at_the_first_packet) {
    make();
    open(4, "ringing", channels::dual, true, 0);
    for (uint16_t k = 0; k < 25; ++k) {
        send(4, 1, tone_packet(5, k, 1000), 700 + 20 * k);
    }
    close(4, 1700);
    rec_->stop();
    SF_INFO info;
    read_wav(dir_ + "/done/ringing.wav", &info);
    EXPECT_EQ(info.frames, 8000) << "1.7 s after the offer, 1 s after the first packet";
    EXPECT_NE(read_file(dir_ + "/done/ringing.json").find("\"start\": \"2023-11-14T22:13:20.700000Z\""),
              std::string::npos);
}

TEST_F(recorder_test, open_files_stay_bounded_with_many_recordings) {
    make(4, {}, 1024);  // small batches: every recording's file is reopened many times
    const int before = open_fds();
    constexpr uint32_t calls = 60;
    for (uint32_t id = 1; id <= calls; ++id) {
        open(id, "many/" + std::to_string(id));
    }
    for (uint16_t k = 0; k < 40; ++k) {
        for (uint32_t id = 1; id <= calls; ++id) {
            send(id, static_cast<uint8_t>(k & 1), tone_packet(id, k, 440), 20 * k);
        }
        rec_->poll(std::chrono::steady_clock::now());
        EXPECT_LE(open_fds(), before + 4) << "at most max_open_files pcap files";
    }
    for (uint32_t id = 1; id <= calls; ++id) {
        close(id, 1000);
    }
    rec_->stop();
    EXPECT_EQ(open_fds(), before);
    for (uint32_t id = 1; id <= calls; ++id) {
        EXPECT_EQ(read_pcap(dir_ + "/done/many/" + std::to_string(id) + ".pcap").payloads.size(), 40u) << id;
    }
    EXPECT_EQ(rec_->counters().finished, calls);
}

// The open-files bound is fitted to the process' RLIMIT_NOFILE (in a child: lowering a hard
// limit cannot be undone): the soft limit is raised as far as the hard one allows, and what
// does not fit is cut, with the reason.
TEST(open_files_limit, raises_the_soft_limit_and_cuts_what_the_hard_one_does_not_hold) {
    auto child = [] {
        rlimit lim{};
        lim.rlim_cur = 150;
        lim.rlim_max = 300;
        bool ok = ::setrlimit(RLIMIT_NOFILE, &lim) == 0;
        std::string note;
        ok = ok && fit_open_files(100, 100, &note) == 100 && note.empty();
        ok = ok && ::getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur == 200 && lim.rlim_max == 300;
        ok = ok && fit_open_files(4096, 100, &note) == 200 && note.find("4096") != std::string::npos;
        ok = ok && ::getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur == 300;
        ok = ok && fit_open_files(4096, 1000, &note) == 1 && !note.empty();
        std::_Exit(ok ? 0 : 1);
    };
    EXPECT_EXIT(child(), ::testing::ExitedWithCode(0), "");
}

TEST_F(recorder_test, flushes_by_size_end_on_64_kib_boundaries_and_keep_every_packet) {
    // No age flush in this test (an hour): every write is one by size, which ends the file on
    // a boundary of pcap_store::write_align; the bytes past it wait for the next write, and the
    // close writes them all.
    recorder_config c;
    c.dir = dir_;
    c.flush_bytes = 64 * 1024;
    c.flush_every = std::chrono::hours(1);
    c.unix_ns0 = t0_ns;
    c.tsc_hz = hz;
    rec_ = std::make_unique<recorder>(c, std::vector<dp::record_ring*>{&ring_}, nullptr);
    open(1, "aligned");
    const std::string path = dir_ + "/aligned.pcap";
    constexpr uint16_t packets = 1200;  // 216 bytes each in the file: ~4 writes
    std::vector<off_t> sizes;
    for (uint16_t k = 0; k < packets; ++k) {
        send(1, static_cast<uint8_t>(k & 1), tone_packet(1, k, 440), 20 * k);
        if (k % 50 == 49) {
            rec_->poll(std::chrono::steady_clock::now());
            struct stat st {};
            ASSERT_EQ(::stat(path.c_str(), &st), 0);
            if (sizes.empty() || sizes.back() != st.st_size) {
                sizes.push_back(st.st_size);
            }
        }
    }
    ASSERT_GE(sizes.size(), 4u) << "the header, then at least three writes";
    EXPECT_EQ(sizes[0], 24) << "the pcap file header alone";
    for (size_t i = 1; i < sizes.size(); ++i) {
        EXPECT_EQ(sizes[i] % static_cast<off_t>(pcap_store::write_align), 0) << sizes[i];
    }
    close(1, 20 * packets);
    rec_->stop();
    const pcap_read r = read_pcap(dir_ + "/done/aligned.pcap");
    ASSERT_EQ(r.payloads.size(), packets);
    for (uint16_t k = 0; k < packets; ++k) {
        EXPECT_EQ(r.payloads[k], tone_packet(1, k, 440)) << k;
    }
    struct stat st {};
    ASSERT_EQ(::stat((dir_ + "/done/aligned.pcap").c_str(), &st), 0);
    EXPECT_EQ(st.st_size, 24 + 216 * packets) << "each record once: header 16, IPv4/UDP 28, RTP 172";
}

TEST_F(recorder_test, a_write_error_fails_that_recording_only) {
    make(256, {}, 4096);
    open(1, "big");
    open(2, "small");
    // A file size limit stands in for a full disk (the e2e test uses a real tmpfs): writes past
    // it fail with EFBIG instead of raising SIGXFSZ.
    struct rlimit old {};
    getrlimit(RLIMIT_FSIZE, &old);
    auto prev = std::signal(SIGXFSZ, SIG_IGN);
    struct rlimit lim = old;
    lim.rlim_cur = 40 * 1024;
    setrlimit(RLIMIT_FSIZE, &lim);
    for (uint16_t k = 0; k < 400; ++k) {
        send(1, 0, tone_packet(1, k, 440), 20 * k);
        if (k < 20) {
            send(2, 0, tone_packet(2, k, 440), 20 * k);
        }
    }
    rec_->poll(std::chrono::steady_clock::now());  // writes: "big" fails
    EXPECT_NE(rec_->failure(1).find("File too large"), std::string::npos) << rec_->failure(1);
    EXPECT_EQ(rec_->failure(2), "");
    close(1, 8000);
    close(2, 8000);
    rec_->poll(std::chrono::steady_clock::now());  // closes both
    setrlimit(RLIMIT_FSIZE, &old);
    std::signal(SIGXFSZ, prev);
    rec_->stop();
    const recorder_counters c = rec_->counters();
    EXPECT_GE(c.failed, 1u);
    EXPECT_GT(c.packets_lost, 0u);
    EXPECT_EQ(rec_->failure(1), "") << "forgotten once closed: the metadata has it";
    EXPECT_EQ(read_pcap(dir_ + "/done/small.pcap").payloads.size(), 20u) << "the other recording is whole";
    const std::string json = read_file(dir_ + "/done/big.json");
    EXPECT_NE(json.find("\"status\": \"failed\""), std::string::npos) << json;
    EXPECT_NE(json.find("File too large"), std::string::npos) << json;
}

TEST_F(recorder_test, an_existing_file_is_never_overwritten) {
    make();
    { std::ofstream(dir_ + "/taken.pcap") << "keep me"; }
    open(1, "taken");
    EXPECT_NE(rec_->failure(1).find("File exists"), std::string::npos) << rec_->failure(1);
    send(1, 0, tone_packet(1, 0, 440), 0);
    close(1, 100);
    rec_->stop();
    EXPECT_EQ(read_file(dir_ + "/taken.pcap"), "keep me");
    EXPECT_EQ(rec_->counters().failed, 1u);
    EXPECT_EQ(rec_->counters().packets_lost, 1u);
}

TEST_F(recorder_test, packets_of_unknown_recordings_are_counted_and_skipped) {
    make();
    send(42, 0, tone_packet(1, 0, 440), 0);
    rec_->poll(std::chrono::steady_clock::now());
    EXPECT_EQ(rec_->counters().packets_lost, 1u);
    EXPECT_EQ(rec_->counters().packets, 0u);
}

TEST_F(recorder_test, the_command_runs_with_the_finished_paths) {
    const std::string out = dir_ + "/hook.out";
    const std::string script = dir_ + "/hook.sh";
    { std::ofstream(script) << "#!/bin/sh\necho \"$@\" >> " << out << "\n"; }
    ::chmod(script.c_str(), 0700);
    make(256, script + " --upload");
    open(1, "hooked");
    send(1, 0, tone_packet(1, 0, 440), 0);
    close(1, 100);
    rec_->stop();
    const std::string d = dir_ + "/done/hooked";
    EXPECT_EQ(read_file(out), "--upload " + d + ".pcap " + d + ".wav " + d + ".json\n");
    EXPECT_EQ(rec_->counters().commands_run, 1u);
    EXPECT_EQ(rec_->counters().commands_failed, 0u);
}

TEST_F(recorder_test, stop_closes_what_nobody_closed) {
    // The node's stop ends the recording now (wall clock): packet times near now, then.
    make(256, {}, 64 * 1024, unix_now_ns() - 200'000'000);
    open_request o;
    o.id = 1;
    o.base = "left-open";
    o.start_ns = unix_now_ns() - 200'000'000;
    rec_->open(o);
    send(1, 0, tone_packet(1, 0, 440), 0);
    rec_->stop();
    EXPECT_NE(read_file(dir_ + "/done/left-open.json").find("\"stop reason\": \"node stop\""), std::string::npos);
    EXPECT_EQ(read_pcap(dir_ + "/done/left-open.pcap").payloads.size(), 1u);
}

TEST_F(recorder_test, interleaved_recordings_are_written_as_each_alone) {
    // The recorder groups a ring's records per recording before it writes them: each file must
    // hold what it would hold had its call been the only one, byte for byte, flushes by size
    // in the middle of a group included. Recordings 1..5 interleaved (3 sometimes twice in a
    // row, 5 RTCP on every 7th), then each alone.
    make(256, {}, 4096);
    auto packets_of = [](uint32_t id, int i) {
        auto p = tone_packet(id, static_cast<uint16_t>(i), 300.0 + 100 * id);
        p.resize(p.size() - static_cast<size_t>((i * id) % 40));  // lengths vary
        return p;
    };
    auto send_of = [&](uint32_t rec_id, uint32_t id, int i) {
        const bool rtcp = id == 5 && i % 7 == 0;
        send(rec_id, static_cast<uint8_t>(i & 1), packets_of(id, i), i * 10, rtcp);
        if (id == 3 && i % 3 == 0) {
            send(rec_id, 1, packets_of(id, i + 1000), i * 10 + 1);
        }
    };
    for (uint32_t id = 1; id <= 5; ++id) {
        open(id, "mix-" + std::to_string(id));
    }
    for (int i = 0; i < 300; ++i) {
        for (uint32_t id = 1; id <= 5; ++id) {
            send_of(id, id, i);
        }
    }
    for (uint32_t id = 1; id <= 5; ++id) {
        close(id, 4000);
    }
    rec_->poll(std::chrono::steady_clock::now());
    for (uint32_t id = 1; id <= 5; ++id) {
        open(10 + id, "alone-" + std::to_string(id));
        for (int i = 0; i < 300; ++i) {
            send_of(10 + id, id, i);
        }
        close(10 + id, 4000);
        rec_->poll(std::chrono::steady_clock::now());
    }
    rec_->stop();
    for (uint32_t id = 1; id <= 5; ++id) {
        const std::string mixed = read_file(dir_ + "/done/mix-" + std::to_string(id) + ".pcap");
        EXPECT_GT(mixed.size(), 300u * 100) << id;
        EXPECT_TRUE(mixed == read_file(dir_ + "/done/alone-" + std::to_string(id) + ".pcap")) << id;
    }
}

TEST_F(recorder_test, the_thread_writes_while_packets_arrive) {
    make();
    rec_->start();
    open_request o;
    o.id = 5;
    o.base = "threaded";
    o.start_ns = t0_ns;
    rec_->open(o);
    for (uint16_t k = 0; k < 2000; ++k) {
        const auto p = tone_packet(5, k, 440);
        while (dp::record_copy(ring_, k * 20'000'000ull, 5, 0, false, 1, 2, 3, 4, p.data(), 172) == nullptr) {
            ring_.commit();
            usleep(100);
        }
        ring_.commit();
    }
    close(5, 40'000);
    rec_->stop();
    EXPECT_EQ(read_pcap(dir_ + "/done/threaded.pcap").payloads.size(), 2000u);
}

TEST(recording_directory, is_created_and_checked) {
    EXPECT_THROW(prepare_directory("relative/dir"), std::invalid_argument);
    EXPECT_THROW(prepare_directory("/proc/rtprelay-recordings"), std::invalid_argument);
    const std::string tmp = test_files::make_temp_dir("rtprelay-rec-dir");
    ASSERT_FALSE(tmp.empty());
    const std::string d = tmp + "/a/b";
    prepare_directory(d);
    struct stat st {};
    ASSERT_EQ(::stat((d + "/done").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0700u);
    ASSERT_TRUE(test_files::remove_tree(tmp));
}

}  // namespace
}  // namespace rtprelay::recording
