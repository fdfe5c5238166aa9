#include "control/session/manager.h"

#include <algorithm>
#include <cstring>
#include <ctime>
#include <iterator>

#include "control/log.h"
#include "control/sdes/negotiate.h"
#include "control/sdp/sdp.h"
#include "control/session/rtcp_mux.h"

namespace rtprelay {

namespace {

std::optional<endpoint> peer_endpoint(const std::optional<ip_address>& addr, uint16_t port) {
    if (!addr || addr->is_unspecified() || port == 0) {
        return std::nullopt;
    }
    return endpoint{*addr, port};
}

const char* family_name(ip_address::family f) { return f == ip_address::family::v4 ? "IP4" : "IP6"; }

// The address of a c= line (or a=rtcp's), checked against its address type: "IN IP6
// 198.18.0.1" would leave the family of the leg in doubt.
ip_address connection_address(const sdp::connection& c, size_t i, const char* what) {
    const std::optional<ip_address> a = ip_address::parse(c.address);
    if (!a) {
        throw session_error("SDP: m= line " + std::to_string(i + 1) + ": " + what + " address '" + c.address +
                            "' is not an IP address");
    }
    if (c.addrtype != family_name(a->fam)) {
        throw session_error("SDP: m= line " + std::to_string(i + 1) + ": " + what + " address '" + c.address +
                            "' is not an " + c.addrtype + " address");
    }
    return *a;
}

// What one m= section of an SDP says about where its sender wants media.
void take_peer(stream& s, const sdp::session_description& sd, size_t i) {
    const sdp::media& m = sd.medias[i];
    const sdp::connection* c = sdp::effective_connection(sd, i);
    std::optional<ip_address> addr;
    if (c != nullptr) {
        addr = connection_address(*c, i, "connection");
    }
    const std::optional<sdp::direction> dir = m.dir ? m.dir : sd.dir;
    s.hold = (dir && *dir != sdp::direction::sendrecv) || (addr && addr->is_unspecified());
    s.media_type = m.type;
    s.proto = m.proto;
    s.is_rtp = m.proto.rfind("RTP/", 0) == 0;
    s.disabled = m.port == 0;
    s.rtcp_mux = m.rtcp_mux;
    // The family the peer speaks: its leg's local address must be of the same one. A hold
    // address (0.0.0.0, ::) says which only for a stream that has no address yet: a phone
    // that holds with c=IN IP4 0.0.0.0 on an IPv6 leg still means "do not send".
    s.peer_family.reset();
    if (addr && (!addr->is_unspecified() || !s.allocated)) {
        s.peer_family = addr->fam;
    }
    s.peer_rtp = peer_endpoint(addr, m.port);
    std::optional<ip_address> rtcp_addr = addr;
    if (m.rtcp_conn) {
        rtcp_addr = connection_address(*m.rtcp_conn, i, "a=rtcp");
        if (addr && rtcp_addr->fam != addr->fam && !rtcp_addr->is_unspecified()) {
            if (!addr->is_unspecified()) {
                throw session_error("SDP: m= line " + std::to_string(i + 1) + ": a=rtcp address " +
                                    rtcp_addr->to_string() + " is not of the connection's family " + c->addrtype);
            }
            // Hold by c=IN IP4 0.0.0.0 on a stream whose a=rtcp kept its IPv6 address (or the
            // reverse): held, RTCP included.
            rtcp_addr = addr;
        }
    }
    const uint32_t rtcp_port = m.rtcp_port ? *m.rtcp_port : m.port + 1u;
    s.peer_rtcp = rtcp_port <= 65535 ? peer_endpoint(rtcp_addr, static_cast<uint16_t>(rtcp_port)) : std::nullopt;
}

// The family of a leg's local addresses: that of its relayed streams, else the first of its
// interface.
ip_address::family leg_family(const leg& l) {
    for (const stream& s : l.streams) {
        if (s.allocated) {
            return s.local_addr.fam;
        }
    }
    return l.iface->first_family();
}

}  // namespace

uint64_t leg_cost_of(const admission& adm, const leg& l, const std::vector<sdes::stream_crypto>& crypto, bool offerer) {
    for (size_t i = 0; i < l.streams.size() && i < crypto.size(); ++i) {
        const stream& s = l.streams[i];
        if (!s.allocated || s.disabled) {
            continue;
        }
        unsigned tag = 0;
        if (crypto[i].srtp) {
            const sdes::crypto_attr* line = offerer && crypto[i].from_peer ? &*crypto[i].from_peer
                                            : !crypto[i].offered.empty()   ? &crypto[i].offered.front()
                                                                           : nullptr;
            // The suite table's SRTP tag (10 or 4 for HMAC-SHA1, 16 for AES-GCM) and the key's
            // MKI, which every packet carries too.
            tag = line != nullptr ? dp::srtp::info(line->crypto_suite).rtp_tag_len + line->key.mki_len
                                  : dp::srtp::info(dp::srtp::suite::aes_cm_128_hmac_sha1_80).rtp_tag_len;
        }
        return adm.leg_bps(!s.local_addr.is_v4(), tag);
    }
    return adm.leg_bps(l.iface->first_family() == ip_address::family::v6, 0);
}

namespace {

// NG strict-source, like rtpengine's: once asked for, every leg of the call keeps it.
void mark_strict(call& c, const sdp_request& r) {
    if (!r.strict_source) {
        return;
    }
    for (auto& l : c.legs) {
        l->strict_source = true;
    }
}

sdp::media_plan plan_for(const stream& local, bool ice_remove) {
    sdp::media_plan p;
    if (!local.allocated || local.disabled) {
        p.relay = false;
        return p;
    }
    p.relay = true;
    p.address = local.local_addr.to_string();
    p.addrtype = local.local_addr.sdp_addrtype();
    p.port = local.rtp_port();
    p.rtcp_port = local.rtcp_port();
    p.remove_ice = ice_remove;
    return p;
}

std::vector<std::string> crypto_values(const sdp::media& m) {
    std::vector<std::string> out;
    out.reserve(m.crypto.size());
    for (const auto& c : m.crypto) {
        out.push_back(c.value);
    }
    return out;
}

// A stream not relayed (port 0): left as it is, but without the sender's keys, and with
// the relay's address available for a session c= that must not show the far side's.
void disabled_plan(sdp::media_plan& mp, const leg& facing) {
    mp.relay = false;
    mp.replace_crypto = true;
    mp.crypto.clear();
    if (const ip_address* a = facing.iface->first_address(leg_family(facing))) {
        mp.address = a->to_string();
        mp.addrtype = a->sdp_addrtype();
    }
}

// "m= line 2 (video)": how warnings and errors name a stream.
std::string media_label(const sdp::session_description& sd, size_t i) {
    return "m= line " + std::to_string(i + 1) + " (" + sd.medias[i].type + ")";
}

std::string join(const std::vector<std::string>& reasons) {
    std::string out;
    for (const auto& r : reasons) {
        out += out.empty() ? "" : "; ";
        out += r;
    }
    return out;
}

// A stream the relay refuses on its own, toward `facing`: port 0, the relay's address, and
// nothing of the sender's (keys, RTCP port, candidates).
void refused_plan(sdp::media_plan& mp, const leg& facing, bool ice_remove) {
    mp.relay = true;
    mp.reject = true;
    mp.port = 0;
    mp.rtcp_port = 0;
    mp.remove_ice = ice_remove;
    mp.replace_crypto = true;
    mp.crypto.clear();
    if (!facing.iface->addresses.empty()) {
        const ip_address& a = facing.iface->addresses.front().net.base;
        mp.address = a.to_string();
        mp.addrtype = a.sdp_addrtype();
    }
}

void apply_crypto_plan(sdp::media_plan& mp, const sdes::media_crypto_plan& cp) {
    if (cp.proto) {
        mp.proto = *cp.proto;
    }
    mp.replace_crypto = cp.replace_crypto;
    mp.crypto = cp.crypto;
}

// a=crypto lines of `sd` that no SDES step reads: session-level ones and those of streams
// that are not RTP. rewrite() drops them all (see sdes::offer_to_send, answer_to_send).
size_t unowned_crypto_lines(const sdp::session_description& sd) {
    size_t n = sd.session_crypto_lines;
    for (const auto& m : sd.medias) {
        n += sdp::is_rtp_proto(m.proto) ? 0 : m.crypto.size();
    }
    return n;
}

void count_stripped(session_totals& t, const sdp::session_description& sd, std::string_view what) {
    const size_t n = unowned_crypto_lines(sd);
    if (n > 0) {
        t.crypto_lines_stripped += n;
        RLOG_DEBUG("%.*s: %zu a=crypto line(s) outside RTP streams dropped", static_cast<int>(what.size()), what.data(),
                   n);
    }
}

sdp::session_description parse_or_throw(const std::string& text) {
    std::string err;
    auto sd = sdp::parse(text, &err);
    if (!sd) {
        throw session_error(err.empty() ? "SDP: parse error" : err);
    }
    return std::move(*sd);
}

std::string rewrite_or_throw(const std::string& text, const sdp::session_description& sd,
                             const sdp::rewrite_plan& plan) {
    std::string err;
    auto out = sdp::rewrite(text, sd, plan, &err);
    if (!out) {
        throw session_error(err.empty() ? "SDP: rewrite failed" : err);
    }
    return std::move(*out);
}

void set_origin(sdp::rewrite_plan& plan, const sdp_request& r, const leg& facing) {
    if (!r.replace_origin) {
        return;
    }
    for (const auto& mp : plan.medias) {
        if (mp.relay) {
            plan.replace_origin = true;
            plan.origin_address = mp.address;
            plan.origin_addrtype = mp.addrtype;
            return;
        }
    }
    if (const ip_address* a = facing.iface->first_address(leg_family(facing))) {
        plan.replace_origin = true;
        plan.origin_address = a->to_string();
        plan.origin_addrtype = a->sdp_addrtype();
    }
}

// What one request may change of an existing call before it can still be refused: the
// legs' tags and each stream's view of its peer's SDP. Saved before, put back on refusal,
// so a refused re-offer or answer leaves media going where it went.
class call_snapshot {
 public:
    explicit call_snapshot(call& c) {
        for (auto& l : c.legs) {
            legs_.push_back({l.get(), l->tag, {}});
            for (const stream& s : l->streams) {
                legs_.back().streams.push_back({s.peer_rtp, s.peer_rtcp, s.peer_family, s.rtcp_mux, s.mux_offered,
                                                s.mux_keep, s.mux_required, s.disabled, s.refused, s.hold, s.is_rtp,
                                                s.media_type, s.proto});
            }
        }
    }
    void restore() const {
        for (const auto& sl : legs_) {
            sl.l->tag = sl.tag;
            for (size_t i = 0; i < sl.streams.size() && i < sl.l->streams.size(); ++i) {
                const saved& v = sl.streams[i];
                stream& s = sl.l->streams[i];
                s.peer_rtp = v.peer_rtp;
                s.peer_rtcp = v.peer_rtcp;
                s.peer_family = v.peer_family;
                s.rtcp_mux = v.rtcp_mux;
                s.mux_offered = v.mux_offered;
                s.mux_keep = v.mux_keep;
                s.mux_required = v.mux_required;
                s.disabled = v.disabled;
                s.refused = v.refused;
                s.hold = v.hold;
                s.is_rtp = v.is_rtp;
                s.media_type = v.media_type;
                s.proto = v.proto;
            }
        }
    }

 private:
    struct saved {
        std::optional<endpoint> peer_rtp;
        std::optional<endpoint> peer_rtcp;
        std::optional<ip_address::family> peer_family;
        bool rtcp_mux;
        bool mux_offered;
        bool mux_keep;
        bool mux_required;
        bool disabled;
        bool refused;
        bool hold;
        bool is_rtp;
        std::string media_type;
        std::string proto;
    };
    struct saved_leg {
        leg* l;
        std::string tag;
        std::vector<saved> streams;
    };
    std::vector<saved_leg> legs_;
};

}  // namespace

session_manager::~session_manager() {
    for (auto& [id, c] : calls_) {
        destroy(*c);
    }
}

call& session_manager::find_call(const std::string& call_id) {
    auto it = calls_.find(call_id);
    if (it == calls_.end()) {
        throw session_error("Unknown call-id");
    }
    if (it->second->suspended) {
        throw session_error(suspended_error);
    }
    return *it->second;
}

leg& session_manager::new_leg(call& c, std::string tag, const std::string& iface_name) {
    logical_interface* iface = iface_name.empty() ? &interfaces_.front() : interfaces_.find(iface_name);
    if (iface == nullptr) {
        throw session_error("Unknown interface '" + iface_name + "'");
    }
    auto l = std::make_unique<leg>();
    l->tag = std::move(tag);
    l->iface = iface;
    l->created = c.last_signal;
    c.legs.push_back(std::move(l));
    return *c.legs.back();
}

void session_manager::ensure_streams(leg& l, size_t n) {
    if (l.streams.size() < n) {
        l.streams.resize(n);
    }
}

namespace {
// by_port_'s key: local address and RTP port (an RTCP port, odd, maps to its RTP port). An
// IPv6 address goes in as a 32-bit fold (as the data plane packs it) with bit 63 set:
// owner_of compares the whole address, so two of our addresses that fold alike only cost a
// lookup its answer.
uint64_t port_key(const ip_address& a, uint16_t port) {
    if (a.is_v4()) {
        return static_cast<uint64_t>(a.v4_be()) << 16 | (port & ~1u);
    }
    uint32_t w[4];
    std::memcpy(w, a.bytes.data(), sizeof(w));
    return 1ull << 63 | static_cast<uint64_t>(w[0] ^ w[1] ^ w[2] ^ w[3]) << 16 | (port & ~1u);
}
}  // namespace

void session_manager::allocate(call& c, leg& l, stream& s, ip_address::family fam, size_t i) {
    if (s.allocated) {
        if (s.local_addr.fam != fam) {
            // Its ports would change: the other side was told the old address. A new call
            // (or a re-INVITE through a fresh offer) can do it; this one cannot.
            throw session_error("SDP: m= line " + std::to_string(i + 1) +
                                ": the leg's address family cannot change "
                                "within a call (" +
                                family_name(s.local_addr.fam) + " to " + family_name(fam) + ")");
        }
        return;
    }
    if (!l.iface->has_family(fam)) {
        throw session_error("SDP: m= line " + std::to_string(i + 1) + ": interface '" + l.iface->name + "' has no " +
                            (fam == ip_address::family::v4 ? "IPv4" : "IPv6") + " address");
    }
    auto a = l.iface->allocate(fam);
    if (!a) {
        ++totals_.refused_ports;
        throw ports_exhausted();
    }
    s.alloc = *a;
    s.local_addr = l.iface->addresses[a->address_index].net.base;
    s.allocated = true;
    by_port_[port_key(s.local_addr, s.rtp_port())] = &c;
}

void session_manager::release_stream(leg& l, stream& s) {
    if (s.allocated) {
        by_port_.erase(port_key(s.local_addr, s.rtp_port()));
        l.iface->release(s.alloc);
        s.allocated = false;
    }
}

std::optional<session_manager::port_owner> session_manager::owner_of(const ip_address& addr, uint16_t port) const {
    const auto it = by_port_.find(port_key(addr, port));
    if (it == by_port_.end()) {
        return std::nullopt;
    }
    const call& c = *it->second;
    for (const auto& l : c.legs) {
        for (const stream& s : l->streams) {
            if (s.allocated && s.local_addr == addr && s.rtp_port() == (port & ~1u)) {
                return port_owner{c.call_id, l->tag};
            }
        }
    }
    return std::nullopt;
}

void session_manager::destroy(call& c) {
    if (admission_ != nullptr && c.admitted) {
        admission_->release_legs(
            std::vector<leg_cost>{{c.admitted_ifs[0], c.admitted_bps[0]}, {c.admitted_ifs[1], c.admitted_bps[1]}});
        c.admitted = false;
    }
    // Entries first (both legs), states after: an entry may point at its sibling's state.
    for (auto& l : c.legs) {
        for (auto& s : l->streams) {
            pub_.remove_entries(s);
        }
    }
    for (auto& l : c.legs) {
        for (auto& s : l->streams) {
            pub_.retire_states(s);
            release_stream(*l, s);
        }
    }
}

sdp_reply session_manager::offer(const sdp_request& r, steady::time_point now) {
    if (r.call_id.empty() || r.from_tag.empty()) {
        throw session_error("Missing call-id or from-tag");
    }
    const sdp::session_description sd = parse_or_throw(r.sdp);
    auto it = calls_.find(r.call_id);
    const bool fresh = it == calls_.end();
    if (!fresh && it->second->suspended) {
        throw session_error(suspended_error);
    }
    if (fresh) {
        auto c = std::make_unique<call>();
        c->call_id = r.call_id;
        c->created = now;
        c->created_unix = static_cast<int64_t>(std::time(nullptr));
        const std::string_view key = c->call_id;
        it = calls_.emplace(key, std::move(c)).first;
    }
    call& c = *it->second;
    c.last_signal = now;
    ++totals_.offers;
    const call_snapshot before(c);
    try {
        leg* x = c.find_leg(r.from_tag);
        if (x == nullptr) {
            x = &new_leg(c, r.from_tag, r.direction.size() > 0 ? r.direction[0] : std::string());
        }
        leg* y = r.to_tag.empty() ? nullptr : c.find_leg(r.to_tag);
        if (y != nullptr && y->parked) {
            // A re-offer toward a branch that lost: media is with the active branch.
            y = c.partner_of(x);
        }
        if (y == nullptr) {
            y = c.partner_of(x);
        }
        if (y == nullptr) {
            const std::string y_iface = r.direction.size() > 1 ? r.direction[1] : x->iface->name;
            y = &new_leg(c, r.to_tag, r.direction.empty() ? std::string() : y_iface);
        }
        const size_t n = sd.medias.size();
        ensure_streams(*x, n);
        ensure_streams(*y, n);
        sdp::rewrite_plan plan;
        // SDES decisions are made for every stream before any is stored: a refused
        // re-offer leaves the call's keys as they were.
        std::vector<sdes::stream_crypto> x_crypto(n);
        std::vector<sdes::stream_crypto> y_crypto(n);
        std::vector<std::string> refused;  // "m= line 2 (video): <reason>"
        size_t live = 0;                   // streams that carry media after this offer
        for (size_t i = 0; i < n; ++i) {
            stream& sx = x->streams[i];
            stream& sy = y->streams[i];
            const std::string x_proto_before = sx.proto;
            take_peer(sx, sd, i);
            sx.refused = false;
            x_crypto[i] = sx.crypto();
            y_crypto[i] = sy.crypto();
            sdes::step_result in;
            if (!sx.disabled) {
                in = sdes::offer_received(x->iface->name, x->iface->srtp, r.sdes, sd.medias[i].proto,
                                          crypto_values(sd.medias[i]), sx.crypto());
                if (!in.error.empty()) {
                    // RFC 3264 6 / RFC 4568 5.1.2: this m= line alone is answered with port 0;
                    // the others go on. No ports are taken for it; ports an earlier offer took
                    // stay with the call and stop forwarding.
                    refused.push_back(media_label(sd, i) + ": " + in.error);
                    sx.refused = true;
                    sx.disabled = true;
                    plan.medias.emplace_back();
                    refused_plan(plan.medias.back(), *y, r.ice_remove);
                    continue;
                }
                // The offerer's leg speaks the family of its SDP; the answerer's the one NG
                // asks for (address family), else the offer's where its interface has it.
                const ip_address::family fx =
                    sx.peer_family.value_or(sx.allocated ? sx.local_addr.fam : leg_family(*x));
                allocate(c, *x, sx, fx, i);
                ip_address::family fy = sy.allocated               ? sy.local_addr.fam
                                        : y->iface->has_family(fx) ? fx
                                                                   : leg_family(*y);
                if (r.address_family) {
                    fy = *r.address_family;
                }
                allocate(c, *y, sy, fy, i);
                sy.is_rtp = sx.is_rtp;
            }
            plan.medias.push_back(plan_for(sy, r.ice_remove));
            if (sx.disabled) {
                disabled_plan(plan.medias.back(), *y);
                continue;
            }
            ++live;
            // rtpengine's rule for re-offers: an offerer that keeps its m= proto leaves the
            // other leg as it was negotiated (a plain carrier's re-INVITE does not turn an
            // SRTP customer's leg into RTP); one that changes it makes the other leg follow.
            // transport-protocol and the interface policy still decide over both.
            const bool proto_kept =
                !x_proto_before.empty() && x_proto_before == sd.medias[i].proto && !sy.proto.empty();
            const bool like_srtp = proto_kept ? sy.crypto().srtp : in.state.srtp;
            sdes::step_result out = sdes::offer_to_send(y->iface->name, y->iface->srtp, r.sdes, sd.medias[i].proto,
                                                        like_srtp, r.transport_protocol, sy.crypto());
            if (!out.error.empty()) {
                throw session_error(out.error);  // the request or the far side's policy: every stream
            }
            x_crypto[i] = std::move(in.state);
            y_crypto[i] = std::move(out.state);
            apply_crypto_plan(plan.medias.back(), out.plan);
            if (sx.is_rtp) {
                sdp::media_plan& mp = plan.medias.back();
                mp.rtcp_mux = offer_rtcp_mux(sx, sy, r.rtcp_mux);
                if (sy.mux_required) {
                    mp.rtcp_port = mp.port;  // no separate RTCP port advertised (rtcp-mux require)
                }
            }
        }
        if (!refused.empty() && live == 0) {
            throw session_error(join(refused));  // the call fails only when no stream is left
        }
        if (fresh && admission_ != nullptr) {
            // Last check before anything is published: everything else about the offer is
            // acceptable, so a refusal here really is about load.
            const std::vector<leg_cost> legs{{x->iface->index, leg_cost_of(*admission_, *x, x_crypto, true)},
                                             {y->iface->index, leg_cost_of(*admission_, *y, y_crypto, false)}};
            const refusal why = admission_->admit_legs(legs, now);
            if (why != refusal::none) {
                throw admission_refused(why);
            }
            c.admitted = true;
            for (size_t k = 0; k < 2; ++k) {
                c.admitted_ifs[k] = static_cast<uint16_t>(legs[k].interface);
                c.admitted_bps[k] = legs[k].bps;
            }
        }
        for (size_t i = 0; i < n; ++i) {
            x->streams[i].set_crypto(std::move(x_crypto[i]));
            y->streams[i].set_crypto(std::move(y_crypto[i]));
        }
        mark_strict(c, r);
        for (size_t i = 0; i < n; ++i) {
            if (!pub_.publish_pair(*x, *y, i)) {
                throw session_error("Flow table full");
            }
        }
        set_origin(plan, r, *y);
        sdp_reply reply{rewrite_or_throw(r.sdp, sd, plan), {}};
        count_stripped(totals_, sd, "offer");
        for (auto& why : refused) {
            reply.warnings.push_back(std::move(why) + " (answered with port 0)");
        }
        totals_.streams_refused += refused.size();
        if (fresh) {
            ++totals_.calls_created;
        }
        changed(c);
        return reply;
    } catch (const admission_refused& e) {
        ++(e.why == refusal::capacity ? totals_.refused_capacity
           : e.why == refusal::cps    ? totals_.refused_cps
                                      : totals_.refused_draining);
        destroy(c);
        calls_.erase(it);
        throw;
    } catch (ports_exhausted& e) {
        e.new_call = fresh;  // counted as refused_ports where it was thrown
        if (fresh) {
            destroy(c);
            calls_.erase(it);
        } else {
            before.restore();
        }
        throw;
    } catch (const session_error& e) {
        if (fresh) {
            ++totals_.refused_policy;
            destroy(c);
            calls_.erase(it);
        } else {
            before.restore();
        }
        throw;
    } catch (...) {
        if (fresh) {
            destroy(c);
            calls_.erase(it);
        }
        throw;
    }
}

sdp_reply session_manager::answer(const sdp_request& r, steady::time_point now) {
    call& c = find_call(r.call_id);
    const call_snapshot before(c);
    branch_change change;
    try {
        sdp_reply reply = answer_unchecked(r, c, now, change);
        changed(c);
        return reply;
    } catch (...) {
        undo(c, change);
        before.restore();
        throw;
    }
}

void session_manager::move_ports(leg& from, leg& to) {
    ensure_streams(to, from.streams.size());
    for (size_t i = 0; i < from.streams.size(); ++i) {
        stream& a = from.streams[i];
        stream& b = to.streams[i];
        b.allocated = a.allocated;
        b.alloc = a.alloc;
        b.local_addr = a.local_addr;
        b.rtp_state = std::move(a.rtp_state);
        b.rtcp_state = std::move(a.rtcp_state);
        b.rtp_addr6 = std::move(a.rtp_addr6);
        b.rtcp_addr6 = std::move(a.rtcp_addr6);
        b.contexts = std::move(a.contexts);
        b.published = a.published;
        // Every branch got the same offer: the SDES state of what we offered goes along;
        // this branch's answer then sets the keys it chose. So does what we offered of
        // rtcp-mux.
        b.set_crypto(a.crypto());
        b.mux_offered = a.mux_offered;
        b.mux_keep = a.mux_keep;
        b.mux_required = a.mux_required;
        a.allocated = false;
        a.published = false;
    }
    from.parked = true;
    to.parked = false;
}

leg& session_manager::answering_branch(call& c, leg& x, const std::string& to_tag, branch_change& change) {
    leg* active = c.partner_of(&x);
    leg* y = to_tag.empty() ? nullptr : c.find_leg(to_tag);
    if (y == nullptr) {
        if (active == nullptr) {
            throw session_error("No offer for this answer");
        }
        if (active->tag.empty() || to_tag.empty()) {
            // The first answer names the leg the offer created.
            if (!to_tag.empty()) {
                active->tag = to_tag;
            }
            return *active;
        }
        // Another to-tag for the same offer: a forked branch. It takes the offer's ports
        // (that is where it sends, since it got the same SDP) and the earlier branch waits.
        y = &new_leg(c, to_tag, active->iface->name);
        change = {active, y, true, active->offerer};
        y->offerer = &x;
        active->offerer = &x;
        move_ports(*active, *y);
    } else if (y->parked && active != nullptr) {
        // An earlier branch answers again (its 200 OK after another branch's 183).
        change = {active, y, false, active->offerer};
        move_ports(*active, *y);
    }
    return *y;
}

void session_manager::undo(call& c, const branch_change& change) {
    if (change.to == nullptr) {
        return;
    }
    move_ports(*change.to, *change.from);
    change.from->offerer = change.from_offerer;
    if (change.created && !c.legs.empty() && c.legs.back().get() == change.to) {
        c.legs.pop_back();
    }
}

bool session_manager::remove_branch(const std::string& call_id, const std::string& from_tag,
                                    const std::string& to_tag) {
    auto it = calls_.find(call_id);
    if (it == calls_.end() || it->second->delete_at) {
        return false;
    }
    call& c = *it->second;
    for (const std::string* tag : {&to_tag, &from_tag}) {
        leg* l = tag->empty() ? nullptr : c.find_leg(*tag);
        if (l == nullptr || !l->parked) {
            continue;
        }
        // A parked branch holds no ports, states or flows: forgetting it frees it. The
        // active branch's ports stay `forked`: their latched source may still be the
        // branch that spoke first, so the other leg keeps sending to the SDP address.
        std::erase_if(c.legs, [l](const std::unique_ptr<leg>& p) { return p.get() == l; });
        changed(c);
        return true;
    }
    return false;
}

sdp_reply session_manager::answer_unchecked(const sdp_request& r, call& c, steady::time_point now,
                                            branch_change& change) {
    if (r.call_id.empty() || r.from_tag.empty()) {
        throw session_error("Missing call-id or from-tag");
    }
    const sdp::session_description sd = parse_or_throw(r.sdp);
    c.last_signal = now;
    ++totals_.answers;
    leg* x = c.find_leg(r.from_tag);
    if (x == nullptr) {
        throw session_error("Unknown from-tag");
    }
    leg* y = &answering_branch(c, *x, r.to_tag, change);
    const size_t n = sd.medias.size();
    ensure_streams(*x, n);
    ensure_streams(*y, n);
    if (y->offerer != nullptr) {
        // Forked: from now to the call's end (see stream::forked).
        for (auto& s : y->streams) {
            s.forked = true;
        }
    }
    sdp::rewrite_plan plan;
    std::vector<sdes::stream_crypto> y_crypto(n);
    std::vector<std::string> refused;  // "m= line 2 (video): <reason>"
    size_t live = 0;
    for (size_t i = 0; i < n; ++i) {
        stream& sx = x->streams[i];
        stream& sy = y->streams[i];
        take_peer(sy, sd, i);
        y_crypto[i] = sy.crypto();
        plan.medias.push_back(plan_for(sx, r.ice_remove));
        if (sx.refused) {
            refused_plan(plan.medias.back(), *x, r.ice_remove);  // port 0, whatever the answer says
            continue;
        }
        if (sy.disabled || !sx.allocated || sx.disabled) {
            disabled_plan(plan.medias.back(), *x);
            continue;
        }
        // The answerer talks to the address we offered it: an answer of the other family
        // could only be relayed from a port it was never told about.
        if (sy.allocated && sy.peer_family && *sy.peer_family != sy.local_addr.fam) {
            throw session_error("SDP: m= line " + std::to_string(i + 1) + ": the answer's address is " +
                                family_name(*sy.peer_family) + " but the offer it answers gave " +
                                family_name(sy.local_addr.fam) + " (NG address family)");
        }
        if (r.address_family && *r.address_family != sx.local_addr.fam) {
            throw session_error("SDP: m= line " + std::to_string(i + 1) + ": address family " +
                                family_name(*r.address_family) + " asked for, but the offerer's leg is " +
                                family_name(sx.local_addr.fam));
        }
        // RFC 3264: the answer's proto matches the offer's. One that is RTP where the offer
        // was not (or the reverse) cannot be relayed as negotiated: its formats are no
        // payload types for the offerer, or the ports were set up for something else.
        if (sdp::is_rtp_proto(sd.medias[i].proto) != sdp::is_rtp_proto(sx.proto)) {
            throw session_error("SDP: m= line " + std::to_string(i + 1) + ": answer proto " + sd.medias[i].proto +
                                " does not answer the offer's " + sx.proto);
        }
        sdes::step_result a = sdes::answer_received(y->iface->name, y->iface->srtp, sd.medias[i].proto,
                                                    crypto_values(sd.medias[i]), sy.crypto());
        if (!a.error.empty()) {
            // This stream alone cannot be relayed: the offerer is answered port 0 for it
            // and nothing is forwarded on its ports (the answerer's SDP counts as port 0).
            refused.push_back(media_label(sd, i) + ": " + a.error);
            sy.disabled = true;
            refused_plan(plan.medias.back(), *x, r.ice_remove);
            continue;
        }
        ++live;
        y_crypto[i] = std::move(a.state);
        apply_crypto_plan(plan.medias.back(), sdes::answer_to_send(sx.crypto(), sx.proto, r.sdes));
        if (sx.is_rtp) {
            plan.medias.back().rtcp_mux = answer_rtcp_mux(sx, sy);
        }
    }
    if (!refused.empty() && live == 0) {
        throw session_error(join(refused));  // the call fails only when no stream is left
    }
    for (size_t i = 0; i < n; ++i) {
        y->streams[i].set_crypto(std::move(y_crypto[i]));
    }
    mark_strict(c, r);
    for (size_t i = 0; i < n; ++i) {
        if (!pub_.publish_pair(*x, *y, i)) {
            throw session_error("Flow table full");
        }
    }
    if (!c.answered) {
        c.answered = true;
        c.answered_at = now;
    }
    set_origin(plan, r, *x);
    sdp_reply reply{rewrite_or_throw(r.sdp, sd, plan), {}};
    count_stripped(totals_, sd, "answer");
    for (auto& why : refused) {
        reply.warnings.push_back(std::move(why) + " (answered with port 0)");
    }
    totals_.streams_refused += refused.size();
    return reply;
}

const char* close_reason_name(close_reason r) {
    constexpr const char* names[] = {"deleted",       "media timeout", "silent timeout",
                                     "offer timeout", "final timeout", "drain"};
    static_assert(std::size(names) == static_cast<size_t>(close_reason::count));
    return names[static_cast<size_t>(r)];
}

const char* close_reason_label(close_reason r) {
    constexpr const char* names[] = {"deleted",       "media_timeout", "silent_timeout",
                                     "offer_timeout", "final_timeout", "drain"};
    static_assert(std::size(names) == static_cast<size_t>(close_reason::count));
    return names[static_cast<size_t>(r)];
}

void session_manager::close(call_map::iterator it, close_reason why) {
    // One clock read for the log line and the totals: they say the same duration.
    const double seconds = std::chrono::duration<double>(steady::now() - it->second->created).count();
    {
        const call& c = *it->second;
        log::event(log::level::info, "call closed")
            .field("call-id", c.call_id)
            .field("reason", close_reason_label(why))
            .field("answered", c.answered ? "yes" : "no")
            .field("duration", seconds);
        if (group_observer_ != nullptr) {
            group_observer_->call_closed(c);
        }
    }
    totals_.call_seconds += seconds;
    if (observer_ != nullptr) {
        observer_->call_closing(*it->second, why);
    }
    destroy(*it->second);
    calls_.erase(it);
    ++totals_.calls_deleted;
    ++totals_.closed[static_cast<size_t>(why)];
}

void session_manager::remove(const std::string& call_id, steady::time_point now,
                             std::optional<std::chrono::seconds> delay) {
    auto it = calls_.find(call_id);
    if (it == calls_.end()) {
        throw session_error("Unknown call-id");
    }
    if (it->second->suspended) {
        throw session_error(suspended_error);
    }
    const std::chrono::seconds d = delay.value_or(timeouts_.delete_delay);
    call& c = *it->second;
    if (d.count() <= 0) {
        close(it, close_reason::deleted);
        return;
    }
    // A repeated delete (a BYE retransmitted past the NG cache, or a CANCEL then a BYE)
    // never puts the end later than the first one said.
    const steady::time_point at = now + d;
    c.delete_at = c.delete_at ? std::min(*c.delete_at, at) : at;
    changed(c);  // the node that takes it over ends it on time too
}

std::optional<close_reason> session_manager::due(const call& c, steady::time_point now, uint64_t now_tsc,
                                                 uint64_t tsc_hz) const {
    if (c.suspended) {
        return std::nullopt;  // its timers run on the node that holds its address now
    }
    if (c.delete_at) {
        return now >= *c.delete_at ? std::optional(close_reason::deleted) : std::nullopt;
    }
    if (timeouts_.final.count() > 0 && now - c.created >= timeouts_.final) {
        return close_reason::final_timeout;
    }
    if (!c.answered) {
        if (timeouts_.offer.count() > 0 && now - c.created >= timeouts_.offer) {
            return close_reason::offer_timeout;
        }
        return std::nullopt;
    }
    uint64_t last_tsc = 0;
    bool hold = false;
    for (const auto& l : c.legs) {
        if (l->parked) {
            continue;  // a forked branch that lost: its SDP says nothing about this call's media
        }
        for (const auto& s : l->streams) {
            hold = hold || s.hold;
            for (const dp::stream_state* st : {s.rtp_state.get(), s.rtcp_state.get()}) {
                if (st != nullptr) {
                    last_tsc = std::max(last_tsc, st->last_rx_tsc.load(std::memory_order_relaxed));
                }
            }
        }
    }
    const std::chrono::seconds limit = hold ? timeouts_.silent : timeouts_.media;
    if (limit.count() == 0) {
        return std::nullopt;
    }
    // Silence is measured from the last packet, or from the answer if none came since.
    std::chrono::duration<double> silent_for = now - c.answered_at;
    if (last_tsc != 0 && tsc_hz != 0) {
        const double since_packet =
            now_tsc > last_tsc ? static_cast<double>(now_tsc - last_tsc) / static_cast<double>(tsc_hz) : 0.0;
        silent_for = std::min(silent_for, std::chrono::duration<double>(since_packet));
    }
    if (silent_for >= limit) {
        return hold ? close_reason::silent_timeout : close_reason::media_timeout;
    }
    return std::nullopt;
}

size_t session_manager::expire(steady::time_point now, uint64_t now_tsc, uint64_t tsc_hz) {
    size_t n = 0;
    for (auto it = calls_.begin(); it != calls_.end();) {
        auto next = std::next(it);
        if (auto why = due(*it->second, now, now_tsc, tsc_hz)) {
            close(it, *why);
            ++n;
        }
        it = next;
    }
    return n;
}

size_t session_manager::close_all(close_reason why) {
    size_t n = 0;
    while (!calls_.empty()) {
        close(calls_.begin(), why);
        ++n;
    }
    return n;
}

std::vector<std::string> session_manager::list(size_t limit) const {
    std::vector<std::string> out;
    for (const auto& [id, c] : calls_) {
        if (out.size() >= limit) {
            break;
        }
        out.emplace_back(id);
    }
    return out;
}

call* session_manager::find(std::string_view call_id) {
    auto it = calls_.find(call_id);
    return it == calls_.end() ? nullptr : it->second.get();
}

const call* session_manager::find(std::string_view call_id) const {
    auto it = calls_.find(call_id);
    return it == calls_.end() ? nullptr : it->second.get();
}

std::vector<interface_report> session_manager::interfaces_report() const {
    std::vector<interface_report> out;
    for (const auto& i : interfaces_.all()) {
        interface_report r{i.name, {}};
        for (const auto& a : i.addresses) {
            r.addresses.push_back({a.net.base.to_string(), a.pool->free(), a.pool->used()});
        }
        out.push_back(std::move(r));
    }
    return out;
}

}  // namespace rtprelay
