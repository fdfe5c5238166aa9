#include "bench/pipeline/perf_control.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstring>
#include <stdexcept>

namespace rtprelay::pipeline {

perf_control::perf_control(const std::string& spec) {
    if (spec.empty()) {
        return;
    }
    const auto comma = spec.find(',');
    const std::string ctl = spec.substr(0, comma);
    // Opening a FIFO blocks until the other side has it open: perf opens both at its start.
    ctl_ = ::open(ctl.c_str(), O_WRONLY | O_CLOEXEC);
    if (ctl_ < 0) {
        throw std::runtime_error("--perf-ctl: cannot open " + ctl + ": " + std::strerror(errno));
    }
    if (comma != std::string::npos) {
        const std::string ack = spec.substr(comma + 1);
        ack_ = ::open(ack.c_str(), O_RDONLY | O_CLOEXEC);
        if (ack_ < 0) {
            throw std::runtime_error("--perf-ctl: cannot open " + ack + ": " + std::strerror(errno));
        }
    }
}

perf_control::~perf_control() {
    if (ctl_ >= 0) {
        ::close(ctl_);
    }
    if (ack_ >= 0) {
        ::close(ack_);
    }
}

void perf_control::command(const char* text) {
    if (ctl_ < 0) {
        return;
    }
    // A failed write only loses the profile's boundary, never the benchmark's figures.
    const auto len = static_cast<ssize_t>(std::strlen(text));
    if (::write(ctl_, text, static_cast<size_t>(len)) != len || ack_ < 0) {
        return;
    }
    char answer[16];
    (void)!::read(ack_, answer, sizeof(answer));  // "ack\n"
}

}  // namespace rtprelay::pipeline
