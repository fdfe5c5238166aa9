#include "control/recording/state_file.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <sstream>

#include "control/recording/record_files.h"

namespace rtprelay::recording {

namespace {
constexpr std::string_view magic = "rtprelay-recording-state 1";
constexpr size_t max_legs = 64;

bool parse_int(std::string_view s, int64_t* out) {
    const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
    return ec == std::errc() && p == s.data() + s.size();
}

bool parse_flag(std::string_view s, bool* out) {
    if (s != "0" && s != "1") {
        return false;
    }
    *out = s == "1";
    return true;
}

// "<channel> <address> <port>"
bool parse_leg(std::string_view s, wav_channel_map* out) {
    const size_t a = s.find(' ');
    const size_t b = a == std::string_view::npos ? a : s.find(' ', a + 1);
    if (b == std::string_view::npos) {
        return false;
    }
    int64_t ch = 0, port = 0;
    if (!parse_int(s.substr(0, a), &ch) || ch < 0 || ch > 1 || !parse_int(s.substr(b + 1), &port) || port < 0 ||
        port > 65535) {
        return false;
    }
    const std::string addr(s.substr(a + 1, b - a - 1));
    const uint16_t port_be = htons(static_cast<uint16_t>(port));
    uint8_t bytes[16] = {};
    if (inet_pton(AF_INET, addr.c_str(), bytes) == 1) {
        uint32_t be = 0;
        std::memcpy(&be, bytes, 4);
        out->dst = media_endpoint::v4(be, port_be);
    } else if (inet_pton(AF_INET6, addr.c_str(), bytes) == 1) {
        out->dst = media_endpoint::v6_of(bytes, port_be);
    } else {
        return false;
    }
    out->channel = static_cast<uint8_t>(ch);
    return true;
}
}  // namespace

std::string format_state(const recording_state& s) {
    std::ostringstream o;
    o << magic << "\n";
    o << "id " << s.rec_id << "\n";
    o << "layout " << channels_name(s.layout) << "\n";
    o << "wav " << (s.wav ? 1 : 0) << "\n";
    o << "from-first-packet " << (s.from_first_packet ? 1 : 0) << "\n";
    o << "start-ns " << s.start_ns << "\n";
    for (const auto& l : s.legs) {
        char text[INET6_ADDRSTRLEN] = {};
        inet_ntop(l.dst.v6 ? AF_INET6 : AF_INET, l.dst.addr, text, sizeof text);
        o << "leg " << static_cast<unsigned>(l.channel) << " " << text << " " << ntohs(l.dst.port) << "\n";
    }
    if (!s.call_json.empty()) {
        std::string one_line = s.call_json;  // json_writer escapes control bytes in strings:
        for (char& c : one_line) {           // its own newlines are only layout
            if (c == '\n' || c == '\r') {
                c = ' ';
            }
        }
        o << "call " << one_line << "\n";
    }
    return o.str();
}

std::optional<recording_state> parse_state(const std::string& text, std::string* why) {
    auto refuse = [why](std::string reason) -> std::optional<recording_state> {
        *why = std::move(reason);
        return std::nullopt;
    };
    if (text.size() > max_state_file_bytes) {
        return refuse("state file too large");
    }
    recording_state s;
    bool have_start = false;
    size_t at = 0;
    size_t line_no = 0;
    while (at < text.size()) {
        const size_t end = text.find('\n', at);
        if (end == std::string::npos) {
            return refuse("state file ends in the middle of a line");
        }
        const std::string_view line(text.data() + at, end - at);
        at = end + 1;
        if (line_no++ == 0) {
            if (line != magic) {
                return refuse("not a recording state file");
            }
            continue;
        }
        const size_t sp = line.find(' ');
        const std::string_view key = line.substr(0, sp);
        const std::string_view value = sp == std::string_view::npos ? std::string_view() : line.substr(sp + 1);
        bool ok = true;
        if (key == "id") {
            ok = value.size() <= 64;
            s.rec_id = std::string(value);
        } else if (key == "layout") {
            const std::optional<channels> c = parse_channels(value);
            ok = c.has_value();
            s.layout = c.value_or(channels::dual);
        } else if (key == "wav") {
            ok = parse_flag(value, &s.wav);
        } else if (key == "from-first-packet") {
            ok = parse_flag(value, &s.from_first_packet);
        } else if (key == "start-ns") {
            ok = parse_int(value, &s.start_ns) && s.start_ns >= 0;
            have_start = ok;
        } else if (key == "leg") {
            wav_channel_map m;
            ok = s.legs.size() < max_legs && parse_leg(value, &m);
            s.legs.push_back(m);
        } else if (key == "call") {
            // Copied into the metadata as it is: one object, no control bytes.
            ok = value.size() >= 2 && value.front() == '{' && value.back() == '}';
            for (char c : value) {
                ok = ok && static_cast<unsigned char>(c) >= 0x20;
            }
            s.call_json = std::string(value);
        } else {
            ok = false;
        }
        if (!ok) {
            return refuse("bad line " + std::to_string(line_no) + " in the state file");
        }
    }
    if (line_no == 0 || !have_start) {
        return refuse("state file incomplete");
    }
    return s;
}

std::string write_state(const std::string& path, const recording_state& s) {
    const std::string tmp = path + ".tmp";
    ::unlink(tmp.c_str());  // a leftover of a write that died: never followed (unlink does not)
    if (std::string e = write_new(tmp, format_state(s)); !e.empty()) {
        return e;
    }
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
        const std::string e = std::strerror(errno);
        ::unlink(tmp.c_str());
        return "cannot replace " + path + ": " + e;
    }
    return {};
}

std::optional<recording_state> read_state(const std::string& path, std::string* why) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        *why = errno == ENOENT ? "no state file" : "cannot open the state file: " + std::string(std::strerror(errno));
        return std::nullopt;
    }
    struct stat st {};
    std::string text;
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > static_cast<off_t>(max_state_file_bytes)) {
        ::close(fd);
        *why = "the state file is not a regular file of at most 1 MiB";
        return std::nullopt;
    }
    text.resize(static_cast<size_t>(st.st_size));
    size_t got = 0;
    while (got < text.size()) {
        const ssize_t r = ::read(fd, text.data() + got, text.size() - got);
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r <= 0) {
            break;
        }
        got += static_cast<size_t>(r);
    }
    ::close(fd);
    text.resize(got);
    return parse_state(text, why);
}

}  // namespace rtprelay::recording
