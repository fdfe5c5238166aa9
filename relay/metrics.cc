#include "relay/metrics.h"

#include <algorithm>
#include <iterator>
#include <stdexcept>

#include <prometheus/collectable.h>
#include <prometheus/exposer.h>
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_mempool.h>

#include "control/admission/admission.h"
#include "control/interfaces.h"
#include "control/recording/recorder.h"
#include "control/session/manager.h"
#include "dataplane/flow_table.h"
#include "dataplane/worker.h"
#include "relay/link_monitor.h"
#include "relay/metrics_families.h"

namespace rtprelay::metrics {

using clock = std::chrono::steady_clock;

namespace {
constexpr auto refresh_period = std::chrono::milliseconds(250);

constexpr const char* result_names[] = {"ok", "error", "load_limit"};
static_assert(std::size(result_names) == ng_result_count);
constexpr const char* refused_names[] = {"capacity", "cps", "ports", "draining", "policy"};
static_assert(std::size(refused_names) == refused_reason_count);

// The data plane undoes a relayed count when the TX queue refuses the packet (it becomes
// a tx_full drop), so a sum can step back by a few between two scrapes. Prometheus reads
// any decrease as a counter reset, and rate() would jump by the whole counter; reporting
// the highest value seen instead delays the correction to the next increase. Applied to
// every summed counter: one that never steps back passes unchanged.
void keep_monotonic(dp::worker_counters& now, dp::worker_counters& last) {
    auto one = [](uint64_t& n, uint64_t& l) {
        if (n < l) {
            n = l;
        } else {
            l = n;
        }
    };
    for (const dp::counter_info& c : dp::worker_counter_list) {
        one(now.*c.field, last.*c.field);
    }
    for (auto& port : now.traffic) {
        const size_t p = static_cast<size_t>(&port - now.traffic.data());
        for (size_t k = 0; k < dp::media_kind_count; ++k) {
            auto& n = port[static_cast<size_t>(dp::traffic_dir::tx)][k];
            auto& l = last.traffic[p][static_cast<size_t>(dp::traffic_dir::tx)][k];
            one(n.packets, l.packets);
            one(n.bytes, l.bytes);
        }
    }
}
}  // namespace

const char* ng_command_name(ng_command c) { return ng::command_name(c); }

const char* ng_result_name(ng_result r) { return result_names[static_cast<size_t>(r)]; }
const char* refused_reason_name(refused_reason r) { return refused_names[static_cast<size_t>(r)]; }

// The scrape side: runs on the exposer's threads (two, so a slow client does not hold up
// another), reads the workers' counter blocks and a copy of the snapshot.
class collector final : public prometheus::Collectable {
 public:
    collector(std::vector<const dp::worker*> workers, control_snapshot initial)
        : snapshot(std::move(initial)), workers_(std::move(workers)), tsc_hz_(rte_get_tsc_hz()) {}

    std::vector<prometheus::MetricFamily> Collect() const override {
        control_snapshot control;
        {
            const std::lock_guard<std::mutex> g(mutex);
            control = snapshot;
        }
        std::vector<dp::worker_counters> blocks;
        blocks.reserve(workers_.size());
        for (const dp::worker* w : workers_) {
            blocks.push_back(w->counters);  // plain loads of single-writer uint64s
        }
        dp::worker_counters sum = dp::sum(blocks.data(), blocks.size());
        {
            const std::lock_guard<std::mutex> g(last_mutex_);
            keep_monotonic(sum, last_);
        }
        return render(sum, blocks, tsc_hz_, control, clock::now());
    }

    // control thread: wo, exposer: ro (a copy); both under `mutex`
    mutable std::mutex mutex;
    control_snapshot snapshot;

 private:
    std::vector<const dp::worker*> workers_;
    uint64_t tsc_hz_;
    mutable std::mutex last_mutex_;  // scrapes may run on both exposer threads
    mutable dp::worker_counters last_;
};

exporter::exporter(const std::string& listen, sources src) : src_(std::move(src)), ring_drops_(src_.dpdk_ports) {
    // Names are fixed at start-up: set them once, refreshes only store numbers.
    control_snapshot initial;
    if (src_.interfaces != nullptr) {
        for (const auto& i : src_.interfaces->all()) {
            interface_snapshot is;
            is.name = i.name;
            is.dpdk_port = i.dpdk_port;
            is.vlan = i.vlan;
            for (const auto& a : i.addresses) {
                is.addresses.push_back({a.net.base.to_string(), 0, 0});
            }
            initial.interfaces.push_back(std::move(is));
        }
    }
    for (uint16_t p : src_.dpdk_ports) {
        port_snapshot ps;
        ps.port_id = p;
        ports_.push_back(ps);
    }
    initial.ports = ports_;
    initial.has_admission = src_.adm != nullptr;
    collector_ = std::make_shared<collector>(src_.workers, std::move(initial));
    try {
        exposer_ = std::make_unique<prometheus::Exposer>(listen, 2);
    } catch (const std::exception& e) {
        throw std::invalid_argument("option '--metrics-listen': cannot serve on '" + listen + "': " + e.what());
    }
    exposer_->RegisterCollectable(collector_);
}

exporter::~exporter() { exposer_.reset(); }

void exporter::add(std::shared_ptr<prometheus::Collectable> c) {
    exposer_->RegisterCollectable(c);
    more_.push_back(std::move(c));
}

ng_command exporter::command_of(const ng::value& request) {
    const auto cmd = request.find_string("command");
    return cmd ? ng::command_of(*cmd) : ng_command::other;
}

ng_result exporter::result_of(const ng::reply& reply) {
    switch (reply.kind()) {
        case ng::result::ok:
            return ng_result::ok;
        case ng::result::load_limit:
            return ng_result::load_limit;
        case ng::result::error:
            break;
    }
    return ng_result::error;
}

void exporter::finish(ng_command cmd, ng_result result, clock::time_point start) {
    const auto end = clock::now();
    const double seconds = std::chrono::duration<double>(end - start).count();
    ++ng_.requests[static_cast<size_t>(cmd)][static_cast<size_t>(result)];
    // Prometheus buckets are "less than or equal": the first bound not below the value.
    const auto* b = std::lower_bound(ng_duration_bounds.begin(), ng_duration_bounds.end(), seconds);
    ++ng_.duration_buckets[static_cast<size_t>(b - ng_duration_bounds.begin())];
    ng_.duration_sum += seconds;
    ++ng_.duration_count;
    refresh(end, false);
}

void exporter::tick(clock::time_point now) {
    if (now - last_full_ >= refresh_period) {
        last_full_ = now;
        refresh(now, true);
    }
}

void exporter::read_ports() {
    // On the control thread (an EAL thread), not the exposer's: not every PMD's
    // stats_get is safe beside other ethdev control calls from a foreign thread.
    ring_drops_.poll();
    for (port_snapshot& p : ports_) {
        rte_eth_stats st{};
        if (rte_eth_stats_get(p.port_id, &st) == 0) {
            p.rx_packets = st.ipackets;
            p.tx_packets = st.opackets;
            p.rx_bytes = st.ibytes;
            p.tx_bytes = st.obytes;
            // net_af_packet leaves imissed at 0: its ring drops come from the kernel.
            p.rx_missed = st.imissed + ring_drops_.dropped(p.port_id);
            p.rx_errors = st.ierrors;
            p.tx_errors = st.oerrors;
            p.rx_nombuf = st.rx_nombuf;
        }
        if (const link_monitor::port_link* l = src_.links != nullptr ? src_.links->find(p.port_id) : nullptr) {
            p.link_up = l->up;  // the monitor's view, so the gauge and the change count agree
            p.link_changes = l->changes;
            continue;
        }
        rte_eth_link link{};
        if (rte_eth_link_get_nowait(p.port_id, &link) == 0) {
            p.link_up = link.link_status == RTE_ETH_LINK_UP;
        }
    }
    if (src_.pool != nullptr) {
        mbufs_in_use_ = rte_mempool_in_use_count(src_.pool);
    }
}

void exporter::refresh(clock::time_point now, bool with_ports) {
    if (with_ports) {
        read_ports();
    }
    const std::lock_guard<std::mutex> lock(collector_->mutex);
    control_snapshot& s = collector_->snapshot;
    s.taken = now;
    if (src_.sessions != nullptr) {
        const session_totals& t = src_.sessions->totals();
        s.calls_created = t.calls_created;
        std::copy(std::begin(t.closed), std::end(t.closed), std::begin(s.calls_closed));
        s.calls_refused[static_cast<size_t>(refused_reason::capacity)] = t.refused_capacity;
        s.calls_refused[static_cast<size_t>(refused_reason::cps)] = t.refused_cps;
        s.calls_refused[static_cast<size_t>(refused_reason::ports)] = t.refused_ports;
        s.calls_refused[static_cast<size_t>(refused_reason::draining)] = t.refused_draining;
        s.calls_refused[static_cast<size_t>(refused_reason::policy)] = t.refused_policy;
    }
    if (const admission* adm = src_.adm; adm != nullptr) {
        auto copy = [adm](budget_snapshot& out, const budget& b, double cps) {
            out.capacity_bps = b.capacity_bps;
            out.reserved_bps = b.reserved_bps;
            out.calls = b.calls;
            out.call_limit = b.capacity_bps == 0 ? 0 : adm->calls_for(b.capacity_bps);
            out.cps_limit = cps;
        };
        copy(s.node, adm->node(), adm->node_cps());
        for (size_t k = 0; k < s.interfaces.size(); ++k) {
            copy(s.interfaces[k].budget, adm->interface(k), adm->interface_cps(k));
        }
        s.draining = adm->draining();
    }
    if (src_.interfaces != nullptr) {
        const auto& all = src_.interfaces->all();
        for (size_t k = 0; k < s.interfaces.size() && k < all.size(); ++k) {
            auto& addrs = s.interfaces[k].addresses;
            for (size_t j = 0; j < addrs.size() && j < all[k].addresses.size(); ++j) {
                addrs[j].ports_free = all[k].addresses[j].pool->free();
                addrs[j].ports_used = all[k].addresses[j].pool->used();
            }
        }
    }
    s.ng = ng_;
    if (ng_server_ != nullptr) {
        s.ng_server = ng_server_->counters();
    }
    if (src_.flows != nullptr) {
        s.flows = src_.flows->size();
    }
    s.ports = ports_;  // same size every time: no allocation
    s.mbufs_in_use = mbufs_in_use_;
    s.mbufs_total = src_.pool != nullptr ? src_.pool->size : 0;
    if (src_.recorder != nullptr) {
        s.recording = src_.recorder->counters();
    }
}

}  // namespace rtprelay::metrics
