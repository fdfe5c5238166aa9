#include "control/recording/wav_render.h"

#include <fcntl.h>
#include <pcap/pcap.h>
#include <sndfile.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "control/recording/g711.h"
#include "control/recording/pcap_store.h"

namespace rtprelay::recording {

namespace {
constexpr int64_t rate = 8000;  // G.711 samples per second
// Samples kept per channel before they are written: 4.1 s, a power of two so that a sample's
// place in the window is a mask, not a division.
constexpr uint64_t window = 1 << 15;
constexpr uint64_t window_mask = window - 1;
// Frames handed to libsndfile at once: it writes each call's frames with one write() (no
// buffering of its own), so 1,024 made a system call per 4 KiB of dual audio; 8,192 make one
// per 32 KiB (~1 s of audio).
constexpr uint64_t frames_per_write = 8192;
constexpr int64_t reanchor_samples = 1600;  // 200 ms

// The RTP payload of a record, or false when it is not RTP this renderer places.
struct rtp_view {
    uint8_t pt = 0;
    uint32_t ts = 0;
    uint32_t ssrc = 0;
    const uint8_t* payload = nullptr;
    uint32_t len = 0;
};

bool parse_rtp(const uint8_t* p, uint32_t n, rtp_view* out) {
    if (n < 12 || (p[0] >> 6) != 2) {
        return false;
    }
    const uint8_t pt = p[1] & 0x7f;
    if (pt != 0 && pt != 8) {
        return false;  // not G.711 (telephone-event, comfort noise, RTCP on a muxed port)
    }
    uint32_t header = 12 + 4u * (p[0] & 0x0f);
    if ((p[0] & 0x10) != 0) {
        if (n < header + 4) {
            return false;
        }
        header += 4 + 4u * (static_cast<uint32_t>(p[header + 2]) << 8 | p[header + 3]);
    }
    uint32_t padding = 0;
    if ((p[0] & 0x20) != 0 && n > header) {
        padding = p[n - 1];
    }
    if (header + padding > n) {
        return false;
    }
    out->pt = pt;
    out->ts =
        static_cast<uint32_t>(p[4]) << 24 | static_cast<uint32_t>(p[5]) << 16 | static_cast<uint32_t>(p[6]) << 8 | p[7];
    out->ssrc = static_cast<uint32_t>(p[8]) << 24 | static_cast<uint32_t>(p[9]) << 16 |
                static_cast<uint32_t>(p[10]) << 8 | p[11];
    out->payload = p + header;
    out->len = n - header - padding;
    return true;
}

// Two legs' samples over a sliding window; what leaves the window is written to the file.
class timeline {
 public:
    timeline(SNDFILE* f, bool dual, uint64_t total) : f_(f), dual_(dual), total_(total), frames_(2 * frames_per_write) {
        for (auto& w : win_) {
            w.assign(window, 0);
        }
    }

    // Writes samples [pos, pos + n) of leg `ch` (later packets overwrite earlier ones).
    void place(int ch, int64_t pos, const int16_t* s, uint32_t n) {
        int64_t end = pos + n;
        if (end > static_cast<int64_t>(total_)) {
            end = static_cast<int64_t>(total_);
        }
        if (pos < static_cast<int64_t>(written_)) {
            s += static_cast<int64_t>(written_) - pos;
            pos = static_cast<int64_t>(written_);
        }
        if (pos >= end) {
            return;
        }
        if (static_cast<uint64_t>(end) > written_ + window) {
            advance(static_cast<uint64_t>(end) - window);
        }
        // At most two runs: up to the window's end, then from its start.
        for (auto p = static_cast<uint64_t>(pos); p < static_cast<uint64_t>(end);) {
            const uint64_t at = p & window_mask;
            const uint64_t n = std::min<uint64_t>(static_cast<uint64_t>(end) - p, window - at);
            std::memcpy(&win_[ch][at], s, n * sizeof(int16_t));
            s += n;
            p += n;
        }
    }

    // Writes out everything before `upto` (silence where nothing was placed).
    bool advance(uint64_t upto) {
        int16_t* frames = frames_.data();
        while (written_ < upto) {
            // One run of the window (it does not wrap inside), at most frames_per_write long.
            const uint64_t at = written_ & window_mask;
            const uint64_t n = std::min({upto - written_, frames_per_write, window - at});
            const int16_t* a = &win_[0][at];
            const int16_t* b = &win_[1][at];
            if (dual_) {
                for (uint64_t k = 0; k < n; ++k) {
                    frames[2 * k] = a[k];
                    frames[2 * k + 1] = b[k];
                }
            } else {
                for (uint64_t k = 0; k < n; ++k) {
                    frames[k] = static_cast<int16_t>(std::clamp(a[k] + b[k], -32768, 32767));
                }
            }
            std::memset(&win_[0][at], 0, n * sizeof(int16_t));
            std::memset(&win_[1][at], 0, n * sizeof(int16_t));
            if (sf_writef_short(f_, frames, static_cast<sf_count_t>(n)) != static_cast<sf_count_t>(n)) {
                ok_ = false;
                return false;
            }
            written_ += n;
        }
        return ok_;
    }
    bool ok() const { return ok_; }

 private:
    SNDFILE* f_;
    bool dual_;
    uint64_t total_;
    uint64_t written_ = 0;
    bool ok_ = true;
    std::vector<int16_t> win_[2];
    std::vector<int16_t> frames_;  // interleaved frames on their way to libsndfile
};

struct anchor {
    int ch;
    uint32_t ssrc;
    int64_t pos;
    uint32_t ts;
};
}  // namespace

wav_result render_wav(const wav_job& job) {
    wav_result r;
    char errbuf[PCAP_ERRBUF_SIZE] = {};
    pcap_t* in = pcap_open_offline(job.pcap_path.c_str(), errbuf);
    if (in == nullptr) {
        r.error = "cannot read " + job.pcap_path + ": " + errbuf;
        return r;
    }
    const int fd = ::open(job.wav_path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        r.error = "cannot create " + job.wav_path + ": " + std::strerror(errno);
        pcap_close(in);
        return r;
    }
    const bool dual = job.layout == channels::dual;
    SF_INFO info{};
    info.samplerate = static_cast<int>(rate);
    info.channels = dual ? 2 : 1;
    info.format = SF_FORMAT_WAV | SF_FORMAT_PCM_16;
    SNDFILE* out = sf_open_fd(fd, SFM_WRITE, &info, SF_TRUE);
    if (out == nullptr) {
        r.error = "cannot write " + job.wav_path + ": " + sf_strerror(nullptr);
        ::close(fd);
        pcap_close(in);
        return r;
    }
    uint64_t total = static_cast<uint64_t>(std::max<int64_t>(job.stop_ns - job.start_ns, 0)) * rate / 1'000'000'000;
    if (total > static_cast<uint64_t>(max_wav_seconds * rate)) {
        total = static_cast<uint64_t>(max_wav_seconds * rate);
        r.cut = true;
    }
    timeline tl(out, dual, total);
    std::vector<anchor> anchors;
    std::vector<int16_t> pcm;
    pcap_pkthdr* h = nullptr;
    const u_char* data = nullptr;
    while (pcap_next_ex(in, &h, &data) == 1) {
        record_udp u;
        if (!read_record_udp(data, h->caplen, h->len, &u)) {
            continue;
        }
        int ch = -1;
        for (const auto& l : job.legs) {
            if (l.dst == u.dst) {
                ch = l.channel > 0 ? 1 : 0;
            }
        }
        rtp_view v;
        if (ch < 0 || !parse_rtp(u.payload, u.len, &v)) {
            continue;
        }
        const int64_t at_ns =
            static_cast<int64_t>(h->ts.tv_sec) * 1'000'000'000 + static_cast<int64_t>(h->ts.tv_usec) * 1000;
        const int64_t arrival = (at_ns - job.start_ns) * rate / 1'000'000'000;
        anchor* a = nullptr;
        for (auto& x : anchors) {
            if (x.ch == ch && x.ssrc == v.ssrc) {
                a = &x;
            }
        }
        int64_t pos = arrival;
        if (a == nullptr) {
            anchors.push_back({ch, v.ssrc, arrival, v.ts});
        } else {
            const int64_t predicted = a->pos + static_cast<int32_t>(v.ts - a->ts);
            if (predicted - arrival > reanchor_samples || arrival - predicted > reanchor_samples) {
                *a = {ch, v.ssrc, arrival, v.ts};
            } else {
                pos = predicted;
            }
        }
        pcm.resize(v.len);
        g711_decode(v.pt, v.payload, v.len, pcm.data());
        tl.place(ch, pos, pcm.data(), v.len);
        ++r.packets;
    }
    pcap_close(in);
    tl.advance(total);
    if (!tl.ok()) {
        r.error = "cannot write " + job.wav_path + ": " + sf_strerror(out);
    }
    if (sf_close(out) != 0 && r.error.empty()) {
        r.error = "cannot write " + job.wav_path;
    }
    struct stat st {};
    if (::stat(job.wav_path.c_str(), &st) == 0) {
        r.bytes = static_cast<uint64_t>(st.st_size);
    }
    r.frames = total;
    return r;
}

}  // namespace rtprelay::recording
