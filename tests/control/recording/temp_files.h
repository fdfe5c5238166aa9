#pragma once
// The recording tests' files: a temporary directory per test, removed with what is in it,
// a file read back whole, a pcap's records counted.

#include <pcap/pcap.h>

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

// Records in the pcap at `path` as libpcap reads them: -1 when it does not open, -2 when a
// read fails before the end (a cut or corrupt record).
inline int pcap_packets(const std::string& path) {
    char err[PCAP_ERRBUF_SIZE];
    pcap_t* p = pcap_open_offline(path.c_str(), err);
    if (p == nullptr) {
        return -1;
    }
    pcap_pkthdr* h;
    const u_char* d;
    int n = 0;
    int rc;
    while ((rc = pcap_next_ex(p, &h, &d)) == 1) {
        ++n;
    }
    pcap_close(p);
    return rc == PCAP_ERROR_BREAK ? n : -2;
}

}  // namespace rtprelay::recording::test_files
