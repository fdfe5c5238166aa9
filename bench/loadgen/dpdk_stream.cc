#include "bench/loadgen/dpdk_stream.h"

#include <arpa/inet.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_prefetch.h>

#include <sys/resource.h>

#include <algorithm>
#include <array>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <exception>
#include <memory>

#include "bench/loadgen/clock.h"
#include "bench/loadgen/endpoint_index.h"
#include "bench/loadgen/relay_usage.h"
#include "bench/loadgen/rtp_wire.h"
#include "bench/loadgen/srtp_streams.h"
#include "bench/loadgen/stop_signal.h"
#include "bench/loadgen/udp_frame.h"
#include "dataplane/arp.h"

namespace rtprelay::loadgen {

namespace {

constexpr uint16_t burst = 32;
constexpr int64_t start_delay_ns = 50'000'000;  // polls (and answers ARP) before packet one
constexpr int64_t arp_timeout_ns = 3'000'000'000;
constexpr int64_t arp_retry_ns = 100'000'000;
// How long a frame may wait for room on the link: a descheduled relay worker (or generator
// catching up) must not turn into loss at once, but a relay that stays behind must.
constexpr int64_t tx_hold_ns = 2'000'000;
// A port's queue is handed over when it holds a full burst, or when its oldest frame has
// waited this long: at low rates a loop turn finds one or two frames due, and a transmit
// call per frame or two costs more than the frames (ring update, barriers, the peer's cache
// lines). 20 us of added latency, 0.1% of a 20-ms packet interval.
constexpr int64_t tx_gather_ns = 20'000;
// Rounds of send times kept per call for the latency of returning packets (16 x 20 ms): a
// packet older than that takes its due time instead (an upper bound by the sender's lag).
constexpr uint32_t send_time_rounds = 16;
// The wire's two "relay" sides (--dpdk-wire): addresses no network has, since the wire has
// none (198.18.0.0/15, the benchmarking range).
constexpr const char* wire_relay_a = "198.19.255.1";
constexpr const char* wire_relay_b = "198.19.255.2";
constexpr uint16_t wire_first_port = 10000;
// The clean measure of the generator's own cost: its busy time is summed over windows of
// this length, and only windows in which the thread was not preempted (no involuntary
// context switch, getrusage, one system call a window) count; on a shared host a busy turn
// that was descheduled would otherwise count the other process's time as the generator's.
// Voluntary switches (--dpdk-idle-sleep-us) fall in idle turns and do not spoil a window.
constexpr int64_t clean_window_ns = 1'000'000;

uint64_t involuntary_switches() {
    rusage ru{};
    getrusage(RUSAGE_THREAD, &ru);
    return static_cast<uint64_t>(ru.ru_nivcsw);
}

uint32_t ipv4_of(const net_address& a) {
    return reinterpret_cast<const sockaddr_in*>(&a.storage)->sin_addr.s_addr;
}

uint16_t fold(uint32_t sum) {
    sum = (sum & 0xffff) + (sum >> 16);
    sum = (sum & 0xffff) + (sum >> 16);
    return static_cast<uint16_t>(sum);
}

// The raw (memory-order) 16-bit sum of a UDP header and its IPv4 pseudo header, the
// checksum field zero.
uint32_t udp_header_sum(const uint8_t* frame) {
    constexpr size_t ip_at = sizeof(rte_ether_hdr);
    constexpr size_t udp_at = ip_at + sizeof(rte_ipv4_hdr);
    auto word = [&](size_t at) {
        uint16_t w = 0;
        std::memcpy(&w, frame + at, 2);
        return uint32_t{w};
    };
    uint32_t sum = 0;
    for (size_t at = ip_at + 12; at < ip_at + 20; at += 2) {  // source and destination address
        sum += word(at);
    }
    sum += rte_cpu_to_be_16(IPPROTO_UDP);
    sum += word(udp_at) + word(udp_at + 2);      // ports
    sum += 2 * word(udp_at + 4);                 // length, in the header and the pseudo header
    return sum;
}

// CLOCK_MONOTONIC nanoseconds from the TSC: one rdtsc per reading, anchored once.
class tsc_clock {
 public:
    tsc_clock()
        : base_ns_(mono_ns()),
          base_tsc_(rte_rdtsc()),
          ns_per_tick_(1e9 / static_cast<double>(rte_get_tsc_hz())) {}
    int64_t now() const { return to_ns(rte_rdtsc()); }
    int64_t to_ns(uint64_t tsc) const {
        return base_ns_ + static_cast<int64_t>(static_cast<double>(tsc - base_tsc_) * ns_per_tick_);
    }
    double ns_per_tick() const { return ns_per_tick_; }

 private:
    int64_t base_ns_;
    uint64_t base_tsc_;
    double ns_per_tick_;
};

// Per stream, what sending one of its packets needs, on one cache line.
struct alignas(64) stream_tx {
    uint8_t header[udp_frame_header_bytes];  // Ethernet, IPv4 (checksum done), UDP (sum 0)
    uint16_t port_index = 0;                 // into dpdk_link::ports()
    uint32_t header_sum = 0;                 // udp_header_sum of the template
    uint32_t identity = 0;
};

side other(side s) {
    return s == side::a ? side::b : side::a;
}

}  // namespace

packet_store make_packet_store(const options& opt, std::mt19937_64& rng) {
    const uint32_t most_calls = opt.ramp ? std::max(opt.ramp_max, opt.calls) : opt.calls;
    const uint64_t streams = 2 * uint64_t{most_calls};
    // A round per ptime of --duration, and one spare: the schedule's last round may start
    // within the duration.
    const auto rounds = static_cast<uint32_t>(opt.duration_s * 1000.0 / opt.ptime_ms) + 2;
    const size_t per_identity = packet_store::bytes_per_identity(rounds, opt.payload_bytes, opt.srtp);
    const uint64_t fit = std::max<uint64_t>(uint64_t{opt.dpdk_store_mb} * 1024 * 1024 / per_identity, 2);
    packet_store::params p;
    p.identities = static_cast<uint32_t>(std::min(streams, fit));
    p.rounds = rounds;
    p.payload_bytes = opt.payload_bytes;
    p.ptime_ms = opt.ptime_ms;
    p.srtp = opt.srtp;
    p.check_identities = 2 * opt.srtp_check_streams;
    packet_store store(p, rng);
    std::fprintf(stderr,
                 "rtprelay-loadgen: %u sender identities x %u rounds precomputed (%s, %.0f MB) in %.2f s%s\n",
                 store.identities(), store.rounds(), opt.srtp ? "SRTP" : "RTP",
                 static_cast<double>(per_identity) * store.identities() / 1e6, store.build_seconds(),
                 store.identities() < streams ? " (streams share identities beyond that)" : "");
    return store;
}

void use_identity_keys(const packet_store& store, std::vector<call_record>* calls) {
    const uint32_t n = store.identities();
    for (call_record& c : *calls) {
        c.key_a = store.identity((2 * c.index) % n).key;
        c.key_b = store.identity((2 * c.index + 1) % n).key;
    }
}

void use_identities(const packet_store& store, stream_set* streams) {
    for (stream_plan& s : streams->streams) {
        const uint32_t k = (2 * s.call_index + (s.from == side::a ? 0 : 1)) % store.identities();
        const sender_identity& id = store.identity(k);
        s.ssrc = id.ssrc;
        s.first_seq = id.first_seq;
        s.first_ts = id.first_ts;
    }
    // SSRCs may repeat now: the DPDK receiver tells streams apart by the relay's address.
    streams->by_ssrc = ssrc_index();
}

void set_up_wire_calls(std::vector<call_record>* calls) {
    for (call_record& c : *calls) {
        const auto port = static_cast<uint16_t>(wire_first_port + 2 * (c.index % 25000));
        c.offered = true;
        c.set_up = true;
        make_address(wire_relay_a, port, &c.a_sends_to.rtp);
        make_address(wire_relay_a, static_cast<uint16_t>(port + 1), &c.a_sends_to.rtcp);
        make_address(wire_relay_b, port, &c.b_sends_to.rtp);
        make_address(wire_relay_b, static_cast<uint16_t>(port + 1), &c.b_sends_to.rtcp);
        c.a_sends_to.srtp_key = c.key_b;  // B's packets reach A as B protected them
        c.b_sends_to.srtp_key = c.key_a;
    }
}

namespace {

// The loop of one streaming phase. Owns nothing of the link; every buffer it needs is sized
// in the constructor, so the loop itself does not allocate.
class dpdk_streamer {
 public:
    dpdk_streamer(dpdk_link& link, const packet_store& store, const stream_set& streams,
                  const options& opt, srtp_receiver* verify)
        : link_(link),
          store_(store),
          streams_(streams),
          opt_(opt),
          verify_(verify),
          wire_(opt.dpdk_wire),
          calls_(static_cast<uint32_t>(streams.streams.size() / 2)),
          period_ns_(static_cast<int64_t>(opt.ptime_ms) * 1'000'000),
          late_ns_(static_cast<int64_t>(opt.late_us) * 1000),
          verify_mask_(opt.dpdk_verify_every - 1),
          checked_streams_(2 * opt.srtp_check_streams),
          tx_(streams.streams.size()),
          sent_(streams.streams.size()),
          stats_(streams.streams.size()),
          ssrc_(streams.streams.size()),
          call_offset_ns_(calls_),
          send_ns_(static_cast<size_t>(calls_) * send_time_rounds),
          sources_(streams.streams.size()) {
        for (size_t i = 0; i < streams.streams.size(); ++i) {
            const stream_plan& s = streams.streams[i];
            stats_[i].start(s.first_seq, s.first_ts, clock_rate_hz);
            ssrc_[i] = rte_cpu_to_be_32(s.ssrc);
            tx_[i].identity = (2 * s.call_index + (s.from == side::a ? 0 : 1)) % store.identities();
            // What the stream's packets look like when they come back: from the relay's
            // address facing the receiver (where the other stream of the call is sent).
            const net_address& back_from = streams.streams[i ^ 1].rtp_dst;
            sources_.insert(other(s.from), ipv4_of(back_from), back_from.port(), static_cast<uint32_t>(i));
        }
        for (uint32_t j = 0; j < calls_; ++j) {
            call_offset_ns_[j] = static_cast<int64_t>(j) * period_ns_ / static_cast<int64_t>(calls_);
        }
        std::vector<dpdk_link::port_state>& ports = link.ports();
        for (size_t i = 0; i < ports.size(); ++i) {
            port_index_[ports[i].id] = static_cast<uint16_t>(i);
        }
        rx_pkts_.fill(nullptr);
    }

    // ARP: asks every relay address the streams send to, from the side that sends there,
    // until each port knows the relay's MAC (or --relay-mac gave it). The requests also
    // teach the relay our MACs. Bounded by arp_timeout_ns. With --dpdk-wire there is no
    // relay: frames go to the receiving port's MAC.
    bool resolve(std::string* error) {
        if (!wire_) {
            if (!resolve_relay(error)) {
                return false;
            }
        }
        for (size_t i = 0; i < streams_.streams.size(); ++i) {
            write_template(static_cast<uint32_t>(i));
        }
        return true;
    }

    // Streams from start_ns to end_ns, then receives until deadline_ns (or everything has
    // arrived). Shows progress on `progress`.
    void run(int64_t start_ns, int64_t end_ns, int64_t deadline_ns, int64_t drain_ns, progress_line* progress) {
        start_ns_ = start_ns;
        int64_t next_progress = 0;
        bool stopping = false;
        uint64_t turn_tsc = rte_rdtsc();
        bool worked = false;
        const uint32_t rounds = store_.rounds();
        window window_state = open_window(clock_.to_ns(turn_tsc));
        for (;;) {
            const uint64_t tsc = rte_rdtsc();
            if (worked) {
                busy_tsc_ += tsc - turn_tsc;
            }
            turn_tsc = tsc;
            worked = false;
            const int64_t now = clock_.to_ns(tsc);
            if (now >= window_state.end_ns) {
                close_window(window_state);
                window_state = open_window(now);
            }
            if (!stopping && stop_requested()) {
                stopping = true;
                end_ns = std::min(end_ns, now);
                deadline_ns = std::min(deadline_ns, now + drain_ns);
            }
            if (calls_ > 0 && now < end_ns && round_ < rounds) {
                worked |= send_due(now, end_ns, rounds);
            }
            flush_all(now);
            worked |= poll_rx(now) > 0;
            // Early stop once everything that reached the link has come back.
            if (now >= end_ns && (now >= deadline_ns || received_ + verify_failed_ + tx_ring_full_ >= rtp_sent_)) {
                break;
            }
            if (now >= next_progress) {
                next_progress = now + 100'000'000;
                if (progress->due()) {
                    char line[160];
                    const double t = static_cast<double>(now - start_ns) / 1e9;
                    std::snprintf(line, sizeof line,
                                  "stream (dpdk): %.0f s  sent %" PRIu64 "  received %" PRIu64 "  late %" PRIu64,
                                  t < 0 ? 0 : t, rtp_sent_, received_, late_);
                    progress->show(line);
                }
            }
            if (!worked && opt_.dpdk_idle_sleep_us > 0) {
                int64_t wake = now + static_cast<int64_t>(opt_.dpdk_idle_sleep_us) * 1000;
                if (calls_ > 0 && now < end_ns && round_ < rounds) {
                    wake = std::min(wake, due(round_, call_));
                }
                if (wake > now) {
                    sleep_until_ns(mono_ns() + (wake - now));
                }
            }
        }
        flush_rest();
        stopped_ns_ = end_ns;  // the planned end, or when a stop signal came
    }

    const std::vector<stream_sent>& sent() const { return sent_; }
    const std::vector<stream_stats>& stats() const { return stats_; }
    const latency_histogram& latency() const { return latency_; }
    uint64_t skipped() const { return skipped_; }
    uint64_t late() const { return late_; }
    int64_t max_lag_ns() const { return max_lag_ns_; }
    int64_t stopped_ns() const { return stopped_ns_; }
    uint64_t tx_ring_full() const { return tx_ring_full_; }
    uint64_t alloc_failed() const { return alloc_failed_; }
    uint64_t foreign() const { return foreign_; }
    uint64_t misrouted() const { return misrouted_; }
    uint64_t verified() const { return verified_; }
    uint64_t verify_failed() const { return verify_failed_; }
    uint64_t arp_answered() const { return arp_answered_; }
    uint64_t handled() const { return rtp_sent_ + received_; }
    double busy_seconds() const { return static_cast<double>(busy_tsc_) * clock_.ns_per_tick() / 1e9; }
    double clean_busy_seconds() const { return static_cast<double>(clean_busy_tsc_) * clock_.ns_per_tick() / 1e9; }
    uint64_t clean_handled() const { return clean_handled_; }

 private:
    struct window {
        int64_t end_ns = 0;
        uint64_t switches = 0;
        uint64_t busy_tsc = 0;
        uint64_t handled = 0;
    };
    window open_window(int64_t now) const {
        return window{now + clean_window_ns, involuntary_switches(), busy_tsc_, handled()};
    }
    void close_window(const window& w) {
        if (involuntary_switches() == w.switches) {
            clean_busy_tsc_ += busy_tsc_ - w.busy_tsc;
            clean_handled_ += handled() - w.handled;
        }
    }

    int64_t due(uint32_t round, uint32_t call) const {
        return start_ns_ + static_cast<int64_t>(round) * period_ns_ + call_offset_ns_[call];
    }

    void advance_slot() {
        if (++call_ == calls_) {
            call_ = 0;
            ++round_;
        }
    }

    // Sends (or skips) every slot due by `now`. True when anything was sent.
    bool send_due(int64_t now, int64_t end_ns, uint32_t rounds) {
        bool sent = false;
        uint32_t since_rx = 0;
        // The socket sender's rule: more than a period late, skip (never burst late). Except
        // round 0: a stream's first packet teaches the relay its rollover counter, and the
        // stored sequence numbers wrap early in the run (packet_store.h), so a stream whose
        // first packets were skipped could reach the relay after the wrap and fail
        // authentication for the whole call. Round 0 goes out late instead (and counts so).
        for (int64_t d = due(round_, call_); round_ > 0 && now - d > period_ns_ && round_ < rounds;
             d = due(round_, call_)) {
            max_lag_ns_ = std::max(max_lag_ns_, now - d);
            skipped_ += 2;
            advance_slot();
        }
        for (int64_t d = due(round_, call_); d <= now && d < end_ns && round_ < rounds; d = due(round_, call_)) {
            const int64_t lag = now - d;
            max_lag_ns_ = std::max(max_lag_ns_, lag);
            if (lag > late_ns_) {
                late_ += 2;
            }
            send_ns_[static_cast<size_t>(round_ % send_time_rounds) * calls_ + call_] = now;
            queue_rtp(2 * call_, round_, now);
            queue_rtp(2 * call_ + 1, round_, now);
            advance_slot();
            sent = true;
            // Catching up after a descheduled stretch can mean thousands of packets in one
            // turn: keep draining what the relay sends back meanwhile, or its TX toward us
            // fills up (and it drops as tx_full).
            if (++since_rx == 64) {
                since_rx = 0;
                poll_rx(now);
                now = clock_.now();
            }
        }
        return sent;
    }

    void queue_rtp(uint32_t stream, uint32_t round, int64_t now) {
        const stream_tx& t = tx_[stream];
        dpdk_link::port_state& p = link_.ports()[t.port_index];
        if (p.tx_count >= burst) {
            flush(p, now);
        }
        count_sent(stream);
        if (p.tx_count == dpdk_link::tx_queue_size) {  // the link has taken nothing for a while
            ++tx_ring_full_;
            return;
        }
        rte_mbuf* m = next_mbuf();
        if (m == nullptr) {
            ++alloc_failed_;  // counted as a send error: not sent, not lost
            --rtp_sent_;
            --sent_[stream].packets;
            sent_[stream].bytes -= opt_.payload_bytes;
            return;
        }
        uint8_t* frame = rte_pktmbuf_mtod(m, uint8_t*);
        const uint32_t body_bytes = store_.body_bytes();
        std::memcpy(frame, t.header, udp_frame_header_bytes);
        std::memcpy(frame + udp_frame_header_bytes, store_.body(t.identity, round), body_bytes);
        const uint16_t c = static_cast<uint16_t>(~fold(t.header_sum + store_.body_sum(t.identity, round)));
        const uint16_t cksum = c == 0 ? 0xffff : c;
        std::memcpy(frame + udp_frame_header_bytes - 2, &cksum, 2);
        const auto frame_len = static_cast<uint16_t>(udp_frame_header_bytes + body_bytes);
        m->data_len = frame_len;
        m->pkt_len = frame_len;
        const uint32_t at = (p.tx_head + p.tx_count) % dpdk_link::tx_queue_size;
        p.tx[at] = m;
        p.tx_ns[at] = now;
        ++p.tx_count;
    }

    rte_mbuf* next_mbuf() {
        if (mbuf_next_ == mbuf_count_) {
            if (rte_pktmbuf_alloc_bulk(link_.pool(), mbufs_.data(), mbufs_.size()) != 0) {
                return rte_pktmbuf_alloc(link_.pool());
            }
            mbuf_next_ = 0;
            mbuf_count_ = static_cast<uint32_t>(mbufs_.size());
        }
        return mbufs_[mbuf_next_++];
    }

    // A frame counts as sent once built: taken by the link or dropped for want of room
    // there (which a real link would have dropped at the relay's RX), never both.
    void count_sent(uint32_t stream) {
        stream_sent& s = sent_[stream];
        ++s.packets;
        s.bytes += opt_.payload_bytes;
        ++rtp_sent_;
    }

    // Hands the queued frames to the port in bursts until it takes no more; drops those
    // that waited longer than tx_hold_ns.
    void flush(dpdk_link::port_state& p, int64_t now) {
        while (p.tx_count > 0 && now - p.tx_ns[p.tx_head] > tx_hold_ns) {
            rte_pktmbuf_free(p.tx[p.tx_head]);
            ++tx_ring_full_;
            p.tx_head = (p.tx_head + 1) % dpdk_link::tx_queue_size;
            --p.tx_count;
        }
        while (p.tx_count > 0) {
            const uint32_t contiguous = std::min(p.tx_count, dpdk_link::tx_queue_size - p.tx_head);
            const auto want = static_cast<uint16_t>(std::min<uint32_t>(contiguous, burst));
            const uint16_t n = rte_eth_tx_burst(p.id, 0, p.tx.data() + p.tx_head, want);
            p.tx_head = (p.tx_head + n) % dpdk_link::tx_queue_size;
            p.tx_count -= n;
            if (n < want) {
                break;  // the link is full: try again next turn
            }
        }
    }

    void flush_all(int64_t now) {
        for (dpdk_link::port_state& p : link_.ports()) {
            if (p.tx_count >= burst || (p.tx_count > 0 && now - p.tx_ns[p.tx_head] >= tx_gather_ns)) {
                flush(p, now);
            }
        }
    }

    // After the run: gives the link up to tx_hold_ns for what is still queued.
    void flush_rest() {
        const int64_t until = clock_.now() + tx_hold_ns;
        for (;;) {
            const int64_t now = clock_.now();
            flush_all(now);
            bool left = false;
            for (const dpdk_link::port_state& p : link_.ports()) {
                left |= p.tx_count > 0;
            }
            if (!left) {
                return;
            }
            poll_rx(now);
            if (now > until) {
                flush_all(now + tx_hold_ns + 1);  // drops the rest as tx_ring_full
                return;
            }
        }
    }

    // The header template of stream i: relay mode, from our side's address to the relay;
    // wire mode, already as the relay would send it on (from the relay's far side to the
    // receiving side's address, to the receiving port's MAC).
    void write_template(uint32_t i) {
        const stream_plan& s = streams_.streams[i];
        dpdk_link::port_state& from_port = link_.port_of(s.from);
        udp_frame_addresses h;
        h.src_mac = from_port.mac;
        const auto our_port = static_cast<uint16_t>(opt_.dpdk_udp_port + 2 * s.socket_index);
        if (wire_) {
            const net_address& relay_far = streams_.streams[i ^ 1].rtp_dst;
            h.dst_mac = link_.port_of(other(s.from)).mac;
            h.src_ip = ipv4_of(relay_far);
            h.src_port = relay_far.port();
            h.dst_ip = link_.ip_of(other(s.from));
            h.dst_port = our_port;
        } else {
            h.dst_mac = *from_port.relay_mac;
            h.src_ip = link_.ip_of(s.from);
            h.src_port = our_port;
            h.dst_ip = ipv4_of(s.rtp_dst);
            h.dst_port = s.rtp_dst.port();
        }
        stream_tx& t = tx_[i];
        std::vector<uint8_t> scratch(udp_frame_header_bytes + store_.body_bytes());
        write_udp_headers(scratch.data(), h, store_.body_bytes());
        std::memcpy(t.header, scratch.data(), udp_frame_header_bytes);
        std::memset(t.header + udp_frame_header_bytes - 2, 0, 2);  // the checksum comes per packet
        t.header_sum = udp_header_sum(t.header);
        t.port_index = port_index_[from_port.id];
    }

    bool resolve_relay(std::string* error);
    void on_arp(dpdk_link::port_state& p, rte_mbuf* m);
    uint32_t poll_rx(int64_t now);
    void on_burst(dpdk_link::port_state& p, uint16_t n, int64_t arrival_ns);
    bool verify(uint32_t stream, uint8_t* rtp, uint32_t len, const uint8_t* frame, const udp_frame_view& v);
    int64_t sent_at(uint32_t stream, uint16_t seq) const;

    const tsc_clock clock_;
    dpdk_link& link_;
    const packet_store& store_;
    const stream_set& streams_;
    const options& opt_;
    srtp_receiver* verify_;
    bool wire_;
    uint32_t calls_;
    int64_t period_ns_;
    int64_t late_ns_;
    uint32_t verify_mask_;      // verify packets whose sequence number has these bits clear
    uint32_t checked_streams_;  // streams below this are verified in full
    int64_t start_ns_ = 0;
    uint32_t round_ = 0;        // the next slot to send: call_ of round_
    uint32_t call_ = 0;
    std::vector<stream_tx> tx_;
    std::vector<stream_sent> sent_;
    std::vector<stream_stats> stats_;
    std::vector<uint32_t> ssrc_;           // per stream, network order
    std::vector<int64_t> call_offset_ns_;  // per call: its phase in the period
    std::vector<int64_t> send_ns_;         // [round % send_time_rounds][call]: when it was sent
    endpoint_index sources_;               // (receiving side, relay address, port) -> stream
    std::array<uint16_t, RTE_MAX_ETHPORTS> port_index_{};
    std::array<rte_mbuf*, 64> mbufs_{};
    uint32_t mbuf_next_ = 0;
    uint32_t mbuf_count_ = 0;
    std::array<rte_mbuf*, burst> rx_pkts_{};
    latency_histogram latency_;
    uint64_t busy_tsc_ = 0;
    uint64_t clean_busy_tsc_ = 0;  // busy_tsc_ of windows without a preemption
    uint64_t clean_handled_ = 0;   // ... and the packets sent or received in them
    uint64_t rtp_sent_ = 0;
    uint64_t received_ = 0;
    uint64_t skipped_ = 0;
    uint64_t late_ = 0;
    int64_t max_lag_ns_ = 0;
    int64_t stopped_ns_ = 0;
    uint64_t tx_ring_full_ = 0;
    uint64_t alloc_failed_ = 0;
    uint64_t foreign_ = 0;
    uint64_t misrouted_ = 0;
    uint64_t verified_ = 0;
    uint64_t verify_failed_ = 0;
    uint64_t arp_answered_ = 0;
};

bool dpdk_streamer::resolve_relay(std::string* error) {
    std::vector<std::pair<dpdk_link::port_state*, std::pair<uint32_t, uint32_t>>> asks;  // port, (our ip, relay ip)
    for (const stream_plan& s : streams_.streams) {
        dpdk_link::port_state* p = &link_.port_of(s.from);
        const std::pair<uint32_t, uint32_t> ips{link_.ip_of(s.from), ipv4_of(s.rtp_dst)};
        const bool seen = std::any_of(asks.begin(), asks.end(), [&](const auto& a) {
            return a.first == p && a.second == ips;
        });
        if (!seen) {
            asks.emplace_back(p, ips);
        }
    }
    if (!opt_.relay_mac.empty()) {
        rte_ether_addr m{};
        rte_ether_unformat_addr(opt_.relay_mac.c_str(), &m);
        for (dpdk_link::port_state& p : link_.ports()) {
            p.relay_mac = m;
        }
    }
    const int64_t give_up = mono_ns() + arp_timeout_ns;
    int64_t next_ask = 0;
    bool asked_once = false;
    for (;;) {
        const bool known = std::all_of(asks.begin(), asks.end(), [](const auto& a) {
            return a.first->relay_mac.has_value();
        });
        if (known && asked_once) {
            return true;
        }
        const int64_t now = mono_ns();
        if (now > give_up) {
            *error = "no ARP reply from the relay's media address(es) within 3 s (give --relay-mac?)";
            return false;
        }
        if (now >= next_ask) {
            for (const auto& [p, ips] : asks) {
                rte_mbuf* m = dp::make_arp_request(link_.pool(), p->id, p->mac, ips.first, ips.second, 0);
                if (m != nullptr && rte_eth_tx_burst(p->id, 0, &m, 1) != 1) {
                    rte_pktmbuf_free(m);
                }
            }
            asked_once = true;
            next_ask = now + arp_retry_ns;
        }
        poll_rx(now);
        sleep_until_ns(mono_ns() + 1'000'000);
    }
}

void dpdk_streamer::on_arp(dpdk_link::port_state& p, rte_mbuf* m) {
    dp::arp_info info;
    if (!dp::parse_arp(m, &info)) {
        ++foreign_;
        rte_pktmbuf_free(m);
        return;
    }
    // The relay's MAC: from any ARP frame its media addresses send on this port.
    const bool from_relay = std::any_of(streams_.streams.begin(), streams_.streams.end(),
                                        [&](const stream_plan& s) { return ipv4_of(s.rtp_dst) == info.sender_ip; });
    if (from_relay && !p.relay_mac) {
        p.relay_mac = info.sender_mac;
    }
    const bool for_us = std::find(p.our_ips.begin(), p.our_ips.end(), info.target_ip) != p.our_ips.end();
    if (info.op == 1 && for_us && info.sender_ip != info.target_ip) {
        dp::make_arp_reply(m, p.mac);
        if (rte_eth_tx_burst(p.id, 0, &m, 1) == 1) {
            ++arp_answered_;
            return;
        }
    }
    rte_pktmbuf_free(m);
}

// Receives everything waiting on every port; returns the frame count.
uint32_t dpdk_streamer::poll_rx(int64_t now) {
    uint32_t total = 0;
    for (dpdk_link::port_state& p : link_.ports()) {
        // Until the port is empty (at most a ring's worth plus what arrives meanwhile).
        for (int round = 0; round < 1024; ++round) {
            const uint16_t n = rte_eth_rx_burst(p.id, 0, rx_pkts_.data(), burst);
            if (n == 0) {
                break;
            }
            total += n;
            on_burst(p, n, clock_.now());  // one reading per burst
            if (n < burst) {
                break;
            }
        }
    }
    (void)now;
    return total;
}

// The packets of one RX burst: classified and matched to their stream first (prefetching
// each stream's statistics), then counted.
void dpdk_streamer::on_burst(dpdk_link::port_state& p, uint16_t n, int64_t arrival_ns) {
    std::array<uint32_t, burst> stream{};
    std::array<udp_frame_view, burst> views{};
    for (uint16_t i = 0; i < n; ++i) {
        rte_mbuf* m = rx_pkts_[i];
        stream[i] = endpoint_index::none;
        uint8_t* frame = rte_pktmbuf_mtod(m, uint8_t*);
        const auto* eth = reinterpret_cast<const rte_ether_hdr*>(frame);
        if (m->data_len >= sizeof(rte_ether_hdr) && eth->ether_type == rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP)) {
            on_arp(p, m);
            rx_pkts_[i] = nullptr;
            continue;
        }
        udp_frame_view& v = views[i];
        if (m->nb_segs != 1 || !parse_udp_frame(frame, m->data_len, &v)) {
            ++foreign_;
            continue;
        }
        side at = side::a;
        if (v.dst_ip == link_.ip_of(side::a) && &p == &link_.port_of(side::a)) {
            at = side::a;
        } else if (v.dst_ip == link_.ip_of(side::b) && &p == &link_.port_of(side::b)) {
            at = side::b;
        } else {
            ++foreign_;
            continue;
        }
        const uint32_t s = sources_.find(at, v.src_ip, v.src_port);
        if (s == endpoint_index::none) {
            ++foreign_;
            continue;
        }
        stream[i] = s;
        rte_prefetch0(&stats_[s]);
        rte_prefetch0(reinterpret_cast<const uint8_t*>(&stats_[s]) + 64);
        rte_prefetch0(reinterpret_cast<const uint8_t*>(&stats_[s]) + 128);
    }
    for (uint16_t i = 0; i < n; ++i) {
        const uint32_t s = stream[i];
        if (s == endpoint_index::none) {
            continue;
        }
        uint8_t* frame = rte_pktmbuf_mtod(rx_pkts_[i], uint8_t*);
        uint8_t* rtp = frame + views[i].payload_offset;
        auto len = static_cast<uint32_t>(views[i].payload_len);
        uint32_t ssrc = 0;
        if (len >= rtp_header_bytes) {
            std::memcpy(&ssrc, rtp + 8, 4);
        }
        // The relay keeps the SSRC: another one here means another stream's packet.
        if (len < rtp_header_bytes || (rtp[0] & 0xc0) != 0x80 || ssrc != ssrc_[s]) {
            ++misrouted_;
            continue;
        }
        const auto seq = static_cast<uint16_t>(rtp[2] << 8 | rtp[3]);
        // A stream's first packet is always checked: the receiving SRTP context learns the
        // rollover counter from it (a sample that began after the wrap would guess ROC 0).
        if ((s < checked_streams_ || (seq & verify_mask_) == 0 || stats_[s].received() == 0) &&
            !verify(s, rtp, len, frame, views[i])) {
            ++verify_failed_;
            continue;
        }
        const uint32_t ts = static_cast<uint32_t>(rtp[4]) << 24 | static_cast<uint32_t>(rtp[5]) << 16 |
                            static_cast<uint32_t>(rtp[6]) << 8 | rtp[7];
        const stream_stats::verdict verdict = stats_[s].on_rtp(seq, ts, arrival_ns);
        if (verdict == stream_stats::verdict::fresh || verdict == stream_stats::verdict::reordered) {
            ++received_;
            latency_.record(arrival_ns - sent_at(s, seq));
        }
    }
    uint16_t keep = 0;
    for (uint16_t i = 0; i < n; ++i) {
        if (rx_pkts_[i] != nullptr) {
            rx_pkts_[keep++] = rx_pkts_[i];
        }
    }
    rte_pktmbuf_free_bulk(rx_pkts_.data(), keep);
}

// The full check of one packet: the UDP checksum, SRTP (authentication and decryption, in
// place: the packet is not used afterwards), the payload's magic and identity.
bool dpdk_streamer::verify(uint32_t stream, uint8_t* rtp, uint32_t len, const uint8_t* frame,
                           const udp_frame_view& v) {
    ++verified_;
    const auto* ip = reinterpret_cast<const rte_ipv4_hdr*>(frame + sizeof(rte_ether_hdr));
    const auto* udp = reinterpret_cast<const rte_udp_hdr*>(frame + v.payload_offset - sizeof(rte_udp_hdr));
    if (udp->dgram_cksum != 0) {
        const uint32_t sum = rte_ipv4_phdr_cksum(ip, 0) + rte_raw_cksum(udp, v.payload_len + sizeof(rte_udp_hdr));
        if (fold(sum) != 0xffff) {
            return false;
        }
    }
    if (verify_ != nullptr && verify_->unprotect(stream, rtp, &len) != dp::srtp::result::ok) {
        return false;
    }
    rtp_view view;
    return parse_rtp(rtp, len, &view) && view.call_index == tx_[stream].identity;
}

// When the packet of `stream` with sequence number `seq` was sent: the slot's recorded time
// if it is among the last send_time_rounds rounds, else its due time.
int64_t dpdk_streamer::sent_at(uint32_t stream, uint16_t seq) const {
    const uint32_t call = stream / 2;
    // The last round this call was sent in (the next slot is call_ of round_).
    const int64_t last = call < call_ ? round_ : static_cast<int64_t>(round_) - 1;
    const auto last_seq = static_cast<uint16_t>(streams_.streams[stream].first_seq + last);
    const int64_t round = last - static_cast<uint16_t>(last_seq - seq);
    if (round < 0) {
        return start_ns_;
    }
    if (last - round < send_time_rounds) {
        return send_ns_[static_cast<size_t>(round % send_time_rounds) * calls_ + call];
    }
    return due(static_cast<uint32_t>(round), call);
}

}  // namespace

bool run_dpdk_stream_phase(dpdk_link& link, const packet_store& store, const stream_set& streams,
                           const options& opt, ng::ng_client* client, progress_line* progress,
                           run_summary* out, std::string* error) {
    std::unique_ptr<srtp_receiver> srtp_rx;
    if (opt.srtp) {
        try {
            srtp_rx = std::make_unique<srtp_receiver>(streams, opt.srtp_check_streams);
        } catch (const std::exception& e) {
            *error = std::string("SRTP contexts: ") + e.what();
            return false;
        }
    }
    auto streamer = std::make_unique<dpdk_streamer>(link, store, streams, opt, srtp_rx.get());
    if (!streamer->resolve(error)) {
        return false;
    }

    relay_usage usage;
    if (client != nullptr) {
        usage.start(opt.relay_pid, client, opt.ng_timeout_ms);
    }
    const int64_t start = mono_ns() + start_delay_ns;
    const int64_t end = start + static_cast<int64_t>(opt.duration_s * 1e9);
    const int64_t drain = static_cast<int64_t>(opt.drain_s * 1e9);
    streamer->run(start, end, end + drain, drain, progress);
    if (client != nullptr) {
        usage.finish(out);
    }
    progress->finish();

    add_streams(streamer->sent(), streamer->stats(), streamer->latency(), out);
    out->stream_seconds = static_cast<double>(std::max<int64_t>(streamer->stopped_ns() - start, 0)) / 1e9;
    out->send_errors = streamer->alloc_failed();
    out->sender_max_lag_ns = streamer->max_lag_ns();
    out->sender_skipped = streamer->skipped();
    out->sender_late = streamer->late();
    out->late_threshold_ns = static_cast<int64_t>(opt.late_us) * 1000;
    out->foreign = streamer->foreign();
    out->misrouted = streamer->misrouted();
    out->dpdk = true;
    out->dpdk_wire = opt.dpdk_wire;
    out->tx_ring_full = streamer->tx_ring_full();
    out->arp_answered = streamer->arp_answered();
    out->verified = streamer->verified();
    out->verify_failed = streamer->verify_failed();
    out->identities = store.identities();
    out->generator_busy_seconds = streamer->busy_seconds();
    out->generator_handled = streamer->handled();
    out->generator_clean_busy_seconds = streamer->clean_busy_seconds();
    out->generator_clean_handled = streamer->clean_handled();
    if (opt.srtp) {
        out->srtp = true;
        out->srtp_unprotect_failed = streamer->verify_failed();
        out->srtp_checked_sent = store.checked();
        out->srtp_mismatched_sent = store.mismatched();
        out->srtp_checked_received = srtp_rx->checks().checked;
        out->srtp_mismatched_received = srtp_rx->checks().mismatched;
    }
    return true;
}

}  // namespace rtprelay::loadgen
