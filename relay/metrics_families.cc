#include "relay/metrics_families.h"

#include <algorithm>
#include <iterator>
#include <limits>
#include <string>
#include <utility>

namespace rtprelay::metrics {

namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;
using labels = std::vector<ClientMetric::Label>;

MetricFamily family(std::string_view name, std::string_view help, MetricType type) {
    MetricFamily f;
    f.name = std::string(name);
    f.help = std::string(help);
    f.type = type;
    return f;
}

void sample(MetricFamily& f, double v, labels l = {}) {
    ClientMetric m;
    m.label = std::move(l);
    if (f.type == MetricType::Counter) {
        m.counter.value = v;
    } else {
        m.gauge.value = v;
    }
    f.metric.push_back(std::move(m));
}

double d(uint64_t v) { return static_cast<double>(v); }

// "media timeout" -> "media_timeout": label values in the style of the metric names.
std::string snake(std::string_view s) {
    std::string out(s);
    for (char& c : out) {
        if (c == ' ' || c == '-') {
            c = '_';
        }
    }
    return out;
}

class builder {
 public:
    void add(MetricFamily f) { out_.push_back(std::move(f)); }
    void single(const char* name, const char* help, MetricType type, double v) {
        MetricFamily f = family(name, help, type);
        sample(f, v);
        add(std::move(f));
    }
    std::vector<MetricFamily> take() { return std::move(out_); }

 private:
    std::vector<MetricFamily> out_;
};

double value_of(const dp::counter_info& c, const dp::worker_counters& b, uint64_t tsc_hz) {
    const double v = d(b.*c.field);
    return c.unit == dp::counter_unit::tsc ? (tsc_hz == 0 ? 0 : v / d(tsc_hz)) : v;
}

// The lines of worker_counters.def: consecutive lines naming one family are its samples.
void listed_counters(builder& b, const dp::worker_counters& t, const std::vector<dp::worker_counters>& workers,
                     uint64_t tsc_hz) {
    const auto& list = dp::worker_counter_list;
    for (size_t i = 0; i < std::size(list);) {
        MetricFamily f = family(list[i].metric, list[i].help, MetricType::Counter);
        for (; i < std::size(list) && list[i].metric == f.name; ++i) {
            const dp::counter_info& c = list[i];
            if (c.scope == dp::counter_scope::worker) {
                for (size_t w = 0; w < workers.size(); ++w) {
                    sample(f, value_of(c, workers[w], tsc_hz), {{"worker", std::to_string(w)}});
                }
                continue;
            }
            labels l;
            if (const size_t eq = c.label.find('='); eq != std::string_view::npos) {
                l.push_back({std::string(c.label.substr(0, eq)), std::string(c.label.substr(eq + 1))});
            }
            sample(f, value_of(c, t, tsc_hz), std::move(l));
        }
        b.add(std::move(f));
    }
}

void dataplane(builder& b, const dp::worker_counters& t, const std::vector<dp::worker_counters>& workers,
               uint64_t tsc_hz) {
    constexpr MetricType counter = MetricType::Counter;
    listed_counters(b, t, workers, tsc_hz);
    {
        MetricFamily f = family("rtprelay_drops_total",
                                "Packets dropped by the data plane, by reason (what each means: "
                                "rtprelay_drop_reason_info).",
                                counter);
        for (size_t r = 0; r < dp::drop_reason_count; ++r) {
            sample(f, d(t.drops[r]), {{"reason", std::string(dp::drop_reason_name(static_cast<dp::drop_reason>(r)))}});
        }
        b.add(std::move(f));
    }
    {
        // One series per reason rather than the list in HELP: HELP is one line per family that
        // dashboards do not show, while a description label joins onto the drop series
        // (`* on (reason) group_left (description)`) wherever they are shown.
        MetricFamily f = family("rtprelay_drop_reason_info",
                                "What each reason of rtprelay_drops_total means (dataplane/drop_reasons.def); "
                                "always 1.",
                                MetricType::Gauge);
        for (size_t r = 0; r < dp::drop_reason_count; ++r) {
            const auto why = static_cast<dp::drop_reason>(r);
            sample(f, 1,
                   {{"reason", std::string(dp::drop_reason_name(why))},
                    {"description", std::string(dp::drop_reason_text(why))}});
        }
        b.add(std::move(f));
    }
    b.single("rtprelay_srtp_auth_failures_total", "SRTP/SRTCP packets whose authentication tag did not verify.",
             counter, d(t.drops[static_cast<size_t>(dp::drop_reason::srtp_auth_failed)]));
    b.single("rtprelay_srtp_replay_drops_total",
             "SRTP/SRTCP packets dropped as replays or older than the replay window.", counter,
             d(t.drops[static_cast<size_t>(dp::drop_reason::srtp_replay)]));
}

// Relayed media by DPDK port, direction and kind, for the ports in use; which logical
// interfaces sit on a port is in rtprelay_interface_info.
void traffic(builder& b, const dp::worker_counters& t, const control_snapshot& s) {
    constexpr const char* dir_names[] = {"rx", "tx"};
    static_assert(std::size(dir_names) == dp::traffic_dir_count);
    MetricFamily packets = family("rtprelay_media_packets_total",
                                  "Media packets relayed, by DPDK port, direction (rx: arrived there and relayed, "
                                  "tx: sent there) and kind on the wire (rtp, rtcp, srtp, srtcp).",
                                  MetricType::Counter);
    MetricFamily bytes =
        family("rtprelay_media_bytes_total",
               "Ethernet frame bytes of the media packets in rtprelay_media_packets_total.", MetricType::Counter);
    for (const auto& p : s.ports) {
        if (p.port_id >= dp::counted_ports) {
            continue;
        }
        for (size_t dir = 0; dir < dp::traffic_dir_count; ++dir) {
            for (size_t k = 0; k < dp::media_kind_count; ++k) {
                const dp::traffic_counter& c = t.traffic[p.port_id][dir][k];
                const labels l = {{"port", std::to_string(p.port_id)},
                                  {"direction", dir_names[dir]},
                                  {"kind", std::string(dp::media_kind_name(static_cast<dp::media_kind>(k)))}};
                sample(packets, d(c.packets), l);
                sample(bytes, d(c.bytes), l);
            }
        }
    }
    b.add(std::move(packets));
    b.add(std::move(bytes));
    MetricFamily info =
        family("rtprelay_interface_info",
               "Logical interfaces and the DPDK port (and VLAN, 0 = untagged) they use; always 1.", MetricType::Gauge);
    for (const auto& i : s.interfaces) {
        sample(info, 1,
               {{"interface", i.name}, {"port", std::to_string(i.dpdk_port)}, {"vlan", std::to_string(i.vlan)}});
    }
    b.add(std::move(info));
}

// Latch changes by logical interface and kind (dataplane/latch.h), every pair present.
void latching(builder& b, const dp::worker_counters& t, const control_snapshot& s) {
    MetricFamily f = family("rtprelay_latch_changes_total",
                            "Streams whose learned source was set or moved, by logical interface and kind: first "
                            "(a stream's first latch), plain_move (a plain RTP leg moved: a new source after "
                            "probation, or its SDP address back), srtp_relatch (an SRTP leg moved after an "
                            "authenticated packet).",
                            MetricType::Counter);
    for (size_t i = 0; i < s.interfaces.size() && i < dp::counted_interfaces; ++i) {
        for (size_t k = 0; k < dp::latch_kind_count; ++k) {
            sample(f, d(t.latch_changes[i][k]),
                   {{"interface", s.interfaces[i].name},
                    {"kind", std::string(dp::latch_kind_name(static_cast<dp::latch_kind>(k)))}});
        }
    }
    b.add(std::move(f));
}

void sessions(builder& b, const control_snapshot& s) {
    constexpr MetricType counter = MetricType::Counter;
    {
        MetricFamily f =
            family("rtprelay_sessions",
                   "Calls open, by logical interface (a call using two interfaces counts on both).", MetricType::Gauge);
        for (const auto& i : s.interfaces) {
            sample(f, d(i.budget.calls), {{"interface", i.name}});
        }
        b.add(std::move(f));
    }
    b.single("rtprelay_sessions_created_total", "Calls admitted (first offer accepted).", counter, d(s.calls_created));
    {
        MetricFamily f = family("rtprelay_sessions_closed_total", "Calls ended, by reason.", counter);
        for (size_t r = 0; r < static_cast<size_t>(close_reason::count); ++r) {
            sample(f, d(s.calls_closed[r]), {{"reason", snake(close_reason_name(static_cast<close_reason>(r)))}});
        }
        b.add(std::move(f));
    }
    {
        MetricFamily f = family("rtprelay_sessions_refused_total", "New calls refused, by reason.", counter);
        for (size_t r = 0; r < refused_reason_count; ++r) {
            sample(f, d(s.calls_refused[r]), {{"reason", refused_reason_name(static_cast<refused_reason>(r))}});
        }
        b.add(std::move(f));
    }
    b.single("rtprelay_flows", "Flow entries published to the data plane.", MetricType::Gauge, d(s.flows));
}

void capacity(builder& b, const control_snapshot& s) {
    constexpr MetricType gauge = MetricType::Gauge;
    // Prometheus' base unit is the byte: an 80 kbit/s call reserves 10,000 bytes/s.
    MetricFamily cap = family("rtprelay_capacity_bytes_per_second",
                              "Configured bandwidth budget per direction, in bytes/s (bits/8); 0 = unlimited.", gauge);
    MetricFamily res = family("rtprelay_capacity_reserved_bytes_per_second",
                              "Bandwidth reserved per direction by open calls, in bytes/s (bits/8).", gauge);
    MetricFamily calls = family("rtprelay_capacity_calls", "Calls holding a bandwidth reservation.", gauge);
    MetricFamily limit = family("rtprelay_capacity_call_limit", "Calls the budget admits; 0 = unlimited.", gauge);
    MetricFamily util = family("rtprelay_capacity_utilisation_ratio",
                               "Reserved over budgeted bandwidth (0..1); only where a budget is set.", gauge);
    MetricFamily cps =
        family("rtprelay_capacity_calls_per_second_limit", "New calls per second admitted; 0 = no limit.", gauge);
    auto add = [&](const std::string& scope, const budget_snapshot& bs) {
        sample(cap, d(bs.capacity_bps) / 8, {{"scope", scope}});
        sample(res, d(bs.reserved_bps) / 8, {{"scope", scope}});
        sample(calls, d(bs.calls), {{"scope", scope}});
        sample(limit, d(bs.call_limit), {{"scope", scope}});
        if (bs.capacity_bps != 0) {
            sample(util, d(bs.reserved_bps) / d(bs.capacity_bps), {{"scope", scope}});
        }
        sample(cps, bs.cps_limit, {{"scope", scope}});
    };
    if (s.has_admission) {
        add("node", s.node);
        for (const auto& i : s.interfaces) {
            add(i.name, i.budget);
        }
    }
    for (MetricFamily* f : {&cap, &res, &calls, &limit, &util, &cps}) {
        b.add(std::move(*f));
    }
    b.single("rtprelay_draining", "1 while the node refuses new calls (drain), else 0.", gauge, s.draining ? 1 : 0);

    MetricFamily free = family("rtprelay_ports_free", "RTP/RTCP port pairs free, by media address.", gauge);
    MetricFamily used = family("rtprelay_ports_used", "RTP/RTCP port pairs in use, by media address.", gauge);
    for (const auto& i : s.interfaces) {
        for (const auto& a : i.addresses) {
            sample(free, d(a.ports_free), {{"interface", i.name}, {"address", a.address}});
            sample(used, d(a.ports_used), {{"interface", i.name}, {"address", a.address}});
        }
    }
    b.add(std::move(free));
    b.add(std::move(used));
}

void ng(builder& b, const control_snapshot& s) {
    constexpr MetricType counter = MetricType::Counter;
    {
        MetricFamily f =
            family("rtprelay_ng_requests_total", "NG requests handled, by command and reply result.", counter);
        for (size_t c = 0; c < ng_command_count; ++c) {
            for (size_t r = 0; r < ng_result_count; ++r) {
                sample(f, d(s.ng.requests[c][r]),
                       {{"command", ng_command_name(static_cast<ng_command>(c))},
                        {"result", ng_result_name(static_cast<ng_result>(r))}});
            }
        }
        b.add(std::move(f));
    }
    {
        MetricFamily f = family("rtprelay_ng_request_duration_seconds",
                                "Time the control thread spent handling one NG request (cache hits excluded).",
                                MetricType::Histogram);
        ClientMetric m;
        uint64_t cumulative = 0;
        for (size_t i = 0; i <= ng_duration_bounds.size(); ++i) {
            cumulative += s.ng.duration_buckets[i];
            ClientMetric::Bucket bucket;
            bucket.cumulative_count = cumulative;
            bucket.upper_bound =
                i < ng_duration_bounds.size() ? ng_duration_bounds[i] : std::numeric_limits<double>::infinity();
            m.histogram.bucket.push_back(bucket);
        }
        m.histogram.sample_count = s.ng.duration_count;
        m.histogram.sample_sum = s.ng.duration_sum;
        f.metric.push_back(std::move(m));
        b.add(std::move(f));
    }
    const ng::ng_server_counters& n = s.ng_server;
    b.single("rtprelay_ng_datagrams_received_total", "NG datagrams from allowed peers, retransmits included.", counter,
             d(n.requests));
    b.single("rtprelay_ng_replies_sent_total", "NG replies sent, cached and error replies included.", counter,
             d(n.replies));
    b.single("rtprelay_ng_cache_hits_total", "NG retransmits answered from the reply cache.", counter, d(n.cache_hits));
    b.single("rtprelay_ng_cookie_reuses_total",
             "NG requests whose cookie the same peer had used for a different body within the cache age; "
             "handled as new requests, not answered from the cache.",
             counter, d(n.cookie_reuses));
    {
        MetricFamily f =
            family("rtprelay_ng_dropped_total", "NG datagrams dropped without a reply, by reason.", counter);
        sample(f, d(n.dropped_not_allowed), {{"reason", "not_allowed"}});
        sample(f, d(n.dropped_malformed), {{"reason", "malformed"}});
        b.add(std::move(f));
    }
    {
        MetricFamily f = family("rtprelay_ng_errors_total", "NG transport errors, by kind.", counter);
        sample(f, d(n.bad_requests), {{"reason", "bad_request"}});
        sample(f, d(n.handler_errors), {{"reason", "handler_error"}});
        sample(f, d(n.send_errors), {{"reason", "send_error"}});
        sample(f, d(n.oversized_replies), {{"reason", "oversized_reply"}});
        b.add(std::move(f));
    }
}

void ports(builder& b, const control_snapshot& s) {
    struct field {
        const char* name;
        const char* help;
        uint64_t port_snapshot::*value;
    };
    constexpr field fields[] = {
        {"rtprelay_port_rx_packets_total", "Packets the DPDK port received (ipackets).", &port_snapshot::rx_packets},
        {"rtprelay_port_tx_packets_total", "Packets the DPDK port sent (opackets).", &port_snapshot::tx_packets},
        {"rtprelay_port_rx_bytes_total", "Bytes the DPDK port received (ibytes).", &port_snapshot::rx_bytes},
        {"rtprelay_port_tx_bytes_total", "Bytes the DPDK port sent (obytes).", &port_snapshot::tx_bytes},
        {"rtprelay_port_rx_missed_total",
         "Packets that reached the port but were dropped because its RX queues were full: the driver's imissed "
         "(NICs), plus for net_af_packet the kernel's packet-ring drops (PACKET_STATISTICS tp_drops). "
         "Not reported by net_tap, net_ring or net_memif.",
         &port_snapshot::rx_missed},
        {"rtprelay_port_rx_errors_total", "Erroneous packets received (ierrors).", &port_snapshot::rx_errors},
        {"rtprelay_port_tx_errors_total", "Packets the port failed to send (oerrors).", &port_snapshot::tx_errors},
        {"rtprelay_port_rx_nombuf_total", "RX mbuf allocation failures (rx_nombuf).", &port_snapshot::rx_nombuf},
        {"rtprelay_port_link_changes_total", "Link state changes (up to down, down to up) seen since start.",
         &port_snapshot::link_changes},
    };
    for (const field& fd : fields) {
        MetricFamily f = family(fd.name, fd.help, MetricType::Counter);
        for (const auto& p : s.ports) {
            sample(f, d(p.*fd.value), {{"port", std::to_string(p.port_id)}});
        }
        b.add(std::move(f));
    }
    MetricFamily link = family("rtprelay_port_link_up", "1 when the DPDK port's link is up.", MetricType::Gauge);
    for (const auto& p : s.ports) {
        sample(link, p.link_up ? 1 : 0, {{"port", std::to_string(p.port_id)}});
    }
    b.add(std::move(link));
    b.single("rtprelay_mempool_mbufs_in_use", "Packet buffers in use (rte_mempool_in_use_count).", MetricType::Gauge,
             d(s.mbufs_in_use));
    b.single("rtprelay_mempool_mbufs", "Packet buffers in the pool.", MetricType::Gauge, d(s.mbufs_total));
}

// Call recording: the recorder's counters, and the packets the workers could not copy for it.
void recording(builder& b, const recording_snapshot& r) {
    constexpr MetricType counter = MetricType::Counter;
    b.single("rtprelay_recordings_active", "Call recordings open or being finished.", MetricType::Gauge, d(r.active));
    b.single("rtprelay_recordings_started_total", "Call recordings opened (files created).", counter, d(r.started));
    b.single("rtprelay_recordings_finished_total", "Call recordings complete in done/ (pcap, metadata, WAV).", counter,
             d(r.finished));
    b.single("rtprelay_recordings_failed_total",
             "Call recordings that could not create, write or finish a file (disk full, ...); the call went on.",
             counter, d(r.failed));
    b.single("rtprelay_recordings_recovered_total",
             "Call recordings a node that died left open, finished at this start (stop reason \"node died\").", counter,
             d(r.recovered));
    b.single("rtprelay_recording_bytes_written_total", "Bytes written to recording files.", counter, d(r.bytes));
    b.single("rtprelay_recording_packets_written_total", "Packets written to recording pcap files.", counter,
             d(r.packets));
    b.single("rtprelay_recording_packets_lost_total",
             "Packets of recorded calls not written because their recording had failed.", counter, d(r.packets_lost));
    b.single("rtprelay_recording_file_wait_drops_total",
             "Packets of recorded calls dropped while their recording's file was still being created and the "
             "packets waiting for it had reached their bound (a file system that stalls).",
             counter, d(r.file_wait_drops));
    b.single("rtprelay_recording_ring_full_total",
             "Relayed packets of recorded calls missing from their recording: the worker's ring to the "
             "recorder was full (the packets themselves were relayed).",
             counter, d(r.ring_full));
    MetricFamily c = family("rtprelay_recording_commands_total",
                            "Completion commands (--recording-command) started, by result.", counter);
    sample(c, d(r.commands_run - std::min(r.commands_run, r.commands_failed)), {{"result", "ok"}});
    sample(c, d(r.commands_failed), {{"result", "failed"}});
    b.add(std::move(c));
}
}  // namespace

std::vector<prometheus::MetricFamily> render(const dp::worker_counters& sum,
                                             const std::vector<dp::worker_counters>& workers, uint64_t tsc_hz,
                                             const control_snapshot& control,
                                             std::chrono::steady_clock::time_point now) {
    builder b;
    dataplane(b, sum, workers, tsc_hz);
    traffic(b, sum, control);
    latching(b, sum, control);
    sessions(b, control);
    capacity(b, control);
    ng(b, control);
    ports(b, control);
    recording(b, control.recording);
    if (control.taken != std::chrono::steady_clock::time_point{}) {
        b.single("rtprelay_control_snapshot_age_seconds",
                 "Age of the control plane numbers in this scrape; grows if the control thread stalls.",
                 MetricType::Gauge, std::chrono::duration<double>(now - control.taken).count());
    }
    return b.take();
}

}  // namespace rtprelay::metrics
