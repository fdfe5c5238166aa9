#include "bench/loadgen/dpdk_streamer.h"

#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_prefetch.h>

#include <cstring>

#include "bench/loadgen/rtp_wire.h"
#include "dataplane/checksum.h"

namespace rtprelay::loadgen::dpdk_detail {

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
        const uint32_t s = sources_.find(endpoint_key(at, v.src_ip, v.src_port));
        if (s == stream_index::none) {
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
        if (s == stream_index::none) {
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
bool dpdk_streamer::verify(uint32_t stream, uint8_t* rtp, uint32_t len, const uint8_t* frame, const udp_frame_view& v) {
    ++verified_;
    const auto* ip = reinterpret_cast<const rte_ipv4_hdr*>(frame + sizeof(rte_ether_hdr));
    const auto* udp = reinterpret_cast<const rte_udp_hdr*>(frame + v.payload_offset - sizeof(rte_udp_hdr));
    if (udp->dgram_cksum != 0) {
        const uint32_t sum = rte_ipv4_phdr_cksum(ip, 0) + rte_raw_cksum(udp, v.payload_len + sizeof(rte_udp_hdr));
        if (dp::csum::fold64(sum) != 0xffff) {
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

}  // namespace rtprelay::loadgen::dpdk_detail
