#include "control/recording/recovery.h"

#include <fcntl.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <unordered_set>

#include "control/recording/completion.h"
#include "control/recording/json_writer.h"
#include "control/recording/pcap_store.h"
#include "control/recording/state_file.h"
#include "control/recording/stream_stats.h"
#include "control/recording/time_text.h"

namespace rtprelay::recording {

namespace {
namespace fs = std::filesystem;

// Reads the pcap behind `fd` with libpcap up to the first record it cannot read, counting
// streams; returns the offset where the readable part ends (0: no readable file header).
int64_t read_pcap(int fd, const recording_state* st, std::vector<stream_stats>* streams, bool* g711, uint64_t* packets,
                  std::string* error) {
    const int copy = ::dup(fd);
    FILE* f = copy >= 0 ? ::fdopen(copy, "rb") : nullptr;
    if (f == nullptr) {
        if (copy >= 0) {
            ::close(copy);
        }
        *error = std::strerror(errno);
        return 0;
    }
    char errbuf[PCAP_ERRBUF_SIZE] = {};
    pcap_t* in = pcap_fopen_offline(f, errbuf);  // owns f from here
    if (in == nullptr) {
        std::fclose(f);
        *error = std::string("not a pcap file libpcap reads: ") + errbuf;
        return 0;
    }
    int64_t good = std::ftell(pcap_file(in));
    pcap_pkthdr* h = nullptr;
    const u_char* d = nullptr;
    stream_hints hints;
    while (pcap_next_ex(in, &h, &d) == 1) {
        good = std::ftell(pcap_file(in));
        ++*packets;
        const int64_t ns =
            static_cast<int64_t>(h->ts.tv_sec) * 1'000'000'000 + static_cast<int64_t>(h->ts.tv_usec) * 1000;
        record_udp u;
        if (!read_record_udp(d, h->caplen, h->len, &u)) {
            continue;
        }
        // RTCP: packet types 200..204 (RFC 5761 4), the way the relay tells them apart on a muxed port.
        const bool rtcp = u.len >= 2 && u.payload[1] >= 200 && u.payload[1] <= 204;
        uint8_t channel = 0;  // the leg whose relay address the packet arrived at
        if (st != nullptr) {
            for (const auto& l : st->legs) {
                channel = l.dst == u.dst ? l.channel : channel;
            }
        }
        stream_stats& s = stream_of(*streams, channel, rtcp, u.src, u.dst, ns, hints);
        *g711 = count_packet(s, u.payload, u.len, u.orig_len, ns) || *g711;
    }
    pcap_close(in);
    return good;
}
}  // namespace

std::vector<std::string> find_left_open(const std::string& dir) {
    std::vector<std::string> out;
    std::unordered_set<std::string> seen;  // a base has several files: one entry
    std::error_code ec;
    fs::recursive_directory_iterator it(dir, fs::directory_options::skip_permission_denied, ec);
    const fs::path done = fs::path(dir) / "done";
    for (; !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
        const fs::directory_entry& e = *it;
        std::error_code sec;
        const fs::file_status s = e.symlink_status(sec);  // never through a symlink
        if (sec) {
            continue;
        }
        if (fs::is_directory(s)) {
            if (e.path() == done || it.depth() >= max_depth) {
                it.disable_recursion_pending();
            }
            continue;
        }
        const std::string rel = e.path().lexically_relative(dir).string();
        std::string base;
        // "sub/.pcap" has no base name; names starting with '.' are not recordings.
        if (!fs::is_regular_file(s) || !base_of_left_file(rel, &base) || base.back() == '/' || base.front() == '.' ||
            base.rfind("done/", 0) == 0) {
            continue;
        }
        if (seen.insert(base).second) {
            out.push_back(std::move(base));
        }
        if (out.size() >= max_left_open) {
            break;
        }
    }
    return out;
}

finish_job recover_recording(const std::string& dir, const std::string& base, int64_t now_ns, recovery_report* report) {
    finish_job job;
    job.base = base;
    job.recovered = true;
    const std::string pcap_path = dir + "/" + base + ".pcap";
    // What a finisher that died with the node had begun: made again from the pcap.
    ::unlink((dir + "/" + base + ".wav").c_str());
    ::unlink((dir + "/" + base + ".json").c_str());  // not committed (completion.h): not final
    ::unlink((dir + "/" + base + ".json.tmp").c_str());
    std::string state_error;
    std::optional<recording_state> st = read_state(dir + "/" + base + ".state", &state_error);
    report->state_error = st ? std::string() : state_error;

    std::vector<stream_stats> streams;
    bool g711 = false;
    const int fd = ::open(pcap_path.c_str(), O_RDWR | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
    struct stat sb {};
    if (fd < 0 || ::fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        job.failed = true;
        job.error = "cannot open " + pcap_path + ": " + (fd < 0 ? std::strerror(errno) : "not a regular file");
        if (fd >= 0) {
            ::close(fd);
        }
        return job;  // nothing of ours to move: have_pcap stays false
    }
    job.have_pcap = true;
    std::string read_error;
    const int64_t good = read_pcap(fd, st ? &*st : nullptr, &streams, &g711, &report->packets, &read_error);
    if (good <= 0) {
        job.failed = true;
        job.error = read_error;
    } else if (good < sb.st_size) {
        // The death cut a record short: drop it, so the file ends on a whole record.
        if (::ftruncate(fd, good) == 0) {
            report->bytes_cut = static_cast<uint64_t>(sb.st_size - good);
        } else {
            job.failed = true;
            job.error = "cannot cut the partial last record of " + pcap_path + ": " + std::strerror(errno);
        }
    }
    ::close(fd);

    int64_t first = 0, last = 0;
    for (const auto& s : streams) {
        first = first == 0 || s.first_ns < first ? s.first_ns : first;
        last = s.last_ns > last ? s.last_ns : last;
    }
    const int64_t start = st && !(st->from_first_packet && first != 0) ? st->start_ns : first;
    const int64_t stop = last > start ? last : start;
    job.wav = !job.failed && st.has_value() && (st->wav || g711);
    if (st) {
        job.audio.layout = st->layout;
        job.audio.legs = st->legs;
        job.call_json = st->call_json;
    }
    job.audio.start_ns = start;
    job.audio.stop_ns = stop;

    json_writer w;
    w.begin_object();
    if (st) {
        w.key("channels").value(channels_name(st->layout));
    }
    w.key("start").value(time_text(start));
    w.key("stop").value(time_text(stop));
    w.key("duration").value(static_cast<double>(stop - start) / 1e9);
    w.key("stop reason").value("node died");
    w.key("recovered").begin_object();
    w.key("time").value(time_text(now_ns));
    w.key("partial record bytes cut").value(report->bytes_cut);
    if (!report->state_error.empty()) {
        w.key("state file").value(report->state_error + ": no WAV, no call details");
    }
    w.end_object();
    write_streams(w, streams);
    w.end_object();
    job.recording_json = w.take();
    return job;
}

}  // namespace rtprelay::recording
