#include "control/ha/group.h"

#include <arpa/inet.h>

#include "control/ha/keys.h"
#include "control/ha/snapshot.h"
#include "control/ha/srtp_progress.h"
#include "control/interfaces.h"
#include "control/log.h"
#include "control/ng/client.h"
#include "control/ng/commands.h"
#include "control/ng/replies.h"
#include "control/ng/request.h"
#include "dataplane/local_addresses.h"

namespace rtprelay::ha {

namespace {
constexpr size_t rewrites_per_turn = 256;  // dirty calls written again per control loop turn
// SRTP record acknowledgements applied per turn (each a call lookup by id, ~0.3 us). The
// agent reports a batch's at once (~100 per ms at 50k SRTP pairs/s): applied in one turn they
// would put ~30 us on one NG request in a hundred, inside the p99. An NG request brings at most
// about one record, and idle turns take the rest, so 4 per turn keeps up. Later is safe: an
// index reservation counts as persisted only once applied (srtp_progress.h).
constexpr size_t acks_per_turn = 4;
// Redis and forwarding timeouts on the NG path of a call held elsewhere: the control thread
// waits at most a few of these (connect, GET, lease, heartbeat; the owner's reply).
constexpr std::chrono::milliseconds foreign_timeout{100};
constexpr std::chrono::milliseconds forward_timeout{500};
// How often a pass over the SRTP indices of every call starts (srtp_progress.h), and how
// many calls it looks at per control loop turn. A call costs ~0.3-1.5 us (its call, legs,
// streams and four SRTP contexts are a dozen cache lines the workers last wrote; measured
// in ha_writer_benchmark: 1,000 SRTP calls took 0.5-1.6 ms in one turn, on one NG request in
// a few hundred). 16 per turn keep a turn's share to ~5-25 us; a pass over 10,000 calls then
// takes ~625 turns, ~0.6 s with the idle loop's 1 ms turns (less under NG load), far inside
// what the reservations allow (srtp_progress.h: a record is due minutes before its indices
// are used). A pass starts at most every period and never before the last one ended.
constexpr std::chrono::milliseconds srtp_scan_period{250};
constexpr size_t scan_calls_per_turn = 16;
constexpr const char* forwarded_key = "rtprelay-forwarded";  // marks a forwarded request: never again

group_config with_timeout(const group_config& c, std::chrono::milliseconds t) {
    group_config out = c;
    out.redis_timeout = std::min(c.redis_timeout, t);
    return out;
}

int64_t ns(steady::time_point t) {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}
}  // namespace

std::vector<group::address> group::collect(interface_set& interfaces, const group_config& cfg) {
    std::vector<address> out;
    for (auto& i : interfaces.all()) {
        for (auto& m : i.addresses) {
            address a;
            a.text = m.net.base.to_string();
            a.addr = m.net.base;
            a.media.push_back(&m);
            out.push_back(std::move(a));
        }
    }
    // Floating NG addresses are leased in the same set as the media addresses: the agent
    // treats every address alike, so a dead node's NG address goes to the node that takes
    // its media addresses and calls, and a node that cannot renew stops answering NG there
    // exactly when it stops relaying.
    for (const cidr& n : cfg.ng_float) {
        address a;
        a.text = n.base.to_string();
        a.addr = n.base;
        a.ng = true;
        out.push_back(std::move(a));
    }
    return out;
}

std::vector<std::string> group::texts(const std::vector<address>& a) {
    std::vector<std::string> out;
    for (const auto& x : a) {
        out.push_back(x.text);
    }
    return out;
}

group::group(const group_config& cfg, session_manager& sessions, interface_set& interfaces, dp::local_addresses& locals)
    : cfg_(cfg),
      sync_cfg_(with_timeout(cfg, foreign_timeout)),
      sync_(sync_cfg_),
      sessions_(sessions),
      interfaces_(interfaces),
      locals_(locals),
      addresses_(collect(interfaces, cfg)),
      agent_(cfg, texts(addresses_)) {
    for (auto& a : addresses_) {
        serve(a, false);  // nothing until its lease is taken
    }
    sessions_.set_group_observer(this);
}

group::~group() {
    sessions_.set_group_observer(nullptr);
    agent_.stop(false);
}

void group::start() { agent_.start(); }

void group::stop(bool release) { agent_.stop(release); }

void group::serve(address& a, bool on) {
    a.served = on;
    if (a.ng) {
        if (ng_float_) {
            ng_float_(a.text, on);
        }
        return;
    }
    for (media_address* m : a.media) {
        m->serving = on;
    }
    locals_.set_active(!a.addr.is_v4(), a.addr.is_v4() ? a.addr.v4_be() : 0, a.addr.bytes.data(), on);
}

void group::scan_srtp_step(steady::time_point now) {
    if (!scanning_) {
        if (now < next_scan_) {
            return;
        }
        scanning_ = true;
        scan_after_.clear();  // a pass starts from the first call
        next_scan_ = now + srtp_scan_period;
    }
    const call* last = nullptr;
    const size_t seen = sessions_.for_each_call_after(scan_after_, scan_calls_per_turn, [&](call& c) {
        last = &c;
        if (c.suspended) {
            return;
        }
        bool write_it = false;
        for (auto& l : c.legs) {
            for (auto& s : l->streams) {
                const scan_result r = ha::scan_srtp(s);
                write_it = write_it || r.write;
                if (r.exposed != 0) {
                    stats_.srtp_exposed.fetch_add(r.exposed, std::memory_order_relaxed);
                }
            }
        }
        if (write_it) {
            stats_.srtp_writes.fetch_add(1, std::memory_order_relaxed);
            write(c);
        }
    });
    if (last != nullptr) {
        scan_after_.assign(last->call_id);  // a copy: the call may close before the next step
    }
    scanning_ = seen == scan_calls_per_turn;  // fewer: the pass reached the last call
}

std::vector<group::address_state> group::addresses() const {
    std::vector<address_state> out;
    for (const auto& a : addresses_) {
        out.push_back({a.text, a.served});
    }
    return out;
}

void group::write(const call& c) {
    // Calls whose SRTP indices the record carries get a token: its acknowledgement makes
    // them safe (srtp_progress.h).
    uint64_t token = 0;
    for (const auto& l : c.legs) {
        for (const auto& s : l->streams) {
            if (s.contexts && s.contexts->progress) {
                token = token != 0 ? token : ++next_token_;
                s.contexts->progress->token = token;
            }
        }
    }
    // The state now (the SRTP indices as the scan just decided them: srtp_progress.h); the
    // agent encodes and seals it later, so nothing of the live call is read after this.
    // Into a ring slot when it fits (no allocation, no lock), else the slow way.
    const auto now = steady::now();
    const int64_t now_unix_ms = unix_ms_at(now);
    recording_record rec;
    if (recording_ != nullptr) {
        rec = recording_->recording_of(c);
    }
    uint64_t& where = queued_.at(&c);
    if (rec.st == recording_record::state::off && agent_.put_flat(where, [&](flat_record& f) {
            f.what = flat_record::kind::put;
            f.token = token;
            return snapshot_flat(c, now, now_unix_ms, f);
        })) {
        forget_dirty(c.call_id);
        return;
    }
    write_op op;
    op.what = write_op::kind::put;
    op.call_id = c.call_id;
    op.record = snapshot_call(c, cfg_.node, now, now_unix_ms);
    op.record.recording = std::move(rec);
    op.token = token;
    queue_slow(where, std::move(op));
}

void group::queue_slow(uint64_t& where, write_op op) {
    stats_.records_slow.fetch_add(1, std::memory_order_relaxed);
    std::string id = op.call_id;
    if (agent_.put_slow(where, std::move(op))) {
        forget_dirty(id);
    } else {
        dirty_.insert(std::move(id));  // written again from tick()
    }
}

void group::forget_dirty(const std::string& id) {
    if (!dirty_.empty()) {
        dirty_.erase(id);
    }
}

void group::call_changed(const call& c) { write(c); }

void group::call_closed(const call& c) {
    // A delete replaces the call's queued record, as write_queue.h does. The call's entry
    // goes now: a call made later at the same address is another call.
    uint64_t where = queued_.take(&c);
    if (agent_.put_flat(where, [&c](flat_record& f) {
            f.what = flat_record::kind::del;
            f.token = 0;
            return f.call_id.set(c.call_id);
        })) {
        forget_dirty(c.call_id);
        return;
    }
    write_op op;
    op.what = write_op::kind::del;
    op.call_id = c.call_id;
    queue_slow(where, std::move(op));
}

void group::adopt(agent_event& e, steady::time_point now) {
    const auto t0 = steady::now();
    std::vector<std::string> adopted;
    for (call_record& r : e.records) {
        if (sessions_.find(r.call_id) != nullptr) {
            continue;  // held here already (our own, still in memory)
        }
        std::string why;
        std::unique_ptr<call> c = rebuild_call(r, interfaces_, now, unix_now_ms(), &why);
        if (c && !serves(*c, now)) {
            why = "it uses an address not held here";  // only calls this node can serve whole
        }
        if (c && why.empty()) {
            try {
                sessions_.adopt(std::move(c));
            } catch (const session_error& x) {
                why = x.what();
            }
        }
        if (!why.empty()) {
            stats_.adopt_failures.fetch_add(1, std::memory_order_relaxed);
            log::event(log::level::error, "call not adopted").field("call-id", r.call_id).field("reason", why);
            continue;
        }
        adopted.push_back(r.call_id);
        stats_.calls_adopted.fetch_add(1, std::memory_order_relaxed);
        if (recording_ != nullptr) {
            recording_->adopted(*sessions_.find(r.call_id), r.recording, r.owner);
        }
        write(*sessions_.find(r.call_id));  // now ours: in our set, with us as owner
    }
    if (!e.node.empty() && e.node != cfg_.node && !adopted.empty()) {
        write_op op;
        op.what = write_op::kind::forget;
        op.node = e.node;
        op.ids = adopted;
        agent_.submit(std::move(op));
    }
    const auto took = std::chrono::duration_cast<std::chrono::microseconds>(steady::now() - t0);
    stats_.last_takeover_us.store(static_cast<uint64_t>(took.count()), std::memory_order_relaxed);
    if (!e.records.empty()) {
        log::event(log::level::info, "calls adopted")
            .field("from", e.node)
            .field("calls", adopted.size())
            .field("refused", e.records.size() - adopted.size())
            .field("ms", static_cast<double>(took.count()) / 1000.0);
    }
}

void group::apply_acks(size_t budget) {
    while (budget > 0 && !written_.empty()) {
        const agent_event& e = written_.front();
        for (; budget > 0 && ack_next_ < e.acks.size(); --budget) {
            const auto [len, token] = e.acks[ack_next_++];
            if (call* c = sessions_.find(std::string_view(e.ack_ids).substr(ack_at_, len))) {
                for (auto& l : c->legs) {
                    for (auto& s : l->streams) {
                        srtp_acked(s, token);
                    }
                }
            }
            ack_at_ += len;
        }
        if (ack_next_ == e.acks.size()) {
            written_.pop_front();
            ack_next_ = 0;
            ack_at_ = 0;
        }
    }
}

int64_t group::unix_ms_at(steady::time_point now) {
    const int64_t steady_ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
    if (now >= unix_offset_until_) {
        unix_offset_ms_ = unix_now_ms() - steady_ms;
        unix_offset_until_ = now + unix_offset_for;
    }
    return unix_offset_ms_ + steady_ms;
}

std::vector<ip_address> group::tick(steady::time_point now) {
    std::vector<ip_address> announce;
    for (agent_event& e : agent_.take_events()) {
        switch (e.what) {
            case agent_event::kind::connected:
                // Whatever was queued before may be lost: write every call again.
                sessions_.for_each_call([this](const call& c) { dirty_.insert(c.call_id); });
                break;
            case agent_event::kind::acquired:
                adopt(e, now);
                break;
            case agent_event::kind::written:
                written_.push_back(std::move(e));  // applied a few per turn: apply_acks()
                break;
            case agent_event::kind::handed_over:
                phase_ = handover_phase::done;
                log::event(log::level::info, "handover done: this node serves nothing now").field("to", e.node);
                break;
            case agent_event::kind::lost:
                for (size_t i : e.addresses) {
                    if (addresses_[i].served) {
                        serve(addresses_[i], false);
                    }
                    if (addresses_[i].ng) {
                        log::event(log::level::warning, "NG address served by another node")
                            .field("address", addresses_[i].text)
                            .field("holder", e.node);
                        continue;
                    }
                    // Their entries go with them (no call_closed for a dropped call): a
                    // call made later at the same address is another call.
                    for (const std::string& id : sessions_.calls_on(addresses_[i].addr)) {
                        if (const call* c = sessions_.find(id)) {
                            queued_.take(c);
                        }
                    }
                    const size_t n = sessions_.drop_address(addresses_[i].addr);
                    stats_.calls_dropped.fetch_add(n, std::memory_order_relaxed);
                    log::event(log::level::warning, "calls let go: their address is served by another node")
                        .field("address", addresses_[i].text)
                        .field("holder", e.node)
                        .field("calls", n);
                }
                break;
        }
    }
    apply_acks(acks_per_turn);
    handover_step();
    const int64_t now_ns = ns(steady::now());
    uint32_t served = 0;
    for (size_t i = 0; i < addresses_.size(); ++i) {
        address& a = addresses_[i];
        const bool should = phase_ == handover_phase::none && agent_.serve_until_ns(i) > now_ns;
        if (should != a.served) {
            serve(a, should);
            if (a.ng) {
                // No call uses it (config.cc keeps NG and media addresses apart): nothing to
                // resume or suspend, and ng_float announces it on its own interface.
                log::event(should ? log::level::info : log::level::warning,
                           should ? "serving NG address" : "NG address lease lapsed: not serving it")
                    .field("address", a.text);
            } else if (should) {
                const size_t n = sessions_.resume_address(a.addr);
                announce.push_back(a.addr);
                log::event(log::level::info, "serving media address")
                    .field("address", a.text)
                    .field("calls resumed", n);
            } else {
                const size_t n = sessions_.suspend_address(a.addr);
                stats_.calls_suspended.fetch_add(n, std::memory_order_relaxed);
                log::event(log::level::warning, "media address lease lapsed: not serving it")
                    .field("address", a.text)
                    .field("calls suspended", n);
            }
        }
        served += a.served ? 1 : 0;
    }
    stats_.addresses_served.store(served, std::memory_order_relaxed);
    scan_srtp_step(now);
    for (size_t k = 0; k < rewrites_per_turn && !dirty_.empty(); ++k) {
        const std::string id = *dirty_.begin();
        const size_t before = dirty_.size();
        if (const call* c = sessions_.find(id)) {
            write(*c);
        } else {
            dirty_.erase(id);
            call c_gone;
            c_gone.call_id = id;
            call_closed(c_gone);
        }
        if (dirty_.size() >= before) {
            break;  // the queue is still full: try next turn
        }
    }
    stats_.records_dirty.store(dirty_.size(), std::memory_order_relaxed);
    agent_.set_call_count(sessions_.size());
    return announce;
}

}  // namespace rtprelay::ha

namespace rtprelay::ha {

bool group::serves(const call& c, steady::time_point now) const {
    for (const auto& l : c.legs) {
        for (const auto& s : l->streams) {
            if (!s.allocated) {
                continue;
            }
            bool held = false;
            for (size_t i = 0; i < addresses_.size(); ++i) {
                held = held || (addresses_[i].addr == s.local_addr && agent_.serve_until_ns(i) > ns(now));
            }
            if (!held) {
                return false;
            }
        }
    }
    return true;
}

std::optional<ng::value> group::foreign_request(const ng::value& req, steady::time_point now) {
    if (!req.is_dict()) {
        return std::nullopt;
    }
    // Keys in any spelling NG allows (control/ng/names.h), as ng::commands reads them.
    std::string error;
    const auto parsed = ng::request::parse(req, &error);
    if (!parsed) {
        return std::nullopt;  // ng::commands answers it with the error
    }
    const ng::command cmd_id = parsed->cmd();
    const std::string call_id = parsed->string(ng::key::call_id);
    if (call_id.empty() || sessions_.find(call_id) != nullptr) {
        return std::nullopt;
    }
    const bool reoffer = cmd_id == ng::command::offer && !parsed->string(ng::key::to_tag).empty();
    if (!(reoffer || cmd_id == ng::command::answer || cmd_id == ng::command::del || cmd_id == ng::command::query)) {
        return std::nullopt;  // a new call's offer, or not about one call
    }
    const std::string cmd = ng::command_name(cmd_id);
    auto fail = [&](const std::string& why) -> std::optional<ng::value> {
        stats_.foreign_failed.fetch_add(1, std::memory_order_relaxed);
        log::event(log::level::warning, "NG request for a call held elsewhere not served")
            .field("call-id", call_id)
            .field("command", cmd)
            .field("reason", why);
        return ng::reply_error(why);
    };
    std::string why;
    if (!sync_.ensure(&why)) {
        return std::nullopt;  // Redis unreachable: the call is unknown here, as without a group
    }
    const redis_value v = sync_.run({"GET", keys::call(cfg_.group, call_id)});
    if (v.type == redis_value::kind::failed) {
        sync_.drop();
        return std::nullopt;
    }
    if (v.type != redis_value::kind::string) {
        return std::nullopt;  // no record: unknown to the group too
    }
    decode_error err = decode_error::none;
    auto rec = decode_record(v.str, cfg_.key, cfg_.group, call_id, &err);
    if (!rec) {
        log::event(log::level::error, "call record refused")
            .field("call-id", call_id)
            .field("reason", decode_error_name(err));
        return std::nullopt;
    }
    std::unique_ptr<call> c = rebuild_call(*rec, interfaces_, now, unix_now_ms(), &why);
    if (!c) {
        return fail("call record does not fit this node: " + why);
    }
    if (serves(*c, now)) {
        try {
            sessions_.adopt(std::move(c));
        } catch (const session_error& e) {
            return fail(e.what());
        }
        stats_.foreign_adopted.fetch_add(1, std::memory_order_relaxed);
        if (recording_ != nullptr) {
            recording_->adopted(*sessions_.find(call_id), rec->recording, rec->owner);
        }
        write(*sessions_.find(call_id));
        log::event(log::level::info, "call adopted for an NG request")
            .field("call-id", call_id)
            .field("from", rec->owner);
        return std::nullopt;
    }
    if (req.find(forwarded_key) != nullptr) {
        return fail("forwarded here, but this node does not serve the call's addresses");
    }
    // Who serves it: the holder of its first address's lease.
    std::string addr;
    for (const auto& l : c->legs) {
        for (const auto& s : l->streams) {
            if (s.allocated && addr.empty()) {
                addr = s.local_addr.to_string();
            }
        }
    }
    const redis_value holder = sync_.run({"GET", keys::lease(cfg_.group, addr)});
    if (holder.type != redis_value::kind::string) {
        return fail("the call's node is down and its addresses are not taken over yet; retry");
    }
    if (holder.str == cfg_.node) {
        return fail("this node is taking the call's addresses over; retry");
    }
    const redis_value beat = sync_.run({"GET", keys::node(cfg_.group, holder.str)});
    const size_t at = beat.type == redis_value::kind::string ? beat.str.find(" ng=") : std::string::npos;
    if (at == std::string::npos) {
        return fail("node " + holder.str + " serves the call but publishes no NG address");
    }
    const std::string ng_addr = beat.str.substr(at + 4);
    ng::value fwd = req;
    fwd.set(forwarded_key, ng::value::str(cfg_.node));
    try {
        ng::ng_client client(ng_addr);
        auto reply = client.request(fwd, forward_timeout, 0, &why);
        if (!reply) {
            return fail("node " + holder.str + " (" + ng_addr + ") serves the call and did not answer: " + why);
        }
        stats_.foreign_forwarded.fetch_add(1, std::memory_order_relaxed);
        log::event(log::level::info, "NG request forwarded to the node serving the call")
            .field("call-id", call_id)
            .field("command", cmd)
            .field("node", holder.str);
        return reply;
    } catch (const std::exception& e) {
        return fail(std::string("cannot forward to node ") + holder.str + ": " + e.what());
    }
}

}  // namespace rtprelay::ha

namespace rtprelay::ha {

const char* group::phase_name(handover_phase p) {
    constexpr const char* names[] = {"none", "writing records", "releasing addresses", "done"};
    return names[static_cast<size_t>(p)];
}

void group::handover_step() {
    if (phase_ != handover_phase::flushing || !dirty_.empty() || agent_.pending_writes() != 0) {
        return;
    }
    // Every record is in Redis: stop serving (flows withdrawn, nothing sent from the
    // addresses any more), then give the leases to the target.
    size_t calls = 0;
    for (auto& a : addresses_) {
        if (a.served) {
            serve(a, false);
            calls += sessions_.suspend_address(a.addr);
        }
    }
    phase_ = handover_phase::releasing;
    log::event(log::level::info, "handover: records written, addresses released")
        .field("to", handover_to_)
        .field("calls", calls);
    agent_.hand_over(handover_to_);
}

std::optional<ng::value> group::control_request(const ng::value& req, steady::time_point now) {
    const auto cmd = req.is_dict() ? req.find_string("command") : std::nullopt;
    if (!cmd || (*cmd != "group" && *cmd != "handover")) {
        return std::nullopt;
    }
    if (*cmd == "group") {
        return group_report();
    }
    const auto to = req.find_string("to");
    if (!to || to->empty()) {
        return ng::reply_error("handover needs `to`: the node to hand every call and address to");
    }
    if (*to == cfg_.node) {
        return ng::reply_error("handover to this node itself");
    }
    if (phase_ == handover_phase::flushing || phase_ == handover_phase::releasing) {
        return ng::reply_error("a handover to " + handover_to_ + " is in progress");
    }
    std::string why;
    if (!sync_.ensure(&why)) {
        return ng::reply_error("Redis unreachable: " + why);
    }
    const redis_value beat = sync_.run({"GET", keys::node(cfg_.group, std::string(*to))});
    if (beat.type != redis_value::kind::string) {
        if (beat.type == redis_value::kind::failed) {
            sync_.drop();
        }
        return ng::reply_error("node " + std::string(*to) + " is not alive in group " + cfg_.group);
    }
    handover_to_ = std::string(*to);
    phase_ = handover_phase::flushing;
    sessions_.for_each_call([this](call& c) {
        for (auto& l : c.legs) {
            for (auto& st : l->streams) {
                ha::scan_srtp(st);  // the records carry the latest SRTP indices
            }
        }
        dirty_.insert(c.call_id);
    });
    log::event(log::level::info, "handover requested").field("to", handover_to_).field("calls", sessions_.size());
    (void)now;
    ng::value v = ng::value::dict();
    v.set("result", ng::value::str("ok"));
    v.set("to", ng::value::str(handover_to_));
    v.set("calls", ng::value::integer(static_cast<int64_t>(sessions_.size())));
    return v;
}

ng::value group::group_report() {
    using ng::value;
    auto i = [](uint64_t x) { return value::integer(static_cast<int64_t>(x)); };
    const agent_stats& a = agent_.stats();
    value v = value::dict();
    v.set("result", value::str("ok"));
    v.set("group", value::str(cfg_.group));
    v.set("node", value::str(cfg_.node));
    v.set("calls", i(sessions_.size()));
    value redis = value::dict();
    redis.set("up", i(a.redis_up.load()));
    redis.set("connects", i(a.connects.load()));
    redis.set("writes", i(a.writes.load()));
    redis.set("write failures", i(a.write_failures.load()));
    redis.set("queue depth", i(a.queue_depth.load()));
    redis.set("records dirty", i(dirty_.size()));
    redis.set("master switches", i(a.master_switches.load()));
    v.set("redis", std::move(redis));
    value hv = value::dict();
    hv.set("phase", value::str(phase_name(phase_)));
    hv.set("to", value::str(handover_to_));
    v.set("handover", std::move(hv));
    // What Redis says about every address and node (best effort: empty when unreachable).
    std::string why;
    std::vector<redis_value> r;
    if (sync_.ensure(&why)) {
        redis_command leases{"MGET"};
        for (const auto& x : addresses_) {
            leases.push_back(keys::lease(cfg_.group, x.text));
        }
        r = sync_.pipeline({leases, {"SMEMBERS", keys::nodes(cfg_.group)}});
        if (r.empty() || r[0].type == redis_value::kind::failed) {
            sync_.drop();
            r.clear();
        }
    }
    value addrs = value::list();
    for (size_t k = 0; k < addresses_.size(); ++k) {
        value x = value::dict();
        x.set("address", value::str(addresses_[k].text));
        x.set("served here", i(addresses_[k].served ? 1 : 0));
        if (!r.empty() && k < r[0].elements.size() && r[0].elements[k].type == redis_value::kind::string) {
            x.set("holder", value::str(r[0].elements[k].str));
        } else {
            x.set("holder", value::str(""));
        }
        addrs.as_list().push_back(std::move(x));
    }
    v.set("addresses", std::move(addrs));
    value nodes = value::list();
    if (r.size() == 2 && r[1].type == redis_value::kind::array) {
        redis_command beats{"MGET"};
        for (const auto& n : r[1].elements) {
            beats.push_back(keys::node(cfg_.group, n.str));
        }
        const redis_value b = r[1].elements.empty() ? redis_value{} : sync_.run(beats);
        for (size_t k = 0; k < r[1].elements.size(); ++k) {
            value n = value::dict();
            n.set("name", value::str(r[1].elements[k].str));
            const bool alive = k < b.elements.size() && b.elements[k].type == redis_value::kind::string;
            n.set("alive", i(alive ? 1 : 0));
            if (alive) {
                const std::string& beat = b.elements[k].str;
                const size_t at = beat.find("calls=");
                n.set("calls", i(at == std::string::npos ? 0 : std::strtoull(beat.c_str() + at + 6, nullptr, 10)));
                const size_t ng_at = beat.find(" ng=");
                n.set("ng", value::str(ng_at == std::string::npos ? "" : beat.substr(ng_at + 4)));
            }
            nodes.as_list().push_back(std::move(n));
        }
    }
    v.set("nodes", std::move(nodes));
    return v;
}

}  // namespace rtprelay::ha
