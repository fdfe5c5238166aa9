#include "control/recording/recorder.h"

#include <fcntl.h>
#include <pthread.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "control/log.h"
#include "control/recording/file_maker.h"
#include "control/recording/finisher.h"
#include "control/recording/media_endpoint.h"
#include "control/recording/pcap_store.h"
#include "control/recording/record_files.h"
#include "control/recording/recorder_active.h"
#include "control/recording/recovery.h"
#include "control/recording/state_file.h"
#include "control/recording/stream_stats.h"

namespace rtprelay::recording {

void prepare_directory(const std::string& dir) {
    if (dir.empty() || dir.front() != '/') {
        throw std::invalid_argument("option '--recording-dir': '" + dir + "' is not an absolute path");
    }
    for (const std::string& d : {dir, dir + "/done"}) {
        if (std::string e = make_dirs(d); !e.empty()) {
            throw std::invalid_argument("option '--recording-dir': " + e);
        }
        if (::access(d.c_str(), W_OK | X_OK) != 0) {
            throw std::invalid_argument("option '--recording-dir': " + d + " is not writable: " + std::strerror(errno));
        }
    }
}

recorder::recorder(recorder_config cfg, std::vector<dp::record_ring*> rings, rte_rcu_qsbr* rcu)
    : cfg_(std::move(cfg)),
      rings_(std::move(rings)),
      rcu_(rcu),
      by_id_(max_flat_id + 1),
      ns_per_tick_(1e9 / static_cast<double>(cfg_.tsc_hz)),
      max_waiting_bytes_(max_waiting_flushes * cfg_.flush_bytes) {
    // A recording's buffer holds what gathers until a flush by size: flush_bytes and the
    // records that pass it (at most one, longest 16 + 48 + 1,472 bytes), with room to spare.
    store_ = std::make_unique<pcap_store>(cfg_.max_open_files, cfg_.flush_bytes + 4096);
    files_ = std::make_unique<file_maker>();
    finisher_ = std::make_unique<finisher>(cfg_.dir, cfg_.command, counters_);
}

recorder::~recorder() {
    stop();
    if (lock_fd_ >= 0) {
        ::close(lock_fd_);
    }
}

size_t recorder::recover_left_open() {
    if (lock_fd_ < 0) {
        lock_fd_ = ::open((cfg_.dir + "/.lock").c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (lock_fd_ < 0 || ::flock(lock_fd_, LOCK_EX | LOCK_NB) != 0) {
            log::event(log::level::warning, "recording directory in use by another process: nothing recovered")
                .field("dir", cfg_.dir)
                .field("error", std::strerror(errno));
            if (lock_fd_ >= 0) {
                ::close(lock_fd_);
                lock_fd_ = -1;
            }
            return 0;
        }
    }
    std::vector<std::string> left = find_left_open(cfg_.dir);
    const size_t n = left.size();
    if (n != 0) {
        log::event(log::level::warning, "recordings left open by a node that died")
            .field("dir", cfg_.dir)
            .field("count", static_cast<uint64_t>(n));
        finisher_->recover(std::move(left));
    }
    return n;
}

void recorder::start() {
    recover_left_open();
    files_->start();
    thread_ = std::thread([this] { run(); });
    pthread_setname_np(thread_.native_handle(), "rtprelay-rec");
    finisher_->start();
}

void recorder::stop() {
    {
        std::lock_guard<std::mutex> g(mu_);
        if (stopping_ && !thread_.joinable()) {
            return;
        }
        stopping_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) {
        thread_.join();
    } else {
        // Never started (tests): do the thread's last pass here.
        last_pass();
    }
    finisher_->stop();
}

void recorder::start_file_thread() { files_->start(); }

void recorder::hold_files(bool on) { files_->hold(on); }

void recorder::last_pass() {
    // The workers have stopped: everything left in the rings, every file made, then close all.
    take_commands();
    drain(SIZE_MAX);
    files_->stop();
    take_file_results();
    close_due(true);
}

void recorder::die_after(completion_step step) { finisher_->die_after(step); }

void recorder::open(open_request r) {
    {
        std::lock_guard<std::mutex> g(mu_);
        opens_.push_back(std::move(r));
    }
    wake_.notify_all();
}

void recorder::update(update_request r) {
    {
        std::lock_guard<std::mutex> g(mu_);
        updates_.push_back(std::move(r));
    }
    wake_.notify_all();
}

void recorder::close(close_request r) {
    {
        std::lock_guard<std::mutex> g(mu_);
        closes_.push_back(std::move(r));
    }
    wake_.notify_all();
}

recorder_counters recorder::counters() const {
    recorder_counters c;
    auto v = [](const std::atomic<uint64_t>& a) { return a.load(std::memory_order_relaxed); };
    c.started = v(counters_.started);
    c.finished = v(counters_.finished);
    c.failed = v(counters_.write_failed) + v(counters_.finish_failed);
    c.active = c.started - v(counters_.done);
    c.packets = v(counters_.packets);
    c.bytes = v(counters_.bytes) + v(counters_.finish_bytes);
    c.packets_lost = v(counters_.packets_lost);
    c.file_wait_drops = v(counters_.file_wait_drops);
    for (const dp::record_ring* r : rings_) {
        c.ring_full += r != nullptr ? r->refused() : 0;
    }
    c.commands_run = v(counters_.commands_run);
    c.commands_failed = v(counters_.commands_failed);
    c.recovered = v(counters_.recovered);
    return c;
}

std::string recorder::failure(uint32_t id) const {
    std::lock_guard<std::mutex> g(mu_);
    auto it = failures_.find(id);
    return it == failures_.end() ? std::string() : it->second;
}

int64_t recorder::unix_ns(uint64_t tsc) const {
    // A double holds the TSC difference exactly for 40 days at 2.6 GHz, and its product to
    // well under a microsecond (pcap's resolution) for as long: a multiply per packet.
    const auto delta = static_cast<double>(static_cast<int64_t>(tsc - cfg_.tsc0));
    return cfg_.unix_ns0 + static_cast<int64_t>(delta * ns_per_tick_);
}

void recorder::run() {
    while (true) {
        bool stopping = false;
        {
            std::lock_guard<std::mutex> g(mu_);
            stopping = stopping_;
        }
        const size_t n = poll(std::chrono::steady_clock::now());
        if (stopping) {
            break;
        }
        if (n == 0) {
            // Idle: sleep 1 ms (a 32 MiB ring holds 1.6 s of 1,000 recorded calls' packets at
            // 100 packets/s each), or less when a command comes.
            std::unique_lock<std::mutex> lk(mu_);
            wake_.wait_for(lk, std::chrono::milliseconds(1),
                           [this] { return stopping_ || !opens_.empty() || !closes_.empty() || !updates_.empty(); });
        }
    }
    last_pass();
}

size_t recorder::poll(std::chrono::steady_clock::time_point now) {
    now_ = now;
    take_commands();
    files_->run_queued();  // without the file thread (tests): here, before the rings
    take_file_results();
    const size_t n = drain(4096);
    // Flushes by age (handle() flushes at flush_bytes): a pass over every open recording,
    // each a cache miss, so at most 16 passes per flush_every rather than one per poll, which
    // cost ~12% of the recorder's time at 3,000 recordings. A buffer waits at most
    // flush_every * 17 / 16.
    if (now >= next_age_pass_) {
        next_age_pass_ = now + cfg_.flush_every / 16;
        for (auto& [id, a] : active_) {
            if (a->pending != 0 && now - a->buffered_since >= cfg_.flush_every) {
                flush(*a, true);
            } else if (a->pending >= cfg_.flush_bytes) {
                flush(*a, false);
            }
        }
    }
    close_due(false);
    return n;
}

size_t recorder::drain(size_t max_per_ring) {
    size_t total = 0;
    for (dp::record_ring* ring : rings_) {
        const uint64_t limit = ring->committed();
        uint64_t pos = ring->consumed();
        size_t n = 0;
        while (n < max_per_ring) {
            // The records stay where they are until release(): a batch is pointers to them.
            uint32_t k = 0;
            while (k < batch_records && n + k < max_per_ring) {
                const dp::record_slot* s = ring->next(&pos, limit);
                if (s == nullptr) {
                    break;
                }
                batch_[k++] = s;
                // Finding the next record reads this one's length: a chain of misses unless
                // the lines ahead are asked for (two to three G.711 records of 208 bytes
                // ahead; past the ring's end it is only a hint, a prefetch never faults).
                const char* line = reinterpret_cast<const char*>(s);
                for (uint32_t off = 512; off < 768; off += 64) {
                    __builtin_prefetch(line + off);
                }
            }
            if (k == 0) {
                break;
            }
            write_batch(k);
            n += k;
        }
        ring->release(pos);
        total += n;
    }
    return total;
}

recorder::active* recorder::find(uint32_t id) {
    if (id < by_id_.size()) {
        return by_id_[id].a;
    }
    auto it = active_.find(id);
    return it == active_.end() ? nullptr : it->second.get();
}

void recorder::write_batch(uint32_t k) {
    // Pass 1: each record's recording, asked for but not read (the grouping uses by_id_,
    // which stays in the cache); records chained per
    // recording in ring order (batch_next_), recordings in the order they first come.
    order_.clear();
    ++batch_seq_;
    for (uint32_t i = 0; i < k; ++i) {
        const dp::record_slot& s = *batch_[i];
        active* a = nullptr;
        if ((s.flags & dp::record_discard) == 0) {
            a = find(s.record_id);
            if (a == nullptr) {
                // Opened after this pass took the commands: the open came before the stamp
                // that made the worker copy the packet, so it is queued by now.
                take_commands();
                a = find(s.record_id);
                if (a == nullptr) {
                    live_counters::bump(counters_.packets_lost);
                }
            }
        }
        if (a == nullptr) {
            continue;
        }
        __builtin_prefetch(a, 1);
        batch_mark& m = s.record_id < by_id_.size() ? by_id_[s.record_id].mark : a->mark;
        batch_next_[i] = UINT32_MAX;
        if (m.seq != batch_seq_) {
            m.seq = batch_seq_;
            order_.push_back({a, i});
        } else {
            batch_next_[m.last] = i;
        }
        m.last = i;
    }
    // Pass 2: one recording at a time, its packets in ring order (so each file gets what it
    // got before, byte for byte), while the stream state, statistics and buffer tail of the
    // recording two ahead come into the cache (its first line, asked for in pass 1, is there).
    constexpr size_t ahead = 2;
    for (size_t j = 0; j < order_.size(); ++j) {
        if (j + ahead < order_.size()) {
            const active& b = *order_[j + ahead].a;
            if (b.mem != nullptr) {
                __builtin_prefetch(b.mem, 1);
                __builtin_prefetch(reinterpret_cast<const char*>(b.mem) + 64, 1);
                __builtin_prefetch(b.out, 1);
            }
            if (b.next_byte != nullptr) {
                for (int line = 0; line < 4; ++line) {
                    __builtin_prefetch(b.next_byte + 64 * line, 1);
                }
            }
            __builtin_prefetch(b.streams_at, 1);
        }
        active& a = *order_[j].a;
        for (uint32_t i = order_[j].first; i != UINT32_MAX; i = batch_next_[i]) {
            handle(a, *batch_[i]);
        }
    }
}

void recorder::handle(active& a, const dp::record_slot& s) {
    if (a.failed) {
        live_counters::bump(counters_.packets_lost);
        return;
    }
    const bool waiting = a.file_pending;
    if (waiting) {
        if (a.pending >= max_waiting_bytes_) {
            live_counters::bump(counters_.file_wait_drops);
            return;
        }
        ++a.waiting_packets;  // written (counters_.packets) once the file exists
    }
    const int64_t ns = unix_ns(s.tsc);
    if (a.first_ns == 0) {
        a.first_ns = ns;
    }
    if (a.pending == 0) {
        a.buffered_since = now_;
    }
    const media_endpoint src = media_endpoint::source_of(s);
    const media_endpoint dst = media_endpoint::destination_of(s);
    const uint8_t* pkt = s.packet();
    const uint32_t pkt_len = s.packet_len();
    a.pending = store_->add(*a.out, ns, src, dst, pkt, pkt_len, s.orig_len);
    a.next_byte = a.out->next_byte;
    const bool rtcp = (s.flags & dp::record_rtcp) != 0;
    stream_stats& st = stream_of(a.streams, s.channel, rtcp, src, dst, ns, a.hints);
    a.streams_at = a.streams.data();
    a.g711 = count_packet(st, pkt, pkt_len, s.orig_len, ns) || a.g711;
    live_counters::bump(counters_.packets, waiting ? 0 : 1);
    if (a.pending >= cfg_.flush_bytes) {
        flush(a, false);
    }
}

void recorder::flush(active& a, bool whole) {
    if (a.out == nullptr || a.pending == 0 || a.file_pending) {
        return;  // nothing to write, or no file yet (take_file_results() flushes once there is)
    }
    size_t written = 0;
    const std::string e = store_->flush(*a.out, &written, whole);
    live_counters::bump(counters_.bytes, written);
    // What a flush by size kept (less than a record) came with the packet just added.
    a.pending = a.out->pending;
    a.buffered_since = now_;
    if (!e.empty()) {
        fail(a, e);
    }
}

}  // namespace rtprelay::recording
