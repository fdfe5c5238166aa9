#pragma once
// The recording tests' files: a temporary directory per test, removed with what is in it,
// and a file read back whole.

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

namespace rtprelay::recording::test_files {

// A new directory /tmp/NAME.XXXXXX (mode 0700); empty when mkdtemp failed.
inline std::string make_temp_dir(const std::string& name) {
    std::string tmpl = "/tmp/" + name + ".XXXXXX";
    return mkdtemp(tmpl.data()) != nullptr ? tmpl : std::string();
}

// rm -rf DIR; true when that succeeded.
inline bool remove_tree(const std::string& dir) { return std::system(("rm -rf '" + dir + "'").c_str()) == 0; }

// The whole file; empty when it cannot be read.
inline std::string read_file(const std::string& path) {
    std::ifstream f(path);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

}  // namespace rtprelay::recording::test_files
