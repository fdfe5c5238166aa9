#pragma once
// A recording's WAV, made from its pcap once it is closed (finisher thread): G.711 RTP
// (PCMU/PCMA) decoded to 16-bit PCM at 8 kHz, one channel per leg (dual) or both legs summed
// (mixed), written with libsndfile.
//
// Time: sample 0 is the recording's start, the last sample its stop, so the file lasts as
// long as the recording did. Each stream (leg and SSRC) is placed by its RTP timestamps,
// anchored at the arrival time of its first packet and re-anchored at the arrival time
// whenever the timestamps disagree with it by more than 200 ms (a new talk spurt clock, a
// restarted sender). What no packet covers (loss, pause, silence suppression, the other
// codecs, RTCP) is silence. Memory: a 4.1-second window per channel, whatever the length.
// A recording longer than max_wav_seconds (a clock that jumped, a call nobody ended) has its
// WAV cut there (wav_result::cut; the pcap keeps everything).

#include <cstdint>
#include <string>
#include <vector>

#include "control/recording/media_endpoint.h"
#include "control/recording/policy.h"

namespace rtprelay::recording {

constexpr int64_t max_wav_seconds = 24 * 3600;  // 24 h: 1.4 GB of dual 16-bit audio

struct wav_channel_map {
    media_endpoint dst;   // the relay's address and port the leg's packets arrived at (as in the pcap)
    uint8_t channel = 0;  // 0 = the offerer's leg, 1 = the answerer's

    bool operator==(const wav_channel_map&) const = default;
};

struct wav_job {
    std::string pcap_path;
    std::string wav_path;  // created 0600, never over an existing file
    int64_t start_ns = 0;  // Unix time of sample 0
    int64_t stop_ns = 0;   // Unix time of the end
    channels layout = channels::dual;
    std::vector<wav_channel_map> legs;
};

struct wav_result {
    std::string error;     // empty = written
    uint64_t bytes = 0;    // size of the file
    uint64_t frames = 0;   // samples per channel
    uint64_t packets = 0;  // G.711 packets placed
    bool cut = false;      // longer than max_wav_seconds
};

wav_result render_wav(const wav_job& job);

}  // namespace rtprelay::recording
