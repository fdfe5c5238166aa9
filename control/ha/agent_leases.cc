// The HA agent's leases and takeovers (agent.h: Leases, Takeover, Redis down):
// each media address's lease renewed well inside its TTL and served only while the last
// renewal sent allows, the group watched for nodes whose leases ended (their addresses
// taken with SET NX, their calls loaded from Redis and posted to the control thread), the
// Sentinels asked before a master that is away is taken for a partition, and a planned
// handover. Agent thread only (agent.cc runs it; agent_writes.cc writes the records).

#include <algorithm>
#include <utility>

#include "control/ha/agent.h"
#include "control/ha/keys.h"
#include "control/log.h"

namespace rtprelay::ha {

namespace {
// Renews a lease only if this node still holds it.
constexpr const char* renew_script =
    "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0";
// Gives a lease back only if this node holds it.
constexpr const char* release_script =
    "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0";

constexpr size_t load_batch = 500;  // records per MGET while loading a dead node's calls

int64_t ns(steady::time_point t) {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

uint64_t calls_in(const std::string& heartbeat) {
    // "calls=N"
    const size_t at = heartbeat.find("calls=");
    return at == std::string::npos ? 0 : std::strtoull(heartbeat.c_str() + at + 6, nullptr, 10);
}
}  // namespace

void agent::set_serving(size_t i, steady::time_point sent) {
    // The lease runs in Redis from a moment after `sent`; serving stops a quarter lease
    // before it can end there.
    serve_until_[i].store(ns(sent + cfg_.lease * 3 / 4), std::memory_order_release);
}

void agent::lose(size_t i, const std::string& holder) {
    serve_until_[i].store(0, std::memory_order_release);
    held_.erase(i);
    stats_.leases_lost.fetch_add(1, std::memory_order_relaxed);
    log::event(log::level::warning, "media address lease lost")
        .field("address", addresses_[i])
        .field("holder", holder.empty() ? std::string("none") : holder);
    agent_event e;
    e.what = agent_event::kind::lost;
    e.addresses = {i};
    e.node = holder;
    post(std::move(e));
}

void agent::renew(steady::time_point now) {
    next_renew_ = now + cfg_.lease / 4;
    const std::string ttl = std::to_string(cfg_.lease.count());
    std::vector<redis_command> cmds;
    std::vector<size_t> order(held_.begin(), held_.end());
    for (size_t i : order) {
        cmds.push_back({"EVAL", renew_script, "1", keys::lease(cfg_.group, addresses_[i]), cfg_.node, ttl});
    }
    cmds.push_back({"SET", keys::node(cfg_.group, cfg_.node),
                    "calls=" + std::to_string(calls_.load()) + " ng=" + cfg_.ng_address, "PX", ttl});
    const std::vector<redis_value> r = link_.pipeline(cmds);
    if (r.back().ok()) {
        last_renew_ok_ = now;
        witnessed_ = false;
    }
    for (size_t k = 0; k < order.size(); ++k) {
        const size_t i = order[k];
        if (r[k].type == redis_value::kind::integer && r[k].integer == 1) {
            set_serving(i, now);
            continue;
        }
        if (r[k].type != redis_value::kind::integer) {
            continue;  // no answer: the lease runs out by itself unless a later try works
        }
        // Not ours any more: taken back if nobody has it (Redis lost it: a failover or a
        // restart without persistence), else lost.
        const std::string key = keys::lease(cfg_.group, addresses_[i]);
        const redis_value s = link_.run({"SET", key, cfg_.node, "NX", "PX", ttl});
        if (s.is_status("OK")) {
            set_serving(i, now);
            continue;
        }
        if (s.type == redis_value::kind::failed) {
            return;
        }
        const redis_value h = link_.run({"GET", key});
        lose(i, h.type == redis_value::kind::string ? h.str : std::string());
    }
    stats_.leases_held.store(static_cast<uint32_t>(held_.size()), std::memory_order_relaxed);
}

std::vector<size_t> agent::take(const std::vector<size_t>& idx, steady::time_point now) {
    const std::string ttl = std::to_string(cfg_.lease.count());
    std::vector<redis_command> cmds;
    for (size_t i : idx) {
        cmds.push_back({"SET", keys::lease(cfg_.group, addresses_[i]), cfg_.node, "NX", "PX", ttl});
    }
    const std::vector<redis_value> r = link_.pipeline(cmds);
    std::vector<size_t> won;
    std::vector<redis_command> holders;
    for (size_t k = 0; k < idx.size(); ++k) {
        if (r[k].is_status("OK")) {
            won.push_back(idx[k]);
            holders.push_back({"SET", keys::holder(cfg_.group, addresses_[idx[k]]), cfg_.node});
        }
    }
    if (!holders.empty()) {
        link_.pipeline(holders);
    }
    for (size_t i : won) {
        held_.insert(i);
        set_serving(i, now);
    }
    stats_.leases_held.store(static_cast<uint32_t>(held_.size()), std::memory_order_relaxed);
    return won;
}

void agent::load_and_post(std::vector<size_t> taken, const std::string& from) {
    const auto t0 = steady::now();
    agent_event e;
    e.what = agent_event::kind::acquired;
    e.addresses = std::move(taken);
    e.node = from;
    if (!from.empty()) {
        const redis_value ids = link_.run({"SMEMBERS", keys::calls(cfg_.group, from)});
        std::vector<std::string> all;
        for (const auto& v : ids.elements) {
            all.push_back(v.str);
        }
        for (size_t at = 0; at < all.size() && link_.connected(); at += load_batch) {
            const size_t n = std::min(load_batch, all.size() - at);
            redis_command mget{"MGET"};
            for (size_t k = 0; k < n; ++k) {
                mget.push_back(keys::call(cfg_.group, all[at + k]));
            }
            const redis_value r = link_.run(mget);
            for (size_t k = 0; k < n && k < r.elements.size(); ++k) {
                if (r.elements[k].type != redis_value::kind::string) {
                    continue;  // deleted meanwhile
                }
                decode_error why = decode_error::none;
                auto rec = decode_record(r.elements[k].str, cfg_.key, cfg_.group, all[at + k], &why);
                if (!rec) {
                    stats_.records_refused[static_cast<size_t>(why)].fetch_add(1, std::memory_order_relaxed);
                    log::event(log::level::error, "call record refused")
                        .field("call-id", all[at + k])
                        .field("reason", decode_error_name(why))
                        .field("version", static_cast<unsigned>(record_version_of(r.elements[k].str)));
                    continue;
                }
                stats_.records_loaded.fetch_add(1, std::memory_order_relaxed);
                e.records.push_back(std::move(*rec));
            }
            // A long load must not starve the renewals of what we hold.
            if (steady::now() >= next_renew_) {
                renew(steady::now());
            }
        }
    }
    log::event(log::level::info, "media address leases taken")
        .field("addresses", e.addresses.size())
        .field("from", from.empty() ? std::string("none") : from)
        .field("calls", e.records.size())
        .field("load ms", std::chrono::duration<double, std::milli>(steady::now() - t0).count());
    post(std::move(e));
}

void agent::watch(steady::time_point now) {
    next_watch_ = now + std::max<std::chrono::milliseconds>(cfg_.lease / 6, std::chrono::milliseconds(50));
    const size_t n = addresses_.size();
    redis_command leases{"MGET"};
    redis_command holders{"MGET"};
    for (const auto& a : addresses_) {
        leases.push_back(keys::lease(cfg_.group, a));
        holders.push_back(keys::holder(cfg_.group, a));
    }
    const std::vector<redis_value> r = link_.pipeline({leases, holders, {"SMEMBERS", keys::nodes(cfg_.group)}});
    if (r[2].type != redis_value::kind::array || r[0].elements.size() != n || r[1].elements.size() != n) {
        return;
    }
    // Mine to take now: free addresses that are home, or that this node held last (a
    // restart), or that still name this node (our previous run's lease).
    // A handover of ours: report each released address once another node holds it.
    if (!handing_to_.empty()) {
        for (auto it = released_.begin(); it != released_.end();) {
            const redis_value& l = r[0].elements[*it];
            if (l.type == redis_value::kind::string && l.str != cfg_.node) {
                agent_event e;
                e.what = agent_event::kind::lost;
                e.addresses = {*it};
                e.node = l.str;
                post(std::move(e));
                it = released_.erase(it);
            } else {
                ++it;
            }
        }
        if (released_.empty()) {
            link_.run({"DEL", keys::handover(cfg_.group, cfg_.node)});
            agent_event e;
            e.what = agent_event::kind::handed_over;
            e.node = handing_to_;
            post(std::move(e));
            log::event(log::level::info, "handover done").field("to", handing_to_);
            handing_to_.clear();
        }
        return;  // a node handing over takes nothing
    }
    std::map<std::string, std::vector<size_t>> mine_by_holder;
    std::map<std::string, std::vector<size_t>> orphans;  // by their holder
    for (size_t i = 0; i < n; ++i) {
        if (held_.count(i) != 0) {
            continue;
        }
        const redis_value& l = r[0].elements[i];
        const std::string holder = r[1].elements[i].type == redis_value::kind::string ? r[1].elements[i].str : "";
        if (l.type == redis_value::kind::string) {
            if (l.str == cfg_.node) {
                // Our previous run's lease: it is ours to take over, with its calls.
                if (link_
                        .run({"SET", keys::lease(cfg_.group, addresses_[i]), cfg_.node, "XX", "PX",
                              std::to_string(cfg_.lease.count())})
                        .is_status("OK")) {
                    held_.insert(i);
                    set_serving(i, now);
                    mine_by_holder[cfg_.node].push_back(i);
                }
            }
            continue;  // somebody serves it
        }
        if (holder.empty() ? home_.count(addresses_[i]) != 0 : holder == cfg_.node) {
            mine_by_holder[holder].push_back(i);
        } else if (!holder.empty()) {
            orphans[holder].push_back(i);
        }
    }
    for (auto& [holder, idx] : mine_by_holder) {
        std::vector<size_t> won;
        for (size_t i : idx) {
            if (held_.count(i) != 0) {
                won.push_back(i);  // taken with XX above
            }
        }
        std::vector<size_t> free;
        for (size_t i : idx) {
            if (held_.count(i) == 0) {
                free.push_back(i);
            }
        }
        const std::vector<size_t> got = take(free, now);
        won.insert(won.end(), got.begin(), got.end());
        if (!won.empty()) {
            load_and_post(std::move(won), holder);
        }
    }
    if (orphans.empty()) {
        orphan_seen_.clear();
        return;
    }
    redis_command beats{"MGET"};
    redis_command handovers{"MGET"};
    std::vector<std::string> names;
    for (const auto& v : r[2].elements) {
        names.push_back(v.str);
        beats.push_back(keys::node(cfg_.group, v.str));
        handovers.push_back(keys::handover(cfg_.group, v.str));
    }
    const std::vector<redis_value> bh = link_.pipeline({beats, handovers});
    const redis_value& b = bh[0];
    if (b.type != redis_value::kind::array || b.elements.size() != names.size() ||
        bh[1].elements.size() != names.size()) {
        return;
    }
    // Planned handovers to this node: taken at once.
    for (size_t k = 0; k < names.size(); ++k) {
        auto it = orphans.find(names[k]);
        if (it == orphans.end() || bh[1].elements[k].type != redis_value::kind::string ||
            bh[1].elements[k].str != cfg_.node) {
            continue;
        }
        const std::vector<size_t> won = take(it->second, now);
        if (!won.empty()) {
            log::event(log::level::info, "taking over a handover")
                .field("from", names[k])
                .field("addresses", won.size());
            load_and_post(won, names[k]);
        }
        orphans.erase(it);
    }
    // Orphans wait until our own view of the group has settled after a (re)connect.
    if (orphans.empty() || !connected_since_ || now - *connected_since_ < 2 * cfg_.lease) {
        return;
    }
    std::vector<std::pair<uint64_t, std::string>> live;
    std::set<std::string> alive;
    for (size_t k = 0; k < names.size(); ++k) {
        if (b.elements[k].type == redis_value::kind::string) {
            live.emplace_back(calls_in(b.elements[k].str), names[k]);
            alive.insert(names[k]);
        }
    }
    std::sort(live.begin(), live.end());
    size_t rank = 0;
    for (size_t k = 0; k < live.size(); ++k) {
        if (live[k].second == cfg_.node) {
            rank = k;
        }
    }
    for (auto& [holder, idx] : orphans) {
        if (alive.count(holder) != 0) {
            continue;  // alive without its lease: released on purpose (handover), not ours
        }
        auto seen = orphan_seen_.try_emplace(holder, now).first->second;
        if (now - seen < static_cast<int64_t>(rank) * (cfg_.lease / 2)) {
            continue;  // a peer ranked before us goes first
        }
        const std::vector<size_t> won = take(idx, now);
        if (!won.empty()) {
            stats_.takeovers.fetch_add(1, std::memory_order_relaxed);
            log::event(log::level::warning, "taking over a node's media addresses")
                .field("from", holder)
                .field("addresses", won.size())
                .field("rank", static_cast<uint64_t>(rank));
            load_and_post(won, holder);
        }
    }
}

bool agent::master_down_for_sentinels() {
    const auto timeout = std::min<std::chrono::milliseconds>(cfg_.redis_timeout, cfg_.lease / 8);
    const int64_t stale_ms = (cfg_.lease / 8).count();
    size_t down = 0;
    for (const host_port& s : cfg_.sentinels) {
        redis_conn c;
        std::string why;
        if (!c.open(s, timeout, &why)) {
            continue;
        }
        const redis_value v = c.run({"SENTINEL", "master", cfg_.master_name});
        if (v.type != redis_value::kind::array) {
            continue;
        }
        std::string flags;
        int64_t ping_pending_ms = 0;
        for (size_t k = 0; k + 1 < v.elements.size(); k += 2) {
            const std::string& f = v.elements[k].str;
            if (f == "flags") {
                flags = v.elements[k + 1].str;
            } else if (f == "last-ping-sent") {
                ping_pending_ms = std::strtoll(v.elements[k + 1].str.c_str(), nullptr, 10);
            }
        }
        // "disconnected": the Sentinel has no link to the master at all. It says so while its
        // s_down flag and ping timer start again from zero, as after an aborted failover
        // (a dead master is then not "down" for one down-after period).
        const bool sees_down = flags.find("s_down") != std::string::npos || flags.find("o_down") != std::string::npos ||
                               flags.find("disconnected") != std::string::npos || ping_pending_ms >= stale_ms;
        down += sees_down ? 1 : 0;
    }
    return down > cfg_.sentinels.size() / 2;
}

void agent::witness(steady::time_point now) {
    next_witness_ = now + cfg_.lease / 4;
    if (!master_down_for_sentinels()) {
        return;  // we are the one cut off (or the master is fine): the leases run out
    }
    // Only addresses still served: until now nobody could take them, and with the master
    // down nobody can now. One that already lapsed may have been taken before the master
    // went down; it waits for a renewal.
    for (size_t i : held_) {
        if (serve_until_[i].load() > ns(now)) {
            set_serving(i, now);
        }
    }
    if (!witnessed_) {
        witnessed_ = true;
        log::event(log::level::warning, "Redis master down for the Sentinels too: serving on")
            .field("addresses", held_.size());
    }
}

void agent::hand_over(const std::string& to) {
    {
        std::lock_guard<std::mutex> g(handover_mu_);
        handover_to_ = to;
    }
    wake_.notify_one();
}

void agent::start_handover(const std::string& to, steady::time_point now) {
    const std::string ttl = std::to_string((cfg_.lease * 20).count());
    std::vector<redis_command> cmds{{"SET", keys::handover(cfg_.group, cfg_.node), to, "PX", ttl}};
    std::vector<size_t> order(held_.begin(), held_.end());
    for (size_t i : order) {
        serve_until_[i].store(0, std::memory_order_release);
        cmds.push_back({"EVAL", release_script, "1", keys::lease(cfg_.group, addresses_[i]), cfg_.node});
    }
    link_.pipeline(cmds);
    handing_to_ = to;
    released_.insert(order.begin(), order.end());
    held_.clear();
    stats_.leases_held.store(0, std::memory_order_relaxed);
    log::event(log::level::info, "handing over").field("to", to).field("addresses", order.size());
    next_watch_ = now;  // see at once who takes them
}

void agent::release_all() {
    if (!link_.connected()) {
        return;
    }
    std::vector<redis_command> cmds;
    for (size_t i : held_) {
        serve_until_[i].store(0);
        cmds.push_back({"EVAL", release_script, "1", keys::lease(cfg_.group, addresses_[i]), cfg_.node});
    }
    cmds.push_back({"DEL", keys::node(cfg_.group, cfg_.node)});
    link_.pipeline(cmds);
    log::event(log::level::info, "media address leases released").field("addresses", held_.size());
    held_.clear();
    stats_.leases_held.store(0);
}

}  // namespace rtprelay::ha
