// The HA agent's record writer (agent.h: Writes): each turn takes the record ring, then the
// write queue, encodes and seals every put as it is taken and sends them all in pipelined
// batches. Per record it is the agent thread's main cost, paid once per pair or twice: a
// flat record is encoded straight from its ring slot (flat_record.h), keys, values and
// call-ids go into buffers reused every turn, and replies are read as their kind only.

#include <algorithm>
#include <iterator>
#include <utility>

#include "control/ha/agent.h"
#include "control/ha/keys.h"
#include "control/log.h"

namespace rtprelay::ha {

namespace {
// Operations per pipelined round trip: a whole ring's worth, so that a turn (up to half the
// ring and what the write queue holds: agent.cc, busy_gather) is one round trip. Each
// further one would let the control thread run on the shared core while Redis answers and
// then be preempted again by the reply's wake-up: one more interruption per turn. A 2,048-
// record batch is ~0.7 MB of values and hiredis' copy of them (~300 bytes a record).
constexpr size_t write_batch = 2048;
}  // namespace

// Encodes a put (from its ring slot `f`, else the queued `op`) into values_. False when
// sealing failed (counted, logged): the put is not written.
bool agent::encode_put(pending_write& p, const flat_record* f, const write_op* op) {
    const size_t at = values_.size();
    try {
        if (!sealer_) {
            sealer_ = std::make_unique<sealer>(cfg_.key);
        }
        if (f != nullptr) {
            encode_record(*f, cfg_.node, *sealer_, cfg_.group, enc_, values_);
        } else {
            encode_record(op->record, *sealer_, cfg_.group, enc_, values_);
        }
    } catch (const std::exception& e) {
        values_.resize(at);
        stats_.encode_failures.fetch_add(1, std::memory_order_relaxed);
        log::event(log::level::error, "call record not written")
            .field("call-id", std::string_view(ids_).substr(p.id_at, p.id_len))
            .field("reason", e.what());
        return false;
    }
    p.value_at = static_cast<uint32_t>(at);
    p.value_len = static_cast<uint32_t>(values_.size() - at);
    return true;
}

void agent::flush_writes() {
    pending_.clear();
    ids_.clear();
    values_.clear();
    size_t unwritten = 0;  // puts whose sealing failed: finished, never sent
    const auto add = [&](write_op::kind what, std::string_view id, uint64_t token, steady::time_point queued) {
        pending_write& p = pending_.emplace_back();
        p.what = what;
        p.id_at = static_cast<uint32_t>(ids_.size());
        p.id_len = static_cast<uint32_t>(id.size());
        ids_.append(id);
        p.token = token;
        p.queued = queued;
        return &p;
    };
    // The ring first, then the queue: a call whose record the control thread could not take
    // back from the ring (we had it) and queued anew is then written after it (group.cc).
    size_t skipped = 0;
    ring_.drain(
        [&](const flat_record& f) {
            const bool put = f.what == flat_record::kind::put;
            pending_write* p =
                add(put ? write_op::kind::put : write_op::kind::del, f.call_id.view(), f.token, f.queued);
            if (put && !encode_put(*p, &f, nullptr)) {
                pending_.pop_back();
                ++unwritten;
            }
        },
        ring_.capacity(), &skipped);
    finished_.fetch_add(skipped, std::memory_order_release);  // dropped: their call went the slow way
    std::deque<write_op> slow;                                // forget operations point into it
    {
        std::lock_guard<std::mutex> g(mu_);
        slow = queue_.take();
        takes_.fetch_add(1, std::memory_order_release);
        stats_.queue_depth.store(static_cast<uint32_t>(ring_.size()), std::memory_order_relaxed);  // what came since
    }
    for (const write_op& op : slow) {
        pending_write* p = add(op.what, op.call_id, op.token, op.queued);
        if (op.what == write_op::kind::forget) {
            p->slow = &op;
        } else if (op.what == write_op::kind::put && !encode_put(*p, nullptr, &op)) {
            pending_.pop_back();
            ++unwritten;
        }
    }
    finished_.fetch_add(unwritten, std::memory_order_release);
    busy_ = !pending_.empty() || unwritten != 0;
    if (busy_) {
        stats_.write_turns.fetch_add(1, std::memory_order_relaxed);
    }
    const std::string my_calls = keys::calls(cfg_.group, cfg_.node);
    const std::string call_prefix = keys::call(cfg_.group, "");
    const auto id_of = [this](const pending_write& p) { return std::string_view(ids_).substr(p.id_at, p.id_len); };
    for (size_t first = 0; first < pending_.size();) {
        const size_t n = std::min(pending_.size() - first, write_batch);
        // Every call's key first (keys_ must not grow while args_ views it).
        keys_.clear();
        for (size_t k = first; k < first + n; ++k) {
            keys_.append(call_prefix);
            keys_.append(id_of(pending_[k]));
        }
        size_t key_at = 0;
        const auto key_of = [&](size_t k) {
            const std::string_view key =
                std::string_view(keys_).substr(key_at, call_prefix.size() + pending_[k].id_len);
            key_at += key.size();
            return key;
        };
        // Consecutive puts go as one MSET, consecutive deletes as one DEL, each in the order
        // taken, so what a reader finds and the order of a call's states are as with one
        // command per operation (MSET sets its keys left to right: a call twice in one takes
        // the later state), while Redis parses, dispatches and answers one command per run
        // instead of one per record, and hiredis makes one reply object per run. reply_of_[j]:
        // the reply that answers operation first + j. Then this node's call set is updated
        // for all of them at once: one SADD, one SREM. A take holds at most one operation per
        // call (write_queue.h), so the order within the set commands is moot.
        reply_of_.clear();
        uint32_t commands = 0;
        uint64_t bytes = 0;
        size_t puts = 0, dels = 0;
        for (size_t k = first; k < first + n;) {
            const pending_write& p = pending_[k];
            if (p.what == write_op::kind::forget) {
                const std::string node_calls = keys::calls(cfg_.group, p.slow->node);
                args_.assign({"SREM", node_calls});
                args_.insert(args_.end(), p.slow->ids.begin(), p.slow->ids.end());
                if (p.slow->ids.empty()) {
                    args_.assign({"PING"});
                }
                key_of(k);
                link_.append(args_);
                reply_of_.push_back(commands++);
                ++k;
                continue;
            }
            const bool put = p.what == write_op::kind::put;
            args_.assign({put ? "MSET" : "DEL"});
            for (; k < first + n && pending_[k].what == p.what; ++k) {
                args_.push_back(key_of(k));
                if (put) {
                    const pending_write& q = pending_[k];
                    args_.push_back(std::string_view(values_).substr(q.value_at, q.value_len));
                    bytes += q.value_len;
                    ++puts;
                } else {
                    ++dels;
                }
                reply_of_.push_back(commands);
            }
            link_.append(args_);
            ++commands;
        }
        for (const auto& [cmd, what, count] :
             {std::tuple{"SADD", write_op::kind::put, puts}, std::tuple{"SREM", write_op::kind::del, dels}}) {
            if (count == 0) {
                continue;
            }
            args_.assign({cmd, my_calls});
            for (size_t k = first; k < first + n; ++k) {
                if (pending_[k].what == what) {
                    args_.push_back(id_of(pending_[k]));
                }
            }
            link_.append(args_);
        }
        const size_t expected = commands + (puts != 0 ? 1 : 0) + (dels != 0 ? 1 : 0);
        replies_.clear();
        for (size_t j = 0; j < expected; ++j) {
            replies_.push_back(link_.read_brief());
        }
        const auto done = steady::now();
        const bool sadd_ok = puts == 0 || replies_[commands].ok();
        const bool srem_ok = dels == 0 || replies_[commands + (puts != 0 ? 1 : 0)].ok();
        for (const reply_brief& r : replies_) {
            if (r.readonly) {
                link_.drop();  // a demoted master: find the new one
                break;
            }
        }
        size_t ok = 0;
        agent_event acked;
        acked.what = agent_event::kind::written;
        // The latency figures summed here and published once per batch: a handful of atomic
        // read-modify-writes per batch instead of per record.
        uint64_t lat_sum = 0, lat_max = 0;
        uint64_t lat_in[write_latency_buckets] = {};
        for (size_t j = 0; j < n; ++j) {
            const pending_write& p = pending_[first + j];
            const bool set_ok = p.what == write_op::kind::put   ? sadd_ok
                                : p.what == write_op::kind::del ? srem_ok
                                                                : true;
            if (!replies_[reply_of_[j]].ok() || !set_ok) {
                continue;
            }
            ++ok;
            if (p.token != 0) {
                acked.acks.emplace_back(p.id_len, p.token);
                acked.ack_ids += id_of(p);
            }
            const auto us =
                static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(done - p.queued).count());
            lat_sum += us;
            lat_max = std::max(lat_max, us);
            size_t b = 0;
            while (b < std::size(write_latency_bounds_ms) && us > write_latency_bounds_ms[b] * 1000ull) {
                ++b;
            }
            ++lat_in[b];
        }
        if (ok != 0) {
            stats_.write_latency_us_sum.fetch_add(lat_sum, std::memory_order_relaxed);
            stats_.write_latency_count.fetch_add(ok, std::memory_order_relaxed);
            if (lat_max > stats_.write_latency_us_max.load(std::memory_order_relaxed)) {
                stats_.write_latency_us_max.store(lat_max, std::memory_order_relaxed);
            }
            for (size_t b = 0; b < write_latency_buckets; ++b) {
                if (lat_in[b] != 0) {
                    stats_.write_latency_count_in[b].fetch_add(lat_in[b], std::memory_order_relaxed);
                }
            }
        }
        if (!acked.acks.empty()) {
            post(std::move(acked));
        }
        stats_.writes.fetch_add(ok, std::memory_order_relaxed);
        stats_.bytes_written.fetch_add(ok == n ? bytes : 0, std::memory_order_relaxed);
        first += n;
        finished_.fetch_add(n, std::memory_order_release);
        const size_t left = pending_.size() - first;
        if (!link_.connected()) {
            // The rest of the batch is lost with the connection; the control thread writes
            // every call again on `connected`.
            stats_.write_failures.fetch_add(n - ok + left, std::memory_order_relaxed);
            finished_.fetch_add(left, std::memory_order_release);
            return;
        }
        stats_.write_failures.fetch_add(n - ok, std::memory_order_relaxed);
        // A long queue (the control thread outpacing Redis for a while) must not starve the
        // renewals of what we hold: the leases would lapse and the calls be suspended.
        if (left != 0 && steady::now() >= next_renew_) {
            renew(steady::now());
        }
    }
}

}  // namespace rtprelay::ha
