#include "relay/metrics_group.h"

#include <string>

#include "control/ha/group.h"

namespace rtprelay::metrics {

namespace {
using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

MetricFamily family(const char* name, const char* help, MetricType type) {
    MetricFamily f;
    f.name = name;
    f.help = help;
    f.type = type;
    return f;
}

void add(std::vector<MetricFamily>& out, const char* name, const char* help, MetricType type, double v,
         std::vector<ClientMetric::Label> labels = {}) {
    for (auto& f : out) {
        if (f.name == name) {
            ClientMetric m;
            m.label = std::move(labels);
            (type == MetricType::Counter ? m.counter.value : m.gauge.value) = v;
            f.metric.push_back(std::move(m));
            return;
        }
    }
    MetricFamily f = family(name, help, type);
    ClientMetric m;
    m.label = std::move(labels);
    (type == MetricType::Counter ? m.counter.value : m.gauge.value) = v;
    f.metric.push_back(std::move(m));
    out.push_back(std::move(f));
}

template <typename T>
double d(const std::atomic<T>& a) {
    return static_cast<double>(a.load(std::memory_order_relaxed));
}

class group_collectable final : public prometheus::Collectable {
 public:
    explicit group_collectable(const ha::group& g) : g_(g) {}
    std::vector<MetricFamily> Collect() const override { return render_group(g_); }

 private:
    const ha::group& g_;
};
}  // namespace

std::vector<MetricFamily> render_group(const ha::group& g) {
    constexpr MetricType counter = MetricType::Counter;
    constexpr MetricType gauge = MetricType::Gauge;
    const ha::agent_stats& a = g.agent_counters();
    const ha::group_stats& s = g.counters();
    std::vector<MetricFamily> out;
    add(out, "rtprelay_redis_up", "1 while the node is connected to the group's Redis master.", gauge, d(a.redis_up));
    add(out, "rtprelay_redis_connects_total", "Connections made to a Redis master (the first, then reconnections).",
        counter, d(a.connects));
    add(out, "rtprelay_redis_connect_failures_total", "Attempts to find or reach the Redis master that failed.",
        counter, d(a.connect_failures));
    add(out, "rtprelay_redis_master_switches_total", "Sentinel +switch-master messages that moved this node.", counter,
        d(a.master_switches));
    add(out, "rtprelay_redis_writes_total", "Call record writes and deletes Redis acknowledged.", counter, d(a.writes));
    add(out, "rtprelay_redis_write_failures_total",
        "Call record writes lost with a Redis connection (every call is written again on reconnect).", counter,
        d(a.write_failures));
    add(out, "rtprelay_redis_queue_full_total",
        "Call record writes refused by a full queue (the call is written again later).", counter, d(a.queue_full));
    add(out, "rtprelay_redis_queue_depth", "Call record writes waiting for Redis.", gauge, d(a.queue_depth));
    add(out, "rtprelay_redis_writes_coalesced_total",
        "Call record writes that replaced a queued write of the same call (one write per burst of changes).", counter,
        d(a.coalesced));
    add(out, "rtprelay_redis_encode_failures_total", "Call records not written: sealing them failed.", counter,
        d(a.encode_failures));
    add(out, "rtprelay_redis_written_bytes_total", "Call record bytes Redis acknowledged.", counter,
        d(a.bytes_written));
    {
        MetricFamily f = family("rtprelay_redis_write_latency_seconds",
                                "From a call record change to Redis acknowledging it.", MetricType::Histogram);
        ClientMetric m;
        uint64_t cumulative = 0;
        for (size_t b = 0; b < ha::write_latency_buckets; ++b) {
            cumulative += a.write_latency_count_in[b].load(std::memory_order_relaxed);
            ClientMetric::Bucket bucket;
            bucket.cumulative_count = cumulative;
            bucket.upper_bound = b < std::size(ha::write_latency_bounds_ms) ? ha::write_latency_bounds_ms[b] / 1000.0
                                                                            : std::numeric_limits<double>::infinity();
            m.histogram.bucket.push_back(bucket);
        }
        m.histogram.sample_count = cumulative;
        m.histogram.sample_sum = d(a.write_latency_us_sum) / 1e6;
        f.metric.push_back(std::move(m));
        out.push_back(std::move(f));
    }
    add(out, "rtprelay_records_dirty", "Calls waiting to be written again (queue full or Redis back).", gauge,
        d(s.records_dirty));
    add(out, "rtprelay_records_slow_total",
        "Call records queued the slow way (heap snapshot, locked queue): past a ring slot's capacity (more than "
        "2 legs or 4 streams, long names, a recording) or the record ring full.",
        counter, d(s.records_slow));
    add(out, "rtprelay_leases_held", "Address leases this node holds (media addresses and floating NG addresses).",
        gauge, d(a.leases_held));
    add(out, "rtprelay_addresses_served",
        "Addresses this node serves now: media (answers ARP, relays) and floating NG addresses.", gauge,
        d(s.addresses_served));
    add(out, "rtprelay_leases_lost_total", "Leases found held by another node at renewal.", counter, d(a.leases_lost));
    add(out, "rtprelay_takeovers_total", "Dead nodes whose media addresses this node took over.", counter,
        d(a.takeovers));
    add(out, "rtprelay_calls_adopted_total", "Calls this node took over from a record.", counter, d(s.calls_adopted));
    add(out, "rtprelay_call_adopt_failures_total", "Records that opened but did not fit this node or clashed.", counter,
        d(s.adopt_failures));
    add(out, "rtprelay_calls_suspended_total", "Calls whose flows were withdrawn when a lease lapsed.", counter,
        d(s.calls_suspended));
    add(out, "rtprelay_calls_let_go_total", "Calls dropped here because another node serves their address now.",
        counter, d(s.calls_dropped));
    add(out, "rtprelay_takeover_seconds", "How long adopting the last takeover's calls took.", gauge,
        d(s.last_takeover_us) / 1e6);
    add(out, "rtprelay_srtp_unreserved_indices_total",
        "SRTP/SRTCP indices sent before Redis acknowledged a record that covers them: a takeover then "
        "could reuse them (RFC 3711 9.1).",
        counter, d(s.srtp_exposed));
    add(out, "rtprelay_srtp_record_writes_total", "Call records written to carry SRTP indices and reservations.",
        counter, d(s.srtp_writes));
    for (size_t r = 1; r < std::size(a.records_refused); ++r) {
        add(out, "rtprelay_call_records_refused_total",
            "Call records refused when loaded: corrupt, truncated, a newer format, a seal that does not verify.",
            counter, d(a.records_refused[r]), {{"reason", ha::decode_error_name(static_cast<ha::decode_error>(r))}});
    }
    return out;
}

std::shared_ptr<prometheus::Collectable> group_collector(const ha::group& g) {
    return std::make_shared<group_collectable>(g);
}

}  // namespace rtprelay::metrics
