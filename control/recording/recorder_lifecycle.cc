// The recorder's (recorder.h) handling of each recording's life, apart from its packets
// (recorder.cc drains the rings and writes them): the commands that open, update and close
// recordings, the pcap and state files queued for the file thread (file_maker.h) and its
// results taken, a failure, and the close once the rings have given every packet copied
// before it and the file thread has done the recording's files, which hands the recording
// to the finisher (finisher.h). Recorder thread only, but for the failures the control
// plane reads.

#include <rte_rcu_qsbr.h>

#include <chrono>
#include <cstddef>
#include <deque>
#include <string>
#include <vector>

#include "control/log.h"
#include "control/recording/file_maker.h"
#include "control/recording/finisher.h"
#include "control/recording/json_writer.h"
#include "control/recording/pcap_store.h"
#include "control/recording/record_files.h"
#include "control/recording/recorder.h"
#include "control/recording/recorder_active.h"
#include "control/recording/state_file.h"
#include "control/recording/stream_stats.h"
#include "control/recording/time_text.h"

namespace rtprelay::recording {

namespace {
std::string parent_of(const std::string& path) {
    const size_t slash = path.rfind('/');
    return slash == std::string::npos ? std::string() : path.substr(0, slash);
}
}  // namespace

void recorder::take_commands() {
    std::deque<open_request> opens;
    std::deque<close_request> closes;
    std::deque<update_request> updates;
    {
        std::lock_guard<std::mutex> g(mu_);
        opens.swap(opens_);
        closes.swap(closes_);
        updates.swap(updates_);
    }
    // State files: each written once per pass, and only when what it holds changed. The
    // control plane describes a recorded call after every NG request about it (an open comes
    // with one, a repeated request changes nothing): without this an open cost two writes
    // and each request one (a file created and renamed over).
    std::vector<uint32_t> to_write;
    for (auto& o : opens) {
        if (active* a = begin(std::move(o)); a != nullptr) {
            a->state_due = true;
            to_write.push_back(a->info.id);
        }
    }
    for (auto& u : updates) {
        auto it = active_.find(u.id);
        if (it == active_.end() || it->second->failed) {
            continue;
        }
        active& a = *it->second;
        if (a.state.call_json == u.call_json && a.state.legs == u.legs) {
            continue;
        }
        a.state.call_json = std::move(u.call_json);
        a.state.legs = std::move(u.legs);
        if (!a.state_due) {
            a.state_due = true;
            to_write.push_back(a.info.id);
        }
    }
    for (const uint32_t id : to_write) {
        auto it = active_.find(id);
        if (it != active_.end() && it->second->state_due) {
            it->second->state_due = false;
            write_state_file(*it->second);
        }
    }
    for (auto& c : closes) {
        closing_.emplace_back(std::move(c), std::vector<uint64_t>());
    }
}

recorder::active* recorder::begin(open_request r) {
    // Here only the memory side (4-7 us a start with its state file queued: the stream, the
    // dumper, a few strings); the files are the file thread's (file_maker.h), 0.1-2.4 ms of
    // CPU a recording on ext4 (bench/RESULTS.md). Until it reports, the packets wait in
    // memory (handle()).
    auto a = std::make_unique<active>();
    a->pcap_path = cfg_.dir + "/" + r.base + ".pcap";
    a->info = std::move(r);
    live_counters::bump(counters_.started);
    std::string e;
    file_job job;
    a->out = store_->prepare(a->info.id, a->pcap_path, &job.header, &e);
    if (a->out != nullptr) {
        a->mem = a->out->mem;
        job.what = file_job::kind::create;
        job.id = a->info.id;
        job.base = a->info.base;
        job.path = a->pcap_path;
        job.dir = parent_of(a->pcap_path);
        job.done_path = cfg_.dir + "/done/" + a->info.base + ".pcap";
        a->file_pending = true;
        a->create_seq = a->file_seq = files_->push(std::move(job));
    }
    a->state.rec_id = a->info.rec_id;
    a->state.layout = a->info.layout;
    a->state.wav = a->info.wav;
    a->state.from_first_packet = a->info.from_first_packet;
    a->state.start_ns = a->info.start_ns;
    const uint32_t id = a->info.id;
    auto& slot = active_[id];
    slot = std::move(a);
    if (id < by_id_.size()) {
        by_id_[id].a = slot.get();
    }
    if (!e.empty()) {
        fail(*slot, e);
        return nullptr;
    }
    return slot.get();
}

void recorder::write_state_file(active& a) {
    // After the pcap's creation in the file thread's FIFO: a node that dies leaves a pcap
    // with or without its state file, never a state file for a pcap still to come (and if
    // it did, recovery removes a state file with nothing to finish).
    file_job job;
    job.what = file_job::kind::state;
    job.id = a.info.id;
    job.base = a.info.base;
    job.path = cfg_.dir + "/" + a.info.base + ".state";
    job.state = a.state;
    a.file_seq = files_->push(std::move(job));
}

void recorder::take_file_results() {
    file_results_.clear();
    if (!files_->take_results(&file_results_)) {
        return;
    }
    for (file_result& r : file_results_) {
        active* a = find(r.id);
        if (a == nullptr || !a->file_pending || a->create_seq != r.seq) {
            continue;  // cannot happen: a close waits for its recording's file jobs
        }
        a->file_pending = false;
        if (!r.error.empty()) {
            // What waited in memory is lost with the recording, as a write error's would be.
            live_counters::bump(counters_.packets_lost, a->waiting_packets);
            a->waiting_packets = 0;
            fail(*a, r.error);
            continue;
        }
        a->created = true;
        live_counters::bump(counters_.packets, a->waiting_packets);
        a->waiting_packets = 0;
        if (a->pending >= cfg_.flush_bytes) {
            flush(*a, false);  // what gathered beyond a flush's worth, now; the rest by age
        }
    }
}

void recorder::fail(active& a, const std::string& why) {
    if (a.failed) {
        return;
    }
    a.failed = true;
    a.error = why;
    live_counters::bump(counters_.write_failed);
    store_->close(a.out);
    a.out = nullptr;
    a.mem = nullptr;
    a.next_byte = nullptr;
    {
        std::lock_guard<std::mutex> g(mu_);
        failures_[a.info.id] = why;
    }
    log::event(log::level::error, "recording failed").field("recording", a.info.base).field("error", why);
}

void recorder::close_due(bool all) {
    if (all) {
        // Stopping: recordings nobody closed end with the node.
        for (auto& [id, a] : active_) {
            bool asked = false;
            for (const auto& c : closing_) {
                asked = asked || c.first.id == id;
            }
            if (!asked) {
                close_request r;
                r.id = id;
                r.reason = "node stop";
                r.stop_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                                std::chrono::system_clock::now().time_since_epoch())
                                .count();
                closing_.emplace_back(std::move(r), std::vector<uint64_t>());
            }
        }
    }
    for (size_t i = 0; i < closing_.size();) {
        auto& [req, reach] = closing_[i];
        if (reach.empty()) {
            // Wait until every worker was quiescent after the stamp went: then the rings hold
            // every packet copied with it, up to where they stand now.
            if (!all && rcu_ != nullptr && rte_rcu_qsbr_check(rcu_, req.rcu_token, false) != 1) {
                ++i;
                continue;
            }
            for (dp::record_ring* ring : rings_) {
                reach.push_back(ring->committed());
            }
        }
        bool read = true;
        for (size_t k = 0; k < rings_.size(); ++k) {
            read = read && rings_[k]->consumed() >= reach[k];
        }
        if (!read && !all) {
            ++i;
            continue;
        }
        const uint32_t id = req.id;
        auto it = active_.find(id);
        // Its files not all made yet (a close right after the open, a slow file system): it
        // waits here, its packets in memory, and is looked at again next pass. With `all`
        // the file thread was drained before (last_pass()).
        if (it != active_.end() && it->second->file_seq > files_->done_through()) {
            ++i;
            continue;
        }
        if (it != active_.end() && it->second->file_pending) {
            take_file_results();  // done, and its result published before done_through said so
        }
        if (it != active_.end()) {
            finish(*it->second, std::move(req));
            if (id < by_id_.size()) {
                by_id_[id].a = nullptr;
            }
            active_.erase(it);
        }
        closing_.erase(closing_.begin() + static_cast<std::ptrdiff_t>(i));
    }
}

void recorder::finish(active& a, close_request r) {
    if (a.failed) {
        // The control plane stops asking once the recording is closed: the reason goes into
        // its metadata, not into an ever longer list.
        std::lock_guard<std::mutex> g(mu_);
        failures_.erase(a.info.id);
    }
    flush(a, true);
    store_->close(a.out);
    a.out = nullptr;
    a.mem = nullptr;
    a.next_byte = nullptr;
    finish_job job;
    job.id = a.info.id;
    job.base = a.info.base;
    job.have_pcap = a.created;
    job.failed = a.failed;
    job.error = a.error;
    const int64_t start = a.info.from_first_packet && a.first_ns != 0 ? a.first_ns : a.info.start_ns;
    const int64_t stop = r.stop_ns > start ? r.stop_ns : start;
    job.wav = !a.failed && (a.info.wav || a.g711);
    job.audio.start_ns = start;
    job.audio.stop_ns = stop;
    job.audio.layout = a.info.layout;
    for (const auto& s : a.streams) {
        bool known = false;
        for (const auto& l : job.audio.legs) {
            known = known || l.dst == s.dst;
        }
        if (!s.rtcp && !known) {
            job.audio.legs.push_back({s.dst, s.channel});
        }
    }
    job.call_json = r.call_json.empty() ? "{}" : std::move(r.call_json);
    json_writer w;
    w.begin_object();
    w.key("id").value(a.info.id);
    w.key("channels").value(channels_name(a.info.layout));
    w.key("start").value(time_text(start));
    w.key("stop").value(time_text(stop));
    w.key("duration").value(static_cast<double>(stop - start) / 1e9);
    w.key("stop reason").value(r.reason);
    write_streams(w, a.streams);
    w.end_object();
    job.recording_json = w.take();
    finisher_->push(std::move(job));
}

}  // namespace rtprelay::recording
