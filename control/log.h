#pragma once
// Structured, levelled log lines to stderr, which journald captures under systemd. One
// event per line, logfmt style, so `journalctl -u rtprelay | grep call-id=X` and log
// shippers (Loki, Vector) can parse them without patterns:
//
//   level=info msg="call closed" call-id=a84b4c76e66710 reason=media_timeout duration=63.2
//
// Control plane only: the data plane never logs per packet. Values that come from the
// network (call-ids, tags, error text) are quoted and escaped, so a peer cannot forge a
// line or a key, and cut at max_value_bytes. Errors caused by untrusted input go through a
// rate_limiter (log_limiter.h) so a flood of bad requests cannot flood the journal.

#include <charconv>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <system_error>

namespace rtprelay::log {

enum class level : int { error = 0, warning = 1, info = 2, debug = 3 };

inline level& threshold() {
    static level l = level::info;
    return l;
}

inline bool enabled(level l) { return static_cast<int>(l) <= static_cast<int>(threshold()); }

// Parses "error|warning|info|debug"; false if unknown.
inline bool set_threshold(std::string_view name) {
    constexpr std::string_view names[] = {"error", "warning", "info", "debug"};
    for (int i = 0; i < 4; ++i) {
        if (names[i] == name) {
            threshold() = static_cast<level>(i);
            return true;
        }
    }
    return false;
}

inline const char* level_name(level l) {
    constexpr const char* names[] = {"error", "warning", "info", "debug"};
    return names[static_cast<int>(l)];
}

// Longest value written; longer ones end in "...". Call-ids are ~40 bytes in practice.
constexpr size_t max_value_bytes = 256;

// Appends `v` as a logfmt value: bare when it is a plain token, else in double quotes with
// `"` and `\` escaped and control or non-ASCII bytes as \xNN.
inline void append_value(std::string& out, std::string_view v) {
    bool bare = !v.empty() && v.size() <= max_value_bytes;
    for (char c : v) {
        const auto u = static_cast<unsigned char>(c);
        if (u <= ' ' || u >= 0x7f || c == '"' || c == '=' || c == '\\') {
            bare = false;
            break;
        }
    }
    if (bare) {
        out.append(v);
        return;
    }
    const bool cut = v.size() > max_value_bytes;
    if (cut) {
        v = v.substr(0, max_value_bytes);
    }
    out.push_back('"');
    for (char c : v) {
        const auto u = static_cast<unsigned char>(c);
        if (c == '"' || c == '\\') {
            out.push_back('\\');
            out.push_back(c);
        } else if (u < ' ' || u >= 0x7f) {
            char hex[5];
            std::snprintf(hex, sizeof hex, "\\x%02x", u);
            out.append(hex);
        } else {
            out.push_back(c);
        }
    }
    if (cut) {
        out.append("...");
    }
    out.push_back('"');
}

// One log line, written when the statement ends:
//   log::event(log::level::info, "call closed").field("call-id", id).field("reason", why);
// Costs nothing beyond the level check when the level is filtered out.
class event {
 public:
    event(level l, std::string_view msg) : on_(enabled(l)) {
        if (on_) {
            line_.reserve(128);
            line_.append("level=").append(level_name(l)).append(" msg=");
            append_value(line_, msg);
        }
    }
    ~event() {
        if (on_) {
            line_.push_back('\n');
            std::fwrite(line_.data(), 1, line_.size(), stderr);
        }
    }
    event(const event&) = delete;
    event& operator=(const event&) = delete;

    event& field(std::string_view key, std::string_view value) {
        if (on_) {
            line_.push_back(' ');
            line_.append(key).push_back('=');
            append_value(line_, value);
        }
        return *this;
    }
    event& field(std::string_view key, const char* value) { return field(key, std::string_view(value)); }
    event& field(std::string_view key, const std::string& value) { return field(key, std::string_view(value)); }
    // Numbers through std::to_chars, into the stack (no temporary string, no printf
    // parsing; every closed call logs a duration).
    event& field(std::string_view key, uint64_t value) { return number(key, value); }
    event& field(std::string_view key, int64_t value) { return number(key, value); }
    event& field(std::string_view key, unsigned value) { return field(key, static_cast<uint64_t>(value)); }
    event& field(std::string_view key, int value) { return field(key, static_cast<int64_t>(value)); }
    // "%.3f" (std::to_chars writes what printf would, rounding included).
    event& field(std::string_view key, double value) {
        char buf[32];
        auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value, std::chars_format::fixed, 3);
        if (ec != std::errc()) {  // above ~1e27: printf's text, cut to the buffer
            std::snprintf(buf, sizeof buf, "%.3f", value);
            return field(key, std::string_view(buf));
        }
        return field(key, std::string_view(buf, static_cast<size_t>(end - buf)));
    }
    // The line as built so far (tests).
    const std::string& text() const { return line_; }

 private:
    template <typename Int>
    event& number(std::string_view key, Int value) {
        char buf[24];
        auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
        (void)ec;  // 24 bytes hold any 64-bit integer
        return field(key, std::string_view(buf, static_cast<size_t>(end - buf)));
    }

    bool on_;
    std::string line_;
};

// printf-style messages for start-up and shutdown lines: the formatted text becomes msg.
template <typename... Args>
void write(level l, const char* fmt, Args... args) {
    if (!enabled(l)) {
        return;
    }
    if constexpr (sizeof...(Args) == 0) {
        const event e(l, fmt);
    } else {
        char buf[1024];
        std::snprintf(buf, sizeof buf, fmt, args...);
        const event e(l, buf);
    }
}

}  // namespace rtprelay::log

#define RLOG_ERROR(...) ::rtprelay::log::write(::rtprelay::log::level::error, __VA_ARGS__)
#define RLOG_WARN(...) ::rtprelay::log::write(::rtprelay::log::level::warning, __VA_ARGS__)
#define RLOG_INFO(...) ::rtprelay::log::write(::rtprelay::log::level::info, __VA_ARGS__)
#define RLOG_DEBUG(...) ::rtprelay::log::write(::rtprelay::log::level::debug, __VA_ARGS__)
