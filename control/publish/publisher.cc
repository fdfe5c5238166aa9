#include "control/publish/publisher.h"

#include <arpa/inet.h>
#include <rte_cycles.h>

#include "dataplane/steering.h"

namespace rtprelay {

namespace {
uint64_t packed(const std::optional<endpoint>& ep) {
    if (!ep || !ep->addr.is_v4() || ep->addr.is_unspecified() || ep->port == 0) {
        return 0;
    }
    return dp::pack_endpoint(ep->addr.v4_be(), htons(ep->port));
}

const media_address& address_of(const leg& l, const stream& s) { return l.iface->addresses.at(s.alloc.address_index); }

uint32_t mask_of(uint8_t prefix) { return prefix == 0 ? 0 : htonl(~0u << (32 - prefix)); }

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
    return !a || (a->crypto_suite == b->crypto_suite && a->unencrypted_srtcp == b->unencrypted_srtcp &&
                  sdes::same_key(a->key, b->key));
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
                    std::unique_ptr<dp::srtp::context> (&ctx)[2]) {
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
            ctx[0] = dp::srtp::make_context(engine_, want->crypto_suite, want->key, false);
            ctx[1] = dp::srtp::make_context(engine_, want->crypto_suite, want->key, true);
        }
        have = want;
    };
    sync(want_in, s.contexts->in_key, s.contexts->in);
    sync(want_out, s.contexts->out_key, s.contexts->out);
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
    const uint32_t in_addr_be = s_in.local_addr.v4_be();
    const uint16_t in_port = rtcp ? s_in.rtcp_port() : s_in.rtp_port();

    auto e = std::make_unique<dp::flow_entry>();
    e->self = rtcp ? s_in.rtcp_state.get() : s_in.rtp_state.get();
    // With rtcp-mux on the far leg, RTCP goes to (and from) its RTP port.
    const bool out_mux = rtcp && s_out.rtcp_mux;
    // Toward ports several forked branches send to, the latched source is whichever branch
    // spoke last: send to the active branch's SDP address instead (sibling null).
    if (!rtcp || out_mux) {
        e->sibling = s_out.forked ? nullptr : s_out.rtp_state.get();
        e->sdp_dest = packed(s_out.peer_rtp);
        e->out_src_port = htons(s_out.rtp_port());
    } else {
        e->sibling = s_out.forked ? nullptr : s_out.rtcp_state.get();
        e->sdp_dest = packed(s_out.peer_rtcp);
        e->out_src_port = htons(s_out.rtcp_port());
    }
    e->expected_src = packed(rtcp && !s_in.rtcp_mux ? s_in.peer_rtcp : s_in.peer_rtp);
    e->out_src_addr = s_out.local_addr.v4_be();
    e->out_port_id = out.iface->dpdk_port;
    e->vlan = out.iface->vlan;
    e->in_port_id = in.iface->dpdk_port;
    e->onlink_mask = mask_of(out_addr.net.prefix);
    e->onlink_net = out_addr.net.base.v4_be() & e->onlink_mask;
    e->gateway = out.iface->gateway ? out.iface->gateway->v4_be() : 0;
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
    e->owner = owner_of(in_addr_be, s_in.rtp_port());
    for (size_t k = 0; k < 2; ++k) {
        e->srtp_in[k] = s_in.in_ctx(k);
        e->srtp_out[k] = s_out.out_ctx(k);
    }
    const bool keys_missing = (s_in.crypto().srtp && s_in.in_ctx(0) == nullptr) ||
                              (s_out.crypto().srtp && s_out.out_ctx(0) == nullptr);
    e->forward = (s_in.disabled || s_out.disabled) ? dp::forward_off
                 : keys_missing                     ? dp::forward_no_key
                                                    : dp::forward_on;
    if (e->sdp_dest != 0) {
        const uint32_t dst = dp::endpoint_addr(e->sdp_dest);
        const bool onlink = e->gateway == 0 || (dst & e->onlink_mask) == e->onlink_net;
        dp::neighbour* nh = neighbours_.get_or_create(e->out_port_id, onlink ? dst : e->gateway);
        if (nh != nullptr) {
            // Resolve it now, before the first packet needs it.
            nh->wanted.store(1, std::memory_order_relaxed);
        }
        e->sdp_next_hop = nh;
    }
    dp::flow_key key;
    key.local_addr = in_addr_be;
    key.local_port = htons(in_port);
    return flows_.publish(key, std::move(e));
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
        sync_contexts(*s, old);
    }
    bool ok = publish_direction(x, sx, y, sy, false) && publish_direction(y, sy, x, sx, false);
    if (sx.is_rtp && sy.is_rtp) {
        ok = ok && publish_direction(x, sx, y, sy, true) && publish_direction(y, sy, x, sx, true);
    } else {
        // Not RTP (T.38 UDPTL after a re-INVITE from audio): nothing on port+1 any more.
        for (const stream* s : {&sx, &sy}) {
            dp::flow_key key;
            key.local_addr = s->local_addr.v4_be();
            key.local_port = htons(s->rtcp_port());
            flows_.remove(key);
        }
    }
    sx.published = sy.published = true;
    // Only now that no new entry points at them may the replaced contexts go.
    for (auto& c : old) {
        flows_.retire(std::move(c));
    }
    return ok;
}

void publisher::remove_entries(stream& s) {
    if (!s.published) {
        return;
    }
    dp::flow_key key;
    key.local_addr = s.local_addr.v4_be();
    key.local_port = htons(s.rtp_port());
    flows_.remove(key);
    key.local_port = htons(s.rtcp_port());
    flows_.remove(key);
    s.published = false;
}

void publisher::retire_states(stream& s) {
    flows_.retire(std::move(s.rtp_state));
    flows_.retire(std::move(s.rtcp_state));
    if (s.contexts) {
        for (size_t k = 0; k < 2; ++k) {
            flows_.retire(std::move(s.contexts->in[k]));
            flows_.retire(std::move(s.contexts->out[k]));
        }
        s.contexts.reset();
    }
}

}  // namespace rtprelay
