#include "bench/loadgen/dpdk_streamer.h"

#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_prefetch.h>

#include <cstring>

#include "bench/loadgen/receive_check.h"
#include "bench/loadgen/rtp_wire.h"

namespace rtprelay::loadgen::dpdk_detail {

// Receives everything waiting on every port; returns the frame count.
uint32_t dpdk_streamer::poll_rx(int64_t now) {
    uint32_t total = 0;
    for (dpdk_link::port_state& p : link_.ports()) {
        // Every RX queue (each relay worker transmits on its own), each until it is empty
        // (at most a ring's worth plus what arrives meanwhile).
        for (uint16_t q = 0; q < link_.n_queues(); ++q) {
            for (int round = 0; round < 1024; ++round) {
                const uint16_t n = rte_eth_rx_burst(p.id, q, rx_pkts_.data(), burst);
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
    }
    (void)now;
    return total;
}

// The packets of one RX burst, in passes over the burst so that each packet's cache misses
// (its slot in the source index, its stream's statistics and receive record, the time its
// slot was sent: ~6 lines a packet, at 10,000 calls none of them in cache) overlap with the
// other packets' instead of stalling one after the other: each pass prefetches what the next
// one reads. 1. classify, parse, prefetch the index slot; 2. find the stream, prefetch its
// lines; 3. check it is the stream's packet, prefetch the send time; 4. verify the sample,
// count, record the latency.
void dpdk_streamer::on_burst(dpdk_link::port_state& p, uint16_t n, int64_t arrival_ns) {
    std::array<uint32_t, burst> stream{};
    std::array<bool, burst> parsed{};
    std::array<uint64_t, burst> key{};
    std::array<int64_t, burst> round{};
    std::array<int64_t, burst> slot{};
    std::array<udp_frame_view, burst> views{};
    for (uint16_t i = 0; i < n; ++i) {
        rte_mbuf* m = rx_pkts_[i];
        stream[i] = stream_index::none;
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
        key[i] = endpoint_key(at, v.src_ip, v.src_port);
        sources_.prefetch(key[i]);
        parsed[i] = true;
    }
    for (uint16_t i = 0; i < n; ++i) {
        if (!parsed[i]) {
            continue;
        }
        const uint32_t s = sources_.find(key[i]);
        stream[i] = s;
        if (s == stream_index::none) {
            ++foreign_;
            continue;
        }
        rte_prefetch0(&rx_[s]);
        const auto* st = reinterpret_cast<const uint8_t*>(&stats_[s]);
        for (size_t off = 0; off < sizeof(stream_stats); off += 64) {
            rte_prefetch0(st + off);
        }
        rte_prefetch0(st + sizeof(stream_stats) - 1);
    }
    for (uint16_t i = 0; i < n; ++i) {
        const uint32_t s = stream[i];
        if (s == stream_index::none) {
            continue;
        }
        const uint8_t* rtp = rte_pktmbuf_mtod(rx_pkts_[i], uint8_t*) + views[i].payload_offset;
        const auto len = static_cast<uint32_t>(views[i].payload_len);
        uint32_t ssrc = 0;
        if (len >= rtp_header_bytes) {
            std::memcpy(&ssrc, rtp + 8, 4);
        }
        // The relay keeps the SSRC: another one here means another stream's packet.
        if (len < rtp_header_bytes || (rtp[0] & 0xc0) != 0x80 || ssrc != rx_[s].ssrc) {
            ++misrouted_;
            stream[i] = stream_index::none;
            continue;
        }
        round[i] = round_of(s, static_cast<uint16_t>(rtp[2] << 8 | rtp[3]));
        slot[i] = send_slot(s, round[i]);
        if (slot[i] >= 0) {
            rte_prefetch0(&send_ns_[static_cast<size_t>(slot[i])]);
        }
    }
    for (uint16_t i = 0; i < n; ++i) {
        const uint32_t s = stream[i];
        if (s == stream_index::none) {
            continue;
        }
        uint8_t* frame = rte_pktmbuf_mtod(rx_pkts_[i], uint8_t*);
        uint8_t* rtp = frame + views[i].payload_offset;
        const auto len = static_cast<uint32_t>(views[i].payload_len);
        const auto seq = static_cast<uint16_t>(rtp[2] << 8 | rtp[3]);
        if (full_check_due(s, checked_streams_, seq, verify_mask_, stats_[s].received() == 0)) {
            ++verified_;
            if (!check_received(frame, views[i], rtp, len, verify_, s, rx_[s].identity)) {
                ++verify_failed_;
                continue;
            }
        }
        const uint32_t ts = static_cast<uint32_t>(rtp[4]) << 24 | static_cast<uint32_t>(rtp[5]) << 16 |
                            static_cast<uint32_t>(rtp[6]) << 8 | rtp[7];
        const stream_stats::verdict verdict = stats_[s].on_rtp(seq, ts, arrival_ns);
        if (verdict == stream_stats::verdict::fresh || verdict == stream_stats::verdict::reordered) {
            ++received_;
            latency_.record(arrival_ns - sent_at(s, round[i], slot[i]));
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

int64_t dpdk_streamer::last_round(uint32_t call) const {
    return call < call_ ? round_ : static_cast<int64_t>(round_) - 1;
}

int64_t dpdk_streamer::round_of(uint32_t stream, uint16_t seq) const {
    const int64_t last = last_round(stream / 2);
    const auto last_seq = static_cast<uint16_t>(rx_[stream].first_seq + last);
    return last - static_cast<uint16_t>(last_seq - seq);
}

int64_t dpdk_streamer::send_slot(uint32_t stream, int64_t round) const {
    if (round < 0 || last_round(stream / 2) - round >= send_time_rounds) {
        return -1;
    }
    return static_cast<int64_t>(send_ns_index(static_cast<uint32_t>(round), stream / 2));
}

int64_t dpdk_streamer::sent_at(uint32_t stream, int64_t round, int64_t slot) const {
    if (round < 0) {
        return start_ns_;
    }
    if (slot >= 0) {
        return send_ns_[static_cast<size_t>(slot)];
    }
    return due(static_cast<uint32_t>(round), stream / 2);
}

}  // namespace rtprelay::loadgen::dpdk_detail
