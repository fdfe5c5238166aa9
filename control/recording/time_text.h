#pragma once
// Times in recording metadata: Unix nanoseconds as ISO 8601 UTC with microseconds
// ("2025-01-31T12:00:00.123456Z"), what people and JSON tools read without a lookup.

#include <cstdint>
#include <cstdio>
#include <ctime>
#include <string>

namespace rtprelay::recording {

inline std::string time_text(int64_t unix_ns) {
    const std::time_t secs = static_cast<std::time_t>(unix_ns / 1'000'000'000);
    std::tm t{};
    gmtime_r(&secs, &t);
    char buf[48];
    const size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &t);
    std::snprintf(buf + n, sizeof buf - n, ".%06dZ", static_cast<int>((unix_ns % 1'000'000'000) / 1000));
    return buf;
}

inline int64_t unix_now_ns() {
    timespec ts{};
    clock_gettime(CLOCK_REALTIME, &ts);
    return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

}  // namespace rtprelay::recording
