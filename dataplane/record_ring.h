#pragma once
// The path of a recorded call's packets from a worker to the recorder thread
// (control/recording/recorder.h): one ring per worker, one producer (the worker), one
// consumer (the recorder), its bytes allocated once at start-up.
//
// A record is a 32-byte header and the packet's clear RTP/RTCP (after an IPv6 packet's two
// addresses), copied, in 16-byte steps, each record right after the one before: a G.711
// packet takes 208 bytes (240 over IPv6), 3.25 cache lines rather than the 4 whole lines it
// took when records started on a line of their own (bench/RESULTS.md: the lines are the
// record's cost), and a 32 MiB ring holds ~160,000 of them (1.6 s of 1,000 recorded calls). The worker keeps no
// reference on the packet: its mbuf leaves and is freed as an unrecorded one is, and nothing
// comes back from the recorder.
//
// What a record costs is where its lines are, not its bytes (bench/RESULTS.md): a line the
// worker wrote 32 MiB ago is in no cache, and its stores wait for memory (an ordinary store
// reads the line first, a non-temporal one holds a write-combining buffer until memory took
// it: 15-20 ns a line either way on the bench's VM). So the ring has two areas: a small hot one
// (record_hot_bytes) the worker writes while the recorder keeps up, the same lines again and
// again (in L2 beside the worker's own state), and the large one it goes on in when the
// recorder falls behind by the whole hot area. Each switch is a header in the area left
// ("go on in the other"), which the recorder follows, so records stay in one order; the
// worker comes back to the hot area once the recorder has read all of it. A recorder that
// stalls has both areas to fall behind by, as before the hot one was added.
// Records are written with ordinary stores, which hit those lines in cache; x86 keeps stores
// in order, so the release store of the published position hands them over without a fence.
// No lock, no allocation, no system call. A full ring refuses the record and counts it
// (refused(): rtprelay_recording_ring_full_total); the worker relays the packet all the same,
// so a recorder that falls behind costs recordings, never media.
//
// Layout: byte offsets grow without wrapping (64 bits) and are masked on use. A record never
// wraps: one that does not fit before the end of an area starts at its beginning, and the
// bytes left at the end are skipped (marked record_wrap when a header fits there; 16 bytes,
// too few for one, are skipped by both sides unmarked). The
// recorder's positions (consumed(), committed(), next()) count the bytes of both areas in the
// order the worker reserved them.

#include <emmintrin.h>

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
// IPv6 ones pay half a line more.
constexpr uint32_t record_addr6_bytes = 32;
// Bytes of the hot area the worker writes again and again while the recorder keeps up
// (record_ring's header): 1,024 G.711 records, ~10 ms of 1,000 recorded calls, more than the
// recorder is behind when it wakes from its 1 ms idle sleep at that load; past it the worker
// writes the large area (plane_config::record_bytes) until the recorder caught up.
constexpr uint32_t record_hot_bytes = 256u << 10;

// Set in record_slot::flags by the producer.
enum record_slot_flags : uint8_t {
    record_rtcp = 1 << 0,     // the packet is RTCP (else RTP)
    record_discard = 1 << 1,  // copied, then not relayed after all (a protect step failed):
                              // the recorder skips it
    record_wrap = 1 << 2,     // not a record: the rest of the buffer is unused, go to its start
    record_ipv6 = 1 << 3,     // arrived over IPv6: data() starts with the two addresses
                              // (record_addr6_bytes); src_addr and dst_addr are 0
    record_switch = 1 << 4,   // not a record: the worker went on in the ring's other area
};

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
    // The clear RTP/RTCP bytes the record kept, either family: the recorder's one way to them.
    const uint8_t* packet() const { return ipv6() ? data() + record_addr6_bytes : data(); }
    uint32_t packet_len() const {
        const uint32_t skip = ipv6() ? record_addr6_bytes : 0;
        return len > skip ? len - skip : 0;
    }
    // Bytes the record takes in the ring: whole 16-byte steps (the header's alignment), so
    // that the next record starts in the line this one ends in, which the worker just wrote.
    static constexpr uint32_t size_for(uint32_t len) {
        return (static_cast<uint32_t>(sizeof(record_slot)) + len + 15) & ~15u;
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
    // `bytes`: a power of two, at least 64 KiB, the ring the worker fills while the recorder is
    // behind. `hot`: 0 or a power of two (record_hot_bytes), the lines the worker writes while
    // the recorder keeps up. Allocates both (control plane, before the worker starts).
    explicit record_ring(uint32_t bytes, uint32_t hot = 0) {
        area_[cold].init(bytes);
        if (hot != 0) {
            area_[hot_area].init(hot);
            cur_ = hot_area;
            spare_ = switch_room;
        }
        read_.in = cur_;  // the recorder starts where the worker does
        released_.in = cur_;
    }
    record_ring(const record_ring&) = delete;
    record_ring& operator=(const record_ring&) = delete;

    // Bytes of records the ring can hold unread (both areas).
    uint32_t capacity() const { return area_[cold].mask + 1 + (area_[hot_area].buf ? area_[hot_area].mask + 1 : 0); }

    // Producer (the worker). Room for a record of `len` data bytes (header filled by the
    // caller), or null when the ring is full. Records reserved are handed over in order by
    // commit(), which publishes every one reserved so far: reserve several, fill, commit once.
    record_slot* reserve(uint32_t len) {
        const uint32_t need = record_slot::size_for(len);
        if (cur_ == hot_area) [[likely]] {
            if (record_slot* s = take(hot_area, need)) {
                return s;
            }
            // The recorder is behind by the hot area: on in the cold one, after a switch the
            // recorder follows. The hot area always keeps a switch's room free.
            put_switch(hot_area);
        } else if (area_[hot_area].buf != nullptr &&
                   area_head_[hot_area] == area_tail_[hot_area].load(std::memory_order_acquire)) {
            // The recorder read the whole hot area (the switch included): back to it.
            put_switch(cold);
            return reserve(len);
        }
        if (record_slot* s = take(cold, need)) {
            return s;
        }
        refused_.store(refused_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
        return nullptr;
    }
    // reserve() when the worker writes the hot area and it has room: the common case, small
    // enough to inline where a packet is copied; null otherwise (then reserve(), which also
    // switches areas or counts the refusal).
    record_slot* reserve_hot(uint32_t len) {
        return cur_ == hot_area ? take(hot_area, record_slot::size_for(len)) : nullptr;
    }
    // Hands the records reserved so far to the recorder. The records' stores are ordinary
    // ones: the release store orders them before the index (no fence on x86).
    void commit() { published_.store(head_, std::memory_order_release); }

    // Consumer (the recorder): reads from consumed() up to committed(), positions in the order
    // the records were reserved (both areas); next() returns the record at *pos and moves *pos
    // past it (following the worker's switches and skipping the unused end of an area), or
    // null at `limit`; release(pos) gives everything before pos back to the producer. *pos
    // comes from consumed() or an earlier next().
    uint64_t committed() const { return published_.load(std::memory_order_acquire); }
    uint64_t consumed() const { return tail_.load(std::memory_order_acquire); }
    const record_slot* next(uint64_t* pos, uint64_t limit) {
        seek(*pos);
        const record_slot* s = step(limit);
        *pos = read_.at;
        return s;
    }
    void release(uint64_t pos) {
        seek(pos);
        released_ = read_;
        area_tail_[hot_area].store(read_.area_pos[hot_area], std::memory_order_release);
        area_tail_[cold].store(read_.area_pos[cold], std::memory_order_release);
        tail_.store(read_.at, std::memory_order_release);
    }
    // Copies refused because the ring was full (any thread; the producer counts them).
    uint64_t refused() const { return refused_.load(std::memory_order_relaxed); }

 private:
    static constexpr unsigned hot_area = 0;
    static constexpr unsigned cold = 1;
    // The bytes the worker writes a switch to the other area with: a header. Each area keeps
    // room for one free, and for the 16 bytes before an area's end that a header would not
    // fit in (skipped first), so that a switch always fits.
    static constexpr uint32_t switch_bytes = sizeof(record_slot);
    static constexpr uint32_t switch_room = switch_bytes + 16;

    struct alignas(64) line {
        uint8_t b[64];
    };
    // One area of lines, fixed at construction. Offsets in it grow without wrapping (64 bits)
    // and are masked on use.
    struct area {
        std::unique_ptr<line[]> buf;  // null: the ring has no such area
        uint32_t mask = 0;
        void init(uint32_t bytes) {
            buf.reset(new line[bytes / 64]);
            mask = bytes - 1;
        }
        record_slot* at(uint64_t pos) const {
            return reinterpret_cast<record_slot*>(reinterpret_cast<uint8_t*>(buf.get()) + (pos & mask));
        }
    };
    // Where the recorder reads: the ring's position (what consumed() and next() count), and
    // each area's offset (what it gives back to the worker).
    struct cursor {
        uint64_t at = 0;
        unsigned in = 0;  // the area it reads
        uint64_t area_pos[2] = {0, 0};
    };

    // Producer: room for `need` bytes in area `a` (a switch's room left free), or null.
    record_slot* take(unsigned a, uint32_t need) {
        const area& r = area_[a];
        uint64_t h = area_head_[a];
        const uint32_t size = r.mask + 1;
        const uint32_t to_end = size - static_cast<uint32_t>(h & r.mask);
        const uint32_t skip = need > to_end ? to_end : 0;
        if (h + skip + need + spare_ - cached_tail_[a] > size) {
            cached_tail_[a] = area_tail_[a].load(std::memory_order_acquire);
            if (h + skip + need + spare_ - cached_tail_[a] > size) {
                return nullptr;
            }
        }
        if (skip != 0) {
            if (skip >= sizeof(record_slot)) {
                r.at(h)->flags = record_wrap;
            }
            h += skip;
        }
        area_head_[a] = h + need;
        head_ += skip + need;
        return r.at(h);
    }
    // Producer: ends area `a` with a switch to the other (in its free room) and goes there.
    void put_switch(unsigned a) {
        const area& r = area_[a];
        const uint32_t to_end = r.mask + 1 - static_cast<uint32_t>(area_head_[a] & r.mask);
        if (to_end < sizeof(record_slot)) {  // 16 bytes: the recorder skips them unmarked
            area_head_[a] += to_end;
            head_ += to_end;
        }
        record_slot* s = r.at(area_head_[a]);
        s->len = 0;
        s->flags = record_switch;
        area_head_[a] += switch_bytes;
        head_ += switch_bytes;
        cur_ = a ^ 1;
    }

    // Consumer: moves read_ to ring position `pos` (from released_ when it is behind it).
    void seek(uint64_t pos) {
        if (read_.at == pos) {
            return;
        }
        if (read_.at > pos || released_.at > read_.at) {
            read_ = released_;
        }
        while (read_.at < pos && step(pos) != nullptr) {
        }
    }
    // Consumer: the next record before ring position `limit` (switches and skips followed).
    const record_slot* step(uint64_t limit) {
        while (read_.at < limit) {
            const area& r = area_[read_.in];
            uint64_t& p = read_.area_pos[read_.in];
            const uint32_t to_end = r.mask + 1 - static_cast<uint32_t>(p & r.mask);
            if (to_end < sizeof(record_slot) || (r.at(p)->flags & record_wrap) != 0) {
                p += to_end;
                read_.at += to_end;
                continue;
            }
            const record_slot* s = r.at(p);
            if ((s->flags & record_switch) != 0) {
                p += switch_bytes;
                read_.at += switch_bytes;
                read_.in ^= 1;
                continue;
            }
            const uint32_t size = record_slot::size_for(s->len);
            p += size;
            read_.at += size;
            return s;
        }
        return nullptr;
    }

    // Producer's line: written per packet by the worker only.
    alignas(64) uint64_t head_ = 0;     // dp: rw (worker). Ring position of the next reserve.
    uint64_t area_head_[2] = {0, 0};    // dp: rw (worker). Each area's next byte to reserve.
    uint64_t cached_tail_[2] = {0, 0};  // dp: rw (worker). The area_tail_ last seen.
    unsigned cur_ = cold;               // dp: rw (worker). The area it writes.
    // dp: rw (worker, when full); recorder/metrics: ro. Here rather than in worker_counters so
    // that the worker's hot counters keep their place (bench/RESULTS.md).
    std::atomic<uint64_t> refused_{0};
    // Fixed at construction: dp and recorder ro.
    alignas(64) area area_[2];
    uint32_t spare_ = 0;  // bytes each area keeps free for a switch: switch_room with a hot area
    // Shared lines: one writer each.
    alignas(64) std::atomic<uint64_t> published_{0};  // dp: wo (worker), recorder: ro
    // recorder: wo (release); dp: ro (the area's when full or switching back; tail_ never).
    alignas(64) std::atomic<uint64_t> tail_{0};
    std::atomic<uint64_t> area_tail_[2] = {0, 0};
    // The recorder's own: where it reads (next) and what it gave back (release).
    alignas(64) cursor read_;
    cursor released_;
};

// Copies `n` bytes from `in` to `out` in 16-byte pieces, the last one overlapping the one
// before (no byte read past `in + n`). A loop of its own rather than memcpy: GCC makes a
// variable-length memcpy in the worker's cold recording code `rep movsb`, which took ~40% of
// the record's time for a G.711 packet (bench/RESULTS.md).
inline void record_copy_bytes(uint8_t* out, const uint8_t* in, uint32_t n) {
    if (n >= 16) {
        uint32_t i = 0;
        for (; i + 16 <= n; i += 16) {
            _mm_storeu_si128(reinterpret_cast<__m128i*>(out + i),
                             _mm_loadu_si128(reinterpret_cast<const __m128i*>(in + i)));
        }
        if (i < n) {
            _mm_storeu_si128(reinterpret_cast<__m128i*>(out + n - 16),
                             _mm_loadu_si128(reinterpret_cast<const __m128i*>(in + n - 16)));
        }
        return;
    }
    for (uint32_t i = 0; i < n; ++i) {
        out[i] = in[i];
    }
}

// The header's two 16-byte halves, in record_slot's field order (x86 is little-endian): built
// in registers, stored as two.
inline void record_write_header(record_slot* s, uint64_t tsc, uint32_t record_id, uint32_t src_addr, uint16_t src_port,
                                uint32_t dst_addr, uint16_t dst_port, uint32_t keep, uint32_t len, uint8_t channel,
                                uint8_t flags) {
    const uint64_t w0 = tsc;
    const uint64_t w1 = record_id | static_cast<uint64_t>(src_addr) << 32;
    const uint64_t w2 = dst_addr | static_cast<uint64_t>(src_port) << 32 | static_cast<uint64_t>(dst_port) << 48;
    const uint64_t w3 = keep | static_cast<uint64_t>(len) << 16 | static_cast<uint64_t>(channel) << 32 |
                        static_cast<uint64_t>(flags) << 40;
    auto* out = reinterpret_cast<__m128i*>(s);
    _mm_store_si128(out, _mm_set_epi64x(static_cast<long long>(w1), static_cast<long long>(w0)));
    _mm_store_si128(out + 1, _mm_set_epi64x(static_cast<long long>(w3), static_cast<long long>(w2)));
}

// How much of a `len`-byte packet a record keeps (what it reserves for an IPv4 packet).
inline uint32_t record_keep(uint32_t len) { return len < record_slot_data ? len : record_slot_data; }

// Writes an IPv4 packet's record into `s`, reserved for record_keep(len) bytes.
inline void record_fill(record_slot* s, uint64_t tsc, uint32_t record_id, uint8_t channel, bool rtcp, uint32_t src_addr,
                        uint16_t src_port, uint32_t dst_addr, uint16_t dst_port, const uint8_t* payload, uint32_t len) {
    const uint32_t keep = record_keep(len);
    record_write_header(s, tsc, record_id, src_addr, src_port, dst_addr, dst_port, keep, len, channel,
                        rtcp ? record_rtcp : 0);
    record_copy_bytes(s->data(), payload, keep);
}

// Copies one clear packet into the ring for the recorder: the worker's whole hook. Returns
// its record (handed over at the ring's next commit()), or null when the ring is full
// (nothing written).
inline record_slot* record_copy(record_ring& ring, uint64_t tsc, uint32_t record_id, uint8_t channel, bool rtcp,
                                uint32_t src_addr, uint16_t src_port, uint32_t dst_addr, uint16_t dst_port,
                                const uint8_t* payload, uint32_t len) {
    record_slot* s = ring.reserve(record_keep(len));
    if (s != nullptr) {
        record_fill(s, tsc, record_id, channel, rtcp, src_addr, src_port, dst_addr, dst_port, payload, len);
    }
    return s;
}

// record_copy for a packet that arrived over IPv6: the same header (record_ipv6, no IPv4
// addresses), then the sender's and the relay's addresses (`src6`, `dst6`: 16 bytes each,
// network order), then the packet. Costs one more half line than an IPv4 record.
inline record_slot* record_copy6(record_ring& ring, uint64_t tsc, uint32_t record_id, uint8_t channel, bool rtcp,
                                 const uint8_t* src6, uint16_t src_port, const uint8_t* dst6, uint16_t dst_port,
                                 const uint8_t* payload, uint32_t len) {
    const uint32_t keep = record_keep(len);
    record_slot* s = ring.reserve(record_addr6_bytes + keep);
    if (s == nullptr) {
        return nullptr;
    }
    const uint8_t flags = static_cast<uint8_t>(record_ipv6 | (rtcp ? record_rtcp : 0));
    record_write_header(s, tsc, record_id, 0, src_port, 0, dst_port, record_addr6_bytes + keep, len, channel, flags);
    auto* out = reinterpret_cast<__m128i*>(s->data());
    _mm_store_si128(out, _mm_loadu_si128(reinterpret_cast<const __m128i*>(src6)));
    _mm_store_si128(out + 1, _mm_loadu_si128(reinterpret_cast<const __m128i*>(dst6)));
    record_copy_bytes(s->data() + record_addr6_bytes, payload, keep);
    return s;
}

}  // namespace rtprelay::dp
