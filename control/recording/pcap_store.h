#pragma once
// The recorder's pcap files, written by libpcap (LINKTYPE_RAW: each record an IPv4 or IPv6
// packet, told apart by its version nibble, so a bridged call's two families share a file).
// Each open recording has a libpcap dumper on an unbuffered fopencookie stream whose write
// copies straight into a MAP_SHARED window of the file: a packet's bytes go from the ring
// to the page cache once, with no write() per flush. Each window's blocks are reserved
// (fallocate) before it is mapped, so a full disk is a clean failure there, never a SIGBUS;
// the descriptor is closed once mapped (none are held between windows). Windows double from
// first_window up to the store's largest; the file is cut to its records at close(), and a
// node killed meanwhile leaves the window's zeros after them (recovery.h cuts them). Memory:
// a window of page cache per open recording. A file truncated under the relay by another
// process would raise SIGBUS on the next store: the files are the relay's own (0600, in its
// own directory). Recorder thread only.
//
// Each packet is written as IPv4/UDP or IPv6/UDP (as it arrived) around the clear RTP/RTCP,
// addressed as it arrived (the sender's address and port to the relay's), with its real
// arrival time (microseconds).

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <unordered_map>

#include "control/recording/media_endpoint.h"

struct pcap;
struct pcap_dumper;

namespace rtprelay::recording {

// A record of a file pcap_store wrote, read back (the WAV renderer, recovery): the UDP
// endpoints and payload of IPv4 or IPv6 (no extension headers, as add() writes them).
struct record_udp {
    media_endpoint src, dst;
    const uint8_t* payload = nullptr;
    uint32_t len = 0;       // payload bytes in the record
    uint32_t orig_len = 0;  // payload bytes as they arrived (longer when add() cut the packet)
};
// `data`: the record's `caplen` bytes, `wire_len` long before any cut (pcap's len). False
// for anything that is not such a UDP packet.
bool read_record_udp(const uint8_t* data, uint32_t caplen, uint32_t wire_len, record_udp* out);

class pcap_store {
 public:
    // `window_bytes`: the largest output window (below); `prefault`: map each window's pages
    // writable in one call (MADV_POPULATE_WRITE) rather than a fault per page when first
    // written.
    explicit pcap_store(size_t window_bytes = default_window, bool prefault = true);
    ~pcap_store();
    pcap_store(const pcap_store&) = delete;
    pcap_store& operator=(const pcap_store&) = delete;

    static constexpr size_t default_window = 256 * 1024;
    static constexpr size_t first_window = 16 * 1024;  // windows double from this (page cache per quiet call)

    // One recording's file, its mapped window and its dumper.
    struct writer {
        uint32_t id = 0;
        std::string path;
        FILE* mem = nullptr;  // the unbuffered stream pcap_dump writes to (cookie: this writer)
        pcap_dumper* dumper = nullptr;
        pcap_store* store = nullptr;
        char* window = nullptr;           // mapping of the file's [window_at, window_at + window_size)
        uint64_t window_at = 0;           // page-aligned
        size_t window_size = 0;           // 0: nothing mapped yet
        uint64_t file_end = 0;            // whole records' bytes in the file (its length at close)
        size_t pending = 0;               // bytes written since the last flush (counted: nothing waits)
        const char* next_byte = nullptr;  // where the next record goes (a prefetch hint)
        std::string error;                // the first failure; nothing is written after it
        // The record being written: its 16-byte header is held until its data is in the
        // window, then stored (caplen last), so a header that is not zero has all its data.
        uint8_t head[16] = {};
        uint32_t head_have = 0;
        uint32_t data_left = 0;
        size_t data_at = 0;    // window offset of the next data byte
        bool records = false;  // past the file header (create())
        std::string file_header;
    };

    // Creates `path` for recording `id` (mode 0600, never over an existing file or through a
    // symlink) with the pcap file header, and its dumper. Null on failure, with the reason
    // in *error. The writer lives until close().
    writer* create(uint32_t id, const std::string& path, std::string* error);
    // Writes one packet into the file's window: UDP from src to dst (IPv6 when src is, else
    // IPv4; dst is of the same family) carrying payload[0, len), `orig_len` long before any
    // cut, at time `unix_ns`. Returns the bytes written since the last flush().
    size_t add(writer& w, int64_t unix_ns, const media_endpoint& src, const media_endpoint& dst, const uint8_t* payload,
               uint32_t len, uint32_t orig_len);
    // The bytes are already in the page cache (the window is the file): only counts them.
    // Empty on success, else why the recording failed (disk full when a window's blocks
    // were reserved, ...). `written` gets the bytes since the last flush. `whole` is unused
    // (kept for the recorder's flush by size or age).
    std::string flush(writer& w, size_t* written, bool whole = true);
    // Unmaps `w`'s window, cuts the file to its whole records (no window zeros) and forgets
    // it. Empty on success, else why the cut failed.
    std::string close(writer* w);
    // Descriptors held between calls: none (a window outlives the descriptor that mapped it).
    size_t open_files() const { return 0; }

 private:
    static ssize_t write_cookie(void* cookie, const char* buf, size_t n);
    // Maps the next window of `w` at its file's end, with room for `need` bytes; false with
    // w.error set on failure.
    bool next_window(writer& w, size_t need);
    void put(writer& w, const char* buf, size_t n);

    size_t max_window_;
    bool prefault_;
    pcap* dead_ = nullptr;  // pcap_open_dead: link type and snap length
    std::unordered_map<uint32_t, std::unique_ptr<writer>> writers_;
};

}  // namespace rtprelay::recording
