#include "bench/loadgen/dpdk_stream.h"

#include <arpa/inet.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include <algorithm>
#include <array>
#include <cinttypes>
#include <cstdio>
#include <exception>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <vector>

#include "bench/loadgen/clock.h"
#include "bench/loadgen/receiver.h"
#include "bench/loadgen/relay_usage.h"
#include "bench/loadgen/rtp_wire.h"
#include "bench/loadgen/sender.h"
#include "bench/loadgen/srtp_streams.h"
#include "bench/loadgen/stop_signal.h"
#include "bench/loadgen/udp_frame.h"
#include "dataplane/arp.h"
#include "dataplane/port_setup.h"

namespace rtprelay::loadgen {

namespace {

constexpr uint16_t burst = 32;
constexpr int64_t start_delay_ns = 50'000'000;  // polls (and answers ARP) before packet one
constexpr int64_t arp_timeout_ns = 3'000'000'000;
constexpr int64_t arp_retry_ns = 100'000'000;
constexpr uint32_t tx_queue_size = 8192;  // per port, a power of two
// How long a frame may wait for room on the link: a descheduled relay worker (or generator
// catching up) must not turn into loss at once, but a relay that stays behind must.
constexpr int64_t tx_hold_ns = 2'000'000;

uint32_t ipv4_be(const std::string& s) {
    in_addr a{};
    if (inet_pton(AF_INET, s.c_str(), &a) != 1) {
        throw std::runtime_error("not an IPv4 address: " + s);
    }
    return a.s_addr;
}

uint32_t ipv4_be(const net_address& a) {
    return reinterpret_cast<const sockaddr_in*>(&a.storage)->sin_addr.s_addr;
}

std::string mac_text(const rte_ether_addr& m) {
    char buf[RTE_ETHER_ADDR_FMT_SIZE];
    rte_ether_format_addr(buf, sizeof buf, &m);
    return buf;
}

// CLOCK_MONOTONIC nanoseconds from the TSC: one rdtsc per reading, anchored once.
class tsc_clock {
 public:
    tsc_clock()
        : base_ns_(mono_ns()),
          base_tsc_(rte_rdtsc()),
          ns_per_tick_(1e9 / static_cast<double>(rte_get_tsc_hz())) {}
    int64_t now() const {
        return base_ns_ + static_cast<int64_t>(static_cast<double>(rte_rdtsc() - base_tsc_) * ns_per_tick_);
    }

 private:
    int64_t base_ns_;
    uint64_t base_tsc_;
    double ns_per_tick_;
};

}  // namespace

class dpdk_link {
 public:
    explicit dpdk_link(const options& opt);
    ~dpdk_link();
    dpdk_link(const dpdk_link&) = delete;
    dpdk_link& operator=(const dpdk_link&) = delete;

    struct port_state {
        uint16_t id = 0;
        rte_ether_addr mac{};
        std::optional<rte_ether_addr> relay_mac;
        std::vector<uint32_t> our_ips;         // network order: the sides on this port
        // Frames built and not yet taken by the port, oldest first (a circular queue of
        // tx_queue_size). When the relay's side of the link is full they wait here, at most
        // tx_hold_ns, and are then dropped as tx_ring_full.
        std::vector<rte_mbuf*> tx = std::vector<rte_mbuf*>(tx_queue_size);
        std::vector<int64_t> tx_ns = std::vector<int64_t>(tx_queue_size);
        uint32_t tx_head = 0;
        uint32_t tx_count = 0;
    };

    rte_mempool* pool() const { return pool_; }
    std::vector<port_state>& ports() { return ports_; }
    port_state& port_of(side s) { return ports_[s == side::a ? index_a_ : index_b_]; }
    uint32_t ip_of(side s) const { return s == side::a ? ip_a_ : ip_b_; }

 private:
    rte_mempool* pool_ = nullptr;
    std::vector<port_state> ports_;
    size_t index_a_ = 0;
    size_t index_b_ = 0;
    uint32_t ip_a_ = 0;
    uint32_t ip_b_ = 0;
    bool eal_up_ = false;
};

dpdk_link::dpdk_link(const options& opt) {
    ip_a_ = ipv4_be(opt.addr_a);
    ip_b_ = ipv4_be(opt.addr_b);
    std::vector<std::string> args{"rtprelay-loadgen"};
    std::istringstream words(opt.eal);
    for (std::string w; words >> w;) {
        args.push_back(w);
    }
    std::vector<char*> argv;
    for (std::string& a : args) {
        argv.push_back(a.data());
    }
    if (rte_eal_init(static_cast<int>(argv.size()), argv.data()) < 0) {
        throw std::runtime_error(std::string("EAL initialisation failed: ") + rte_strerror(rte_errno) +
                                 " (check --eal)");
    }
    eal_up_ = true;
    pool_ = dp::create_mbuf_pool("lg_mbufs", opt.dpdk_mbufs, static_cast<int>(rte_socket_id()));
    const auto port_a = static_cast<uint16_t>(opt.dpdk_port_a);
    const auto port_b = static_cast<uint16_t>(opt.dpdk_port_b);
    for (uint16_t id : {port_a, port_b}) {
        if (!ports_.empty() && ports_.front().id == id) {
            continue;
        }
        dp::port_params params;
        params.n_queues = 1;
        params.promiscuous = false;  // our own frames only; ARP broadcasts still arrive
        port_state p;
        p.id = id;
        p.mac = dp::setup_port(id, params, pool_);
        ports_.push_back(p);
    }
    index_a_ = 0;
    index_b_ = ports_.size() - 1;
    ports_[index_a_].our_ips.push_back(ip_a_);
    ports_[index_b_].our_ips.push_back(ip_b_);
    // A memif client's link comes up once it has connected to the server.
    const int64_t give_up = mono_ns() + 5'000'000'000;
    for (const port_state& p : ports_) {
        for (;;) {
            rte_eth_link link{};
            if (rte_eth_link_get_nowait(p.id, &link) == 0 && link.link_status == RTE_ETH_LINK_UP) {
                break;
            }
            if (mono_ns() > give_up) {
                throw std::runtime_error("DPDK port " + std::to_string(p.id) +
                                         ": link still down after 5 s (is the relay's memif "
                                         "server up, with the same socket?)");
            }
            sleep_until_ns(mono_ns() + 10'000'000);
        }
        std::fprintf(stderr, "rtprelay-loadgen: DPDK port %u up, MAC %s\n", p.id, mac_text(p.mac).c_str());
    }
}

dpdk_link::~dpdk_link() {
    for (port_state& p : ports_) {
        for (uint32_t i = 0; i < p.tx_count; ++i) {
            rte_pktmbuf_free(p.tx[(p.tx_head + i) % tx_queue_size]);
        }
        dp::stop_port(p.id);
    }
    if (pool_ != nullptr) {
        rte_mempool_free(pool_);
    }
    if (eal_up_) {
        rte_eal_cleanup();
    }
}

std::unique_ptr<dpdk_link, void (*)(dpdk_link*)> open_dpdk_link(const options& opt) {
    return {new dpdk_link(opt), [](dpdk_link* l) { delete l; }};
}

side_sockets dpdk_side_ports(uint32_t count, uint16_t first_port) {
    side_sockets s;
    for (uint32_t i = 0; i < count; ++i) {
        s.rtp_port.push_back(static_cast<uint16_t>(first_port + 2 * i));
    }
    return s;
}

namespace {

// The loop of one streaming phase. Owns nothing of the link; every buffer it needs is sized
// in the constructor, so the loop itself does not allocate.
class dpdk_streamer {
 public:
    dpdk_streamer(dpdk_link& link, const stream_set& streams, const options& opt, receiver* rx,
                  srtp_sender* srtp)
        : link_(link),
          streams_(streams),
          opt_(opt),
          rx_(rx),
          srtp_(srtp),
          calls_(streams.streams.size() / 2),
          period_ns_(static_cast<int64_t>(opt.ptime_ms) * 1'000'000),
          ticks_per_packet_(clock_rate_hz / 1000 * opt.ptime_ms),
          sent_(streams.streams.size()),
          hdr_(streams.streams.size()),
          port_(streams.streams.size()) {
        for (size_t i = 0; i < streams.streams.size(); ++i) {
            const stream_plan& s = streams.streams[i];
            udp_frame_addresses& h = hdr_[i];
            h.src_ip = link.ip_of(s.from);
            h.src_port = static_cast<uint16_t>(opt.dpdk_udp_port + 2 * s.socket_index);
            h.dst_ip = ipv4_be(s.rtp_dst);
            h.dst_port = s.rtp_dst.port();
            dpdk_link::port_state& p = link.port_of(s.from);
            h.src_mac = p.mac;
            port_[i] = &p;
        }
    }

    // ARP: asks every relay address the streams send to, from the side that sends there,
    // until each port knows the relay's MAC (or --relay-mac gave it). The requests also
    // teach the relay our MACs. Bounded by arp_timeout_ns.
    bool resolve(std::string* error) {
        std::vector<std::pair<dpdk_link::port_state*, std::pair<uint32_t, uint32_t>>> asks;  // port, (our ip, relay ip)
        for (size_t i = 0; i < hdr_.size(); ++i) {
            const std::pair<uint32_t, uint32_t> ips{hdr_[i].src_ip, hdr_[i].dst_ip};
            const bool seen = std::any_of(asks.begin(), asks.end(), [&](const auto& a) {
                return a.first == port_[i] && a.second == ips;
            });
            if (!seen) {
                asks.emplace_back(port_[i], ips);
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
                break;
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
        for (size_t i = 0; i < hdr_.size(); ++i) {
            hdr_[i].dst_mac = *port_[i]->relay_mac;
        }
        return true;
    }

    // Streams from start_ns to end_ns, then receives until deadline_ns (or everything has
    // arrived). Shows progress on `progress`.
    void run(int64_t start_ns, int64_t end_ns, int64_t deadline_ns, int64_t drain_ns,
             progress_line* progress) {
        const tsc_clock& clock = clock_;
        start_ns_ = start_ns;
        uint64_t slot = 0;
        int64_t next_progress = 0;
        bool stopping = false;
        int64_t now = clock.now();
        for (;;) {
            now = clock.now();
            if (!stopping && stop_requested()) {
                stopping = true;
                end_ns = std::min(end_ns, now);
                deadline_ns = std::min(deadline_ns, now + drain_ns);
            }
            bool worked = false;
            if (calls_ > 0 && now < end_ns) {
                // The socket sender's rule: more than a period late, skip (never burst late).
                for (int64_t due = rtp_due(slot); now - due > period_ns_; due = rtp_due(++slot)) {
                    max_lag_ns_ = std::max(max_lag_ns_, now - due);
                    skipped_ += 2;
                }
                for (int64_t due = rtp_due(slot); due <= now && due < end_ns; due = rtp_due(++slot)) {
                    max_lag_ns_ = std::max(max_lag_ns_, now - due);
                    const auto call = static_cast<uint32_t>(slot % calls_);
                    const uint64_t round = slot / calls_;
                    queue_rtp(2 * call, round, now);
                    queue_rtp(2 * call + 1, round, now);
                    worked = true;
                    // Catching up after a descheduled stretch can mean thousands of packets
                    // in one turn: keep draining what the relay sends back meanwhile, or its
                    // TX toward us fills up (and it drops as tx_full).
                    if ((slot & 63) == 63) {
                        poll_rx(now);
                    }
                }
            }
            flush_all(now);
            worked |= poll_rx(now) > 0;
            // Early stop once everything that reached the link has come back.
            if (now >= end_ns && (now >= deadline_ns || rx_->rtp_received() + tx_ring_full_ >= rtp_sent_)) {
                break;
            }
            if (now >= next_progress) {
                next_progress = now + 100'000'000;
                if (progress->due()) {
                    char line[160];
                    const double t = static_cast<double>(now - start_ns) / 1e9;
                    std::snprintf(line, sizeof line,
                                  "stream (dpdk): %.0f s  sent %" PRIu64 "  received %" PRIu64, t < 0 ? 0 : t,
                                  rtp_sent_, rx_->rtp_received());
                    progress->show(line);
                }
            }
            if (!worked && opt_.dpdk_idle_sleep_us > 0) {
                int64_t wake = now + static_cast<int64_t>(opt_.dpdk_idle_sleep_us) * 1000;
                if (calls_ > 0 && now < end_ns) {
                    wake = std::min(wake, rtp_due(slot));
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
    uint64_t skipped() const { return skipped_; }
    int64_t max_lag_ns() const { return max_lag_ns_; }
    int64_t stopped_ns() const { return stopped_ns_; }
    uint64_t tx_ring_full() const { return tx_ring_full_; }
    uint64_t alloc_failed() const { return alloc_failed_; }
    uint64_t foreign() const { return foreign_; }
    uint64_t arp_answered() const { return arp_answered_; }

 private:
    int64_t rtp_due(uint64_t slot) const {
        const uint64_t round = slot / calls_;
        const uint64_t call = slot % calls_;
        return start_ns_ + static_cast<int64_t>(round) * period_ns_ +
               static_cast<int64_t>(call) * period_ns_ / static_cast<int64_t>(calls_);
    }

    void queue_rtp(uint32_t stream, uint64_t round, int64_t now) {
        dpdk_link::port_state& p = *port_[stream];
        if (p.tx_count >= burst) {
            flush(p, now);
        }
        if (p.tx_count == tx_queue_size) {  // the link has taken nothing for a while
            ++tx_ring_full_;
            count_sent(stream);
            return;
        }
        rte_mbuf* m = rte_pktmbuf_alloc(link_.pool());
        if (m == nullptr) {
            ++alloc_failed_;  // counted as a send error: not sent, not lost
            return;
        }
        const stream_plan& s = streams_.streams[stream];
        uint8_t* frame = rte_pktmbuf_mtod(m, uint8_t*);
        uint8_t* rtp = frame + udp_frame_header_bytes;
        rtp_fields f;
        f.marker = round == 0;
        f.seq = static_cast<uint16_t>(s.first_seq + round);
        f.timestamp = static_cast<uint32_t>(s.first_ts + round * ticks_per_packet_);
        f.ssrc = s.ssrc;
        f.call_index = s.call_index;
        write_rtp(rtp, opt_.payload_bytes, f);
        // A fresh reading, not the turn's: catching up, one turn may build for a while.
        stamp_send_time(rtp, clock_.now());
        auto len = static_cast<uint32_t>(rtp_header_bytes + opt_.payload_bytes);
        if (srtp_ != nullptr) {
            const auto room = static_cast<uint32_t>(rte_pktmbuf_tailroom(m) - udp_frame_header_bytes - len);
            srtp_->protect(stream, rtp, &len, room);  // a refusal is counted there; sent plain
        }
        const size_t frame_len = write_udp_headers(frame, hdr_[stream], len);
        m->data_len = static_cast<uint16_t>(frame_len);
        m->pkt_len = static_cast<uint32_t>(frame_len);
        const uint32_t at = (p.tx_head + p.tx_count) % tx_queue_size;
        p.tx[at] = m;
        p.tx_ns[at] = now;
        ++p.tx_count;
        count_sent(stream);
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
            p.tx_head = (p.tx_head + 1) % tx_queue_size;
            --p.tx_count;
        }
        while (p.tx_count > 0) {
            const uint32_t contiguous = std::min(p.tx_count, tx_queue_size - p.tx_head);
            const auto want = static_cast<uint16_t>(std::min<uint32_t>(contiguous, burst));
            const uint16_t n = rte_eth_tx_burst(p.id, 0, p.tx.data() + p.tx_head, want);
            p.tx_head = (p.tx_head + n) % tx_queue_size;
            p.tx_count -= n;
            if (n < want) {
                break;  // the link is full: try again next turn
            }
        }
    }

    void flush_all(int64_t now) {
        for (dpdk_link::port_state& p : link_.ports()) {
            if (p.tx_count > 0) {
                flush(p, now);
            }
        }
    }

    // After the run: gives the link up to tx_hold_ns for what is still queued.
    void flush_rest() {
        const tsc_clock& clock = clock_;
        const int64_t until = clock.now() + tx_hold_ns;
        for (;;) {
            const int64_t now = clock.now();
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

    void on_arp(dpdk_link::port_state& p, rte_mbuf* m) {
        dp::arp_info info;
        if (!dp::parse_arp(m, &info)) {
            ++foreign_;
            rte_pktmbuf_free(m);
            return;
        }
        // The relay's MAC: from any ARP frame its media addresses send on this port.
        const bool from_relay = std::any_of(hdr_.begin(), hdr_.end(), [&](const udp_frame_addresses& h) {
            return h.dst_ip == info.sender_ip;
        });
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
    uint32_t poll_rx(int64_t now) {
        std::array<rte_mbuf*, burst> pkts{};
        uint32_t total = 0;
        for (dpdk_link::port_state& p : link_.ports()) {
            // Until the port is empty (at most a ring's worth plus what arrives meanwhile).
            for (int round = 0; round < 1024; ++round) {
                const uint16_t n = rte_eth_rx_burst(p.id, 0, pkts.data(), burst);
                total += n;
                const int64_t arrival = n > 0 ? clock_.now() : now;  // one reading per burst
                for (uint16_t i = 0; i < n; ++i) {
                    on_frame(p, pkts[i], arrival);
                }
                if (n < burst) {
                    break;
                }
            }
        }
        return total;
    }

    void on_frame(dpdk_link::port_state& p, rte_mbuf* m, int64_t arrival_ns) {
        const auto* eth = rte_pktmbuf_mtod(m, const rte_ether_hdr*);
        if (m->data_len >= sizeof(rte_ether_hdr) && eth->ether_type == rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP)) {
            on_arp(p, m);
            return;
        }
        udp_frame_view v;
        uint8_t* frame = rte_pktmbuf_mtod(m, uint8_t*);
        if (m->nb_segs != 1 || !parse_udp_frame(frame, m->data_len, &v)) {
            ++foreign_;
            rte_pktmbuf_free(m);
            return;
        }
        side at = side::a;
        if (p.id == link_.port_of(side::a).id && v.dst_ip == link_.ip_of(side::a)) {
            at = side::a;
        } else if (p.id == link_.port_of(side::b).id && v.dst_ip == link_.ip_of(side::b)) {
            at = side::b;
        } else {
            ++foreign_;
            rte_pktmbuf_free(m);
            return;
        }
        rx_->on_rtp(at, frame + v.payload_offset, v.payload_len, arrival_ns);
        rte_pktmbuf_free(m);
    }

    const tsc_clock clock_;
    dpdk_link& link_;
    const stream_set& streams_;
    const options& opt_;
    receiver* rx_;
    srtp_sender* srtp_;
    uint64_t calls_;
    int64_t period_ns_;
    uint32_t ticks_per_packet_;
    int64_t start_ns_ = 0;
    std::vector<stream_sent> sent_;
    std::vector<udp_frame_addresses> hdr_;        // per stream
    std::vector<dpdk_link::port_state*> port_;    // per stream: the sending side's port
    uint64_t rtp_sent_ = 0;
    uint64_t skipped_ = 0;
    int64_t max_lag_ns_ = 0;
    int64_t stopped_ns_ = 0;
    uint64_t tx_ring_full_ = 0;
    uint64_t alloc_failed_ = 0;
    uint64_t foreign_ = 0;
    uint64_t arp_answered_ = 0;
};

}  // namespace

bool run_dpdk_stream_phase(dpdk_link& link, const stream_set& streams, const options& opt,
                           ng::ng_client* client, progress_line* progress, run_summary* out,
                           std::string* error) {
    std::unique_ptr<srtp_sender> srtp_tx;
    std::unique_ptr<srtp_receiver> srtp_rx;
    if (opt.srtp) {
        try {
            srtp_tx = std::make_unique<srtp_sender>(streams, opt.srtp_check_streams);
            srtp_rx = std::make_unique<srtp_receiver>(streams, opt.srtp_check_streams);
        } catch (const std::exception& e) {
            *error = std::string("SRTP contexts: ") + e.what();
            return false;
        }
    }
    live_counters live;  // the receiver's; this mode publishes nothing across threads
    const side_sockets none;
    auto rx = std::make_unique<receiver>(streams, none, none, &live, srtp_rx.get());
    auto streamer = std::make_unique<dpdk_streamer>(link, streams, opt, rx.get(), srtp_tx.get());
    if (!streamer->resolve(error)) {
        return false;
    }

    relay_usage usage;
    usage.start(opt.relay_pid, client, opt.ng_timeout_ms);
    const int64_t start = mono_ns() + start_delay_ns;
    const int64_t end = start + static_cast<int64_t>(opt.duration_s * 1e9);
    const int64_t drain = static_cast<int64_t>(opt.drain_s * 1e9);
    streamer->run(start, end, end + drain, drain, progress);
    usage.finish(out);
    progress->finish();

    add_streams(streamer->sent(), rx->stats(), rx->latency(), out);
    out->stream_seconds = static_cast<double>(std::max<int64_t>(streamer->stopped_ns() - start, 0)) / 1e9;
    out->send_errors = streamer->alloc_failed();
    out->sender_max_lag_ns = streamer->max_lag_ns();
    out->sender_skipped = streamer->skipped();
    out->foreign = rx->foreign() + streamer->foreign();
    out->misrouted = rx->misrouted();
    out->dpdk = true;
    out->tx_ring_full = streamer->tx_ring_full();
    out->arp_answered = streamer->arp_answered();
    if (opt.srtp) {
        add_srtp_checks(*srtp_tx, *srtp_rx, rx->srtp_failed(), out);
    }
    return true;
}

}  // namespace rtprelay::loadgen
