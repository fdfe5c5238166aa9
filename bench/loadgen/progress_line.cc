#include "bench/loadgen/progress_line.h"

#include <unistd.h>

#include <cstdio>

#include "bench/loadgen/clock.h"

namespace rtprelay::loadgen {

progress_line::progress_line() : enabled_(::isatty(STDERR_FILENO) == 1), next_ns_(mono_ns()) {}

bool progress_line::due() const { return enabled_ && mono_ns() >= next_ns_; }

void progress_line::show(const std::string& text) {
    if (!enabled_) {
        return;
    }
    // \r: back to column 0; ESC[K: erase the rest of a longer previous line.
    std::fprintf(stderr, "\r%s\x1b[K", text.c_str());
    std::fflush(stderr);
    shown_ = true;
    next_ns_ = mono_ns() + 1'000'000'000;
}

void progress_line::finish() {
    if (shown_) {
        std::fputc('\n', stderr);
        shown_ = false;
    }
}

}  // namespace rtprelay::loadgen
