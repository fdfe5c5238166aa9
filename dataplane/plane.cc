#include "dataplane/plane.h"

#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring.h>

#include <cstring>
#include <stdexcept>

#include "dataplane/latch.h"
#include "dataplane/port_setup.h"
#include "dataplane/steering.h"

namespace rtprelay::dp {

namespace {

int run_worker(void* arg) { return static_cast<worker*>(arg)->run(); }

uint16_t desc_or_default(uint16_t n) { return n != 0 ? n : port_params::default_desc; }

// Returns every mbuf still queued on `r` to its pool, then frees the ring.
void free_ring(rte_ring*& r) {
    if (r == nullptr) {
        return;
    }
    void* objs[64];
    unsigned n = 0;
    while ((n = rte_ring_dequeue_burst(r, objs, 64, nullptr)) != 0) {
        rte_pktmbuf_free_bulk(reinterpret_cast<rte_mbuf**>(objs), n);
    }
    rte_ring_free(r);
    r = nullptr;
}

}  // namespace

plane::plane(const plane_config& c) {
    try {
        build(c);
    } catch (...) {
        tear_down();
        throw;
    }
}

plane::~plane() { tear_down(); }

void plane::build(const plane_config& c) {
    if (c.name.empty() || c.name.size() > max_name) {
        throw std::runtime_error("data plane name '" + c.name + "': 1 to " + std::to_string(max_name) + " characters");
    }
    if (c.workers < 1 || c.workers > max_workers) {
        throw std::runtime_error(std::to_string(c.workers) + " workers: 1 to " + std::to_string(max_workers));
    }
    if (c.ports.size() > max_ports) {
        throw std::runtime_error(std::to_string(c.ports.size()) + " ports: at most " + std::to_string(max_ports));
    }
    name_ = c.name;
    socket_ = c.socket;

    // 1. The mbuf pool.
    if (c.pool != nullptr) {
        pool_ = c.pool;
    } else {
        uint64_t ring_mbufs = 0;
        for (const plane_port& p : c.ports) {
            if (p.set_up) {
                ring_mbufs += uint64_t{c.workers} * (desc_or_default(p.rx_desc) + desc_or_default(p.tx_desc));
            }
        }
        pool_ = create_mbuf_pool(name_ + "_mbufs", static_cast<uint32_t>(c.mbufs + ring_mbufs), socket_);
        own_pool_ = true;
    }

    // 2. The ports.
    shared_ = std::make_unique<dataplane_shared>();
    for (const plane_port& p : c.ports) {
        port_params pp;
        pp.n_queues = c.workers;
        pp.rx_desc = desc_or_default(p.rx_desc);
        pp.tx_desc = desc_or_default(p.tx_desc);
        if (p.id >= max_ports || !rte_eth_dev_is_valid_port(p.id)) {
            throw std::runtime_error("port " + std::to_string(p.id) + " does not exist (EAL found " +
                                     std::to_string(rte_eth_dev_count_avail()) + " ports)");
        }
        rte_ether_addr mac{};
        if (p.set_up) {
            mac = setup_port(p.id, pp, pool_);
            ports_started_.push_back(p.id);
        } else if (rte_eth_macaddr_get(p.id, &mac) != 0) {
            throw std::runtime_error("port " + std::to_string(p.id) + ": rte_eth_macaddr_get failed");
        }
        shared_->port_macs[p.id] = p.mac.value_or(mac);
        shared_->port_ids[shared_->n_ports++] = p.id;
    }

    // 3. The local media addresses.
    locals_ = std::make_unique<local_addresses>();
    for (const local_address& a : c.addresses) {
        if (!locals_->add(a)) {
            throw std::runtime_error("too many media addresses (at most " + std::to_string(local_addresses::max) + ")");
        }
    }

    // 4. The tables the planes share.
    flows_ = std::make_unique<flow_table>(c.max_flows, c.workers, socket_);
    neighbours_ = std::make_unique<neighbour_table>(c.max_neighbours, socket_);

    // 5. The rings: many workers enqueue ARP and handed-off packets (multi-producer), one
    // thread dequeues each ring; only the control plane enqueues control_tx.
    to_control_ = make_ring("to_control", control_ring_size, RING_F_SC_DEQ);
    control_tx_ = make_ring("control_tx", control_ring_size, RING_F_SP_ENQ | RING_F_SC_DEQ);
    if (c.workers > 1) {
        for (uint16_t w = 0; w < c.workers; ++w) {
            handoff_[w] = make_ring("handoff" + std::to_string(w), handoff_ring_size, RING_F_SC_DEQ);
        }
    }
    // Latch events, copied into the ring (24-byte elements): workers enqueue, the control
    // plane logs them.
    {
        const std::string name = name_ + "_latch";
        latch_events_ =
            rte_ring_create_elem(name.c_str(), sizeof(latch_event), latch_ring_size, socket_, RING_F_SC_DEQ);
        if (latch_events_ == nullptr) {
            throw std::runtime_error("ring '" + name + "': rte_ring_create_elem failed: " + rte_strerror(rte_errno));
        }
    }
    if (c.record_bytes != 0) {
        if (c.record_bytes < 65536 || (c.record_bytes & (c.record_bytes - 1)) != 0) {
            throw std::runtime_error("record ring: " + std::to_string(c.record_bytes) +
                                     " bytes is not a power of two >= 64 KiB");
        }
        if (c.record_hot != 0 && (c.record_hot < 4096 || (c.record_hot & (c.record_hot - 1)) != 0)) {
            throw std::runtime_error("record ring: a hot area of " + std::to_string(c.record_hot) +
                                     " bytes is not a power of two >= 4 KiB");
        }
        for (uint16_t w = 0; w < c.workers; ++w) {
            record_[w] = std::make_unique<record_ring>(c.record_bytes, c.record_hot);
        }
    }

    // 6. The shared block and the workers.
    shared_->flows = flows_.get();
    shared_->neighbours = neighbours_.get();
    shared_->locals = locals_.get();
    shared_->n_workers = c.workers;
    shared_->to_control = to_control_;
    shared_->latch_events = latch_events_;
    for (uint16_t w = 0; w < c.workers; ++w) {
        shared_->handoff[w] = handoff_[w];
        shared_->record[w] = record_[w].get();
    }
    shared_->idle_sleep_us = c.idle_sleep_us;
    shared_->srtp_batch_min = c.srtp_batch_min;
    for (uint16_t w = 0; w < c.workers; ++w) {
        workers_.push_back(std::make_unique<worker>());
        workers_.back()->init(w, shared_.get(), w == 0 ? control_tx_ : nullptr);
    }

    // 7. Steering, after the ports started.
    if (c.steering && c.workers > 1) {
        const std::vector<uint16_t> ids = port_ids();
        bool ipv6 = false;
        for (const local_address& a : c.addresses) {
            ipv6 = ipv6 || a.v6;
        }
        steering_refused_ = install_steering(ids, c.vlans, c.workers, ipv6);
        steered_ = steering_refused_.empty();
        if (steered_) {
            steered_ports_ = ids;
        }
    }
}

rte_ring* plane::make_ring(const std::string& suffix, unsigned size, unsigned flags) {
    const std::string name = name_ + "_" + suffix;
    rte_ring* r = rte_ring_create(name.c_str(), size, socket_, flags);
    if (r == nullptr) {
        throw std::runtime_error("ring '" + name + "': rte_ring_create failed: " + rte_strerror(rte_errno));
    }
    return r;
}

void plane::tear_down() {
    stop();
    if (readers_registered_) {
        for (uint16_t w = 0; w < workers_.size(); ++w) {
            rte_rcu_qsbr_thread_offline(flows_->rcu(), w);
            rte_rcu_qsbr_thread_unregister(flows_->rcu(), w);
        }
        readers_registered_ = false;
    }
    // 7.
    if (!steered_ports_.empty()) {
        remove_steering(steered_ports_);
        steered_ports_.clear();
    }
    // No reader is online any more: every grace period is over.
    if (flows_) {
        flows_->reclaim_all();
    }
    // 6.
    for (auto& w : workers_) {
        w->release();
    }
    workers_.clear();
    shared_.reset();
    // 5. Packets still queued go back to the pool first.
    for (rte_ring*& r : handoff_) {
        free_ring(r);
    }
    for (auto& r : record_) {
        r.reset();  // copies: no mbuf in a record
    }
    rte_ring_free(latch_events_);  // elements, not mbufs: nothing to give back
    latch_events_ = nullptr;
    free_ring(control_tx_);
    free_ring(to_control_);
    // 4., 3.
    neighbours_.reset();
    flows_.reset();
    locals_.reset();
    // 2.
    for (auto it = ports_started_.rbegin(); it != ports_started_.rend(); ++it) {
        stop_port(*it);
    }
    ports_started_.clear();
    // 1.
    if (own_pool_) {
        rte_mempool_free(pool_);
        own_pool_ = false;
    }
    pool_ = nullptr;
}

void plane::launch() {
    if (launched_ || readers_registered_) {
        throw std::logic_error("data plane '" + name_ + "': launched twice, or polled by hand");
    }
    launched_ = true;
    unsigned lcore = 0;
    RTE_LCORE_FOREACH_WORKER(lcore) {
        if (lcores_.size() == workers_.size()) {
            break;
        }
        const int rc = rte_eal_remote_launch(run_worker, workers_[lcores_.size()].get(), lcore);
        if (rc != 0) {
            const size_t w = lcores_.size();
            stop();
            throw std::runtime_error("worker " + std::to_string(w) + ": rte_eal_remote_launch on lcore " +
                                     std::to_string(lcore) + " failed: " + rte_strerror(-rc));
        }
        lcores_.push_back(lcore);
    }
    if (lcores_.size() < workers_.size()) {
        stop();
        throw std::runtime_error(std::to_string(workers_.size()) + " workers need as many EAL worker lcores, EAL has " +
                                 std::to_string(rte_lcore_count() - 1));
    }
}

unsigned plane::stop() {
    if (lcores_.empty()) {
        return 0;
    }
    shared_->stop.store(true);
    for (unsigned lcore : lcores_) {
        rte_eal_wait_lcore(lcore);
    }
    const auto n = static_cast<unsigned>(lcores_.size());
    lcores_.clear();
    return n;
}

void plane::register_readers() {
    if (launched_ || readers_registered_) {
        throw std::logic_error("data plane '" + name_ + "': readers registered twice, or launched");
    }
    for (uint16_t w = 0; w < workers_.size(); ++w) {
        if (rte_rcu_qsbr_thread_register(flows_->rcu(), w) != 0) {
            for (uint16_t u = 0; u < w; ++u) {
                rte_rcu_qsbr_thread_offline(flows_->rcu(), u);
                rte_rcu_qsbr_thread_unregister(flows_->rcu(), u);
            }
            throw std::runtime_error("worker " + std::to_string(w) + ": RCU thread register failed");
        }
        rte_rcu_qsbr_thread_online(flows_->rcu(), w);
    }
    readers_registered_ = true;
}

void plane::quiescent(uint16_t worker_index) { rte_rcu_qsbr_quiescent(flows_->rcu(), worker_index); }

std::vector<const worker*> plane::workers() const {
    std::vector<const worker*> out;
    for (const auto& w : workers_) {
        out.push_back(w.get());
    }
    return out;
}

worker_counters plane::totals() const {
    std::vector<worker_counters> blocks;
    blocks.reserve(workers_.size());
    for (const auto& w : workers_) {
        blocks.push_back(w->counters);
    }
    return sum(blocks.data(), blocks.size());
}

std::vector<uint16_t> plane::port_ids() const { return {shared_->port_ids, shared_->port_ids + shared_->n_ports}; }

}  // namespace rtprelay::dp
