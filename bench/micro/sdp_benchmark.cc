// SDP as the control plane handles it per offer/answer: parse (control/sdp) and rewrite with
// the relay's addresses and ports, on offers as Kamailio forwards them from real phones and
// SBCs: one audio stream (G.711 + telephone-event), audio + video (H.264), each plain or
// with two a=crypto lines (AES_CM_128_HMAC_SHA1_80 and _32) that are parsed (control/sdes)
// and replaced by one line of the relay's own, as an SRTP leg needs. Times per SDP.
//
//   sdp_benchmark --benchmark_repetitions=5 --benchmark_report_aggregates_only=true

#include <benchmark/benchmark.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "control/sdes/crypto_attr.h"
#include "control/sdp/sdp.h"

namespace sdp = rtprelay::sdp;
namespace sdes = rtprelay::sdes;

namespace {

// Two SDES lines as a phone offers them: fresh 30-byte keys, lifetime 2^20.
std::string crypto_lines() {
    std::string out;
    uint32_t tag = 1;
    for (sdes::suite s : {sdes::suite::aes_cm_128_hmac_sha1_80, sdes::suite::aes_cm_128_hmac_sha1_32}) {
        sdes::crypto_attr a = sdes::fresh_attr(tag++, s, false);
        a.lifetime = uint64_t{1} << 20;
        out += "a=crypto:" + sdes::format_crypto(a) + "\r\n";
    }
    return out;
}

std::string audio_section(bool srtp) {
    std::string s = std::string("m=audio 16384 ") + (srtp ? "RTP/SAVP" : "RTP/AVP") + " 0 8 9 18 101\r\n";
    s += "c=IN IP4 198.51.100.10\r\n";
    s += "a=rtpmap:0 PCMU/8000\r\n"
         "a=rtpmap:8 PCMA/8000\r\n"
         "a=rtpmap:9 G722/8000\r\n"
         "a=rtpmap:18 G729/8000\r\n"
         "a=fmtp:18 annexb=no\r\n"
         "a=rtpmap:101 telephone-event/8000\r\n"
         "a=fmtp:101 0-16\r\n";
    if (srtp) {
        s += crypto_lines();
    }
    s += "a=rtcp:16385\r\n"
         "a=ptime:20\r\n"
         "a=maxptime:150\r\n"
         "a=sendrecv\r\n";
    return s;
}

std::string video_section(bool srtp) {
    std::string s = std::string("m=video 16386 ") + (srtp ? "RTP/SAVP" : "RTP/AVP") + " 99 100\r\n";
    s += "c=IN IP4 198.51.100.10\r\n"
         "b=AS:2048\r\n"
         "a=rtpmap:99 H264/90000\r\n"
         "a=fmtp:99 profile-level-id=42e01f;packetization-mode=1\r\n"
         "a=rtpmap:100 H264/90000\r\n"
         "a=fmtp:100 profile-level-id=42e01f;packetization-mode=0\r\n"
         "a=rtcp-fb:* nack\r\n"
         "a=rtcp-fb:* nack pli\r\n"
         "a=rtcp-fb:* ccm fir\r\n";
    if (srtp) {
        s += crypto_lines();
    }
    s += "a=rtcp:16387\r\n"
         "a=sendrecv\r\n";
    return s;
}

std::string offer(bool video, bool srtp) {
    std::string s =
        "v=0\r\n"
        "o=- 3912849173 3912849173 IN IP4 198.51.100.10\r\n"
        "s=SBC call\r\n"
        "c=IN IP4 198.51.100.10\r\n"
        "t=0 0\r\n"
        "a=sendrecv\r\n";
    s += audio_section(srtp);
    if (video) {
        s += video_section(srtp);
    }
    return s;
}

// What the session manager asks for on a relayed leg: every stream relayed, ICE removed,
// origin replaced, and on SRTP legs one a=crypto line of the relay's own.
sdp::rewrite_plan plan_for(const sdp::session_description& sd, bool srtp) {
    sdp::rewrite_plan plan;
    plan.replace_origin = true;
    plan.origin_address = "198.18.1.1";
    uint16_t port = 20000;
    for (size_t i = 0; i < sd.medias.size(); ++i) {
        sdp::media_plan m;
        m.address = "198.18.1.1";
        m.port = port;
        m.rtcp_port = static_cast<uint16_t>(port + 1);
        m.remove_ice = true;
        if (srtp) {
            m.replace_crypto = true;
            m.crypto.push_back(sdes::format_crypto(sdes::fresh_attr(1, sdes::suite::aes_cm_128_hmac_sha1_80, false)));
        }
        port = static_cast<uint16_t>(port + 2);
        plan.medias.push_back(std::move(m));
    }
    return plan;
}

void set_label(benchmark::State& state, const std::string& text) {
    state.SetLabel(std::to_string(text.size()) + " bytes");
    state.SetItemsProcessed(state.iterations());
}

// parse/<video>/<srtp>: sdp::parse, plus sdes::parse_crypto of every a=crypto line (what the
// session manager does with an SRTP offer before it can answer).
void parse(benchmark::State& state) {
    const bool video = state.range(0) != 0;
    const bool srtp = state.range(1) != 0;
    const std::string text = offer(video, srtp);
    std::string error;
    for (auto _ : state) {
        auto sd = sdp::parse(text, &error);
        if (!sd) {
            state.SkipWithError(error.c_str());
            break;
        }
        for (const sdp::media& m : sd->medias) {
            for (const sdp::crypto_line& c : m.crypto) {
                auto attr = sdes::parse_crypto(c.value, {}, &error);
                benchmark::DoNotOptimize(attr);
            }
        }
        benchmark::DoNotOptimize(sd);
    }
    set_label(state, text);
}

// rewrite/<video>/<srtp>: sdp::rewrite of an already parsed SDP with a ready plan.
void rewrite(benchmark::State& state) {
    const bool video = state.range(0) != 0;
    const bool srtp = state.range(1) != 0;
    const std::string text = offer(video, srtp);
    std::string error;
    const auto sd = sdp::parse(text, &error);
    if (!sd) {
        throw std::runtime_error("benchmark SDP does not parse: " + error);
    }
    const sdp::rewrite_plan plan = plan_for(*sd, srtp);
    for (auto _ : state) {
        auto out = sdp::rewrite(text, *sd, plan, &error);
        if (!out) {
            state.SkipWithError(error.c_str());
            break;
        }
        benchmark::DoNotOptimize(out);
    }
    set_label(state, text);
}

// parse_rewrite/<video>/<srtp>: both, plus making the plan (with a fresh SRTP key per
// stream on SRTP legs: one RAND_bytes per stream, as the relay does per leg).
void parse_rewrite(benchmark::State& state) {
    const bool video = state.range(0) != 0;
    const bool srtp = state.range(1) != 0;
    const std::string text = offer(video, srtp);
    std::string error;
    for (auto _ : state) {
        auto sd = sdp::parse(text, &error);
        if (!sd) {
            state.SkipWithError(error.c_str());
            break;
        }
        auto out = sdp::rewrite(text, *sd, plan_for(*sd, srtp), &error);
        if (!out) {
            state.SkipWithError(error.c_str());
            break;
        }
        benchmark::DoNotOptimize(out);
    }
    set_label(state, text);
}

void sdp_args(benchmark::internal::Benchmark* b) {
    b->ArgNames({"video", "srtp"});
    for (int video : {0, 1}) {
        for (int srtp : {0, 1}) {
            b->Args({video, srtp});
        }
    }
}

BENCHMARK(parse)->Apply(sdp_args);
BENCHMARK(rewrite)->Apply(sdp_args);
BENCHMARK(parse_rewrite)->Apply(sdp_args);

}  // namespace

BENCHMARK_MAIN();
