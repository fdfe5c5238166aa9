#pragma once
// Levelled log lines to stderr ("rtprelay[info] ..."), which journald captures under
// systemd. Control plane only: the data plane never logs per packet.

#include <cstdio>
#include <string_view>

namespace rtprelay::log {

enum class level : int { error = 0, warning = 1, info = 2, debug = 3 };

inline level& threshold() {
    static level l = level::info;
    return l;
}

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

template <typename... Args>
void write(level l, const char* fmt, Args... args) {
    if (static_cast<int>(l) > static_cast<int>(threshold())) {
        return;
    }
    constexpr const char* tags[] = {"error", "warning", "info", "debug"};
    std::fprintf(stderr, "rtprelay[%s] ", tags[static_cast<int>(l)]);
    if constexpr (sizeof...(Args) == 0) {
        std::fputs(fmt, stderr);
    } else {
        std::fprintf(stderr, fmt, args...);
    }
    std::fputc('\n', stderr);
}

}  // namespace rtprelay::log

#define RLOG_ERROR(...) ::rtprelay::log::write(::rtprelay::log::level::error, __VA_ARGS__)
#define RLOG_WARN(...) ::rtprelay::log::write(::rtprelay::log::level::warning, __VA_ARGS__)
#define RLOG_INFO(...) ::rtprelay::log::write(::rtprelay::log::level::info, __VA_ARGS__)
#define RLOG_DEBUG(...) ::rtprelay::log::write(::rtprelay::log::level::debug, __VA_ARGS__)
