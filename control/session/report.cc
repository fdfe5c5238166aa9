// session_manager::query(): a call as plain data for NG query and delete (report.h).

#include "control/session/manager.h"

namespace rtprelay {

namespace {
packet_counts counts_of(const dp::stream_state* s) {
    if (s == nullptr) {
        return {};
    }
    return {s->packets.load(std::memory_order_relaxed), s->bytes.load(std::memory_order_relaxed),
            s->errors.load(std::memory_order_relaxed)};
}

void add_counts(packet_counts& total, const packet_counts& c) {
    total.packets += c.packets;
    total.bytes += c.bytes;
    total.errors += c.errors;
}

port_report port_of(const stream& s, bool rtcp) {
    port_report p;
    p.rtcp = rtcp;
    p.local_port = rtcp ? s.rtcp_port() : s.rtp_port();
    p.local_address = s.local_addr;
    p.rtcp_mux = s.rtcp_mux && !rtcp;
    p.srtp = s.crypto().srtp;
    const dp::stream_state* st = rtcp ? s.rtcp_state.get() : s.rtp_state.get();
    if (st != nullptr) {
        const uint64_t l = st->latched.load(std::memory_order_relaxed);
        const dp::stream_addr6* a6 = rtcp ? s.rtcp_addr6.get() : s.rtp_addr6.get();
        if (l != 0 && !dp::endpoint_is_v6(l)) {
            p.peer = endpoint{ip_address::from_v4_be(dp::endpoint_addr(l)),
                              static_cast<uint16_t>(__builtin_bswap16(dp::endpoint_port(l)))};
        } else if (l != 0 && a6 != nullptr) {
            // An IPv6 latch: the word has a fold, the address is in the stream's slot (read
            // under its sequence counter; a worker mid-write leaves the advertised endpoint).
            ip_address a;
            a.fam = ip_address::family::v6;
            uint16_t port_be = 0;
            if (a6->load(a.bytes.data(), &port_be)) {
                p.peer = endpoint{a, static_cast<uint16_t>(__builtin_bswap16(port_be))};
            }
        }
    }
    p.advertised = rtcp ? s.peer_rtcp : s.peer_rtp;
    if (!p.peer) {
        p.peer = p.advertised;
    }
    p.counts = counts_of(st);
    return p;
}
}  // namespace

call_report session_manager::query(const std::string& call_id) const {
    auto it = calls_.find(call_id);
    if (it == calls_.end()) {
        throw session_error("Unknown call-id");
    }
    const call& c = *it->second;
    call_report report;
    report.created_unix = c.created_unix;
    for (const auto& l : c.legs) {
        leg_report lr;
        lr.tag = l->tag;
        lr.interface = l->iface->name;
        const leg* other = l->parked ? l->offerer : c.partner_of(l.get());
        if (other != nullptr) {
            lr.in_dialogue_with = other->tag;
        }
        for (size_t i = 0; i < l->streams.size(); ++i) {
            const stream& s = l->streams[i];
            media_report m{i + 1, s.media_type, s.proto, {}};
            if (s.allocated) {
                m.ports.push_back(port_of(s, false));
                add_counts(report.rtp, m.ports.back().counts);
                if (s.is_rtp) {
                    m.ports.push_back(port_of(s, true));
                    add_counts(report.rtcp, m.ports.back().counts);
                }
            }
            lr.medias.push_back(std::move(m));
        }
        report.legs.push_back(std::move(lr));
    }
    return report;
}

}  // namespace rtprelay
