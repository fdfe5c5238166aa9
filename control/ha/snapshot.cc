#include "control/ha/snapshot.h"

#include <algorithm>
#include <cstring>

#include "control/interfaces.h"

namespace rtprelay::ha {

namespace {

int64_t to_unix_ms(steady::time_point t, steady::time_point now, int64_t now_unix_ms) {
    return now_unix_ms - std::chrono::duration_cast<std::chrono::milliseconds>(now - t).count();
}

// A record's times come from Redis: one decades away (a clock gone wrong, or bad bytes)
// is clamped to 50 years either side, where the nanosecond arithmetic cannot overflow.
steady::time_point from_unix_ms(int64_t ms, steady::time_point now, int64_t now_unix_ms) {
    constexpr int64_t limit = int64_t{50} * 366 * 86'400 * 1000;
    int64_t ago = 0;
    if (__builtin_sub_overflow(now_unix_ms, ms, &ago)) {
        ago = ms < 0 ? limit : -limit;
    }
    ago = std::clamp(ago, -limit, limit);
    return now - std::chrono::milliseconds(ago);
}

endpoint_record endpoint_of(const ip_address& a, uint16_t port) {
    endpoint_record e;
    e.family = a.is_v4() ? 4 : 6;
    std::memcpy(e.addr, a.bytes.data(), a.is_v4() ? 4 : 16);
    e.port = port;
    return e;
}

endpoint endpoint_from(const endpoint_record& e) {
    endpoint out;
    out.addr.fam = e.family == 6 ? ip_address::family::v6 : ip_address::family::v4;
    std::memcpy(out.addr.bytes.data(), e.addr, e.family == 6 ? 16 : 4);
    out.port = e.port;
    return out;
}

crypto_line_record line_of(const sdes::crypto_attr& a) {
    crypto_line_record c;
    c.tag = a.tag;
    c.suite = static_cast<uint8_t>(a.crypto_suite);
    c.unencrypted_srtcp = a.unencrypted_srtcp;
    static_assert(sizeof c.key == sizeof a.key.key + sizeof a.key.salt && sizeof c.mki == sizeof a.key.mki);
    std::memcpy(c.key, a.key.key.data(), a.key.key.size());
    std::memcpy(c.key + a.key.key.size(), a.key.salt.data(), a.key.salt.size());
    c.mki_len = a.key.mki_len;
    std::memcpy(c.mki, a.key.mki.data(), sizeof c.mki);
    c.lifetime = a.lifetime;
    return c;
}

sdes::crypto_attr line_from(const crypto_line_record& c) {
    sdes::crypto_attr a;
    a.tag = c.tag;
    a.crypto_suite = static_cast<sdes::suite>(c.suite);
    a.unencrypted_srtcp = c.unencrypted_srtcp;
    std::memcpy(a.key.key.data(), c.key, a.key.key.size());
    std::memcpy(a.key.salt.data(), c.key + a.key.key.size(), a.key.salt.size());
    a.key.mki_len = c.mki_len;
    std::memcpy(a.key.mki.data(), c.mki, sizeof c.mki);
    a.lifetime = c.lifetime;
    return a;
}

// A stream's latched source as the record keeps it: the word, and for IPv6 the whole
// address from the stream's stream_addr6 (under its sequence counter; the owner worker may
// be moving it). An IPv6 latch whose address cannot be read consistently, or whose address
// no longer folds to the word read first (it moved in between), is left out: the adopter
// then learns the source again, as after an offer, rather than send to a wrong address.
uint64_t latch_of(const dp::stream_state* st, const dp::stream_addr6* a6, uint8_t (&addr6)[16]) {
    if (st == nullptr) {
        return 0;
    }
    const uint64_t word = st->latched.load(std::memory_order_relaxed);
    if (!dp::endpoint_is_v6(word)) {
        return word;
    }
    uint16_t port_be = 0;
    if (a6 == nullptr || !a6->load(addr6, &port_be, 64) || dp::pack_endpoint6(addr6, port_be) != word) {
        std::memset(addr6, 0, 16);
        return 0;
    }
    return word;
}

// The latch of a stream with local address `local` from the record into `st` (and `a6`
// for IPv6). Empty, or what is wrong with it: a source of the other family than the
// address it was heard on, or an IPv6 address that does not fold to the word.
std::string restore_latch(uint64_t word, const uint8_t (&addr6)[16], const ip_address& local, dp::stream_state& st,
                          dp::stream_addr6* a6) {
    if (word == 0) {
        return {};
    }
    const bool v6 = dp::endpoint_is_v6(word);
    if (v6 == local.is_v4()) {
        return std::string("latched source is IPv") + (v6 ? "6" : "4") + " on " + local.to_string();
    }
    if (v6) {
        const uint16_t port_be = dp::endpoint_port(word);
        if (a6 == nullptr || dp::pack_endpoint6(addr6, port_be) != word) {
            return "IPv6 latched source does not match its word";
        }
        a6->store(addr6, port_be);  // before publish: no worker sees it yet
    }
    st.latched.store(word, std::memory_order_relaxed);
    return {};
}

// A stream's record flags (stream_record::flag), for stream_of and flat_stream_of.
uint16_t stream_flags(const stream& s) {
    uint16_t f = 0;
    auto set = [&f](bool on, stream_record::flag x) {
        if (on) {
            f = static_cast<uint16_t>(f | x);
        }
    };
    set(s.allocated, stream_record::allocated);
    set(s.rtcp_mux, stream_record::rtcp_mux);
    set(s.disabled, stream_record::disabled);
    set(s.hold, stream_record::hold);
    set(s.is_rtp, stream_record::is_rtp);
    set(s.published, stream_record::published);
    set(s.forked, stream_record::forked);
    set(s.peer_rtp.has_value(), stream_record::has_peer_rtp);
    set(s.peer_rtcp.has_value(), stream_record::has_peer_rtcp);
    if (s.crypto_state) {
        const sdes::stream_crypto& c = *s.crypto_state;
        set(true, stream_record::has_crypto);
        set(c.srtp, stream_record::srtp);
        set(c.from_peer.has_value(), stream_record::has_from_peer);
        set(c.to_peer.has_value(), stream_record::has_to_peer);
    }
    return f;
}

// What stream_of and flat_stream_of write alike (R: stream_record or flat_stream). A flat
// slot is reused, so the optional endpoints and the IPv6 latched addresses are cleared first.
template <class R>
void common_fields_of(const stream& s, R& r) {
    r.flags = stream_flags(s);
    r.address_index = static_cast<uint8_t>(s.alloc.address_index);
    r.rtp_port = s.alloc.rtp_port;
    r.local = endpoint_of(s.local_addr, 0);
    r.peer_rtp = s.peer_rtp ? endpoint_of(s.peer_rtp->addr, s.peer_rtp->port) : endpoint_record{};
    r.peer_rtcp = s.peer_rtcp ? endpoint_of(s.peer_rtcp->addr, s.peer_rtcp->port) : endpoint_record{};
    std::memset(r.latched_rtp6, 0, sizeof r.latched_rtp6);
    std::memset(r.latched_rtcp6, 0, sizeof r.latched_rtcp6);
    r.latched_rtp = latch_of(s.rtp_state.get(), s.rtp_addr6.get(), r.latched_rtp6);
    r.latched_rtcp = latch_of(s.rtcp_state.get(), s.rtcp_addr6.get(), r.latched_rtcp6);
    if (s.crypto_state) {
        const sdes::stream_crypto& c = *s.crypto_state;
        if (c.from_peer) {
            r.from_peer = line_of(*c.from_peer);
        }
        if (c.to_peer) {
            r.to_peer = line_of(*c.to_peer);
        }
    }
}

stream_record stream_of(const stream& s) {
    stream_record r;
    common_fields_of(s, r);
    r.media_type = s.media_type;
    r.proto = s.proto;
    if (s.crypto_state) {
        const sdes::stream_crypto& c = *s.crypto_state;
        for (const auto& o : c.offered) {
            if (r.offered.size() < max_record_offered) {
                r.offered.push_back(line_of(o));
            }
        }
    }
    if (s.contexts && s.contexts->progress) {
        // What the last scan decided the record carries (srtp_progress.h), not the live
        // indices: the reservations must be what the record says.
        const srtp_progress& p = *s.contexts->progress;
        for (int k = 0; k < 4; ++k) {
            auto& to = k < 2 ? r.srtp_in[k] : r.srtp_out[k - 2];
            for (const auto& e : p.written[k]) {
                if (to.size() < max_record_ssrcs) {
                    to.push_back({e.ssrc, e.index});
                }
            }
        }
    }
    return r;
}

// stream_of into a flat stream; false when the stream is past the flat capacity.
bool flat_stream_of(const stream& s, flat_stream& r) {
    if (!r.media_type.set(s.media_type) || !r.proto.set(s.proto)) {
        return false;
    }
    common_fields_of(s, r);
    r.offered = 0;
    if (s.crypto_state) {
        const sdes::stream_crypto& c = *s.crypto_state;
        // snapshot_call keeps the first max_record_offered lines; so does this or it does not fit.
        const size_t offered = std::min(c.offered.size(), max_record_offered);
        if (offered > flat_offered) {
            return false;
        }
        for (size_t k = 0; k < offered; ++k) {
            r.offered_lines[k] = line_of(c.offered[k]);
        }
        r.offered = static_cast<uint8_t>(offered);
    }
    for (int k = 0; k < 4; ++k) {
        r.srtp_n[k] = 0;
    }
    if (s.contexts && s.contexts->progress) {
        const srtp_progress& p = *s.contexts->progress;  // as stream_of: what the last scan decided
        for (int k = 0; k < 4; ++k) {
            const size_t n = std::min(p.written[k].size(), max_record_ssrcs);
            if (n > flat_ssrcs) {
                return false;
            }
            for (size_t j = 0; j < n; ++j) {
                r.srtp[k][j] = {p.written[k][j].ssrc, p.written[k][j].index};
            }
            r.srtp_n[k] = static_cast<uint8_t>(n);
        }
    }
    return true;
}

// The stream's SRTP contexts, made from its keys as the publisher would make them, seeded
// with the record's indices (srtp_progress.h), so that the publisher keeps them. Throws
// std::runtime_error if a context cannot be made.
void rebuild_contexts(stream& s, const stream_record& sr, dp::srtp::engine engine) {
    const sdes::stream_crypto& c = s.crypto();
    if (!c.srtp || (!c.from_peer && !c.to_peer)) {
        return;
    }
    s.contexts = std::make_unique<srtp_contexts>();
    srtp_contexts& sc = *s.contexts;
    auto make = [&](const sdes::crypto_attr& a, std::unique_ptr<dp::srtp::context>(&ctx)[2],
                    std::optional<srtp_contexts::made_from>& made, const std::vector<ssrc_index_record>(&seeds)[2]) {
        for (int k = 0; k < 2; ++k) {
            ctx[k] = dp::srtp::make_context(engine, a.crypto_suite, a.key, k == 1);
            for (const auto& x : seeds[k]) {
                ctx[k]->seed(x.ssrc, x.index);  // false only with libsrtp2, or a duplicate SSRC
            }
        }
        made = srtp_contexts::made_from{a.crypto_suite, a.unencrypted_srtcp, a.key};
    };
    if (c.from_peer) {
        make(*c.from_peer, sc.in, sc.in_key, sr.srtp_in);
    }
    if (c.to_peer) {
        make(*c.to_peer, sc.out, sc.out_key, sr.srtp_out);
    }
    // What Redis holds is acknowledged by definition; the first scan goes on from there.
    sc.progress = std::make_unique<srtp_progress>();
    for (int k = 0; k < 4; ++k) {
        const auto& from = k < 2 ? sr.srtp_in[k] : sr.srtp_out[k - 2];
        sc.progress->made[k] = k < 2 ? static_cast<const void*>(sc.in[k].get()) : sc.out[k - 2].get();
        for (const auto& x : from) {
            sc.progress->acked[k].push_back({x.ssrc, x.index, x.index, k >= 2});
        }
        sc.progress->written[k] = sc.progress->acked[k];
        if (k == 3) {
            for (auto& e : sc.progress->written[k]) {
                e.index += srtcp_block;  // the next block, in the record written right after adoption
            }
        }
    }
}

// The first problem with stream `s` of a leg on `iface`, or empty.
std::string check_stream(const stream_record& s, const logical_interface& iface, bool parked) {
    if (!s.has(stream_record::allocated)) {
        return {};
    }
    if (parked) {
        return "a parked branch holds ports";
    }
    if (s.address_index >= iface.addresses.size()) {
        return "address index " + std::to_string(s.address_index) + " is not on interface '" + iface.name + "'";
    }
    const endpoint local = endpoint_from(s.local);
    if (!(local.addr == iface.addresses[s.address_index].net.base)) {
        return "local address " + local.addr.to_string() + " is not interface '" + iface.name + "''s address " +
               std::to_string(s.address_index);
    }
    if ((s.rtp_port & 1u) != 0 || s.rtp_port < iface.port_min || s.rtp_port >= iface.port_max) {
        return "port " + std::to_string(s.rtp_port) + " is outside interface '" + iface.name + "''s range";
    }
    return {};
}
}  // namespace

int64_t unix_now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

call_record snapshot_call(const call& c, std::string_view owner, steady::time_point now, int64_t now_unix_ms) {
    call_record r;
    r.call_id = c.call_id;
    r.owner = std::string(owner);
    r.created_unix_ms = to_unix_ms(c.created, now, now_unix_ms);
    r.last_signal_unix_ms = to_unix_ms(c.last_signal, now, now_unix_ms);
    r.answered_unix_ms = c.answered ? to_unix_ms(c.answered_at, now, now_unix_ms) : 0;
    r.delete_at_unix_ms = c.delete_at ? to_unix_ms(*c.delete_at, now, now_unix_ms) : 0;
    r.admitted = c.admitted;
    r.legs.reserve(c.legs.size());
    for (const auto& l : c.legs) {
        leg_record& lr = r.legs.emplace_back();
        lr.tag = l->tag;
        lr.iface = l->iface->name;
        lr.strict_source = l->strict_source;
        lr.parked = l->parked;
        for (size_t k = 0; k < c.legs.size(); ++k) {
            if (c.legs[k].get() == l->offerer) {
                lr.offerer = static_cast<int8_t>(k);
            }
        }
        lr.created_unix_ms = to_unix_ms(l->created, now, now_unix_ms);
        for (const auto& s : l->streams) {
            lr.streams.push_back(stream_of(s));
        }
    }
    if (c.admitted && !c.legs.empty()) {
        // admitted_ifs are interface indexes on this node; by name they mean the same on a peer.
        for (int k = 0; k < 2; ++k) {
            for (const auto& l : c.legs) {
                if (l->iface->index == c.admitted_ifs[k]) {
                    r.admitted_ifs[k] = l->iface->name;
                    break;
                }
            }
        }
    }
    return r;
}

bool snapshot_flat(const call& c, steady::time_point now, int64_t now_unix_ms, flat_record& r) {
    if (c.legs.size() > flat_legs || !r.call_id.set(c.call_id)) {
        return false;
    }
    r.created_unix_ms = to_unix_ms(c.created, now, now_unix_ms);
    r.last_signal_unix_ms = to_unix_ms(c.last_signal, now, now_unix_ms);
    r.answered_unix_ms = c.answered ? to_unix_ms(c.answered_at, now, now_unix_ms) : 0;
    r.delete_at_unix_ms = c.delete_at ? to_unix_ms(*c.delete_at, now, now_unix_ms) : 0;
    r.admitted = c.admitted;
    r.legs = 0;
    size_t streams = 0;
    for (const auto& l : c.legs) {
        flat_leg& lr = r.leg[r.legs++];
        if (!lr.tag.set(l->tag) || !lr.iface.set(l->iface->name) || l->streams.size() > flat_streams - streams) {
            return false;
        }
        lr.strict_source = l->strict_source;
        lr.parked = l->parked;
        lr.offerer = -1;
        for (size_t k = 0; k < c.legs.size(); ++k) {
            if (c.legs[k].get() == l->offerer) {
                lr.offerer = static_cast<int8_t>(k);
            }
        }
        lr.created_unix_ms = to_unix_ms(l->created, now, now_unix_ms);
        lr.streams = static_cast<uint8_t>(l->streams.size());
        for (const auto& s : l->streams) {
            if (!flat_stream_of(s, r.stream[streams++])) {
                return false;
            }
        }
    }
    r.admitted_ifs[0].len = 0;
    r.admitted_ifs[1].len = 0;
    if (c.admitted && !c.legs.empty()) {
        for (int k = 0; k < 2; ++k) {
            for (const auto& l : c.legs) {
                if (l->iface->index == c.admitted_ifs[k]) {
                    if (!r.admitted_ifs[k].set(l->iface->name)) {
                        return false;
                    }
                    break;
                }
            }
        }
    }
    return true;
}

std::unique_ptr<call> rebuild_call(const call_record& r, interface_set& interfaces, steady::time_point now,
                                   int64_t now_unix_ms, std::string* why, dp::srtp::engine engine) {
    auto refuse = [why](std::string text) -> std::unique_ptr<call> {
        *why = std::move(text);
        return nullptr;
    };
    if (r.call_id.empty()) {
        return refuse("no call-id");
    }
    if (r.legs.empty() || r.legs.size() > max_record_legs) {
        return refuse("no legs");
    }
    auto c = std::make_unique<call>();
    c->call_id = r.call_id;
    c->created = from_unix_ms(r.created_unix_ms, now, now_unix_ms);
    c->created_unix = r.created_unix_ms / 1000;
    c->last_signal = from_unix_ms(r.last_signal_unix_ms, now, now_unix_ms);
    c->answered = r.answered_unix_ms != 0;
    if (c->answered) {
        c->answered_at = from_unix_ms(r.answered_unix_ms, now, now_unix_ms);
    }
    if (r.delete_at_unix_ms != 0) {
        c->delete_at = from_unix_ms(r.delete_at_unix_ms, now, now_unix_ms);
    }
    for (const auto& lr : r.legs) {
        logical_interface* iface = interfaces.find(lr.iface);
        if (iface == nullptr) {
            return refuse("interface '" + lr.iface + "' is not configured here");
        }
        auto l = std::make_unique<leg>();
        l->tag = lr.tag;
        l->iface = iface;
        l->strict_source = lr.strict_source;
        l->parked = lr.parked;
        l->created = from_unix_ms(lr.created_unix_ms, now, now_unix_ms);
        for (const auto& sr : lr.streams) {
            if (std::string e = check_stream(sr, *iface, lr.parked); !e.empty()) {
                return refuse("leg '" + lr.tag + "': " + e);
            }
            stream s;
            s.allocated = sr.has(stream_record::allocated);
            s.rtcp_mux = sr.has(stream_record::rtcp_mux);
            s.disabled = sr.has(stream_record::disabled);
            s.hold = sr.has(stream_record::hold);
            s.is_rtp = sr.has(stream_record::is_rtp);
            s.forked = sr.has(stream_record::forked);
            s.alloc = {sr.address_index, sr.rtp_port};
            s.local_addr = endpoint_from(sr.local).addr;
            if (sr.has(stream_record::has_peer_rtp)) {
                s.peer_rtp = endpoint_from(sr.peer_rtp);
            }
            if (sr.has(stream_record::has_peer_rtcp)) {
                s.peer_rtcp = endpoint_from(sr.peer_rtcp);
            }
            s.media_type = sr.media_type;
            s.proto = sr.proto;
            if (sr.has(stream_record::has_crypto)) {
                sdes::stream_crypto sc;
                sc.srtp = sr.has(stream_record::srtp);
                if (sr.has(stream_record::has_from_peer)) {
                    sc.from_peer = line_from(sr.from_peer);
                }
                if (sr.has(stream_record::has_to_peer)) {
                    sc.to_peer = line_from(sr.to_peer);
                }
                for (const auto& o : sr.offered) {
                    sc.offered.push_back(line_from(o));
                }
                s.set_crypto(std::move(sc));
                try {
                    rebuild_contexts(s, sr, engine);
                } catch (const std::exception& e) {
                    return refuse(std::string("SRTP context: ") + e.what());
                }
            }
            if (s.allocated) {
                s.rtp_state = std::make_unique<dp::stream_state>();
                s.rtcp_state = std::make_unique<dp::stream_state>();
                if (!s.local_addr.is_v4()) {
                    // As the publisher makes them for an IPv6 stream (both or neither).
                    s.rtp_addr6 = std::make_unique<dp::stream_addr6>();
                    s.rtcp_addr6 = std::make_unique<dp::stream_addr6>();
                }
                std::string e =
                    restore_latch(sr.latched_rtp, sr.latched_rtp6, s.local_addr, *s.rtp_state, s.rtp_addr6.get());
                if (e.empty()) {
                    e = restore_latch(sr.latched_rtcp, sr.latched_rtcp6, s.local_addr, *s.rtcp_state,
                                      s.rtcp_addr6.get());
                }
                if (!e.empty()) {
                    return refuse("leg '" + lr.tag + "': " + e);
                }
            }
            l->streams.push_back(std::move(s));
        }
        c->legs.push_back(std::move(l));
    }
    for (size_t k = 0; k < r.legs.size(); ++k) {
        const int o = r.legs[k].offerer;
        if (o >= static_cast<int>(r.legs.size()) || o == static_cast<int>(k)) {
            return refuse("leg " + std::to_string(k) + ": offerer index out of range");
        }
        c->legs[k]->offerer = o >= 0 ? c->legs[static_cast<size_t>(o)].get() : nullptr;
    }
    c->admitted = r.admitted;
    for (int k = 0; r.admitted && k < 2; ++k) {
        const logical_interface* i = interfaces.find(r.admitted_ifs[k]);
        if (i == nullptr) {
            return refuse("admitted on interface '" + r.admitted_ifs[k] + "', which is not configured here");
        }
        c->admitted_ifs[k] = static_cast<uint16_t>(i->index);
    }
    return c;
}

}  // namespace rtprelay::ha
