#pragma once
// The recorder's pcap files, written by libpcap (LINKTYPE_RAW: each record an IPv4 or IPv6
// packet, told apart by its version nibble, so a bridged call's two families share a file).
// Each open recording has a libpcap dumper writing into memory (open_memstream): packets are
// dumped there as they come, and flush() moves what gathered to the file in one write(). So
// a packet costs a copy, not a system call (a 64 KiB flush carries ~300 G.711 packets), and
// a file is open only while it is written to: at most `max_open` descriptors stay open
// between flushes (least recently used closed first), whatever the number of recorded
// calls. Memory: a recording's buffer grows to what gathers between its flushes (at most
// the recorder's flush_bytes and a record, or what its call sends in flush_every: ~11 KB
// for G.711 at 500 ms; open_memstream may allocate up to twice that) and is kept until it
// closes. Recorder thread only.
//
// Each packet is written as IPv4/UDP or IPv6/UDP (as it arrived) around the clear RTP/RTCP,
// addressed as it arrived (the sender's address and port to the relay's), with its real
// arrival time (microseconds).

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <list>
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
    explicit pcap_store(size_t max_open);
    ~pcap_store();
    pcap_store(const pcap_store&) = delete;
    pcap_store& operator=(const pcap_store&) = delete;

    // One recording's file and in-memory dumper.
    struct writer {
        uint32_t id = 0;
        std::string path;
        FILE* mem = nullptr;  // open_memstream over buf/size
        char* buf = nullptr;
        size_t size = 0;
        pcap_dumper* dumper = nullptr;
        size_t pending = 0;               // bytes dumped since the last flush (the stream's position)
        const char* next_byte = nullptr;  // where the stream writes next (a prefetch hint; null: unknown)
        uint64_t file_end = 0;            // bytes in the file: where the stream's first byte goes
    };

    // The page cache takes a write() that covers whole aligned 64 KiB of a file as one large
    // folio rather than 16 pages: ~25% less kernel CPU per byte on this machine's ext4
    // (bench/RESULTS.md). So flushes by size end at such a boundary.
    static constexpr uint64_t write_align = 64 * 1024;

    // Recording `id`'s in-memory dumper, its file `path` not yet made: the pcap file header
    // libpcap writes goes to *header for whoever creates the file (file_maker.h: mode 0600,
    // never over an existing file or through a symlink), and file_end counts it as written.
    // flush() must wait until the file exists (it reopens the file, never creates it). Null
    // on failure, with the reason in *error. The writer lives until close().
    writer* prepare(uint32_t id, const std::string& path, std::string* header, std::string* error);
    // Dumps one packet: UDP from src to dst (IPv6 when src is, else IPv4; dst is of the same
    // family) carrying payload[0, len), `orig_len` long before any cut, at time `unix_ns`.
    // Returns the bytes now waiting for flush().
    size_t add(writer& w, int64_t unix_ns, const media_endpoint& src, const media_endpoint& dst, const uint8_t* payload,
               uint32_t len, uint32_t orig_len);
    // Appends what `w` gathered to its file. Empty on success, else the reason (disk
    // full, ...); what could not be written is dropped. `written` gets the bytes written.
    // `whole` = false (a flush because enough gathered): only up to the file's last
    // write_align boundary when at least write_align gathered, the rest (less than a record,
    // once the file is aligned) staying for the next (w.pending); see write_align.
    std::string flush(writer& w, size_t* written, bool whole = true);
    // Forgets `w`: its dumper and, if open, its file (flush first to keep what gathered).
    void close(writer* w);
    size_t open_files() const { return fds_.size(); }

 private:
    struct open_fd {
        int fd;
        std::list<uint32_t>::iterator lru;
    };
    int fd_for(uint32_t id, const std::string& path, std::string* error);
    void close_fd(uint32_t id);

    size_t max_open_;
    pcap* dead_ = nullptr;  // pcap_open_dead: link type and snap length
    std::unordered_map<uint32_t, std::unique_ptr<writer>> writers_;
    std::unordered_map<uint32_t, open_fd> fds_;
    std::list<uint32_t> lru_;  // most recently used first
};

}  // namespace rtprelay::recording
