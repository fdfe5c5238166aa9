#include "control/recording/sdp_codecs.h"

#include <charconv>

namespace rtprelay::recording {

namespace {
struct static_type {
    int pt;
    const char* name;
    uint32_t rate;
};
// RFC 3551 section 6: the static audio payload types a trunk meets.
constexpr static_type static_types[] = {
    {0, "PCMU", 8000}, {3, "GSM", 8000}, {4, "G723", 8000},  {8, "PCMA", 8000},
    {9, "G722", 8000}, {13, "CN", 8000}, {18, "G729", 8000},
};

std::vector<std::string_view> words(std::string_view s) {
    std::vector<std::string_view> out;
    size_t i = 0;
    while (i < s.size()) {
        while (i < s.size() && s[i] == ' ') {
            ++i;
        }
        const size_t start = i;
        while (i < s.size() && s[i] != ' ') {
            ++i;
        }
        if (i > start) {
            out.push_back(s.substr(start, i - start));
        }
    }
    return out;
}

bool to_int(std::string_view s, int* v) {
    auto r = std::from_chars(s.data(), s.data() + s.size(), *v);
    return r.ec == std::errc() && r.ptr == s.data() + s.size();
}
}  // namespace

std::vector<sdp_media_codecs> codecs_of(std::string_view sdp) {
    std::vector<sdp_media_codecs> out;
    size_t at = 0;
    while (at < sdp.size()) {
        size_t end = sdp.find('\n', at);
        if (end == std::string_view::npos) {
            end = sdp.size();
        }
        std::string_view line = sdp.substr(at, end - at);
        at = end + 1;
        if (!line.empty() && line.back() == '\r') {
            line.remove_suffix(1);
        }
        if (line.rfind("m=", 0) == 0) {
            const auto w = words(line.substr(2));
            if (w.size() < 3) {
                continue;
            }
            sdp_media_codecs m;
            m.type = std::string(w[0]);
            m.proto = std::string(w[2]);
            for (size_t k = 3; k < w.size(); ++k) {
                sdp_codec c;
                if (!to_int(w[k], &c.payload_type)) {
                    continue;  // not RTP (udptl's "t38")
                }
                for (const auto& st : static_types) {
                    if (st.pt == c.payload_type) {
                        c.name = st.name;
                        c.rate = st.rate;
                    }
                }
                m.codecs.push_back(std::move(c));
            }
            out.push_back(std::move(m));
        } else if (line.rfind("a=rtpmap:", 0) == 0 && !out.empty()) {
            const auto w = words(line.substr(9));
            int pt = -1;
            if (w.size() < 2 || !to_int(w[0], &pt)) {
                continue;
            }
            const std::string_view enc = w[1];
            const size_t slash = enc.find('/');
            for (auto& c : out.back().codecs) {
                if (c.payload_type != pt) {
                    continue;
                }
                c.name = std::string(enc.substr(0, slash));
                int rate = 0;
                if (slash != std::string_view::npos) {
                    const std::string_view r = enc.substr(slash + 1);
                    to_int(r.substr(0, r.find('/')), &rate);
                }
                c.rate = rate > 0 ? static_cast<uint32_t>(rate) : 0;
            }
        }
    }
    return out;
}

bool has_g711(const std::vector<sdp_media_codecs>& medias) {
    for (const auto& m : medias) {
        if (m.type != "audio") {
            continue;
        }
        for (const auto& c : m.codecs) {
            if (c.name == "PCMU" || c.name == "PCMA") {
                return true;
            }
        }
        return false;
    }
    return false;
}

}  // namespace rtprelay::recording
