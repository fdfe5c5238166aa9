#pragma once
// The live progress line on stderr: rewritten in place once a second, and only when stderr
// is a terminal, so logs and pipes get the final summary alone.

#include <cstdint>
#include <string>

namespace rtprelay::loadgen {

class progress_line {
 public:
    progress_line();  // enabled iff stderr is a terminal

    // True when enabled and a second has passed since the last show().
    bool due() const;
    void show(const std::string& text);
    // Ends the line (if one was shown) so the next output starts on a fresh line.
    void finish();

 private:
    bool enabled_ = false;
    bool shown_ = false;
    int64_t next_ns_ = 0;
};

}  // namespace rtprelay::loadgen
