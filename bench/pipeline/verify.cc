#include "bench/pipeline/verify.h"

#include <srtp2/srtp.h>

#include <rte_byteorder.h>
#include <rte_ip.h>
#include <rte_udp.h>

#include <cstring>
#include <unordered_map>

#include "dataplane/srtp/libsrtp2_policy.h"

namespace rtprelay::pipeline {

namespace {

constexpr size_t max_reported = 10;

void fail(verdict* v, std::string why) {
    if (v->failures.size() < max_reported) {
        v->failures.push_back(std::move(why));
    } else if (v->failures.size() == max_reported) {
        v->failures.push_back("(more failures not listed)");
    }
}

// One libsrtp2 receive session per stream the samples meet, keyed as that stream's peer is.
// A receiver that joins a stream late does not know its rollover counter (RFC 3711 leaves
// that to signalling; the relay's contexts saw every packet): the first sample of a stream
// is tried under each ROC the run could have reached. A wrong ROC fails authentication.
class libsrtp2_receivers {
 public:
    explicit libsrtp2_receivers(uint32_t max_roc) : max_roc_(max_roc) {}
    ~libsrtp2_receivers() {
        for (auto& [id, session] : sessions_) {
            srtp_dealloc(session);
        }
    }
    libsrtp2_receivers(const libsrtp2_receivers&) = delete;
    libsrtp2_receivers& operator=(const libsrtp2_receivers&) = delete;

    srtp_err_status_t unprotect(uint64_t id, uint32_t ssrc, dp::srtp::suite suite, const dp::srtp::master_key& k,
                                uint8_t* pkt, int* len) {
        auto it = sessions_.find(id);
        if (it != sessions_.end()) {
            return srtp_unprotect(it->second, pkt, len);
        }
        srtp_err_status_t first = srtp_err_status_ok;
        for (uint32_t roc = 0; roc <= max_roc_; ++roc) {
            srtp_t s = create(ssrc, suite, k);
            if (s == nullptr) {
                return srtp_err_status_init_fail;
            }
            uint8_t copy[frame_chunk::stride];
            std::memcpy(copy, pkt, static_cast<size_t>(*len));
            int copy_len = *len;
            srtp_err_status_t st = roc == 0 ? srtp_err_status_ok : srtp_set_stream_roc(s, ssrc, roc);
            if (st == srtp_err_status_ok) {
                st = srtp_unprotect(s, copy, &copy_len);
            }
            if (st == srtp_err_status_ok) {
                std::memcpy(pkt, copy, static_cast<size_t>(copy_len));
                *len = copy_len;
                sessions_.emplace(id, s);
                return st;
            }
            srtp_dealloc(s);
            if (roc == 0) {
                first = st;
            }
        }
        return first;
    }

 private:
    static srtp_t create(uint32_t ssrc, dp::srtp::suite suite, const dp::srtp::master_key& k) {
        const dp::srtp::suite_info& si = dp::srtp::info(suite);
        uint8_t key_salt[dp::srtp::max_master_key_len + dp::srtp::max_master_salt_len];
        std::memcpy(key_salt, k.key.data(), si.master_key_len);
        std::memcpy(key_salt + si.master_key_len, k.salt.data(), si.master_salt_len);
        srtp_policy_t p;
        std::memset(&p, 0, sizeof(p));
        dp::srtp::set_libsrtp2_policies(suite, &p.rtp, &p.rtcp);
        p.ssrc.type = ssrc_specific;
        p.ssrc.value = ssrc;
        p.key = key_salt;
        srtp_t s = nullptr;
        return srtp_create(&s, &p) == srtp_err_status_ok ? s : nullptr;
    }

    uint32_t max_roc_;
    std::unordered_map<uint64_t, srtp_t> sessions_;
};

// The one's-complement sum over pseudo-header, UDP header and payload, checksum included,
// is 0xffff when the checksum is right (RFC 768).
bool udp_checksum_ok(const rte_ipv4_hdr* ip, const rte_udp_hdr* udp) {
    uint32_t sum = rte_raw_cksum(udp, rte_be_to_cpu_16(udp->dgram_len)) + rte_ipv4_phdr_cksum(ip, 0);
    sum = (sum & 0xffff) + (sum >> 16);
    sum = (sum & 0xffff) + (sum >> 16);
    return udp->dgram_cksum != 0 && sum == 0xffff;
}

// The same over IPv6's pseudo-header (RFC 8200 section 8.1), where 0 is never valid.
bool udp6_checksum_ok(const rte_ipv6_hdr* ip, const rte_udp_hdr* udp) {
    uint32_t sum = rte_raw_cksum(udp, rte_be_to_cpu_16(udp->dgram_len)) + rte_ipv6_phdr_cksum(ip, 0);
    sum = (sum & 0xffff) + (sum >> 16);
    sum = (sum & 0xffff) + (sum >> 16);
    return udp->dgram_cksum != 0 && sum == 0xffff;
}

std::string where(const output_sample& s, uint32_t call) {
    return "sample from port " + std::to_string(s.side) + " (call " + std::to_string(call) + "): ";
}

}  // namespace

void check_delivery(const loop_totals& t, const dp::worker_counters& c, bool handoff, verdict* v) {
    const uint64_t injected = t.injected[0] + t.injected[1];
    const uint64_t delivered = t.delivered[0] + t.delivered[1];
    if (delivered != injected || t.delivered[1] != t.injected[0] || t.delivered[0] != t.injected[1]) {
        fail(v, "sink received " + std::to_string(t.delivered[0]) + "+" + std::to_string(t.delivered[1]) +
                    " packets for " + std::to_string(t.injected[1]) + "+" + std::to_string(t.injected[0]) +
                    " sent toward ports 0+1");
    }
    if (c.rx_packets != injected || c.relayed_rtp != injected || c.relayed_rtcp != 0) {
        fail(v, "worker counted rx=" + std::to_string(c.rx_packets) + " relayed_rtp=" + std::to_string(c.relayed_rtp) +
                    " relayed_rtcp=" + std::to_string(c.relayed_rtcp) + " for " + std::to_string(injected) +
                    " injected");
    }
    for (size_t r = 0; r < dp::drop_reason_count; ++r) {
        if (c.drops[r] != 0) {
            fail(v, "worker dropped " + std::to_string(c.drops[r]) +
                        " packets: " + std::string(dp::drop_reason_name(static_cast<dp::drop_reason>(r))));
        }
    }
    if ((!handoff && c.handed_off != 0) || c.arp_to_control != 0 || c.icmp_echo_replies != 0) {
        fail(v, "worker handed off, sent to control or answered packets it should have relayed");
    }
}

void check_samples(scenario sc, ip_mode ipm, const std::vector<call_info>& calls, const rte_ether_addr (&port_macs)[2],
                   const std::vector<output_sample>& samples, uint64_t max_packets_per_stream, verdict* v) {
    constexpr uint32_t l2 = sizeof(rte_ether_hdr);
    constexpr uint32_t l4 = sizeof(rte_udp_hdr);
    // No stream can have wrapped its sequence number more often than all packets allow.
    libsrtp2_receivers receivers(static_cast<uint32_t>(max_packets_per_stream >> 16) + 1);
    for (const output_sample& s : samples) {
        ++v->samples;
        const bool v6 = side_v6(ipm, s.side);
        const uint32_t l3 = v6 ? sizeof(rte_ipv6_hdr) : sizeof(rte_ipv4_hdr);
        if (s.len < l2 + l3 + l4 + 12) {
            fail(v, "sample of " + std::to_string(s.len) + " bytes is too short");
            continue;
        }
        uint8_t f[frame_chunk::stride];
        std::memcpy(f, s.bytes.data(), s.len);
        uint8_t* rtp = f + l2 + l3 + l4;
        uint32_t ssrc = 0;
        std::memcpy(&ssrc, rtp + 8, 4);
        ssrc = rte_be_to_cpu_32(ssrc);
        const uint32_t call = (ssrc - ssrc_base) >> 1;
        const int from = static_cast<int>((ssrc - ssrc_base) & 1);
        if (ssrc < ssrc_base || call >= calls.size() || from == s.side) {
            fail(v, "sample from port " + std::to_string(s.side) + " has unexpected SSRC " + std::to_string(ssrc));
            continue;
        }
        const int to = s.side;
        const call_info& ci = calls[call];

        const auto* eth = reinterpret_cast<const rte_ether_hdr*>(f);
        const rte_ether_addr want_dst = peer_mac(to, call);
        if (!rte_is_same_ether_addr(&eth->dst_addr, &want_dst) ||
            !rte_is_same_ether_addr(&eth->src_addr, &port_macs[to]) ||
            eth->ether_type != rte_cpu_to_be_16(v6 ? RTE_ETHER_TYPE_IPV6 : RTE_ETHER_TYPE_IPV4)) {
            fail(v, where(s, call) + "wrong Ethernet header");
            continue;
        }
        const auto* udp = reinterpret_cast<const rte_udp_hdr*>(f + l2 + l3);
        uint32_t ip_len = 0;
        bool addressed = false;
        bool checksum = false;
        if (v6) {
            const auto* ip = reinterpret_cast<const rte_ipv6_hdr*>(f + l2);
            ip_len = l3 + rte_be_to_cpu_16(ip->payload_len);
            uint8_t peer[16];
            peer_address6(to, call, peer);
            if ((f[l2] >> 4) != 6 || ip->proto != IPPROTO_UDP || l2 + ip_len != s.len) {
                fail(v, where(s, call) + "bad IPv6 header");
                continue;
            }
            addressed =
                std::memcmp(ip->src_addr, ci.relay_addr6[to], 16) == 0 && std::memcmp(ip->dst_addr, peer, 16) == 0;
            checksum = udp6_checksum_ok(ip, udp);
        } else {
            const auto* ip = reinterpret_cast<const rte_ipv4_hdr*>(f + l2);
            ip_len = rte_be_to_cpu_16(ip->total_length);
            if (ip->version_ihl != 0x45 || l2 + ip_len != s.len || rte_raw_cksum(ip, l3) != 0xffff) {
                fail(v, where(s, call) + "bad IPv4 header or checksum");
                continue;
            }
            addressed = ip->src_addr == ci.relay_addr[to] && ip->dst_addr == peer_address(to, call);
            checksum = udp_checksum_ok(ip, udp);
        }
        if (!addressed || rte_be_to_cpu_16(udp->src_port) != ci.relay_port[to] ||
            rte_be_to_cpu_16(udp->dst_port) != peer_port(call)) {
            fail(v, where(s, call) + "not addressed from the relay's SDP address/port to the peer's");
            continue;
        }
        if (rte_be_to_cpu_16(udp->dgram_len) != ip_len - l3 || !checksum) {
            fail(v, where(s, call) + "bad UDP length or checksum");
            continue;
        }
        int len = static_cast<int>(ip_len - l3 - l4);
        if (srtp_leg(sc, to)) {
            const srtp_err_status_t st = receivers.unprotect((uint64_t{call} << 1) | static_cast<uint64_t>(to), ssrc,
                                                             ci.suite, ci.relay_key[to], rtp, &len);
            if (st != srtp_err_status_ok) {
                fail(v, where(s, call) + "libsrtp2 refused it under the relay's SDP key: error " + std::to_string(st));
                continue;
            }
            ++v->decrypted;
        }
        uint16_t seq = 0;
        std::memcpy(&seq, rtp + 2, 2);
        seq = rte_be_to_cpu_16(seq);
        bool same = len == static_cast<int>(rtp_bytes) && rtp[0] == 0x80 && rtp[1] == 0;
        for (uint32_t k = 12; same && k < rtp_bytes; ++k) {
            same = rtp[k] == payload_byte(ssrc, seq, k);
        }
        if (!same) {
            fail(v, where(s, call) + "RTP packet differs from what the peer sent (seq " + std::to_string(seq) + ")");
        }
    }
}

}  // namespace rtprelay::pipeline
