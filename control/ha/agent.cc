// The HA agent's thread (agent.h): its start and stop, the control thread's side of the
// record ring and write queue (put, submit, published: what wakes the agent), events posted
// back, and the loop that interleaves the writer's turns (agent_writes.cc) with lease
// renewals and the watch (agent_leases.cc), reconnecting to the master when it goes away.

#include "control/ha/agent.h"

#include <algorithm>
#include <utility>

#include "control/ha/keys.h"
#include "control/log.h"

namespace rtprelay::ha {

namespace {
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

}  // namespace rtprelay::ha
