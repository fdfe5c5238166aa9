#include "dataplane/plane.h"

#include <gtest/gtest.h>

#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#include <chrono>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "dataplane/port_setup.h"
#include "tests/dataplane/test_packets.h"
#include "tests/support/eal_fixture.h"

// The data plane's owner built, launched and torn down as the daemon does it, including the
// ways it can fail: a ring that cannot be created, and an exception once the workers run.
// After each, nothing the plane made is left (DPDK heap, rings, pool, ports, lcores) and
// another plane builds and runs in the same process.

namespace rtprelay::dp {
namespace {

using test::ip4;

// Bytes allocated from DPDK's heap on socket 0 (rings, tables, TX buffers, pools).
uint64_t dpdk_heap_in_use() {
    rte_malloc_socket_stats st{};
    return rte_malloc_get_socket_stats(0, &st) == 0 ? st.heap_allocsz_bytes : 0;
}

// A net_ring ethdev with `queues` RX and TX queues: not set up (what a NIC is before the
// daemon configures it), or `started` by the test as the benchmark's ports are. Its rings
// are freed at the end; the port too, unless a plane that set it up has closed it already.
struct ring_device {
    ring_device(const std::string& name, unsigned queues, bool started = false) {
        for (unsigned q = 0; q < queues; ++q) {
            rx.push_back(
                rte_ring_create((name + "_r" + std::to_string(q)).c_str(), 256, 0, RING_F_SP_ENQ | RING_F_SC_DEQ));
            tx.push_back(
                rte_ring_create((name + "_t" + std::to_string(q)).c_str(), 256, 0, RING_F_SP_ENQ | RING_F_SC_DEQ));
        }
        const int rc = rte_eth_from_rings(name.c_str(), rx.data(), queues, tx.data(), queues, 0);
        if (rc < 0) {
            throw std::runtime_error("rte_eth_from_rings " + name + " failed");
        }
        id = static_cast<uint16_t>(rc);
        if (started) {
            port_params pp;
            pp.n_queues = static_cast<uint16_t>(queues);
            setup_port(id, pp, test::packet_pool());
        }
    }
    ~ring_device() {
        if (rte_eth_dev_is_valid_port(id)) {
            rte_eth_dev_stop(id);
            rte_eth_dev_close(id);
        }
        for (std::vector<rte_ring*>* v : {&rx, &tx}) {
            for (rte_ring* r : *v) {
                test::free_all(r);
                rte_ring_free(r);
            }
        }
    }
    ring_device(const ring_device&) = delete;
    ring_device& operator=(const ring_device&) = delete;

    std::vector<rte_ring*> rx, tx;
    uint16_t id = 0;
};

// One port, one media address, `workers` workers; the plane's own pool and, with
// `set_up`, the port configured (one queue pair per worker) and closed by the plane.
plane_config config(const ring_device& dev, uint16_t workers, bool set_up) {
    plane_config c;
    c.name = "ut_plane";
    c.workers = workers;
    c.mbufs = 4095;
    c.ports.push_back(plane_port{.id = dev.id, .set_up = set_up, .mac = std::nullopt});
    c.addresses.push_back({ip4(198, 18, 7, 1), dev.id, 0});
    c.max_flows = 1024;
    c.max_neighbours = 64;
    c.idle_sleep_us = 100;  // the worker lcores share one CPU with the test
    return c;
}

const std::vector<std::string> ring_suffixes = {"to_control", "control_tx", "handoff0", "handoff1"};

bool ring_exists(const std::string& name) { return rte_ring_lookup(name.c_str()) != nullptr; }

// Nothing of a plane named "ut_plane" is left in DPDK.
void expect_nothing_left() {
    for (const std::string& s : ring_suffixes) {
        EXPECT_FALSE(ring_exists("ut_plane_" + s)) << s;
    }
    EXPECT_EQ(rte_mempool_lookup("ut_plane_mbufs"), nullptr);
}

// Every worker lcore waits for work again: a launch on each succeeds and returns.
void expect_worker_lcores_free() {
    unsigned lcore = 0;
    unsigned n = 0;
    RTE_LCORE_FOREACH_WORKER(lcore) {
        EXPECT_EQ(rte_eal_get_lcore_state(lcore), WAIT) << "lcore " << lcore;
        EXPECT_EQ(rte_eal_remote_launch([](void*) { return 7; }, nullptr, lcore), 0) << "lcore " << lcore;
        EXPECT_EQ(rte_eal_wait_lcore(lcore), 7);
        ++n;
    }
    EXPECT_EQ(n, rtprelay::test::eal_worker_lcores);
}

template <typename Pred>
bool wait_until(Pred p) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (!p()) {
        if (std::chrono::steady_clock::now() > deadline) {
            return false;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return true;
}

TEST(plane, builds_each_step_and_tears_all_down) {
    ring_device dev("ut_pl_dev0", 2);
    const uint64_t heap_before = dpdk_heap_in_use();
    {
        plane p(config(dev, 2, false));
        EXPECT_EQ(p.n_workers(), 2);
        for (const std::string& s : ring_suffixes) {
            EXPECT_TRUE(ring_exists("ut_plane_" + s)) << s;
        }
        EXPECT_NE(rte_mempool_lookup("ut_plane_mbufs"), nullptr);
        EXPECT_EQ(p.to_control(), p.shared().to_control);
        EXPECT_EQ(p.handoff(1), p.shared().handoff[1]);
        EXPECT_EQ(p.worker_at(0).from_control, p.control_tx()) << "the control plane sends through worker 0";
        EXPECT_EQ(p.worker_at(1).from_control, nullptr);
        EXPECT_EQ(p.shared().flows, &p.flows());
        EXPECT_EQ(p.port_ids(), std::vector<uint16_t>{dev.id});
        EXPECT_NE(p.locals().find(dev.id, ip4(198, 18, 7, 1)), nullptr);
        EXPECT_GT(dpdk_heap_in_use(), heap_before);
    }
    expect_nothing_left();
    EXPECT_EQ(dpdk_heap_in_use(), heap_before) << "DPDK memory the plane took is given back";
    EXPECT_TRUE(rte_eth_dev_is_valid_port(dev.id)) << "a port the caller set up stays the caller's";
}

TEST(plane, a_port_it_set_up_is_stopped_and_closed) {
    ring_device dev("ut_pl_dev8", 1);
    {
        plane p(config(dev, 1, true));
        rte_eth_dev_info info{};
        ASSERT_EQ(rte_eth_dev_info_get(dev.id, &info), 0);
        EXPECT_EQ(info.nb_rx_queues, 1);
    }
    EXPECT_FALSE(rte_eth_dev_is_valid_port(dev.id));
    expect_nothing_left();
}

// The descriptors asked for a port it sets up are what its pool grows by (4095 in config()):
// one mbuf per RX and TX descriptor of every worker's queue, the default when unset.
TEST(plane, its_pool_holds_the_rings_of_the_ports_it_sets_up) {
    {
        ring_device dev("ut_pl_dev9", 2);
        plane_config c = config(dev, 2, true);
        c.ports[0].rx_desc = 2048;
        c.ports[0].tx_desc = 512;
        plane p(c);
        const rte_mempool* pool = rte_mempool_lookup("ut_plane_mbufs");
        ASSERT_NE(pool, nullptr);
        EXPECT_EQ(pool->size, 4095u + 2 * (2048 + 512));
    }
    expect_nothing_left();
    {
        ring_device dev("ut_pl_dev10", 1);
        plane p(config(dev, 1, true));
        const rte_mempool* pool = rte_mempool_lookup("ut_plane_mbufs");
        ASSERT_NE(pool, nullptr);
        EXPECT_EQ(pool->size, 4095u + 2u * port_params::default_desc);
    }
    expect_nothing_left();
}

// Each ring in turn cannot be created (its name is taken, as a second relay's would be, or
// memory is short): the error names it, and whatever was built before it is gone.
TEST(plane, failed_ring_names_itself_and_leaves_nothing) {
    ring_device dev("ut_pl_dev1", 2);
    for (const std::string& suffix : ring_suffixes) {
        SCOPED_TRACE(suffix);
        const std::string name = "ut_plane_" + suffix;
        rte_ring* taken = rte_ring_create(name.c_str(), 64, 0, 0);
        ASSERT_NE(taken, nullptr);
        const uint64_t heap_before = dpdk_heap_in_use();
        try {
            plane p(config(dev, 2, false));
            ADD_FAILURE() << "built although ring " << name << " exists";
        } catch (const std::runtime_error& e) {
            EXPECT_EQ(std::string(e.what()), "ring '" + name + "': rte_ring_create failed: File exists");
        }
        EXPECT_EQ(dpdk_heap_in_use(), heap_before) << "nothing of the half-built plane stays allocated";
        rte_ring_free(taken);
        expect_nothing_left();
    }
    // The same plane builds now that the names are free.
    plane p(config(dev, 2, false));
    EXPECT_TRUE(ring_exists("ut_plane_handoff1"));
}

TEST(plane, failed_ring_closes_the_port_it_had_set_up) {
    rte_ring* taken = rte_ring_create("ut_plane_handoff1", 64, 0, 0);
    ASSERT_NE(taken, nullptr);
    ring_device dev("ut_pl_dev2", 2);
    EXPECT_THROW(plane{config(dev, 2, true)}, std::runtime_error);
    rte_ring_free(taken);
    EXPECT_FALSE(rte_eth_dev_is_valid_port(dev.id));
    expect_nothing_left();
}

// As in the daemon: something throws after launch(); unwinding stops and joins the workers
// before the rings and tables they read go away, and the next plane launches on the same lcores.
TEST(plane, exception_after_launch_stops_and_joins_the_workers) {
    ring_device dev("ut_pl_dev3", 2, true);
    const uint64_t heap_before = dpdk_heap_in_use();
    uint64_t polls[2] = {};
    try {
        plane p(config(dev, 2, false));
        p.launch();
        EXPECT_TRUE(p.running());
        // Both workers poll: an ARP request on queue 1 reaches the control plane through worker 1.
        ASSERT_TRUE(wait_until([&] { return p.worker_at(0).counters.polls > 0 && p.worker_at(1).counters.polls > 0; }));
        rte_mbuf* arp =
            test::to_mbuf(test::arp_request_frame(test::mac(0x42), ip4(198, 18, 7, 9), ip4(198, 18, 7, 1), 0), dev.id);
        ASSERT_NE(arp, nullptr);
        ASSERT_EQ(rte_ring_enqueue(dev.rx[1], arp), 0);
        ASSERT_TRUE(wait_until([&] { return rte_ring_count(p.to_control()) == 1; }));
        polls[0] = p.worker_at(0).counters.polls;
        polls[1] = p.worker_at(1).counters.arp_to_control;
        throw std::runtime_error("control plane failed");
    } catch (const std::runtime_error& e) {
        EXPECT_STREQ(e.what(), "control plane failed");
    }
    EXPECT_GT(polls[0], 0u);
    EXPECT_EQ(polls[1], 1u);
    expect_worker_lcores_free();
    expect_nothing_left();
    EXPECT_EQ(dpdk_heap_in_use(), heap_before);

    plane again(config(dev, 2, false));
    again.launch();
    EXPECT_TRUE(wait_until([&] { return again.worker_at(1).counters.polls > 0; }));
    EXPECT_EQ(again.stop(), 2u);
}

TEST(plane, stop_joins_once_and_freezes_the_counters) {
    ring_device dev("ut_pl_dev4", 2);
    plane p(config(dev, 2, true));
    EXPECT_EQ(p.stop(), 0u) << "nothing launched";
    p.launch();
    ASSERT_TRUE(wait_until([&] { return p.worker_at(1).counters.polls > 0; }));
    EXPECT_EQ(p.stop(), 2u);
    EXPECT_FALSE(p.running());
    EXPECT_EQ(p.stop(), 0u);
    const uint64_t polls = p.totals().polls;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    EXPECT_EQ(p.totals().polls, polls);
    expect_worker_lcores_free();
    EXPECT_THROW(p.launch(), std::logic_error) << "a plane launches once";
}

// More workers than EAL has worker lcores: the ones started are stopped again.
TEST(plane, launch_without_enough_lcores_stops_what_it_started) {
    ring_device dev("ut_pl_dev5", 3);
    plane_config c = config(dev, 3, true);
    {
        plane p(c);
        try {
            p.launch();
            ADD_FAILURE() << "3 workers launched on " << rtprelay::test::eal_worker_lcores << " worker lcores";
        } catch (const std::runtime_error& e) {
            EXPECT_EQ(std::string(e.what()), "3 workers need as many EAL worker lcores, EAL has 2");
        }
        EXPECT_FALSE(p.running());
        expect_worker_lcores_free();
    }
    expect_nothing_left();
}

// Packets still on the plane's rings at the end go back to the pool they came from.
TEST(plane, packets_left_on_its_rings_go_back_to_the_pool) {
    ring_device dev("ut_pl_dev6", 2);
    plane_config c = config(dev, 2, false);
    c.pool = test::packet_pool();
    const unsigned avail = rte_mempool_avail_count(c.pool);
    {
        plane p(c);
        for (rte_ring* r : {p.to_control(), p.control_tx(), p.handoff(0), p.handoff(1)}) {
            rte_mbuf* m = rte_pktmbuf_alloc(c.pool);
            ASSERT_NE(m, nullptr);
            ASSERT_EQ(rte_ring_enqueue(r, m), 0);
        }
        EXPECT_EQ(rte_mempool_avail_count(c.pool), avail - 4);
    }
    EXPECT_EQ(rte_mempool_avail_count(c.pool), avail);
    EXPECT_NE(rte_mempool_lookup(c.pool->name), nullptr) << "a borrowed pool stays";
}

TEST(plane, bad_configuration_is_refused_and_leaves_nothing) {
    ring_device dev("ut_pl_dev7", 1);
    plane_config c = config(dev, 1, true);
    c.name = "a_name_too_long";
    EXPECT_THROW(plane{c}, std::runtime_error);
    c = config(dev, 0, true);
    EXPECT_THROW(plane{c}, std::runtime_error);
    c = config(dev, 1, true);
    c.ports[0].id = max_ports;  // no such port
    EXPECT_THROW(plane{c}, std::runtime_error);
    c = config(dev, 1, true);
    c.addresses.assign(local_addresses::max + 1, {});
    for (uint32_t i = 0; i < c.addresses.size(); ++i) {
        c.addresses[i] = {ip4(198, 18, 8, static_cast<uint8_t>(i)), dev.id, 0};
    }
    EXPECT_THROW(plane{c}, std::runtime_error);
    expect_nothing_left();
    EXPECT_FALSE(rte_eth_dev_is_valid_port(dev.id)) << "the last attempt had set the port up";
}

}  // namespace
}  // namespace rtprelay::dp
