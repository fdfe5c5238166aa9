#pragma once
// DPDK for the pipeline benchmark: EAL on one lcore per worker (the main thread runs worker
// 0's loop, lcore i worker i's), an mbuf pool, and two net_ring ethdevs standing for the
// relay's two interfaces, each with one RX and one TX queue per worker, set up by the
// daemon's own dp::setup_port. Queue q's RX ring is where generator q puts frames, its TX
// ring where worker q's rte_eth_tx_burst() leaves them for sink q.

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <rte_ether.h>

struct rte_mempool;
struct rte_ring;

namespace rtprelay::pipeline {

inline constexpr unsigned max_lanes = 16;  // dp::max_workers

struct ring_port {
    rte_ring* rx[max_lanes] = {};  // per queue: generator -> worker
    rte_ring* tx[max_lanes] = {};  // per queue: worker -> sink
    uint16_t id = 0;
    rte_ether_addr mac{};  // ours: every net_ring port reports the same one
};

class eal_env {
 public:
    // Hugepages when enough are free (--in-memory), else --no-huge with `mem_mb` of
    // ordinary memory. `lanes` lcores (and queues per port): lcore i pinned to the i-th CPU
    // this process may run on (wrapping round when there are fewer). Throws on failure.
    eal_env(uint32_t mem_mb, bool no_huge, unsigned lanes);
    ~eal_env();
    eal_env(const eal_env&) = delete;
    eal_env& operator=(const eal_env&) = delete;

    bool hugepages() const { return hugepages_; }
    unsigned cpu() const { return cpus_[0]; }
    unsigned cpu(unsigned lane) const { return cpus_[lane]; }
    unsigned lanes() const { return lanes_; }
    // EAL lcore id of lane i (lane 0 is the main lcore).
    unsigned lcore(unsigned lane) const { return lcores_[lane]; }
    rte_mempool* pool() const { return pool_; }
    ring_port& port(int side) { return ports_[side]; }
    // Runs fn(i) for i in [0, n) at once, fn(i) on lane i's lcore (fn(0) in the caller), and
    // returns when all are done; rethrows the first exception one of them threw.
    void run_on_lanes(unsigned n, const std::function<void(unsigned)>& fn);

 private:
    void open_ports();
    void close();
    void remove_runtime_dir();

    bool hugepages_ = false;
    unsigned lanes_ = 1;
    std::vector<unsigned> cpus_;
    std::vector<unsigned> lcores_;
    std::string prefix_;
    std::vector<std::string> args_;
    std::string runtime_dir_;
    rte_mempool* pool_ = nullptr;
    ring_port ports_[2];
    bool ports_up_[2] = {false, false};
};

// Frees every mbuf left on a ring.
void free_ring_contents(rte_ring* r);

}  // namespace rtprelay::pipeline
