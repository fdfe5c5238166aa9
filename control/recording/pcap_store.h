#pragma once
// The recorder's pcap files (libpcap's writer, LINKTYPE_RAW: each record an IPv4 packet),
// with a bound on how many are open at once: a recording's packets are buffered in memory
// and appended in batches; a batch reopens its file if it was closed to make room
// (pcap_dump_open_append), closing the least recently used one. So thousands of recorded
// calls need `max_open` descriptors, not one each. Recorder thread only.
//
// Each packet is written as IPv4/UDP around the clear RTP/RTCP, addressed as it arrived (the
// sender's address and port to the relay's), with its real arrival time (microseconds).

#include <cstddef>
#include <cstdint>
#include <list>
#include <string>
#include <unordered_map>
#include <vector>

struct pcap;
struct pcap_dumper;

namespace rtprelay::recording {

// A batch of records as appended to a buffer by add_packet(): header then bytes, repeated.
struct record_header {
    int64_t sec = 0;
    int64_t usec = 0;
    uint32_t caplen = 0;  // bytes that follow
    uint32_t len = 0;     // the packet's length on the wire (> caplen when cut)
};

// Appends one record: an IPv4/UDP packet from src to dst (addresses and ports in network
// order) carrying payload[0, len), `orig_len` long before any cut, at time `unix_ns`.
void add_packet(std::vector<uint8_t>& buf, int64_t unix_ns, uint32_t src_addr, uint16_t src_port, uint32_t dst_addr,
                uint16_t dst_port, const uint8_t* payload, uint32_t len, uint32_t orig_len);

class pcap_store {
 public:
    explicit pcap_store(size_t max_open);
    ~pcap_store();
    pcap_store(const pcap_store&) = delete;
    pcap_store& operator=(const pcap_store&) = delete;

    // Creates `path` (mode 0600, never over an existing file or through a symlink) holding
    // only the pcap file header. Empty on success, else the reason.
    std::string create(const std::string& path);
    // Appends a buffer of records to recording `id`'s file at `path`, opening it if needed,
    // and flushes it to the kernel. Empty on success, else the reason (disk full, ...).
    std::string append(uint32_t id, const std::string& path, const std::vector<uint8_t>& records);
    // Closes `id`'s file if it is open.
    void close(uint32_t id);
    size_t open_files() const { return open_.size(); }

 private:
    pcap_dumper* get(uint32_t id, const std::string& path, std::string* error);

    struct entry {
        pcap_dumper* dumper;
        std::list<uint32_t>::iterator lru;
    };
    size_t max_open_;
    pcap* dead_ = nullptr;                 // a pcap_open_dead handle: link type and snap length
    std::unordered_map<uint32_t, entry> open_;
    std::list<uint32_t> lru_;              // most recently used first
};

}  // namespace rtprelay::recording
