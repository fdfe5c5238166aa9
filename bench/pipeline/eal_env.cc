#include "bench/pipeline/eal_env.h"

#include <sched.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_eth_ring.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <system_error>
#include <vector>

#include "dataplane/port_setup.h"
#include "dataplane/worker.h"

namespace rtprelay::pipeline {

namespace {

// Bytes of hugepage memory free now, from /proc/meminfo (0 if unreadable).
uint64_t free_hugepage_bytes() {
    std::ifstream in("/proc/meminfo");
    std::string key;
    uint64_t free_pages = 0;
    uint64_t page_kb = 0;
    while (in >> key) {
        if (key == "HugePages_Free:") {
            in >> free_pages;
        } else if (key == "Hugepagesize:") {
            in >> page_kb;
        }
        in.ignore(1 << 10, '\n');
    }
    return free_pages * page_kb * 1024;
}

unsigned first_allowed_cpu() {
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof(set), &set) == 0) {
        for (unsigned c = 0; c < CPU_SETSIZE; ++c) {
            if (CPU_ISSET(c, &set)) {
                return c;
            }
        }
    }
    return 0;
}

// RX/TX rings hold 1023 frames; the loop never has more than two bursts in flight. The pool
// covers both ports' rings full plus the generator's and the worker's bursts.
constexpr unsigned ring_size = 1024;
constexpr unsigned pool_mbufs = 8191;

}  // namespace

void free_ring_contents(rte_ring* r) {
    void* objs[64];
    unsigned n = 0;
    while ((n = rte_ring_dequeue_burst(r, objs, 64, nullptr)) != 0) {
        rte_pktmbuf_free_bulk(reinterpret_cast<rte_mbuf**>(objs), n);
    }
}

eal_env::eal_env(uint32_t mem_mb, bool no_huge) {
    cpu_ = first_allowed_cpu();
    prefix_ = "rtprelay_pipe_" + std::to_string(getpid());
    // Checked first: EAL cannot be initialised a second time after a failed attempt.
    hugepages_ = !no_huge && free_hugepage_bytes() >= uint64_t{mem_mb} * 1024 * 1024;
    // EAL may keep pointers into argv: the strings live as long as this object.
    args_ = {
        "rtprelay-pipeline-bench", "-l", std::to_string(cpu_), "--no-pci", "--no-telemetry",
        "--file-prefix", prefix_, "-m", std::to_string(mem_mb), "--log-level=lib.eal:warning",
    };
    if (hugepages_) {
        args_.push_back("--in-memory");
    } else {
        // --in-memory is refused with --no-huge; --no-shconf keeps EAL's files away.
        args_.push_back("--no-huge");
        args_.push_back("--no-shconf");
    }
    std::vector<char*> argv;
    for (auto& a : args_) {
        argv.push_back(a.data());
    }
    if (rte_eal_init(static_cast<int>(argv.size()), argv.data()) < 0) {
        const int err = rte_errno;
        runtime_dir_ = rte_eal_get_runtime_dir();
        remove_runtime_dir();
        throw std::runtime_error(std::string("rte_eal_init failed: ") + rte_strerror(err));
    }
    runtime_dir_ = rte_eal_get_runtime_dir();
    try {
        open_ports();
    } catch (...) {
        close();
        throw;
    }
}

void eal_env::open_ports() {
    pool_ = dp::create_mbuf_pool("pipe_mbufs", pool_mbufs, 0);
    for (int s = 0; s < 2; ++s) {
        ring_port& p = ports_[s];
        const std::string n = std::string("pipe_port") + static_cast<char>('a' + s);
        p.rx = rte_ring_create((n + "_rx").c_str(), ring_size, 0, RING_F_SP_ENQ | RING_F_SC_DEQ);
        p.tx = rte_ring_create((n + "_tx").c_str(), ring_size, 0, RING_F_SP_ENQ | RING_F_SC_DEQ);
        if (p.rx == nullptr || p.tx == nullptr) {
            throw std::runtime_error("ring port " + n + ": rte_ring_create failed");
        }
        const int id = rte_eth_from_rings(n.c_str(), &p.rx, 1, &p.tx, 1, 0);
        if (id < 0 || id >= dp::max_ports) {
            throw std::runtime_error("ring port " + n + ": rte_eth_from_rings failed");
        }
        p.id = static_cast<uint16_t>(id);
        dp::port_params pp;
        pp.n_queues = 1;
        dp::setup_port(p.id, pp, pool_);
        ports_up_[s] = true;
        p.mac = rte_ether_addr{{0x02, 0x00, 0x00, 0x00, 0x00, static_cast<uint8_t>(0xa0 + s)}};
    }
}

eal_env::~eal_env() { close(); }

void eal_env::close() {
    for (int s = 0; s < 2; ++s) {
        ring_port& p = ports_[s];
        if (ports_up_[s]) {
            dp::stop_port(p.id);
        }
        if (p.rx != nullptr) {
            free_ring_contents(p.rx);
            rte_ring_free(p.rx);
        }
        if (p.tx != nullptr) {
            free_ring_contents(p.tx);
            rte_ring_free(p.tx);
        }
    }
    rte_mempool_free(pool_);
    rte_eal_cleanup();
    remove_runtime_dir();
}

void eal_env::remove_runtime_dir() {
    // EAL creates <runtime>/dpdk/<prefix> even when it writes nothing there; the name holds
    // our unique prefix, so it is ours to remove.
    if (!runtime_dir_.empty() && runtime_dir_.find(prefix_) != std::string::npos) {
        std::error_code ec;
        std::filesystem::remove_all(runtime_dir_, ec);
    }
}

}  // namespace rtprelay::pipeline
