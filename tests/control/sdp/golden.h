#pragma once
// Golden SDP files for the sdp tests: tests/golden/sdp/<case>.in.sdp is fed to parse() and
// rewrite(), and the result must equal <case>.out.sdp byte for byte. Files are read and
// written in binary so that CRLF, LF and a missing final newline survive.

#include <string>
#include <vector>

namespace rtprelay::sdp::test {

// Contents of GOLDEN_DIR/<file>; empty (and a test failure) if it cannot be read.
std::string read_golden(const std::string& file);

// Writes GOLDEN_DIR/<file>; used when RTPRELAY_UPDATE_GOLDEN=1 regenerates .out.sdp files
// (review the diff before committing them).
void write_golden(const std::string& file, const std::string& contents);
bool update_golden();

// Case names (<case> of every <case>.in.sdp), sorted.
std::vector<std::string> golden_cases();

// The text with CR and LF made visible, for failure messages.
std::string visible(const std::string& text);

}  // namespace rtprelay::sdp::test
