#include "control/recording/pcap_store.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <pcap/pcap.h>
#include <stdio_ext.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

#include "control/recording/record_files.h"

namespace rtprelay::recording {

namespace {
constexpr int snap_length = 65535;
constexpr uint32_t l34 = 28;    // IPv4 header (20) + UDP header (8)
constexpr uint32_t l34_6 = 48;  // IPv6 header (40) + UDP header (8)
constexpr uint32_t max_keep = 1500;

// One's complement sum of h[0, n) in 16-bit words (an odd last byte padded with 0), added
// to `sum`; not folded. Whole words are loaded as such (the compiler unrolls the IPv4
// header's ten): a byte at a time cost the recorder a few percent per packet.
uint32_t sum16(const uint8_t* h, size_t n, uint32_t sum) {
    size_t i = 0;
    for (; i + 1 < n; i += 2) {
        uint16_t w = 0;
        std::memcpy(&w, h + i, 2);
        sum += ntohs(w);
    }
    if (i < n) {
        sum += static_cast<uint32_t>(h[i] << 8);
    }
    return sum;
}

uint16_t fold(uint32_t sum) {
    while (sum >> 16) {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    return static_cast<uint16_t>(~sum);
}

uint16_t ip_checksum(const uint8_t* h, size_t n) { return fold(sum16(h, n, 0)); }

// Prefetches the lines of [p, p + n) for writing (a hint: nothing faults).
void prefetch_for_write(const char* p, size_t n) {
    for (size_t k = 0; k < n; k += 64) {
        __builtin_prefetch(p + k, 1);
    }
}

// Where stream `f` writes its next byte, or null where the C library does not tell. glibc's
// FILE is a public struct (bits/types/struct_FILE.h) whose layout is part of its ABI (old
// binaries' getc/putc macros read these pointers), so _IO_write_ptr stays valid across
// glibc versions; other C libraries keep FILE opaque, and there the prefetch is skipped
// (nothing else changes: it is only a hint).
const char* next_write(FILE* f) {
#if defined(__GLIBC__)
    return f->_IO_write_ptr;
#else
    (void)f;
    return nullptr;
#endif
}

// The IPv4 header and the UDP header before `udp + 8`; returns the header's length.
uint32_t put_ipv4(uint8_t* ip, const media_endpoint& src, const media_endpoint& dst, uint32_t total) {
    ip[0] = 0x45;  // IPv4, 5 words of header
    ip[1] = 0;
    ip[2] = static_cast<uint8_t>(total >> 8);
    ip[3] = static_cast<uint8_t>(total);
    ip[4] = ip[5] = 0;  // identification
    ip[6] = 0x40;       // don't fragment
    ip[7] = 0;
    ip[8] = 64;  // TTL
    ip[9] = IPPROTO_UDP;
    ip[10] = ip[11] = 0;
    std::memcpy(ip + 12, src.addr, 4);
    std::memcpy(ip + 16, dst.addr, 4);
    const uint16_t csum = ip_checksum(ip, 20);
    ip[10] = static_cast<uint8_t>(csum >> 8);
    ip[11] = static_cast<uint8_t>(csum);
    return 20;
}

uint32_t put_ipv6(uint8_t* ip, const media_endpoint& src, const media_endpoint& dst, uint32_t udp_len) {
    ip[0] = 0x60;  // IPv6, traffic class and flow label 0
    ip[1] = ip[2] = ip[3] = 0;
    ip[4] = static_cast<uint8_t>(udp_len >> 8);  // payload length: the UDP datagram
    ip[5] = static_cast<uint8_t>(udp_len);
    ip[6] = IPPROTO_UDP;
    ip[7] = 64;  // hop limit
    std::memcpy(ip + 8, src.addr, 16);
    std::memcpy(ip + 24, dst.addr, 16);
    return 40;
}

// IPv6 requires a UDP checksum (RFC 8200 8.1): computed over the pseudo-header and the
// datagram when the record kept all of it. A cut packet cannot have one: 0 then, which
// readers show as missing rather than wrong.
uint16_t udp6_checksum(const uint8_t* ip, const uint8_t* udp, uint32_t udp_len) {
    uint32_t sum = sum16(ip + 8, 32, 0);  // source and destination
    sum += udp_len;
    sum += IPPROTO_UDP;
    sum = sum16(udp, udp_len, sum);
    const uint16_t c = fold(sum);
    return c == 0 ? 0xffff : c;
}
constexpr size_t chunk_bytes = 2u << 20;  // a transparent huge page
}  // namespace

bool read_record_udp(const uint8_t* d, uint32_t caplen, uint32_t wire_len, record_udp* out) {
    uint16_t sport = 0, dport = 0;
    uint32_t l3 = 0;
    if (caplen >= l34 && (d[0] >> 4) == 4) {
        l3 = 4u * (d[0] & 0x0f);
        if (l3 < 20 || caplen < l3 + 8 || d[9] != IPPROTO_UDP) {
            return false;
        }
        uint32_t s = 0, t = 0;
        std::memcpy(&s, d + 12, 4);
        std::memcpy(&t, d + 16, 4);
        std::memcpy(&sport, d + l3, 2);
        std::memcpy(&dport, d + l3 + 2, 2);
        out->src = media_endpoint::v4(s, sport);
        out->dst = media_endpoint::v4(t, dport);
    } else if (caplen >= l34_6 && (d[0] >> 4) == 6 && d[6] == IPPROTO_UDP) {
        l3 = 40;
        std::memcpy(&sport, d + 40, 2);
        std::memcpy(&dport, d + 42, 2);
        out->src = media_endpoint::v6_of(d + 8, sport);
        out->dst = media_endpoint::v6_of(d + 24, dport);
    } else {
        return false;
    }
    out->payload = d + l3 + 8;
    out->len = caplen - l3 - 8;
    out->orig_len = wire_len > caplen ? wire_len - l3 - 8 : out->len;
    return true;
}

pcap_store::pcap_store(size_t max_open, size_t buffer_bytes)
    : max_open_(max_open == 0 ? 1 : max_open), slot_bytes_((std::max<size_t>(buffer_bytes, 4096) + 63) / 64 * 64) {
    dead_ = pcap_open_dead(DLT_RAW, snap_length);
    if (dead_ == nullptr) {
        throw std::runtime_error("libpcap: pcap_open_dead failed");
    }
}

pcap_store::~pcap_store() {
    while (!writers_.empty()) {
        close(writers_.begin()->second.get());
    }
    pcap_close(dead_);
    for (const auto& [p, n] : chunks_) {
        ::munmap(p, n);
    }
}

char* pcap_store::take_slot() {
    if (free_slots_.empty()) {
        // A chunk on a 2 MiB boundary (mapped twice as large, the ends given back), so that
        // the kernel can back it with one huge page.
        const size_t n = (slot_bytes_ + chunk_bytes - 1) / chunk_bytes * chunk_bytes;
        void* m = ::mmap(nullptr, n + chunk_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (m == MAP_FAILED) {
            return nullptr;
        }
        auto* raw = static_cast<char*>(m);
        char* at =
            reinterpret_cast<char*>((reinterpret_cast<uintptr_t>(raw) + chunk_bytes - 1) / chunk_bytes * chunk_bytes);
        if (at != raw) {
            ::munmap(raw, static_cast<size_t>(at - raw));
        }
        if (const size_t tail = static_cast<size_t>(raw + n + chunk_bytes - (at + n)); tail != 0) {
            ::munmap(at + n, tail);
        }
        ::madvise(at, n, MADV_HUGEPAGE);  // a hint: without it, 4 KiB pages
        chunks_.emplace_back(at, n);
        for (size_t off = 0; off + slot_bytes_ <= n; off += slot_bytes_) {
            free_slots_.push_back(at + off);
        }
        std::reverse(free_slots_.begin(), free_slots_.end());  // handed out in address order
    }
    char* slot = free_slots_.back();
    free_slots_.pop_back();
    return slot;
}

void pcap_store::give_slot(char* slot) {
    if (slot != nullptr) {
        free_slots_.push_back(slot);
    }
}

ssize_t pcap_store::cookie_write(void* cookie, const char* data, size_t n) {
    auto* w = static_cast<writer*>(cookie);
    w->store->take(*w, data, n);
    return static_cast<ssize_t>(n);
}

void pcap_store::take(writer& w, const char* data, size_t n) {
    if (w.header_phase) {
        w.header.append(data, n);
        return;
    }
    if (!w.flushing) {
        w.carry.append(data, n);  // the buffer overflowed (the file is being made): kept for the flush
        return;
    }
    w.flushing = false;  // once per flush: what stdio hands over after this is an overflow
    const size_t total = w.carry.size() + n;
    size_t out = total;
    if (!w.whole && total >= write_align) {
        out = static_cast<size_t>((w.file_end + total) / write_align * write_align - w.file_end);
    }
    if (out != 0) {
        const int fd = fd_for(w.id, w.path, &w.error);
        if (fd >= 0) {
            const size_t from_carry = std::min(out, w.carry.size());
            std::string e = write_all(fd, w.carry.data(), from_carry, data, out - from_carry);
            if (!e.empty()) {
                w.error = "cannot write " + w.path + ": " + e;
                close_fd(w.id);
            } else {
                w.written = out;
                w.file_end += out;
            }
        }
    }
    if (!w.error.empty()) {
        w.carry.clear();  // dropped with the rest: the recording has failed
        return;
    }
    if (out < w.carry.size()) {
        std::string rest = w.carry.substr(out);
        rest.append(data, n);
        w.carry.swap(rest);
    } else {
        const size_t from_data = out - w.carry.size();
        w.carry.assign(data + from_data, n - from_data);
    }
}

pcap_store::writer* pcap_store::prepare(uint32_t id, const std::string& path, std::string* header, std::string* error) {
    auto wp = std::make_unique<writer>();
    writer& w = *wp;
    w.id = id;
    w.path = path;
    w.store = this;
    w.buf = take_slot();
    if (w.buf == nullptr) {
        *error = std::string("cannot map a recording buffer: ") + std::strerror(errno);
        return nullptr;
    }
    cookie_io_functions_t io{};
    io.write = &pcap_store::cookie_write;
    w.mem = fopencookie(&w, "w", io);
    if (w.mem == nullptr || std::setvbuf(w.mem, w.buf, _IOFBF, slot_bytes_) != 0) {
        if (w.mem != nullptr) {
            std::fclose(w.mem);
        }
        give_slot(w.buf);
        *error = std::string("fopencookie: ") + std::strerror(errno);
        return nullptr;
    }
    // Only the recorder thread uses the stream: no lock around each stdio call. pcap_dump
    // makes three (ferror, two fwrites), and each lock's atomic exchange waited for the
    // packet's stores to reach the cache: ~30% of the recorder's time at 100 recordings.
    __fsetlocking(w.mem, FSETLOCKING_BYCALLER);
    w.header_phase = true;
    w.dumper = pcap_dump_fopen(dead_, w.mem);  // writes the file header, flushed into w.header
    if (w.dumper == nullptr || pcap_dump_flush(w.dumper) != 0 || w.header.empty()) {
        if (w.dumper != nullptr) {
            pcap_dump_close(w.dumper);
        } else {
            std::fclose(w.mem);
        }
        give_slot(w.buf);
        *error = "cannot make a pcap header for " + path;
        return nullptr;
    }
    w.header_phase = false;
    w.file_end = w.header.size();
    *header = std::move(w.header);  // the file thread writes it; the writer keeps no copy
    w.header.clear();
    writer* raw = wp.get();
    writers_[id] = std::move(wp);
    return raw;
}

size_t pcap_store::add(writer& w, int64_t unix_ns, const media_endpoint& src, const media_endpoint& dst,
                       const uint8_t* payload, uint32_t len, uint32_t orig_len) {
    uint8_t pkt[l34_6 + max_keep];
    const uint32_t keep = len < max_keep ? len : max_keep;
    const uint32_t headers = src.v6 ? l34_6 : l34;
    // Lengths in the headers say how long the packet was before any cut (as the pcap's).
    const uint32_t total = headers + orig_len > 0xffff ? 0xffff : headers + orig_len;
    const uint32_t ulen = total - (headers - 8);
    uint8_t* ip = pkt;
    uint8_t* udp = ip + (src.v6 ? put_ipv6(ip, src, dst, ulen) : put_ipv4(ip, src, dst, total));
    std::memcpy(udp, &src.port, 2);
    std::memcpy(udp + 2, &dst.port, 2);
    udp[4] = static_cast<uint8_t>(ulen >> 8);
    udp[5] = static_cast<uint8_t>(ulen);
    udp[6] = udp[7] = 0;  // no UDP checksum over IPv4 (allowed there)
    std::memcpy(udp + 8, payload, keep);
    if (src.v6 && keep == orig_len && ulen == 8 + keep) {
        const uint16_t c = udp6_checksum(ip, udp, ulen);
        udp[6] = static_cast<uint8_t>(c >> 8);
        udp[7] = static_cast<uint8_t>(c);
    }
    pcap_pkthdr h{};
    h.ts.tv_sec = unix_ns / 1'000'000'000;
    h.ts.tv_usec = (unix_ns % 1'000'000'000) / 1000;
    h.caplen = headers + keep;
    h.len = total;
    pcap_dump(reinterpret_cast<u_char*>(w.dumper), &h, pkt);
    // With many recordings, a buffer's next bytes have left the cache by the time its next
    // packet comes, and each of a packet's ~4 lines then stalls on a read for ownership.
    // Asking for them now, while the other recordings' packets are written, hides that
    // (next_write): 100 recordings 3.2 -> 4.5 Mpps, 1,000 2.7 -> 3.4 Mpps, 1 recording
    // unchanged (bench/RESULTS.md).
    w.next_byte = next_write(w.mem);
    if (w.next_byte != nullptr) {
        prefetch_for_write(w.next_byte, 16 + h.caplen);  // the next one is likely as long
    }
    w.pending += 16 + h.caplen;  // the file's record header is 16 bytes
    return w.pending;
}

int pcap_store::fd_for(uint32_t id, const std::string& path, std::string* error) {
    if (auto it = fds_.find(id); it != fds_.end()) {
        lru_.splice(lru_.begin(), lru_, it->second.lru);
        return it->second.fd;
    }
    while (fds_.size() >= max_open_) {
        close_fd(lru_.back());
    }
    // O_APPEND without O_CREAT: the file must be the one create() made.
    const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        *error = "cannot reopen " + path + ": " + std::strerror(errno);
        return -1;
    }
    lru_.push_front(id);
    fds_.emplace(id, open_fd{fd, lru_.begin()});
    return fd;
}

void pcap_store::close_fd(uint32_t id) {
    auto it = fds_.find(id);
    if (it == fds_.end()) {
        return;
    }
    ::close(it->second.fd);
    lru_.erase(it->second.lru);
    fds_.erase(it);
}

std::string pcap_store::flush(writer& w, size_t* written, bool whole) {
    // stdio hands its buffer to take() (cookie_write), which writes up to the boundary and
    // carries the rest; with nothing buffered there, take() is called for the carry alone.
    w.flushing = true;
    w.whole = whole;
    w.written = 0;
    const int r = std::fflush(w.mem);
    if (w.flushing) {
        take(w, nullptr, 0);
    }
    if (r != 0 && w.error.empty()) {
        w.error = "cannot buffer " + w.path;
    }
    *written = w.written;
    w.pending = w.carry.size();
    std::string e;
    e.swap(w.error);
    return e;
}

void pcap_store::close(writer* w) {
    if (w == nullptr) {
        return;
    }
    const uint32_t id = w->id;
    close_fd(id);
    w->flushing = false;
    pcap_dump_close(w->dumper);  // closes the stream: what it still held goes to the carry, dropped
    give_slot(w->buf);
    writers_.erase(id);
}

}  // namespace rtprelay::recording
