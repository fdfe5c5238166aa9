#include "bench/pipeline/traffic.h"

#include <rte_byteorder.h>
#include <rte_ip.h>
#include <rte_udp.h>

#include <cstring>
#include <stdexcept>
#include <string>

namespace rtprelay::pipeline {

namespace {
constexpr uint32_t l2_len = sizeof(rte_ether_hdr);
constexpr uint32_t l3_len = sizeof(rte_ipv4_hdr);
constexpr uint32_t l4_len = sizeof(rte_udp_hdr);
constexpr uint32_t headers = l2_len + l3_len + l4_len;
constexpr uint32_t l3_len6 = sizeof(rte_ipv6_hdr);
constexpr uint32_t headers6 = l2_len + l3_len6 + l4_len;
// The bench's keys carry no MKI: the largest frame is IPv6 with the longest tag.
static_assert(headers6 + rtp_bytes + dp::srtp::max_tag_len <= frame_chunk::stride);
}  // namespace

namespace {
traffic_generator::stream_lists every_call(size_t calls, bool one_way) {
    traffic_generator::stream_lists l;
    for (uint32_t c = 0; c < calls; ++c) {
        l[0].push_back(c);
        if (!one_way) {
            l[1].push_back(c);
        }
    }
    return l;
}
}  // namespace

traffic_generator::traffic_generator(scenario s, const std::vector<call_info>& calls,
                                     const rte_ether_addr (&port_macs)[2], bool one_way)
    : traffic_generator(s, calls, port_macs, one_way, every_call(calls.size(), one_way)) {}

traffic_generator::traffic_generator(scenario s, const std::vector<call_info>& calls,
                                     const rte_ether_addr (&port_macs)[2], bool one_way, stream_lists streams)
    : scenario_(s), calls_(calls), one_way_(one_way), lists_(std::move(streams)), streams_(calls.size() * 2) {
    port_macs_[0] = port_macs[0];
    port_macs_[1] = port_macs[1];
    if (one_way_) {
        lists_[1].clear();
    }
    if (lists_[0].empty() && lists_[1].empty()) {
        throw std::runtime_error("generator: no stream to send");
    }
    for (int side = 0; side < 2; ++side) {
        for (const uint32_t call : lists_[side]) {
            stream& st = streams_[2 * call + static_cast<uint32_t>(side)];
            st.ssrc = stream_ssrc(call, side);
            // Spread starting points, as real senders pick them at random (RFC 3550).
            st.seq = static_cast<uint16_t>(st.ssrc * 2654435761u >> 16);
            st.timestamp = st.ssrc * 40503u;
            if (srtp_leg(s, side)) {
                st.ctx = dp::srtp::make_context(dp::srtp::engine::native, calls[call].suite, calls[call].peer_key[side],
                                                false);
            }
        }
    }
}

traffic_generator::~traffic_generator() = default;

void traffic_generator::fill(frame_chunk& c, uint32_t n) {
    c.n = n;
    c.bytes.resize(static_cast<size_t>(n) * frame_chunk::stride);
    c.len.resize(n);
    c.side.resize(c.bursts());
    for (uint32_t b = 0; b < c.bursts(); ++b) {
        int side = one_way_ ? 0 : static_cast<int>(next_burst_++ & 1);
        if (lists_[side].empty()) {
            side = 1 - side;  // this generator has no stream on that side
        }
        c.side[b] = static_cast<uint8_t>(side);
        const std::vector<uint32_t>& list = lists_[side];
        const uint32_t first = b * burst;
        const uint32_t end = first + burst < n ? first + burst : n;
        for (uint32_t i = first; i < end; ++i) {
            const uint32_t call = list[per_side_[side]++ / stream_run_ % list.size()];
            build(call, side, c.bytes.data() + static_cast<size_t>(i) * frame_chunk::stride, &c.len[i]);
        }
    }
}

uint64_t traffic_generator::max_per_stream() const {
    uint64_t most = 0;
    for (int side = 0; side < 2; ++side) {
        if (!lists_[side].empty()) {
            const uint64_t k = (per_side_[side] + lists_[side].size() - 1) / lists_[side].size() + stream_run_;
            most = k > most ? k : most;
        }
    }
    return most;
}

void traffic_generator::build(uint32_t call, int side, uint8_t* out, uint16_t* len) {
    stream& st = streams_[2 * call + static_cast<uint32_t>(side)];
    const call_info& ci = calls_[call];
    const bool v6 = side_v6(ip_, side);
    const uint32_t hdr = v6 ? headers6 : headers;

    uint8_t* rtp = out + hdr;
    rtp[0] = 0x80;  // V=2
    rtp[1] = 0;     // PCMU
    const uint16_t seq = st.seq++;
    const uint32_t ts = st.timestamp;
    st.timestamp += 160;
    const uint16_t seq_be = rte_cpu_to_be_16(seq);
    const uint32_t ts_be = rte_cpu_to_be_32(ts);
    const uint32_t ssrc_be = rte_cpu_to_be_32(st.ssrc);
    std::memcpy(rtp + 2, &seq_be, 2);
    std::memcpy(rtp + 4, &ts_be, 4);
    std::memcpy(rtp + 8, &ssrc_be, 4);
    for (uint32_t k = 12; k < rtp_bytes; ++k) {
        rtp[k] = payload_byte(st.ssrc, seq, k);
    }
    uint32_t plen = rtp_bytes;
    if (st.ctx) {
        const auto r = dp::srtp::protect_rtp(*st.ctx, rtp, &plen, frame_chunk::stride - hdr - rtp_bytes);
        if (r != dp::srtp::result::ok) {
            throw std::runtime_error(std::string("generator: SRTP protect failed: ") + dp::srtp::result_name(r));
        }
    }

    auto* eth = reinterpret_cast<rte_ether_hdr*>(out);
    eth->dst_addr = port_macs_[side];
    eth->src_addr = peer_mac(side, call);
    auto* udp = reinterpret_cast<rte_udp_hdr*>(out + hdr - l4_len);
    udp->src_port = rte_cpu_to_be_16(peer_port(call));
    udp->dst_port = rte_cpu_to_be_16(ci.relay_port[side]);
    udp->dgram_len = rte_cpu_to_be_16(static_cast<uint16_t>(l4_len + plen));
    udp->dgram_cksum = 0;
    if (v6) {
        eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV6);
        auto* ip = reinterpret_cast<rte_ipv6_hdr*>(out + l2_len);
        ip->vtc_flow = rte_cpu_to_be_32((6u << 28) | (0xb8u << 20));  // EF, as phones mark voice
        ip->payload_len = rte_cpu_to_be_16(static_cast<uint16_t>(l4_len + plen));
        ip->proto = IPPROTO_UDP;
        ip->hop_limits = 64;
        peer_address6(side, call, ip->src_addr);
        std::memcpy(ip->dst_addr, ci.relay_addr6[side], 16);
        udp->dgram_cksum = rte_ipv6_udptcp_cksum(ip, udp);
        *len = static_cast<uint16_t>(headers6 + plen);
        return;
    }
    eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
    auto* ip = reinterpret_cast<rte_ipv4_hdr*>(out + l2_len);
    ip->version_ihl = 0x45;
    ip->type_of_service = 0xb8;  // EF, as phones mark voice
    ip->total_length = rte_cpu_to_be_16(static_cast<uint16_t>(l3_len + l4_len + plen));
    ip->packet_id = rte_cpu_to_be_16(ip_id_++);
    ip->fragment_offset = rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG);
    ip->time_to_live = 64;
    ip->next_proto_id = IPPROTO_UDP;
    ip->src_addr = peer_address(side, call);
    ip->dst_addr = ci.relay_addr[side];
    ip->hdr_checksum = 0;
    ip->hdr_checksum = rte_ipv4_cksum(ip);
    udp->dgram_cksum = rte_ipv4_udptcp_cksum(ip, udp);
    *len = static_cast<uint16_t>(headers + plen);
}

}  // namespace rtprelay::pipeline
