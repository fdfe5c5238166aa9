#include "control/ha/agent.h"

#include <algorithm>
#include <utility>

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
// Record ring slots (record_ring.h; ~2.6 KB each: ~5 MB): ~20 ms of NG at 100k pairs/s with
// the agent taking them every millisecond. Past it (Redis slow or down) records go through
// the write queue, bounded by `queue` as before.
constexpr size_t ring_slots = 2048;
// How long the agent lets writes gather after the first one wakes it: the changes of that
// window (an offer and its answer, a burst of NG traffic) cost one wake-up of this thread,
// one socket write and read, one event-loop turn of Redis and one MSET (agent_writes.cc).
// Measured on one CPU with the control thread and Redis (bench/RESULTS.md, "gather"): 1 ms
// made ~70-110 operations a turn, 4 ms ~200-330, and the writer's whole cost per plain pair
// fell ~10%.
constexpr std::chrono::microseconds write_gather{4000};
// Between turns while writes keep coming (NG busy): longer, because on a core shared with
// the control thread (as deployed: the relay's control and HA threads on one core) every
// turn also costs the control thread a refill of its L2 (512 KiB here): the requests after
// the turn run slower by ~220-290 us in all, whatever the turn's size (bench/RESULTS.md,
// "whose time the plain ratio loses"), besides the turn's fixed costs above and its two
// switches. 16 ms pays all of that a quarter as often as 4 ms. What it costs: while NG is
// busy a record reaches Redis up to 16 ms (plus one batch's round trip) after it was queued,
// not 4, so a node that dies loses the changes of its last ~16 ms instead of ~4 (a call
// offered in them is unknown to the taker; its answer there fails as for a call never
// offered); a peer that asks Redis for a call (its later NG commands come seconds later) and
// the SRTP reservations (written minutes before their indices are used: srtp_progress.h)
// keep their margins. Lease renewals and the watch never wait for it (run() wakes at the
// earlier of the two). The ring bounds it: half the ring (1,024 slots) fills in 16 ms at
// ~64k records/s, and past half the control thread ends the window at once (gathering_,
// published()), so a long window never sends records the slow way for want of slots.
// Measured against 4 ms (bench/RESULTS.md, "a 16 ms gather"): the HA thread's CPU per pair
// 7-32% lower, Redis' 20-34%, the plain relay on/off ratio ~0.07 higher, SRTP<->SRTP's not
// moved beyond noise; a turn is 2-3x longer, so the NG request it preempts on a shared core
// can wait a few ms (NG p99 unchanged).
constexpr std::chrono::microseconds busy_gather{16000};

int64_t ns(steady::time_point t) {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

uint64_t calls_in(const std::string& heartbeat) {
    // "calls=N"
    const size_t at = heartbeat.find("calls=");
    return at == std::string::npos ? 0 : std::strtoull(heartbeat.c_str() + at + 6, nullptr, 10);
}
}  // namespace

agent::agent(const group_config& cfg, std::vector<std::string> addresses)
    : cfg_(cfg),
      addresses_(std::move(addresses)),
      home_(cfg.home_addresses.begin(), cfg.home_addresses.end()),
      link_(cfg),
      serve_until_(new std::atomic<int64_t>[addresses_.size()]),
      queue_(cfg.queue),
      ring_(std::clamp<size_t>(cfg.queue, 1, ring_slots)) {
    if (!cfg.ng_float_home.empty()) {
        home_.insert(cfg.ng_float_home);  // this node's floating NG address: leased as home
    }
    for (size_t i = 0; i < addresses_.size(); ++i) {
        serve_until_[i].store(0);
    }
}

agent::~agent() { stop(false); }

void agent::start() {
    stop_.store(false);
    thread_ = std::thread([this] { run(); });
}

void agent::stop(bool release) {
    if (!thread_.joinable()) {
        return;
    }
    {
        std::lock_guard<std::mutex> g(mu_);
        stop_.store(true);
    }
    wake_.notify_all();
    thread_.join();
    if (release) {
        release_all();
    }
}

bool agent::put_slow(uint64_t& where, write_op op) {
    if ((where & in_write_queue) == 0) {
        // Its record still in the ring would be taken after this one: drop it.
        ring_.drop(where);
    }
    uint64_t takes = 0;
    if (!submit(std::move(op), &takes)) {
        where = 0;
        return false;
    }
    where = in_write_queue | takes;
    return true;
}

bool agent::submit(write_op op) { return submit(std::move(op), nullptr); }

bool agent::submit(write_op op, uint64_t* takes) {
    bool first = false;
    {
        std::lock_guard<std::mutex> g(mu_);
        if (takes != nullptr) {
            *takes = takes_.load(std::memory_order_relaxed);  // under mu_: exact
        }
        switch (queue_.push(std::move(op), steady::now())) {
            case write_queue::result::full:
                stats_.queue_full.fetch_add(1, std::memory_order_relaxed);
                return false;
            case write_queue::result::replaced:
                stats_.coalesced.fetch_add(1, std::memory_order_relaxed);
                return true;
            case write_queue::result::queued:
                break;
        }
        first = queue_.size() == 1;
        submitted_.fetch_add(1, std::memory_order_release);
        stats_.queue_depth.store(static_cast<uint32_t>(queue_.size() + ring_.size()), std::memory_order_relaxed);
    }
    // The agent waits only on an empty queue and takes all of it when it wakes, so only the
    // first write after it emptied the queue needs to wake it: a burst of NG changes costs
    // one wake-up (a futex call and a switch to the agent thread), not one per record.
    if (first) {
        wake_.notify_one();
    }
    return true;
}

void agent::published(bool replaced) {
    if (replaced) {
        stats_.coalesced.fetch_add(1, std::memory_order_relaxed);
        return;
    }
    submitted_.fetch_add(1, std::memory_order_release);
    std::atomic_thread_fence(std::memory_order_seq_cst);  // the record visible before we look (run())
    if (sleeping_.load(std::memory_order_relaxed)) {
        std::lock_guard<std::mutex> g(mu_);  // so the agent cannot be between its check and its wait
        wake_.notify_one();
        return;
    }
    // Half the ring queued while the agent waits out a gather window: end the window now,
    // once (the exchange), rather than let the ring fill and send records the slow way. Per
    // record this is a compare of two counters this thread keeps (record_ring::filled_to).
    if (ring_.filled_to(std::max<size_t>(ring_.capacity() / 2, 1)) && gathering_.load(std::memory_order_relaxed) &&
        gathering_.exchange(false, std::memory_order_relaxed)) {
        std::lock_guard<std::mutex> g(mu_);  // as above: not between its check and its wait
        wake_.notify_one();
    }
}

std::vector<agent_event> agent::take_events() {
    // Every control loop turn asks; nearly always there is nothing. The flag spares it the
    // mutex the agent takes too (a line moved between the CPUs per NG request, and now and
    // then a futex sleep behind the agent: both in the NG p99).
    if (!events_posted_.load(std::memory_order_acquire)) {
        return {};
    }
    std::lock_guard<std::mutex> g(mu_);
    events_posted_.store(false, std::memory_order_relaxed);
    return std::exchange(events_, {});
}

void agent::post(agent_event e) {
    std::lock_guard<std::mutex> g(mu_);
    events_.push_back(std::move(e));
    events_posted_.store(true, std::memory_order_release);
}

void agent::run() {
    const auto lease = cfg_.lease;
    while (!stop_.load()) {
        auto now = steady::now();
        if (!link_.connected() && now >= next_connect_) {
            std::string why;
            if (link_.ensure(&why)) {
                on_connected(now);
            } else {
                stats_.redis_up.store(0, std::memory_order_relaxed);
                stats_.connect_failures.fetch_add(1, std::memory_order_relaxed);
                connected_since_.reset();
                if (now - last_log_ >= std::chrono::seconds(5)) {
                    last_log_ = now;
                    log::event(log::level::warning, "Redis unreachable")
                        .field("why", why)
                        .field("failures", stats_.connect_failures.load());
                }
                next_connect_ = now + backoff_;
                backoff_ = std::min<std::chrono::milliseconds>(backoff_ * 2, std::chrono::milliseconds(2000));
                // Never wait longer than a renewal period: the leases still held must not
                // lapse for want of a try once Redis is back.
                backoff_ = std::min<std::chrono::milliseconds>(backoff_, lease / 4);
            }
        }
        if (link_.connected() && link_.master_moved()) {
            stats_.master_switches.fetch_add(1, std::memory_order_relaxed);
            log::event(log::level::warning, "Redis master moved (Sentinel +switch-master): reconnecting");
            next_connect_ = now;
            continue;
        }
        if (link_.connected()) {
            now = steady::now();
            std::string to;
            {
                std::lock_guard<std::mutex> g(handover_mu_);
                to.swap(handover_to_);
            }
            if (!to.empty()) {
                start_handover(to, now);
            }
            if (now >= next_renew_) {
                renew(now);
            }
            flush_writes();
            now = steady::now();
            if (link_.connected() && now >= next_watch_) {
                watch(now);
            }
        }
        if (!link_.connected()) {
            stats_.redis_up.store(0, std::memory_order_relaxed);
        }
        now = steady::now();
        if (!held_.empty() && !cfg_.sentinels.empty() && now - last_renew_ok_ >= lease / 4 && now >= next_witness_) {
            witness(now);
        }
        std::unique_lock<std::mutex> g(mu_);
        const auto next = std::min({next_renew_, next_watch_, steady::now() + std::chrono::milliseconds(25)});
        // Writes wake us only while they can be sent: with Redis away they wait for the
        // reconnection (at most the 25 ms turn), not spin this thread.
        const bool up = link_.connected();
        stats_.queue_depth.store(static_cast<uint32_t>(queue_.size() + ring_.size()), std::memory_order_relaxed);
        // Waits out a gather window until `until`: stop() ends it, and so does the control
        // thread when the ring passes half full (published()).
        const auto gather = [this, &g](steady::time_point until) {
            gathering_.store(true, std::memory_order_relaxed);
            std::atomic_thread_fence(std::memory_order_seq_cst);  // pairs with published()
            bool cut = ring_.size() >= std::max<size_t>(ring_.capacity() / 2, 1);
            if (!cut) {
                cut = wake_.wait_until(g, until, [this] {
                    return stop_.load() || !gathering_.load(std::memory_order_relaxed);
                }) && !stop_.load();
            }
            if (cut) {
                stats_.gathers_cut.fetch_add(1, std::memory_order_relaxed);
            }
            gathering_.store(false, std::memory_order_relaxed);
        };
        if (up && busy_) {
            // Writes came last turn: look again after busy_gather rather than sleep until
            // woken, so that while NG keeps changing calls the control thread never makes a
            // system call to wake us (a futex wake and an IPI: ~10-30 us on this KVM, in the
            // p99 of NG requests) unless the ring passes half full. One more turn finds
            // nothing and we sleep.
            gather(std::min(next, steady::now() + busy_gather));
            continue;
        }
        busy_ = false;
        sleeping_.store(true, std::memory_order_relaxed);
        std::atomic_thread_fence(std::memory_order_seq_cst);  // pairs with publish()
        auto work = [this] { return !queue_.empty() || ring_.size() != 0; };
        wake_.wait_until(g, up ? next : std::min(next, next_connect_),
                         [this, up, &work] { return stop_.load() || (up && work()); });
        sleeping_.store(false, std::memory_order_relaxed);
        if (up && !stop_.load() && work()) {
            // Let the burst that woke us gather (write_gather); stop() still wakes us at once.
            // Records in the ring carry no time we may read here: count from now.
            const auto now_ = steady::now();
            const auto gathered = (queue_.empty() ? now_ : std::min(queue_.oldest(), now_)) + write_gather;
            gather(gathered);
        }
    }
}

void agent::on_connected(steady::time_point now) {
    backoff_ = std::chrono::milliseconds(100);
    stats_.redis_up.store(1, std::memory_order_relaxed);
    stats_.connects.fetch_add(1, std::memory_order_relaxed);
    connected_since_ = now;
    orphan_seen_.clear();
    log::event(log::level::info, "Redis connected")
        .field("master", link_.master().to_string())
        .field("node", cfg_.node);
    link_.run({"SADD", keys::nodes(cfg_.group), cfg_.node});
    agent_event e;
    e.what = agent_event::kind::connected;
    e.first = connects_seen_++ == 0;
    post(std::move(e));
    // Re-assert what we hold at once: after a failover the new master may have lost it.
    renew(now);
    watch(now);
}

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
