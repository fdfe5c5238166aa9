#include "control/recording/pcap_store.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <pcap/pcap.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace rtprelay::recording {

namespace {
constexpr int snap_length = 65535;

uint16_t ip_checksum(const uint8_t* h, size_t n) {
    uint32_t sum = 0;
    for (size_t i = 0; i + 1 < n; i += 2) {
        sum += static_cast<uint32_t>(h[i] << 8 | h[i + 1]);
    }
    while (sum >> 16) {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    return static_cast<uint16_t>(~sum);
}
}  // namespace

void add_packet(std::vector<uint8_t>& buf, int64_t unix_ns, uint32_t src_addr, uint16_t src_port, uint32_t dst_addr,
                uint16_t dst_port, const uint8_t* payload, uint32_t len, uint32_t orig_len) {
    constexpr uint32_t l34 = 28;  // IPv4 header (20) + UDP header (8)
    record_header rh;
    rh.sec = unix_ns / 1'000'000'000;
    rh.usec = (unix_ns % 1'000'000'000) / 1000;
    rh.caplen = l34 + len;
    rh.len = l34 + orig_len;
    const size_t at = buf.size();
    buf.resize(at + sizeof rh + rh.caplen);
    uint8_t* p = buf.data() + at;
    std::memcpy(p, &rh, sizeof rh);
    p += sizeof rh;
    const auto total = static_cast<uint16_t>(rh.len > 0xffff ? 0xffff : rh.len);
    uint8_t* ip = p;
    ip[0] = 0x45;  // IPv4, 5 words of header
    ip[1] = 0;
    ip[2] = static_cast<uint8_t>(total >> 8);
    ip[3] = static_cast<uint8_t>(total);
    ip[4] = ip[5] = 0;    // identification
    ip[6] = 0x40;         // don't fragment
    ip[7] = 0;
    ip[8] = 64;           // TTL
    ip[9] = IPPROTO_UDP;
    ip[10] = ip[11] = 0;
    std::memcpy(ip + 12, &src_addr, 4);
    std::memcpy(ip + 16, &dst_addr, 4);
    const uint16_t csum = ip_checksum(ip, 20);
    ip[10] = static_cast<uint8_t>(csum >> 8);
    ip[11] = static_cast<uint8_t>(csum);
    uint8_t* udp = ip + 20;
    std::memcpy(udp, &src_port, 2);
    std::memcpy(udp + 2, &dst_port, 2);
    const auto ulen = static_cast<uint16_t>(8 + orig_len > 0xffff ? 0xffff : 8 + orig_len);
    udp[4] = static_cast<uint8_t>(ulen >> 8);
    udp[5] = static_cast<uint8_t>(ulen);
    udp[6] = udp[7] = 0;  // no UDP checksum (allowed over IPv4)
    std::memcpy(udp + 8, payload, len);
}

pcap_store::pcap_store(size_t max_open) : max_open_(max_open == 0 ? 1 : max_open) {
    dead_ = pcap_open_dead(DLT_RAW, snap_length);
    if (dead_ == nullptr) {
        throw std::runtime_error("libpcap: pcap_open_dead failed");
    }
}

pcap_store::~pcap_store() {
    for (auto& [id, e] : open_) {
        pcap_dump_close(e.dumper);
    }
    pcap_close(dead_);
}

std::string pcap_store::create(const std::string& path) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        return "cannot create " + path + ": " + std::strerror(errno);
    }
    // From here on the file is ours: a failure removes it again.
    FILE* f = fdopen(fd, "wb");
    if (f == nullptr) {
        const int e = errno;
        ::close(fd);
        ::unlink(path.c_str());
        return "cannot open " + path + ": " + std::strerror(e);
    }
    pcap_dumper_t* d = pcap_dump_fopen(dead_, f);
    if (d == nullptr) {
        std::fclose(f);
        ::unlink(path.c_str());
        return "cannot write a pcap header to " + path + ": " + pcap_geterr(dead_);
    }
    errno = 0;
    const int flushed = pcap_dump_flush(d);
    const int e = errno != 0 ? errno : EIO;
    pcap_dump_close(d);
    if (flushed != 0) {
        ::unlink(path.c_str());
        return "cannot write " + path + ": " + std::strerror(e);
    }
    return {};
}

pcap_dumper* pcap_store::get(uint32_t id, const std::string& path, std::string* error) {
    if (auto it = open_.find(id); it != open_.end()) {
        lru_.splice(lru_.begin(), lru_, it->second.lru);
        return it->second.dumper;
    }
    while (open_.size() >= max_open_) {
        close(lru_.back());
    }
    // pcap_dump_open_append would create a missing file with the default mode: it must be ours.
    if (::access(path.c_str(), F_OK) != 0) {
        *error = "cannot reopen " + path + ": " + std::strerror(errno);
        return nullptr;
    }
    pcap_dumper_t* d = pcap_dump_open_append(dead_, path.c_str());
    if (d == nullptr) {
        *error = "cannot reopen " + path + ": " + pcap_geterr(dead_);
        return nullptr;
    }
    lru_.push_front(id);
    open_.emplace(id, entry{d, lru_.begin()});
    return d;
}

std::string pcap_store::append(uint32_t id, const std::string& path, const std::vector<uint8_t>& records) {
    std::string error;
    pcap_dumper_t* d = get(id, path, &error);
    if (d == nullptr) {
        return error;
    }
    errno = 0;  // pcap_dump() reports nothing: what fwrite() met stays in errno
    for (size_t at = 0; at + sizeof(record_header) <= records.size();) {
        record_header rh;
        std::memcpy(&rh, records.data() + at, sizeof rh);
        at += sizeof rh;
        pcap_pkthdr h{};
        h.ts.tv_sec = rh.sec;
        h.ts.tv_usec = rh.usec;
        h.caplen = rh.caplen;
        h.len = rh.len;
        pcap_dump(reinterpret_cast<u_char*>(d), &h, records.data() + at);
        at += rh.caplen;
    }
    const int write_errno = errno;
    const bool failed = pcap_dump_flush(d) != 0 || std::ferror(pcap_dump_file(d)) != 0;
    if (failed) {
        const int e = write_errno != 0 ? write_errno : errno != 0 ? errno : EIO;
        close(id);
        return "cannot write " + path + ": " + std::strerror(e);
    }
    return {};
}

void pcap_store::close(uint32_t id) {
    auto it = open_.find(id);
    if (it == open_.end()) {
        return;
    }
    pcap_dump_close(it->second.dumper);
    lru_.erase(it->second.lru);
    open_.erase(it);
}

}  // namespace rtprelay::recording
