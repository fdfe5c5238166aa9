#include "control/recording/pcap_store.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <pcap/pcap.h>
#include <stdio_ext.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
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
// to `sum`; not folded.
uint32_t sum16(const uint8_t* h, size_t n, uint32_t sum) {
    size_t i = 0;
    for (; i + 1 < n; i += 2) {
        sum += static_cast<uint32_t>(h[i] << 8 | h[i + 1]);
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

pcap_store::pcap_store(size_t window_bytes, bool prefault)
    : max_window_(window_bytes < first_window ? first_window : window_bytes), prefault_(prefault) {
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
}

pcap_store::writer* pcap_store::create(uint32_t id, const std::string& path, std::string* error) {
    auto wp = std::make_unique<writer>();
    writer& w = *wp;
    w.id = id;
    w.path = path;
    w.store = this;
    cookie_io_functions_t io{};
    io.write = &pcap_store::write_cookie;
    w.mem = fopencookie(&w, "w", io);
    if (w.mem == nullptr) {
        *error = std::string("fopencookie: ") + std::strerror(errno);
        return nullptr;
    }
    // Unbuffered: each of pcap_dump's fwrites goes straight to write_cookie, which copies it
    // into the window; stdio keeps no copy of its own. Only the recorder thread uses the
    // stream: no lock around each stdio call (each lock's atomic exchange waited for the
    // packet's stores: ~30% of the recorder at 100 recordings with a buffered stream).
    std::setvbuf(w.mem, nullptr, _IONBF, 0);
    __fsetlocking(w.mem, FSETLOCKING_BYCALLER);
    w.dumper = pcap_dump_fopen(dead_, w.mem);  // the file header, into w.file_header
    if (w.dumper == nullptr || pcap_dump_flush(w.dumper) != 0 || w.file_header.empty()) {
        if (w.dumper != nullptr) {
            pcap_dump_close(w.dumper);
        } else {
            std::fclose(w.mem);
        }
        *error = "cannot make a pcap header for " + path;
        return nullptr;
    }
    const std::string e = write_new(path, w.file_header);  // removed again on failure
    if (!e.empty()) {
        pcap_dump_close(w.dumper);
        *error = e;
        return nullptr;
    }
    w.file_end = w.file_header.size();
    w.records = true;
    writer* raw = wp.get();
    writers_[id] = std::move(wp);
    return raw;
}

bool pcap_store::next_window(writer& w, size_t need) {
    if (w.window != nullptr) {
        ::munmap(w.window, w.window_size);
        w.window = nullptr;
    }
    // Windows double from first_window to max_window_, so a quiet call keeps little page
    // cache mapped and a busy one maps rarely. Each starts on the page of the file's end.
    const size_t size = w.window_size == 0 ? first_window : std::min(w.window_size * 2, max_window_);
    const uint64_t page = 4096;
    const uint64_t at = w.file_end / page * page;
    if (w.file_end - at + need > size) {
        w.error = "a record longer than a window in " + w.path;
        return false;
    }
    // O_RDWR without O_CREAT: the file must be the one create() made. The descriptor is
    // closed once the window is mapped (the mapping holds the file): none are held between
    // windows, whatever the number of recordings.
    const int fd = ::open(w.path.c_str(), O_RDWR | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        w.error = "cannot reopen " + w.path + ": " + std::strerror(errno);
        return false;
    }
    // The window's blocks reserved before it is mapped: a full disk (or a file size limit)
    // fails here, cleanly, instead of as a SIGBUS when a store to the mapping finds no
    // block. This also sets the file's length to the window's end (cut at close()).
    if (::fallocate(fd, 0, static_cast<off_t>(at), static_cast<off_t>(size)) != 0) {
        w.error = "cannot write " + w.path + ": " + std::strerror(errno);
        ::close(fd);
        return false;
    }
    void* m = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, static_cast<off_t>(at));
    const int map_errno = errno;
    ::close(fd);
    if (m == MAP_FAILED) {
        w.error = "cannot map " + w.path + ": " + std::strerror(map_errno);
        return false;
    }
    w.window = static_cast<char*>(m);
    w.window_at = at;
    w.window_size = size;
    if (prefault_) {
        // All of the window's pages made present and writable in one call (Linux 5.14+)
        // rather than a page fault and a page_mkwrite per 4 KiB as the stores reach them.
        // Best effort: an older kernel (EINVAL) faults them one by one.
        (void)::madvise(m, size, MADV_POPULATE_WRITE);
    }
    return true;
}

void pcap_store::put(writer& w, const char* buf, size_t n) {
    while (n > 0) {
        if (w.data_left == 0) {  // a record's header, held back
            const size_t take = std::min<size_t>(16 - w.head_have, n);
            std::memcpy(w.head + w.head_have, buf, take);
            w.head_have += static_cast<uint32_t>(take);
            buf += take;
            n -= take;
            if (w.head_have < 16) {
                return;
            }
            uint32_t caplen = 0;
            std::memcpy(&caplen, w.head + 8, 4);  // pcap's record header: ts (8), caplen, len
            const size_t used = static_cast<size_t>(w.file_end - w.window_at);
            if (w.window == nullptr || used + 16 + caplen > w.window_size) {
                if (!next_window(w, 16 + caplen)) {
                    return;
                }
            }
            w.data_at = static_cast<size_t>(w.file_end - w.window_at) + 16;
            w.data_left = caplen;
            if (caplen != 0) {
                continue;
            }
        } else {
            const size_t take = std::min<size_t>(w.data_left, n);
            std::memcpy(w.window + w.data_at, buf, take);
            w.data_at += take;
            w.data_left -= static_cast<uint32_t>(take);
            buf += take;
            n -= take;
            if (w.data_left != 0) {
                return;
            }
        }
        // The record's data is in: its header now, the time first and the lengths last, so
        // a kill -9 at any point leaves either a whole record or a zero caplen (recovery's
        // end of the file). The fences keep the compiler from reordering the stores; the
        // CPU's are seen in order by the kernel once this thread stops.
        char* h = w.window + (w.file_end - w.window_at);
        std::atomic_signal_fence(std::memory_order_seq_cst);
        std::memcpy(h, w.head, 8);
        std::atomic_signal_fence(std::memory_order_seq_cst);
        std::memcpy(h + 8, w.head + 8, 8);
        uint32_t caplen = 0;
        std::memcpy(&caplen, w.head + 8, 4);
        w.file_end += 16 + caplen;
        w.head_have = 0;
    }
}

ssize_t pcap_store::write_cookie(void* cookie, const char* buf, size_t n) {
    writer& w = *static_cast<writer*>(cookie);
    if (!w.records) {
        w.file_header.append(buf, n);  // create(): the file does not exist yet
        return static_cast<ssize_t>(n);
    }
    if (!w.error.empty()) {
        return 0;  // stdio marks the stream failed; the recorder stops writing to it
    }
    w.store->put(w, buf, n);
    return w.error.empty() ? static_cast<ssize_t>(n) : 0;
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
    // With many recordings, a window's next lines have left the cache by the time its next
    // packet comes, and each of a packet's ~4 lines then stalls on a read for ownership:
    // asked for now (by the recorder, a few recordings ahead), while the others are written.
    if (w.window != nullptr) {
        w.next_byte = w.window + (w.file_end - w.window_at);
        const size_t room = w.window_size - static_cast<size_t>(w.file_end - w.window_at);
        prefetch_for_write(w.next_byte, std::min<size_t>(room, 16 + h.caplen));  // the next one is likely as long
    }
    w.pending += 16 + h.caplen;  // the file's record header is 16 bytes
    return w.pending;
}

std::string pcap_store::flush(writer& w, size_t* written, bool whole) {
    (void)whole;
    *written = w.error.empty() ? w.pending : 0;
    w.pending = 0;
    return w.error.empty() ? std::string() : w.error;
}

std::string pcap_store::close(writer* w) {
    if (w == nullptr) {
        return {};
    }
    const uint32_t id = w->id;
    pcap_dump_close(w->dumper);  // closes the stream (nothing is buffered in it)
    std::string e;
    if (w->window != nullptr) {
        ::munmap(w->window, w->window_size);
        // The file's true length: its whole records, without the last window's zeros.
        const int fd = ::open(w->path.c_str(), O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0 || ::ftruncate(fd, static_cast<off_t>(w->file_end)) != 0) {
            e = "cannot cut " + w->path + " to its length: " + std::strerror(errno);
        }
        if (fd >= 0) {
            ::close(fd);
        }
    }
    writers_.erase(id);
    return e;
}

}  // namespace rtprelay::recording
