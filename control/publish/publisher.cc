#include "control/publish/publisher.h"

#include <arpa/inet.h>

#include <rte_cycles.h>
#include <cstring>

#include "dataplane/steering.h"

namespace rtprelay {

namespace {
// The packed word of `ep` when it is of family `fam` (that of the local address it talks
// to; the session manager refuses a mix, this only keeps a stray one out of the entry).
uint64_t packed(const std::optional<endpoint>& ep, ip_address::family fam) {
    if (!ep || ep->addr.fam != fam || ep->addr.is_unspecified() || ep->port == 0) {
        return 0;
    }
    if (ep->addr.is_v4()) {
        return dp::pack_endpoint(ep->addr.v4_be(), htons(ep->port));
    }
    return dp::pack_endpoint6(ep->addr.bytes.data(), htons(ep->port));
}

void copy16(uint8_t* to, const std::optional<endpoint>& ep) {
    if (ep && !ep->addr.is_v4()) {
        std::memcpy(to, ep->addr.bytes.data(), 16);
    }
}

// Whether IPv6 `a` shares `prefix` leading bits with `net`.
bool same_prefix6(const uint8_t* a, const uint8_t* net, unsigned prefix) {
    for (unsigned i = 0; i < 16 && prefix > 0; ++i, prefix = prefix >= 8 ? prefix - 8 : 0) {
        const auto mask = static_cast<uint8_t>(prefix >= 8 ? 0xff : 0xff << (8 - prefix));
        if (((a[i] ^ net[i]) & mask) != 0) {
            return false;
        }
    }
    return true;
}

uint32_t fold(const ip_address& a) {
    uint32_t w[4];
    std::memcpy(w, a.bytes.data(), sizeof(w));
    return w[0] ^ w[1] ^ w[2] ^ w[3];
}

const media_address& address_of(const leg& l, const stream& s) { return l.iface->addresses.at(s.alloc.address_index); }

using made_from = srtp_contexts::made_from;

std::optional<made_from> key_of(const std::optional<sdes::crypto_attr>& a) {
    if (!a) {
        return std::nullopt;
    }
    return made_from{a->crypto_suite, a->unencrypted_srtcp, a->key};
}

bool same_line(const std::optional<made_from>& a, const std::optional<made_from>& b) {
    if (a.has_value() != b.has_value()) {
        return false;
    }
    return !a || (a->suite_flags == b->suite_flags && sdes::same_key(a->key, b->key));
}
// The recording stamp the owner worker copies packets with (dataplane/record_stage.h).
void stamp_recording(dp::flow_entry& e, uint16_t record_id, uint8_t channel) {
    dp::set_recording(e, record_id, channel != 0);
}
}  // namespace

void publisher::sync_contexts(stream& s, std::vector<std::unique_ptr<dp::srtp::context>>& old) {
    const sdes::stream_crypto& crypto = s.crypto();
    const std::optional<made_from> want_in = crypto.srtp ? key_of(crypto.from_peer) : std::nullopt;
    const std::optional<made_from> want_out = crypto.srtp ? key_of(crypto.to_peer) : std::nullopt;
    if (!s.contexts) {
        if (!want_in && !want_out) {
            return;  // plain RTP (or no key yet): no contexts, and no memory for them
        }
        s.contexts = std::make_unique<srtp_contexts>();
    }
    auto sync = [&](const std::optional<made_from>& want, std::optional<made_from>& have,
                    std::unique_ptr<dp::srtp::context>(&ctx)[2]) {
        if (same_line(want, have) && (ctx[0] != nullptr) == want.has_value()) {
            return;
        }
        for (auto& c : ctx) {
            if (c) {
                old.push_back(std::move(c));
            }
        }
        if (want) {
            // RTP and RTCP each get their own context (and so their own state) under one key.
            ctx[0] = dp::srtp::make_context(engine_, want->crypto_suite(), want->key, false);
            ctx[1] = dp::srtp::make_context(engine_, want->crypto_suite(), want->key, true);
        }
        have = want;
    };
    sync(want_in, s.contexts->in_key, s.contexts->in);
    sync(want_out, s.contexts->out_key, s.contexts->out);
}

uint8_t publisher::owner_of(const ip_address& addr, uint16_t port) const {
    return owner_of(addr.is_v4() ? addr.v4_be() : fold(addr), port);
}

std::optional<dp::flow_key> publisher::flow_key_of(const ip_address& addr, uint16_t port) const {
    dp::flow_key key;
    key.local_port = htons(port);
    if (addr.is_v4()) {
        key.local_addr = addr.v4_be();
        return key;
    }
    key.v6_slot = locals_ != nullptr ? locals_->slot6(addr.bytes.data()) : 0;
    if (key.v6_slot == 0) {
        return std::nullopt;
    }
    return key;
}

uint8_t publisher::owner_of(uint32_t addr_be, uint16_t port) const {
    if (steered_) {
        return static_cast<uint8_t>(dp::steered_queue(port, n_workers_));
    }
    // A cheap mix is enough: the goal is a stable, even spread, not secrecy.
    uint32_t h = addr_be ^ (static_cast<uint32_t>(port) * 2654435761u);
    h ^= h >> 16;
    return static_cast<uint8_t>(h % n_workers_);
}

bool publisher::publish_direction(leg& in, stream& s_in, leg& out, stream& s_out, bool rtcp) {
    const media_address& out_addr = address_of(out, s_out);
    const uint16_t in_port = rtcp ? s_in.rtcp_port() : s_in.rtp_port();
    const std::optional<dp::flow_key> key = flow_key_of(s_in.local_addr, in_port);
    if (!key) {
        return false;
    }
    const ip_address::family in_fam = s_in.local_addr.fam;
    const ip_address::family out_fam = s_out.local_addr.fam;
    const bool in6 = in_fam == ip_address::family::v6;
    const bool out6 = out_fam == ip_address::family::v6;

    auto e = std::make_unique<dp::flow_entry>();
    e->self = rtcp ? s_in.rtcp_state.get() : s_in.rtp_state.get();
    // With rtcp-mux on the far leg, RTCP goes to (and from) its RTP port.
    const bool out_mux = rtcp && s_out.rtcp_mux;
    const bool out_rtp_port = !rtcp || out_mux;
    const std::optional<endpoint>& dest = out_rtp_port ? s_out.peer_rtp : s_out.peer_rtcp;
    const std::optional<endpoint>& expected = rtcp && !s_in.rtcp_mux ? s_in.peer_rtcp : s_in.peer_rtp;
    // Toward ports several forked branches send to, the latched source is whichever branch
    // spoke last: send to the active branch's SDP address instead (sibling null).
    e->sibling = s_out.forked ? nullptr : out_rtp_port ? s_out.rtp_state.get() : s_out.rtcp_state.get();
    e->sdp_dest = packed(dest, out_fam);
    e->out_src_port = htons(out_rtp_port ? s_out.rtp_port() : s_out.rtcp_port());
    e->expected_src = packed(expected, in_fam);
    e->out_port_id = out.iface->dpdk_port;
    e->vlan = out.iface->vlan;
    e->in_port_id = in.iface->dpdk_port;
    if (!out6) {
        e->out_src_addr = s_out.local_addr.v4_be();
        e->onlink_prefix = out_addr.net.prefix;
        e->gateway = out.iface->gateway ? out.iface->gateway->v4_be() : 0;
    }
    if (in6 || out6) {
        auto v6 = std::make_unique<dp::flow_entry_v6>();
        v6->in6 = in6;
        v6->out6 = out6;
        if (in6) {
            v6->self6 = rtcp ? s_in.rtcp_addr6.get() : s_in.rtp_addr6.get();
            v6->rtp_of_leg6 = rtcp ? s_in.rtp_addr6.get() : nullptr;
            copy16(v6->expected_src, expected);
        }
        if (out6) {
            v6->sibling6 = s_out.forked ? nullptr : out_rtp_port ? s_out.rtp_addr6.get() : s_out.rtcp_addr6.get();
            copy16(v6->sdp_dest, dest);
            std::memcpy(v6->out_src_addr, s_out.local_addr.bytes.data(), 16);
            if (out.iface->gateway6) {
                std::memcpy(v6->gateway, out.iface->gateway6->bytes.data(), 16);
                v6->has_gateway = true;
            }
            v6->onlink_prefix = out_addr.net.prefix;
        }
        e->v6 = std::move(v6);
    }
    e->kind = rtcp ? dp::flow_kind::rtcp : dp::flow_kind::rtp;
    e->iface = static_cast<uint8_t>(in.iface->index);  // < dp::counted_interfaces (interface_set::add)
    // An RTCP port latches a NAT'd peer only from the address its RTP port latched to.
    e->rtp_of_leg = rtcp ? s_in.rtp_state.get() : nullptr;
    e->flags = dp::flow_learn;
    if (!s_in.is_rtp) {
        e->flags |= dp::flow_opaque;  // T.38 UDPTL: probation reads UDPTL's sequence number
    }
    if (in.strict_source || in.iface->strict_source) {
        e->flags |= dp::flow_strict_source;
    }
    if (s_in.forked) {
        e->flags |= dp::flow_any_source;  // every branch got this port: all of them send here
    }
    // Each offer/answer re-publishes, and so opens a new learning window (dataplane/latch.h).
    e->learn_from_tsc = rte_rdtsc();
    e->learn_until_tsc = e->learn_from_tsc + rte_get_tsc_hz() * in.iface->learn_window_s;
    if (!rtcp && s_in.rtcp_mux) {
        e->flags |= dp::flow_rtcp_mux;
    }
    // RTP and RTCP ports of a stream share an owner: with rtcp-mux the RTP port carries
    // RTCP too, and both must reach the same SRTCP context.
    e->owner = owner_of(s_in.local_addr, s_in.rtp_port());
    stamp_recording(*e, in.record_id, in.record_channel);
    for (size_t k = 0; k < 2; ++k) {
        e->srtp_in[k] = s_in.in_ctx(k);
        e->srtp_out[k] = s_out.out_ctx(k);
    }
    const bool keys_missing =
        (s_in.crypto().srtp && s_in.in_ctx(0) == nullptr) || (s_out.crypto().srtp && s_out.out_ctx(0) == nullptr);
    e->forward = (s_in.disabled || s_out.disabled) ? dp::forward_off
                 : keys_missing                    ? dp::forward_no_key
                                                   : dp::forward_on;
    if (e->sdp_dest != 0) {
        dp::neighbour* nh = nullptr;
        if (!out6) {
            const uint32_t dst = dp::endpoint_addr(e->sdp_dest);
            nh = neighbours_.get_or_create(e->out_port_id, dp::onlink4(*e, dst) ? dst : e->gateway);
        } else {
            const dp::flow_entry_v6& v6 = *e->v6;
            const bool onlink = !out.iface->gateway6 || same_prefix6(v6.sdp_dest, v6.out_src_addr, v6.onlink_prefix);
            nh = neighbours_.get_or_create6(e->out_port_id, onlink ? v6.sdp_dest : v6.gateway);
        }
        if (nh != nullptr) {
            // Resolve it now, before the first packet needs it.
            nh->wanted.store(1, std::memory_order_relaxed);
        }
        e->sdp_next_hop = nh;
    }
    return flows_.publish(*key, std::move(e));
}

bool publisher::publish_pair(leg& x, leg& y, size_t i) {
    stream& sx = x.streams.at(i);
    stream& sy = y.streams.at(i);
    if (!sx.allocated || !sy.allocated) {
        return true;
    }
    std::vector<std::unique_ptr<dp::srtp::context>> old;
    for (stream* s : {&sx, &sy}) {
        if (!s->rtp_state) {
            s->rtp_state = std::make_unique<dp::stream_state>();
            s->rtcp_state = std::make_unique<dp::stream_state>();
        }
        if (!s->local_addr.is_v4() && !s->rtp_addr6) {
            s->rtp_addr6 = std::make_unique<dp::stream_addr6>();
            s->rtcp_addr6 = std::make_unique<dp::stream_addr6>();
        }
        sync_contexts(*s, old);
    }
    bool ok = publish_direction(x, sx, y, sy, false) && publish_direction(y, sy, x, sx, false);
    if (sx.is_rtp && sy.is_rtp) {
        ok = ok && publish_direction(x, sx, y, sy, true) && publish_direction(y, sy, x, sx, true);
    } else {
        // Not RTP (T.38 UDPTL after a re-INVITE from audio): nothing on port+1 any more.
        for (const stream* s : {&sx, &sy}) {
            if (const auto key = flow_key_of(s->local_addr, s->rtcp_port())) {
                flows_.remove(*key);
            }
        }
    }
    sx.published = sy.published = true;
    // Only now that no new entry points at them may the replaced contexts go.
    for (auto& c : old) {
        flows_.retire(std::move(c));
    }
    return ok;
}

bool publisher::restamp(const leg& l) {
    bool ok = true;
    for (const stream& s : l.streams) {
        if (!s.published || !s.allocated) {
            continue;
        }
        for (const uint16_t port : {s.rtp_port(), s.rtcp_port()}) {
            const auto k = flow_key_of(s.local_addr, port);  // either family (IPv6: its slot)
            if (!k) {
                continue;
            }
            const dp::flow_key key = *k;
            const dp::flow_entry* old = flows_.lookup(key);
            if (old == nullptr || (old->record_id == l.record_id &&
                                   ((old->flags & dp::flow_record_leg_b) != 0) == (l.record_channel != 0))) {
                continue;
            }
            auto e = std::make_unique<dp::flow_entry>(*old);
            stamp_recording(*e, l.record_id, l.record_channel);
            ok = flows_.publish(key, std::move(e)) && ok;
        }
    }
    return ok;
}

void publisher::remove_entries(stream& s) {
    if (!s.published) {
        return;
    }
    for (const uint16_t port : {s.rtp_port(), s.rtcp_port()}) {
        if (const auto key = flow_key_of(s.local_addr, port)) {
            flows_.remove(*key);
        }
    }
    s.published = false;
}

void publisher::retire_states(stream& s) {
    flows_.retire(std::move(s.rtp_state));
    flows_.retire(std::move(s.rtcp_state));
    flows_.retire(std::move(s.rtp_addr6));
    flows_.retire(std::move(s.rtcp_addr6));
    if (s.contexts) {
        for (size_t k = 0; k < 2; ++k) {
            flows_.retire(std::move(s.contexts->in[k]));
            flows_.retire(std::move(s.contexts->out[k]));
        }
        s.contexts.reset();
    }
}

dp::local_address local_address_of(const ip_address& a, uint16_t port_id, uint16_t vlan) {
    dp::local_address la{a.is_v4() ? a.v4_be() : 0, port_id, vlan};
    if (!a.is_v4()) {
        la.v6 = true;
        std::memcpy(la.addr6, a.bytes.data(), sizeof(la.addr6));
    }
    return la;
}

}  // namespace rtprelay
