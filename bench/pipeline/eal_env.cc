#include "bench/pipeline/eal_env.h"

#include <sched.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_eth_ring.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include <exception>
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

std::vector<unsigned> allowed_cpus() {
    std::vector<unsigned> out;
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof(set), &set) == 0) {
        for (unsigned c = 0; c < CPU_SETSIZE; ++c) {
            if (CPU_ISSET(c, &set)) {
                out.push_back(c);
            }
        }
    }
    if (out.empty()) {
        out.push_back(0);
    }
    return out;
}

// RX/TX rings hold 1023 frames; the timed loop never has more than two bursts in flight,
// the paced loop at most a full RX ring per queue. The pool covers every queue's rings full
// plus the handoff rings and the generators' and workers' bursts.
constexpr unsigned ring_size = 1024;

}  // namespace

void free_ring_contents(rte_ring* r) {
    void* objs[64];
    unsigned n = 0;
    while ((n = rte_ring_dequeue_burst(r, objs, 64, nullptr)) != 0) {
        rte_pktmbuf_free_bulk(reinterpret_cast<rte_mbuf**>(objs), n);
    }
}

eal_env::eal_env(uint32_t mem_mb, bool no_huge, unsigned lanes) {
    lanes_ = lanes < 1 ? 1 : (lanes > max_lanes ? max_lanes : lanes);
    const std::vector<unsigned> allowed = allowed_cpus();
    std::string lcore_map;
    for (unsigned i = 0; i < lanes_; ++i) {
        cpus_.push_back(allowed[i % allowed.size()]);
        lcores_.push_back(i);
        lcore_map += (i == 0 ? "" : ",") + std::to_string(i) + "@" + std::to_string(cpus_.back());
    }
    prefix_ = "rtprelay_pipe_" + std::to_string(getpid());
    // Checked first: EAL cannot be initialised a second time after a failed attempt.
    hugepages_ = !no_huge && free_hugepage_bytes() >= uint64_t{mem_mb} * 1024 * 1024;
    // EAL may keep pointers into argv: the strings live as long as this object.
    args_ = {
        "rtprelay-pipeline-bench",
        "--lcores",
        lcore_map,
        "--main-lcore",
        "0",
        "--no-pci",
        "--no-telemetry",
        "--file-prefix",
        prefix_,
        "-m",
        std::to_string(mem_mb),
        "--log-level=lib.eal:warning",
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
    // 2 ports x lanes x (RX + TX ring) + a handoff ring (4096) per lane + bursts in hand.
    const unsigned pool_mbufs = lanes_ * (4 * ring_size + 4096) + 4095;
    pool_ = dp::create_mbuf_pool("pipe_mbufs", pool_mbufs, 0);
    for (int s = 0; s < 2; ++s) {
        ring_port& p = ports_[s];
        const std::string n = std::string("pipe_port") + static_cast<char>('a' + s);
        for (unsigned q = 0; q < lanes_; ++q) {
            const std::string qn = n + std::to_string(q);
            p.rx[q] = rte_ring_create((qn + "_rx").c_str(), ring_size, 0, RING_F_SP_ENQ | RING_F_SC_DEQ);
            p.tx[q] = rte_ring_create((qn + "_tx").c_str(), ring_size, 0, RING_F_SP_ENQ | RING_F_SC_DEQ);
            if (p.rx[q] == nullptr || p.tx[q] == nullptr) {
                throw std::runtime_error("ring port " + qn + ": rte_ring_create failed");
            }
        }
        const int id = rte_eth_from_rings(n.c_str(), p.rx, lanes_, p.tx, lanes_, 0);
        if (id < 0 || id >= dp::max_ports) {
            throw std::runtime_error("ring port " + n + ": rte_eth_from_rings failed");
        }
        p.id = static_cast<uint16_t>(id);
        // As dp::plane sets up the daemon's ports: one RX and one TX queue per worker (RSS is
        // not offered by net_ring).
        dp::port_params pp;
        pp.n_queues = static_cast<uint16_t>(lanes_);
        dp::setup_port(p.id, pp, pool_);
        ports_up_[s] = true;
        p.mac = rte_ether_addr{{0x02, 0x00, 0x00, 0x00, 0x00, static_cast<uint8_t>(0xa0 + s)}};
    }
}

eal_env::~eal_env() { close(); }

namespace {
struct lane_call {
    const std::function<void(unsigned)>* fn = nullptr;
    unsigned lane = 0;
    std::exception_ptr error;
};

int lane_entry(void* arg) {
    auto* c = static_cast<lane_call*>(arg);
    try {
        (*c->fn)(c->lane);
    } catch (...) {
        c->error = std::current_exception();
    }
    return 0;
}
}  // namespace

void eal_env::run_on_lanes(unsigned n, const std::function<void(unsigned)>& fn) {
    if (n < 1 || n > lanes_) {
        throw std::runtime_error("run_on_lanes: " + std::to_string(n) + " lanes of " + std::to_string(lanes_));
    }
    std::vector<lane_call> calls(n);
    for (unsigned i = 0; i < n; ++i) {
        calls[i].fn = &fn;
        calls[i].lane = i;
    }
    for (unsigned i = 1; i < n; ++i) {
        if (rte_eal_remote_launch(lane_entry, &calls[i], lcores_[i]) != 0) {
            throw std::runtime_error("rte_eal_remote_launch failed for lcore " + std::to_string(lcores_[i]));
        }
    }
    lane_entry(&calls[0]);
    rte_eal_mp_wait_lcore();
    for (const lane_call& c : calls) {
        if (c.error) {
            std::rethrow_exception(c.error);
        }
    }
}

void eal_env::close() {
    for (int s = 0; s < 2; ++s) {
        ring_port& p = ports_[s];
        if (ports_up_[s]) {
            dp::stop_port(p.id);
        }
        for (unsigned q = 0; q < max_lanes; ++q) {
            for (rte_ring* r : {p.rx[q], p.tx[q]}) {
                if (r != nullptr) {
                    free_ring_contents(r);
                    rte_ring_free(r);
                }
            }
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
