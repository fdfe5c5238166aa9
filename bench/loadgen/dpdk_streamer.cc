#include "bench/loadgen/dpdk_streamer.h"

#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_prefetch.h>

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <utility>

#include "bench/loadgen/rtp_wire.h"
#include "bench/loadgen/stop_signal.h"
#include "dataplane/arp.h"
#include "dataplane/checksum.h"
#include "dataplane/steering.h"

namespace rtprelay::loadgen::dpdk_detail {

dpdk_streamer::dpdk_streamer(dpdk_link& link, const packet_store& store, const stream_set& streams, const options& opt,
                             srtp_receiver* verify)
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
      rx_(streams.streams.size()),
      not_sent_(streams.streams.size()),
      call_offset_ns_(calls_),
      send_ns_(static_cast<size_t>(calls_) * send_time_rounds),
      sources_(streams.streams.size()) {
    for (size_t i = 0; i < streams.streams.size(); ++i) {
        const stream_plan& s = streams.streams[i];
        stats_[i].start(s.first_seq, s.first_ts, clock_rate_hz);
        tx_[i].identity = (2 * s.call_index + (s.from == side::a ? 0 : 1)) % store.identities();
        tx_[i].body_bytes = store.body_bytes(tx_[i].identity);
        rx_[i] = stream_rx{rte_cpu_to_be_32(s.ssrc), tx_[i].identity, s.first_seq};
        // What the stream's packets look like when they come back: from the relay's
        // address facing the receiver (where the other stream of the call is sent).
        const net_address& back_from = streams.streams[i ^ 1].rtp_dst;
        sources_.insert(endpoint_key(other(s.from), ipv4_of(back_from), back_from.port()), static_cast<uint32_t>(i));
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

bool dpdk_streamer::resolve(std::string* error) {
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

void dpdk_streamer::run(int64_t start_ns, int64_t end_ns, int64_t deadline_ns, int64_t drain_ns,
                        progress_line* progress) {
    start_ns_ = start_ns;
    int64_t next_progress = 0;
    bool stopping = false;
    bool worked = false;
    const uint32_t rounds = store_.rounds();
    busy_.start(rte_rdtsc(), handled());
    for (;;) {
        const uint64_t tsc = rte_rdtsc();
        busy_.turn(tsc, worked, handled());
        worked = false;
        const int64_t now = clock_.to_ns(tsc);
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
    // Slots due before the end that never went out: the loop was descheduled past the end
    // (a host that stalls the generator for seconds). They were skipped, not lost, and the
    // run says the generator fell behind rather than that it had nothing to send.
    while (calls_ > 0 && round_ < rounds && due(round_, call_) < end_ns) {
        skip_slot();
    }
    stopped_ns_ = end_ns;  // the planned end, or when a stop signal came
    count_sent();
}

void dpdk_streamer::advance_slot() {
    if (++call_ == calls_) {
        call_ = 0;
        ++round_;
    }
}

void dpdk_streamer::skip_slot() {
    skipped_ += 2;
    ++not_sent_[2 * call_];
    ++not_sent_[2 * call_ + 1];
    advance_slot();
}

bool dpdk_streamer::send_due(int64_t now, int64_t end_ns, uint32_t rounds) {
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
        skip_slot();
    }
    for (int64_t d = due(round_, call_); d <= now && d < end_ns && round_ < rounds; d = due(round_, call_)) {
        const int64_t lag = now - d;
        max_lag_ns_ = std::max(max_lag_ns_, lag);
        if (lag > late_ns_) {
            late_ += 2;
        }
        send_ns_[send_ns_index(round_, call_)] = now;
        prefetch_slot(prefetch_ahead, rounds);
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

void dpdk_streamer::slot_after(uint32_t k, uint32_t* call, uint32_t* round) const {
    // A loop, not / and %: k is a few slots, so it wraps at most once at any real call
    // count, and this runs for every slot sent.
    *call = call_ + k;
    *round = round_;
    while (*call >= calls_) {
        *call -= calls_;
        ++*round;
    }
}

void dpdk_streamer::prefetch_slot(uint32_t ahead, uint32_t rounds) const {
    // The slot 2 x ahead: its two templates.
    uint32_t call = 0;
    uint32_t round = 0;
    slot_after(2 * ahead, &call, &round);
    if (round < rounds) {
        rte_prefetch0(&tx_[2 * call]);
        rte_prefetch0(&tx_[2 * call + 1]);
    }
    // The slot `ahead`: its two stored packets (whole cache lines, 3 at a 160-byte payload).
    slot_after(ahead, &call, &round);
    if (round < rounds) {
        for (uint32_t k = 0; k < 2; ++k) {
            const stream_tx& t = tx_[2 * call + k];
            const uint8_t* body = store_.body(t.identity, round);
            for (uint32_t off = 0; off < t.body_bytes; off += 64) {
                rte_prefetch0(body + off);
            }
        }
    }
}

void dpdk_streamer::queue_rtp(uint32_t stream, uint32_t round, int64_t now) {
    const stream_tx& t = tx_[stream];
    dpdk_link::port_state& p = link_.ports()[t.port_index];
    tx_lane& lane = p.lanes[t.queue];
    if (lane.count() >= burst) {
        flush(p.id, lane, now);
    }
    ++rtp_sent_;
    if (lane.full()) {  // the link has taken nothing for a while
        ++tx_ring_full_;
        return;
    }
    rte_mbuf* m = next_mbuf();
    if (m == nullptr) {
        ++alloc_failed_;  // counted as a send error: not sent, not lost
        --rtp_sent_;
        ++not_sent_[stream];
        return;
    }
    // The fields a transmit reads that a raw mbuf may hold stale (next_mbuf), all on the
    // mbuf's first cache line.
    m->data_off = RTE_PKTMBUF_HEADROOM;
    m->ol_flags = 0;
    m->packet_type = 0;
    uint8_t* frame = rte_pktmbuf_mtod(m, uint8_t*);
    const uint32_t body_bytes = t.body_bytes;
    std::memcpy(frame, t.header, udp_frame_header_bytes);
    std::memcpy(frame + udp_frame_header_bytes, store_.body(t.identity, round), body_bytes);
    const uint16_t c = static_cast<uint16_t>(~dp::csum::fold64(t.header_sum + store_.body_sum(t.identity, round)));
    const uint16_t cksum = c == 0 ? 0xffff : c;
    std::memcpy(frame + udp_frame_header_bytes - 2, &cksum, 2);
    const auto frame_len = static_cast<uint16_t>(udp_frame_header_bytes + body_bytes);
    m->data_len = frame_len;
    m->pkt_len = frame_len;
    lane.push(m, now);
}

// Raw mbufs, 64 at a time: rte_pktmbuf_alloc_bulk resets every field, which writes each
// mbuf's second cache line (`next`), a line nothing else here touches: one cache miss a frame,
// 10% of the loop at 3 Mpps (perf). An mbuf back in its pool already has refcnt 1, nb_segs 1
// and next NULL (what DPDK's free path guarantees, rte_mbuf_raw_alloc relies on it);
// queue_rtp sets the rest of what a transmit reads.
rte_mbuf* dpdk_streamer::next_mbuf() {
    if (mbuf_next_ == mbuf_count_) {
        if (rte_mempool_get_bulk(link_.pool(), reinterpret_cast<void**>(mbufs_.data()),
                                 static_cast<unsigned>(mbufs_.size())) != 0) {
            return rte_pktmbuf_alloc(link_.pool());  // the pool's last few, one at a time
        }
        mbuf_next_ = 0;
        mbuf_count_ = static_cast<uint32_t>(mbufs_.size());
    }
    return mbufs_[mbuf_next_++];
}

void dpdk_streamer::count_sent() {
    for (uint32_t call = 0; call < calls_; ++call) {
        const uint32_t slots = round_ + (call < call_ ? 1 : 0);
        for (uint32_t k = 0; k < 2; ++k) {
            stream_sent& s = sent_[2 * call + k];
            s.packets = slots - not_sent_[2 * call + k];
            s.bytes = s.packets * opt_.payload_bytes;
        }
    }
}

void dpdk_streamer::flush(uint16_t port_id, tx_lane& lane, int64_t now) {
    tx_ring_full_ += lane.flush(port_id, burst, now, tx_hold_ns);
}

void dpdk_streamer::flush_all(int64_t now) {
    for (dpdk_link::port_state& p : link_.ports()) {
        for (tx_lane& lane : p.lanes) {
            if (lane.count() >= burst || (lane.count() > 0 && now - lane.oldest_ns() >= tx_gather_ns)) {
                flush(p.id, lane, now);
            }
        }
    }
}

void dpdk_streamer::flush_rest() {
    const int64_t until = clock_.now() + tx_hold_ns;
    for (;;) {
        const int64_t now = clock_.now();
        flush_all(now);
        bool left = false;
        for (const dpdk_link::port_state& p : link_.ports()) {
            for (const tx_lane& lane : p.lanes) {
                left |= lane.count() > 0;
            }
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

void dpdk_streamer::write_template(uint32_t i) {
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
    std::vector<uint8_t> scratch(udp_frame_header_bytes + t.body_bytes);
    write_udp_headers(scratch.data(), h, t.body_bytes);
    std::memcpy(t.header, scratch.data(), udp_frame_header_bytes);
    std::memset(t.header + udp_frame_header_bytes - 2, 0, 2);  // the checksum comes per packet
    const auto* ip = reinterpret_cast<const rte_ipv4_hdr*>(t.header + sizeof(rte_ether_hdr));
    t.header_sum = rte_ipv4_phdr_cksum(ip, 0) + rte_raw_cksum(ip + 1, sizeof(rte_udp_hdr));
    t.port_index = port_index_[from_port.id];
    // The queue of the relay worker that owns the stream's relay port (the relay's own
    // definition, dataplane/steering.h); 0 with one queue (and so in wire mode).
    t.queue = dp::steered_queue(h.dst_port, link_.n_queues());
}

bool dpdk_streamer::resolve_relay(std::string* error) {
    std::vector<std::pair<dpdk_link::port_state*, std::pair<uint32_t, uint32_t>>> asks;  // port, (our ip, relay ip)
    for (const stream_plan& s : streams_.streams) {
        dpdk_link::port_state* p = &link_.port_of(s.from);
        const std::pair<uint32_t, uint32_t> ips{link_.ip_of(s.from), ipv4_of(s.rtp_dst)};
        const bool seen =
            std::any_of(asks.begin(), asks.end(), [&](const auto& a) { return a.first == p && a.second == ips; });
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
        const bool known =
            std::all_of(asks.begin(), asks.end(), [](const auto& a) { return a.first->relay_mac.has_value(); });
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

}  // namespace rtprelay::loadgen::dpdk_detail
