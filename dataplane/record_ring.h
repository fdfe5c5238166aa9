#pragma once
// The path of a recorded call's packets from a worker to the recorder thread
// (control/recording/recorder.h): one ring per worker, one producer (the worker), one
// consumer (the recorder), its bytes allocated once at start-up.
//
// A record is a 32-byte header and then either the packet's clear RTP/RTCP itself (a copy)
// or a reference to the mbuf that holds it (zero copy), after IPv6 packets' two addresses,
// in whole cache lines:
//  - a copy (record_copy, record_copy6) when the packet's bytes change after the record is
//    taken: its output is SRTP, protected in place. A G.711 packet takes 256 bytes (either
//    family) and a 32 MiB ring holds ~130,000 of them (1.3 s of 1,000 recorded calls).
//  - a reference (record_ref_take, record_ref, record_ref6) when the packet leaves clear
//    (plain or SRTP in, plain out): the worker takes a reference on the mbuf (its refcnt is 1
//    while the worker owns it: a plain store) and writes 16 bytes, one line for IPv4; the
//    recorder reads the bytes from the mbuf and hands it back to the worker over the ring's
//    return path (record_ref_batch), and the worker frees it in its own context once per poll
//    turn (reclaim()). The references out at once are bounded per ring (max_refs(), the
//    mbufs the pool holds spare for the recorder: plane_config::record_refs); past the bound
//    the worker copies, so a recorder that falls behind never takes mbufs the relay needs.
//    Why the worker frees them: the recorder is an ordinary thread the OS may preempt; were
//    it to free into the pool's shared multi-producer ring itself, a preemption between its
//    head and tail updates would leave every worker flushing its mempool cache into that ring
//    spinning until the recorder ran again (milliseconds: packets lost). The return path is
//    single-producer single-consumer and never full (it holds max_refs), so neither side
//    ever waits for the other.
// No lock, no allocation, no system call. Records go out with non-temporal stores: the ring
// is far larger than the caches, and ordinary stores would first read every line they write
// (~20 ns a line); streamed whole lines cost a few ns each and leave the worker's cache alone.
// A full ring refuses the record and counts it (refused(): rtprelay_recording_ring_full_total);
// the worker relays the packet all the same, so a recorder that falls behind costs recordings,
// never media.
//
// Layout: byte offsets grow without wrapping (64 bits) and are masked on use. A record never
// wraps: one that does not fit before the end of the buffer starts at its beginning, and the
// bytes left at the end are skipped (marked record_wrap when a header fits there).

#include <emmintrin.h>
#include <rte_mbuf.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>

namespace rtprelay::dp {

// Bytes of a packet a record keeps: a UDP payload on a 1500-byte IPv4 link. Longer ones are
// cut (record_slot::orig_len says how long they were; the pcap says so too).
constexpr uint32_t record_slot_data = 1472;
// An IPv6 record's data starts with the sender's and the relay's addresses (16 bytes each,
// network order), then the packet: IPv4 records keep their 32-byte header and their cost,
// IPv6 ones pay half a line more. The packet then starts on a line of its own.
constexpr uint32_t record_addr6_bytes = 32;

// Set in record_slot::flags by the producer.
enum record_slot_flags : uint8_t {
    record_rtcp = 1 << 0,     // the packet is RTCP (else RTP)
    record_discard = 1 << 1,  // copied, then not relayed after all (a protect step failed):
                              // the recorder skips it
    record_wrap = 1 << 2,     // not a record: the rest of the buffer is unused, go to its start
    record_ipv6 = 1 << 3,     // arrived over IPv6: data() starts with the two addresses
                              // (record_addr6_bytes); src_addr and dst_addr are 0
    record_mbuf = 1 << 4,     // the packet's bytes are not in the record but in an mbuf it
                              // holds a reference on (record_mbuf_ref, after the addresses)
};

// What a zero-copy record's data holds (after an IPv6 record's addresses): the mbuf the
// record holds a reference on, and where the clear RTP/RTCP starts in it. The bytes are never
// written again once the reference is taken (the packet leaves clear; the rewrite moves only
// headers in front of them), and the recorder frees the mbuf once it has read them.
struct record_mbuf_ref {
    rte_mbuf* mbuf;
    const uint8_t* bytes;
};
static_assert(sizeof(record_mbuf_ref) == 16);

// One copied packet's header; its `len` bytes follow it (data()). Written by the worker
// between reserve() and commit(), read by the recorder between next() and release().
struct alignas(16) record_slot {
    uint64_t tsc;        // worker's TSC when the packet's burst was received
    uint32_t record_id;  // flow_entry::record_id: which recording
    uint32_t src_addr;   // the sender's IPv4 address (network order); 0 with record_ipv6
    uint32_t dst_addr;   // the relay's address the packet arrived at (network order); ditto
    uint16_t src_port;   // network order
    uint16_t dst_port;   // network order
    uint16_t len;        // bytes of data that follow (with record_ipv6: the addresses too)
    uint16_t orig_len;   // the clear packet's length (> packet_len() when cut)
    uint8_t channel;     // flow_record_leg_b of the flow entry: the leg that sent it
    uint8_t flags;       // record_slot_flags
    uint16_t unused;

    uint8_t* data() { return reinterpret_cast<uint8_t*>(this + 1); }
    const uint8_t* data() const { return reinterpret_cast<const uint8_t*>(this + 1); }
    bool ipv6() const { return (flags & record_ipv6) != 0; }
    // The IPv6 addresses (16 bytes, network order); ipv6() records only.
    const uint8_t* src6() const { return data(); }
    const uint8_t* dst6() const { return data() + 16; }
    // A zero-copy record's reference (record_mbuf), else null.
    const record_mbuf_ref* ref() const {
        if ((flags & record_mbuf) == 0) {
            return nullptr;
        }
        return reinterpret_cast<const record_mbuf_ref*>(ipv6() ? data() + record_addr6_bytes : data());
    }
    // The clear RTP/RTCP bytes the record kept, either family, copied or referenced: the
    // recorder's one way to them. A reference keeps what a copy would (record_slot_data).
    const uint8_t* packet() const {
        if (const record_mbuf_ref* r = ref(); r != nullptr) {
            return r->bytes;
        }
        return ipv6() ? data() + record_addr6_bytes : data();
    }
    uint32_t packet_len() const {
        if ((flags & record_mbuf) != 0) {
            return orig_len < record_slot_data ? orig_len : record_slot_data;
        }
        const uint32_t skip = ipv6() ? record_addr6_bytes : 0;
        return len > skip ? len - skip : 0;
    }
    // Bytes the record takes in the ring: whole 64-byte lines.
    static constexpr uint32_t size_for(uint32_t len) {
        return (static_cast<uint32_t>(sizeof(record_slot)) + len + 63) & ~63u;
    }
};
static_assert(sizeof(record_slot) == 32);
// record_copy writes the header as four 64-bit words in this layout.
static_assert(offsetof(record_slot, record_id) == 8 && offsetof(record_slot, src_addr) == 12);
static_assert(offsetof(record_slot, dst_addr) == 16 && offsetof(record_slot, src_port) == 20 &&
              offsetof(record_slot, dst_port) == 22);
static_assert(offsetof(record_slot, len) == 24 && offsetof(record_slot, orig_len) == 26 &&
              offsetof(record_slot, channel) == 28 && offsetof(record_slot, flags) == 29);

class record_ring {
 public:
    // `bytes`: a power of two, at least 64 KiB. Allocates them (control plane, before the
    // worker starts). `max_refs`: mbufs the worker may lend the recorder at once (zero-copy
    // records not yet given back); 0 = copies only.
    explicit record_ring(uint32_t bytes, uint32_t max_refs = 0)
        : mask_(bytes - 1),
          max_refs_(max_refs),
          ret_mask_(return_slots(max_refs) - 1),
          buf_(new line[bytes / 64]),
          ret_(max_refs != 0 ? new rte_mbuf*[return_slots(max_refs)] : nullptr) {}
    record_ring(const record_ring&) = delete;
    record_ring& operator=(const record_ring&) = delete;

    uint32_t capacity() const { return mask_ + 1; }

    // Producer (the worker). Room for a record of `len` data bytes (header filled by the
    // caller), or null when the ring is full. Records reserved are handed over in order by
    // commit(), which publishes every one reserved so far: reserve several, fill, commit once.
    record_slot* reserve(uint32_t len) {
        const uint32_t need = record_slot::size_for(len);
        uint64_t h = head_;
        const uint32_t to_end = capacity() - static_cast<uint32_t>(h & mask_);
        const uint32_t skip = need > to_end ? to_end : 0;
        if (h + skip + need - cached_tail_ > capacity()) {
            cached_tail_ = tail_.load(std::memory_order_acquire);
            if (h + skip + need - cached_tail_ > capacity()) {
                refused_.store(refused_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
                return nullptr;
            }
        }
        if (skip != 0) {
            if (skip >= sizeof(record_slot)) {
                at(h)->flags = record_wrap;  // an ordinary store: rare, and the fence covers it
            }
            h += skip;
        }
        head_ = h + need;
        return at(h);
    }
    // The fence orders record_copy's non-temporal stores before the index that publishes them.
    void commit() {
        _mm_sfence();
        published_.store(head_, std::memory_order_release);
    }

    // Consumer (the recorder): reads from consumed() up to committed(); next() returns the
    // record at *pos and moves *pos past it (skipping the unused end of the buffer), or null
    // at `limit`; release(pos) gives everything before pos back to the producer.
    uint64_t committed() const { return published_.load(std::memory_order_acquire); }
    uint64_t consumed() const { return tail_.load(std::memory_order_acquire); }
    const record_slot* next(uint64_t* pos, uint64_t limit) const {
        while (*pos < limit) {
            const uint32_t to_end = capacity() - static_cast<uint32_t>(*pos & mask_);
            if (to_end < sizeof(record_slot) || (at(*pos)->flags & record_wrap) != 0) {
                *pos += to_end;
                continue;
            }
            const record_slot* s = at(*pos);
            *pos += record_slot::size_for(s->len);
            return s;
        }
        return nullptr;
    }
    void release(uint64_t pos) { tail_.store(pos, std::memory_order_release); }
    // Copies refused because the ring was full (any thread; the producer counts them).
    uint64_t refused() const { return refused_.load(std::memory_order_relaxed); }

    // Zero-copy budget. Producer: whether one more mbuf may be lent (then counted as lent).
    // Lent and not yet freed by the worker (reclaim()): both counts are the worker's own.
    bool lend() {
        if (refs_out() >= max_refs_) {
            return false;
        }
        ++refs_lent_;
        return true;
    }
    // Producer: a lend() whose record was then refused (ring full): the mbuf stays the worker's.
    void unlend() { --refs_lent_; }
    uint32_t max_refs() const { return max_refs_; }
    // Mbufs lent and not yet freed by the worker (in records, with the recorder, or on the
    // return path). Another thread reads it only once the worker stopped.
    // Every mbuf freed came through the return path: ret_tail_ counts them.
    uint64_t refs_out() const { return refs_lent_ - ret_tail_; }

    // Consumer: hands `n` lent mbufs back to the worker (the recorder read their bytes). Never
    // waits: the return path holds max_refs and at most max_refs are lent.
    void give_back(rte_mbuf* const* m, uint32_t n) {
        uint64_t h = ret_head_.load(std::memory_order_relaxed);
        for (uint32_t i = 0; i < n; ++i) {
            ret_[(h + i) & ret_mask_] = m[i];
        }
        ret_head_.store(h + n, std::memory_order_release);
    }
    // Mbufs handed back and not yet freed (any thread; exact only with both sides stopped).
    uint64_t returned() const { return ret_head_.load(std::memory_order_acquire) - ret_tail_; }
    // Producer: whether the recorder handed mbufs back: one load of a line the recorder
    // writes once per batch of 64, so in the worker's cache while recording is idle.
    bool returns_pending() const { return ret_head_.load(std::memory_order_acquire) != ret_tail_; }
    // Producer: frees up to `max` handed-back mbufs in the calling thread (the worker: into
    // its mempool cache) and returns them to the lending budget. Returns how many.
    uint32_t reclaim(uint32_t max);
    // With neither side running (the plane's teardown, once the worker and the recorder
    // stopped): frees the mbufs of zero-copy records nobody read and those handed back, and
    // empties the ring, before their pool goes.
    void discard_unread();

 private:
    record_slot* at(uint64_t pos) const {
        return reinterpret_cast<record_slot*>(reinterpret_cast<uint8_t*>(buf_.get()) + (pos & mask_));
    }

    // Producer's line: written per packet by the worker only.
    alignas(64) uint64_t head_ = 0;  // dp: rw (worker). Next byte to reserve.
    uint64_t cached_tail_ = 0;       // dp: rw (worker). Last tail_ seen.
    // dp: rw (worker, when full); recorder/metrics: ro. Here rather than in worker_counters so
    // that the worker's hot counters keep their place (bench/RESULTS.md).
    std::atomic<uint64_t> refused_{0};
    uint64_t refs_lent_ = 0;  // dp: rw (worker, per zero-copy record). Mbufs lent so far.
    // dp: rw (worker, reclaim()). Next handed-back mbuf to free: lent mbufs freed so far.
    uint64_t ret_tail_ = 0;
    // Shared lines: one writer each.
    alignas(64) std::atomic<uint64_t> published_{0};  // dp: wo (worker), recorder: ro
    alignas(64) std::atomic<uint64_t> tail_{0};       // recorder: wo, dp: ro (when full)
    alignas(64) std::atomic<uint64_t> ret_head_{0};   // recorder: wo (per batch), dp: ro (per turn)
    alignas(64) uint32_t mask_ = 0;                   // fixed at construction
    uint32_t max_refs_ = 0;                           // fixed at construction
    uint32_t ret_mask_ = 0;                           // fixed at construction
    struct alignas(64) line {
        uint8_t b[64];
    };
    std::unique_ptr<line[]> buf_;  // records start on a line
    // The return path's slots: recorder writes (give_back), worker reads (reclaim), ordered by
    // ret_head_. A power of two >= max_refs_, allocated once with the ring.
    std::unique_ptr<rte_mbuf*[]> ret_;

    static uint32_t return_slots(uint32_t max_refs) {
        uint32_t n = 1;
        while (n < max_refs) {
            n <<= 1;
        }
        return n;
    }
};

// Streams `keep` bytes of `payload` to `out`, then zeros to `end` bytes after `out`'s start
// (a multiple of 16): whole lines go out without a read.
inline void record_stream_bytes(__m128i* out, const uint8_t* payload, uint32_t keep, uint32_t end) {
    uint32_t done = 0;
    for (; done + 16 <= keep; done += 16) {
        _mm_stream_si128(out++, _mm_loadu_si128(reinterpret_cast<const __m128i*>(payload + done)));
    }
    if (done < keep) {
        // The last 1..15 bytes: 8- and 4-byte pieces and the rest, into a register.
        uint8_t tail[16] = {};
        std::memcpy(tail, payload + done, keep - done);
        _mm_stream_si128(out++, _mm_loadu_si128(reinterpret_cast<const __m128i*>(tail)));
        done += 16;
    }
    for (; done < end; done += 16) {
        _mm_stream_si128(out++, _mm_setzero_si128());
    }
}

// The header's two 16-byte halves, in record_slot's field order (x86 is little-endian): built
// in registers, not in memory, so no store has to be read back.
inline void record_stream_header(record_slot* s, uint64_t tsc, uint32_t record_id, uint32_t src_addr, uint16_t src_port,
                                 uint32_t dst_addr, uint16_t dst_port, uint32_t keep, uint32_t len, uint8_t channel,
                                 uint8_t flags) {
    const uint64_t w0 = tsc;
    const uint64_t w1 = record_id | static_cast<uint64_t>(src_addr) << 32;
    const uint64_t w2 = dst_addr | static_cast<uint64_t>(src_port) << 32 | static_cast<uint64_t>(dst_port) << 48;
    const uint64_t w3 = keep | static_cast<uint64_t>(len) << 16 | static_cast<uint64_t>(channel) << 32 |
                        static_cast<uint64_t>(flags) << 40;
    auto* out = reinterpret_cast<__m128i*>(s);
    _mm_stream_si128(out, _mm_set_epi64x(static_cast<long long>(w1), static_cast<long long>(w0)));
    _mm_stream_si128(out + 1, _mm_set_epi64x(static_cast<long long>(w3), static_cast<long long>(w2)));
}

// Copies one clear packet into the ring for the recorder: the worker's whole hook. Returns
// its record (handed over at the ring's next commit()), or null when the ring is full
// (nothing written). Streams whole lines: the header, the packet, zeros to the line's end.
inline record_slot* record_copy(record_ring& ring, uint64_t tsc, uint32_t record_id, uint8_t channel, bool rtcp,
                                uint32_t src_addr, uint16_t src_port, uint32_t dst_addr, uint16_t dst_port,
                                const uint8_t* payload, uint32_t len) {
    const uint32_t keep = len < record_slot_data ? len : record_slot_data;
    record_slot* s = ring.reserve(keep);
    if (s == nullptr) {
        return nullptr;
    }
    record_stream_header(s, tsc, record_id, src_addr, src_port, dst_addr, dst_port, keep, len, channel,
                         rtcp ? record_rtcp : 0);
    const uint32_t end = record_slot::size_for(keep) - static_cast<uint32_t>(sizeof(record_slot));
    record_stream_bytes(reinterpret_cast<__m128i*>(s) + 2, payload, keep, end);
    return s;
}

// record_copy for a packet that arrived over IPv6: the same header (record_ipv6, no IPv4
// addresses), then the sender's and the relay's addresses (`src6`, `dst6`: 16 bytes each,
// network order), then the packet. Costs one more half line than an IPv4 record.
inline record_slot* record_copy6(record_ring& ring, uint64_t tsc, uint32_t record_id, uint8_t channel, bool rtcp,
                                 const uint8_t* src6, uint16_t src_port, const uint8_t* dst6, uint16_t dst_port,
                                 const uint8_t* payload, uint32_t len) {
    const uint32_t keep = len < record_slot_data ? len : record_slot_data;
    record_slot* s = ring.reserve(record_addr6_bytes + keep);
    if (s == nullptr) {
        return nullptr;
    }
    const uint8_t flags = static_cast<uint8_t>(record_ipv6 | (rtcp ? record_rtcp : 0));
    record_stream_header(s, tsc, record_id, 0, src_port, 0, dst_port, record_addr6_bytes + keep, len, channel, flags);
    auto* out = reinterpret_cast<__m128i*>(s) + 2;
    _mm_stream_si128(out, _mm_loadu_si128(reinterpret_cast<const __m128i*>(src6)));
    _mm_stream_si128(out + 1, _mm_loadu_si128(reinterpret_cast<const __m128i*>(dst6)));
    const uint32_t end = record_slot::size_for(record_addr6_bytes + keep) - static_cast<uint32_t>(sizeof(record_slot)) -
                         record_addr6_bytes;
    record_stream_bytes(out + 2, payload, keep, end);
    return s;
}

// A zero-copy record of packet `m`, whose clear RTP/RTCP (`payload`, `len` bytes, inside m)
// leaves the worker unchanged: the header, then the reference (record_mbuf_ref), one line.
// Takes a reference on m; the recorder frees it. With the ring's lending budget spent, a
// copy (record_copy) instead; null when the ring is full (nothing written, no reference).
inline record_slot* record_ref(record_ring& ring, rte_mbuf* m, uint64_t tsc, uint32_t record_id, uint8_t channel,
                               bool rtcp, uint32_t src_addr, uint16_t src_port, uint32_t dst_addr, uint16_t dst_port,
                               const uint8_t* payload, uint32_t len) {
    if (!ring.lend()) {
        return record_copy(ring, tsc, record_id, channel, rtcp, src_addr, src_port, dst_addr, dst_port, payload, len);
    }
    record_slot* s = ring.reserve(sizeof(record_mbuf_ref));
    if (s == nullptr) {
        ring.unlend();
        return nullptr;
    }
    // The worker owns m: its refcnt is 1 and the update a plain store.
    rte_mbuf_refcnt_update(m, 1);
    const uint8_t flags = static_cast<uint8_t>(record_mbuf | (rtcp ? record_rtcp : 0));
    record_stream_header(s, tsc, record_id, src_addr, src_port, dst_addr, dst_port, sizeof(record_mbuf_ref), len,
                         channel, flags);
    auto* out = reinterpret_cast<__m128i*>(s) + 2;
    _mm_stream_si128(out, _mm_set_epi64x(reinterpret_cast<long long>(payload), reinterpret_cast<long long>(m)));
    _mm_stream_si128(out + 1, _mm_setzero_si128());  // the line's rest: a whole line goes out
    return s;
}

// record_ref for a packet that arrived over IPv6 (record_copy6's addresses, then the
// reference): two lines.
inline record_slot* record_ref6(record_ring& ring, rte_mbuf* m, uint64_t tsc, uint32_t record_id, uint8_t channel,
                                bool rtcp, const uint8_t* src6, uint16_t src_port, const uint8_t* dst6,
                                uint16_t dst_port, const uint8_t* payload, uint32_t len) {
    if (!ring.lend()) {
        return record_copy6(ring, tsc, record_id, channel, rtcp, src6, src_port, dst6, dst_port, payload, len);
    }
    record_slot* s = ring.reserve(record_addr6_bytes + sizeof(record_mbuf_ref));
    if (s == nullptr) {
        ring.unlend();
        return nullptr;
    }
    rte_mbuf_refcnt_update(m, 1);
    const uint8_t flags = static_cast<uint8_t>(record_mbuf | record_ipv6 | (rtcp ? record_rtcp : 0));
    record_stream_header(s, tsc, record_id, 0, src_port, 0, dst_port, record_addr6_bytes + sizeof(record_mbuf_ref), len,
                         channel, flags);
    auto* out = reinterpret_cast<__m128i*>(s) + 2;
    _mm_stream_si128(out, _mm_loadu_si128(reinterpret_cast<const __m128i*>(src6)));
    _mm_stream_si128(out + 1, _mm_loadu_si128(reinterpret_cast<const __m128i*>(dst6)));
    _mm_stream_si128(out + 2, _mm_set_epi64x(reinterpret_cast<long long>(payload), reinterpret_cast<long long>(m)));
    for (int k = 3; k < 6; ++k) {
        _mm_stream_si128(out + k, _mm_setzero_si128());
    }
    return s;
}

// The consumer's side of zero-copy records: hold() each record once its bytes were read
// (copies are ignored), flush() before release(): hands the mbufs back to the worker that
// lent them (record_ring::give_back), 64 at a time; the worker frees them (reclaim()). The
// recorder never frees an mbuf itself (record_ring's header says why).
class record_ref_batch {
 public:
    explicit record_ref_batch(record_ring& ring) : ring_(ring) {}
    ~record_ref_batch() { flush(); }
    record_ref_batch(const record_ref_batch&) = delete;
    record_ref_batch& operator=(const record_ref_batch&) = delete;

    void hold(const record_slot& s) {
        if (const record_mbuf_ref* r = s.ref(); r != nullptr) {
            held_[n_++] = r->mbuf;
            if (n_ == max) {
                flush();
            }
        }
    }
    void flush() {
        if (n_ != 0) {
            ring_.give_back(held_, n_);
            n_ = 0;
        }
    }

 private:
    static constexpr unsigned max = 64;
    record_ring& ring_;
    rte_mbuf* held_[max];
    unsigned n_ = 0;
};

inline uint32_t record_ring::reclaim(uint32_t max) {
    const uint64_t avail = ret_head_.load(std::memory_order_acquire) - ret_tail_;
    uint32_t n = avail < max ? static_cast<uint32_t>(avail) : max;
    uint32_t done = 0;
    rte_mbuf* batch[64];
    while (done < n) {
        const uint32_t k = n - done < 64 ? n - done : 64;
        for (uint32_t i = 0; i < k; ++i) {
            batch[i] = ret_[(ret_tail_ + i) & ret_mask_];
        }
        rte_pktmbuf_free_bulk(batch, k);
        ret_tail_ += k;
        done += k;
    }
    return n;
}

inline void record_ring::discard_unread() {
    uint64_t pos = consumed();
    const uint64_t limit = committed();
    {
        record_ref_batch refs(*this);
        while (const record_slot* s = next(&pos, limit)) {
            refs.hold(*s);
        }
    }
    release(pos);
    while (reclaim(64) != 0) {
    }
}

}  // namespace rtprelay::dp
