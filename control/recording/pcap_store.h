#pragma once
// The recorder's pcap files, written by libpcap (LINKTYPE_RAW: each record an IPv4 or IPv6
// packet, told apart by its version nibble, so a bridged call's two families share a file).
// Each open recording has a libpcap dumper writing into memory: a stdio stream
// (fopencookie) fully buffered in a fixed slot of buffer_bytes. Packets are dumped there as
// they come, and flush() has stdio hand the buffer over, which goes to the file in one
// write() (with the bytes a previous flush carried past its boundary: one writev()). So a
// packet costs a copy, not a system call (a 64 KiB flush carries ~300 G.711 packets), and a
// file is open only while it is written to: at most `max_open` descriptors stay open
// between flushes (least recently used closed first), whatever the number of recorded
// calls. The slots come from 2 MiB chunks the kernel may back with transparent huge pages:
// at 1,000 recordings and more, the buffers' 4 KiB pages missed the TLB on most packets
// (bench/RESULTS.md: 1.3-1.7x). Memory: one slot per open recording (the recorder's
// flush_bytes + 4 KiB), kept for the next recording when one closes; the chunks stay mapped
// for the recorder's life (its peak of open recordings). What arrives while a recording's
// file is being made and overflows its slot waits on the heap (`carry`). Recorder thread
// only.
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
#include <utility>
#include <vector>

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
    // `buffer_bytes`: each recording's buffer (the recorder's flush_bytes and room for the
    // records that come before a flush by size is done).
    pcap_store(size_t max_open, size_t buffer_bytes);
    ~pcap_store();
    pcap_store(const pcap_store&) = delete;
    pcap_store& operator=(const pcap_store&) = delete;

    // One recording's file and in-memory dumper.
    struct writer {
        uint32_t id = 0;
        std::string path;
        pcap_store* store = nullptr;
        FILE* mem = nullptr;  // a stdio stream (fopencookie) buffered in buf, an arena slot
        char* buf = nullptr;
        // What stdio handed over and is not in the file yet: the part of a flush past the
        // file's last write_align boundary, or what overflowed the buffer while the file
        // was being made.
        std::string carry;
        std::string header;  // the pcap file header as libpcap wrote it, until prepare() hands it out
        std::string error;   // the last flush's
        bool flushing = false, whole = false, header_phase = false;
        size_t written = 0;  // by the last flush
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
    static ssize_t cookie_write(void* cookie, const char* data, size_t n);
    // The stdio stream's write: what a flush hands over (flushing) or an overflow.
    void take(writer& w, const char* data, size_t n);
    char* take_slot();
    void give_slot(char* slot);

    size_t max_open_;
    pcap* dead_ = nullptr;  // pcap_open_dead: link type and snap length
    std::unordered_map<uint32_t, std::unique_ptr<writer>> writers_;
    std::unordered_map<uint32_t, open_fd> fds_;
    std::list<uint32_t> lru_;  // most recently used first
    // The writers' buffers: slots of buffer_bytes in 2 MiB chunks on transparent huge pages
    // (one TLB entry for ~30 recordings' buffers rather than ~17 each).
    size_t slot_bytes_;
    std::vector<std::pair<char*, size_t>> chunks_;
    std::vector<char*> free_slots_;
};

}  // namespace rtprelay::recording
