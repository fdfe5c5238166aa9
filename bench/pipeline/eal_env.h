#pragma once
// DPDK for the pipeline benchmark: EAL on one lcore (the main thread, which also runs the
// worker loop), an mbuf pool, and two net_ring ethdevs standing for the relay's two
// interfaces. A ring port's RX ring is where the generator puts frames, its TX ring where
// the worker's rte_eth_tx_burst() leaves them for the sink.

#include <cstdint>
#include <string>
#include <vector>

#include <rte_ether.h>

struct rte_mempool;
struct rte_ring;

namespace rtprelay::pipeline {

struct ring_port {
    rte_ring* rx = nullptr;  // generator -> worker
    rte_ring* tx = nullptr;  // worker -> sink
    uint16_t id = 0;
    rte_ether_addr mac{};    // ours: every net_ring port reports the same one
};

class eal_env {
 public:
    // Hugepages when enough are free (--in-memory), else --no-huge with `mem_mb` of
    // ordinary memory. Pinned to the first CPU this process may run on. Throws on failure.
    eal_env(uint32_t mem_mb, bool no_huge);
    ~eal_env();
    eal_env(const eal_env&) = delete;
    eal_env& operator=(const eal_env&) = delete;

    bool hugepages() const { return hugepages_; }
    unsigned cpu() const { return cpu_; }
    rte_mempool* pool() const { return pool_; }
    ring_port& port(int side) { return ports_[side]; }

 private:
    void open_ports();
    void close();
    void remove_runtime_dir();

    bool hugepages_ = false;
    unsigned cpu_ = 0;
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
