#include "tests/control/sdp/golden.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>

namespace rtprelay::sdp::test {

std::string read_golden(const std::string& file) {
    std::ifstream in(std::string(GOLDEN_DIR) + "/" + file, std::ios::binary);
    EXPECT_TRUE(in.good()) << "cannot read " << GOLDEN_DIR << "/" << file;
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void write_golden(const std::string& file, const std::string& contents) {
    std::ofstream out(std::string(GOLDEN_DIR) + "/" + file, std::ios::binary | std::ios::trunc);
    out << contents;
    EXPECT_TRUE(out.good()) << "cannot write " << GOLDEN_DIR << "/" << file;
}

bool update_golden() {
    const char* v = std::getenv("RTPRELAY_UPDATE_GOLDEN");
    return v != nullptr && std::string(v) == "1";
}

std::vector<std::string> golden_cases() {
    const std::string suffix = ".in.sdp";
    std::vector<std::string> names;
    for (const auto& entry : std::filesystem::directory_iterator(GOLDEN_DIR)) {
        const std::string name = entry.path().filename().string();
        if (name.size() > suffix.size() && name.ends_with(suffix)) {
            names.push_back(name.substr(0, name.size() - suffix.size()));
        }
    }
    std::sort(names.begin(), names.end());
    return names;
}

std::string visible(const std::string& text) {
    std::string out;
    for (const char c : text) {
        if (c == '\r') {
            out += "\\r";
        } else if (c == '\n') {
            out += "\\n\n";
        } else {
            out += c;
        }
    }
    return out;
}

}  // namespace rtprelay::sdp::test
