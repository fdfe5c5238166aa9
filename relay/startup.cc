#include "relay/startup.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_ring.h>

#include "control/interfaces.h"
#include "control/log.h"
#include "control/ng/server.h"
#include "control/publish/publisher.h"
#include "control/recording/recorder.h"
#include "relay/options.h"

namespace rtprelay {

eal_session::eal_session(const relay_options& opt) {
    args_.push_back("rtprelay");
    args_.insert(args_.end(), opt.eal_args.begin(), opt.eal_args.end());
    std::vector<char*> argv;
    for (auto& s : args_) {
        argv.push_back(s.data());
    }
    if (rte_eal_init(static_cast<int>(argv.size()), argv.data()) < 0) {
        throw std::runtime_error(std::string("EAL initialisation failed: ") + rte_strerror(rte_errno) +
                                 " (check --eal)");
    }
}

eal_session::~eal_session() { rte_eal_cleanup(); }

running_workers::running_workers(dp::plane& p) : plane_(p) { plane_.launch(); }

void running_workers::stop() {
    if (const unsigned n = plane_.stop(); n != 0) {
        RLOG_INFO("%u worker(s) stopped and joined", n);
    }
}

dp::plane_config plane_config_for(const relay_options& opt, const interface_set& interfaces) {
    dp::plane_config c;
    c.workers = static_cast<uint16_t>(opt.workers);
    c.socket = static_cast<int>(rte_socket_id());
    c.mbufs = opt.mbufs;
    c.max_flows = opt.max_flows;
    c.max_neighbours = opt.max_neighbours;
    c.idle_sleep_us = opt.idle_sleep_us;
    c.steering = opt.flow_steering == "auto";
    c.record_bytes = opt.recording_dir.empty() ? 0 : opt.recording_ring_mb << 20;
    std::map<uint16_t, std::pair<uint16_t, uint16_t>> ports;  // port -> largest (rx, tx) descriptors asked
    std::set<uint16_t> vlans;
    for (const auto& i : interfaces.all()) {
        if (i.dpdk_port >= dp::max_ports || !rte_eth_dev_is_valid_port(i.dpdk_port)) {
            throw std::invalid_argument("interface '" + i.name + "': dpdk-port=" + std::to_string(i.dpdk_port) +
                                        " does not exist (EAL found " + std::to_string(rte_eth_dev_count_avail()) +
                                        " ports)");
        }
        auto& desc = ports[i.dpdk_port];
        desc.first = std::max(desc.first, i.rx_desc);
        desc.second = std::max(desc.second, i.tx_desc);
        if (i.vlan != 0) {
            vlans.insert(i.vlan);
        }
        for (const auto& a : i.addresses) {
            c.addresses.push_back(local_address_of(a.net.base, i.dpdk_port, i.vlan));
        }
    }
    for (const auto& [p, desc] : ports) {
        c.ports.push_back(dp::plane_port{
            .id = p, .set_up = true, .mac = std::nullopt, .rx_desc = desc.first, .tx_desc = desc.second});
    }
    c.vlans.assign(vlans.begin(), vlans.end());
    return c;
}

recording::policy recording_policy_for(const relay_options& opt, const interface_set& interfaces) {
    for (const auto& i : interfaces.all()) {
        if (i.recording.when.value_or(recording::mode::off) != recording::mode::off && opt.recording_dir.empty()) {
            throw std::invalid_argument("interface '" + i.name + "': recording=" +
                                        recording::mode_name(*i.recording.when) + " needs --recording-dir");
        }
    }
    if (!opt.recording_dir.empty()) {
        recording::prepare_directory(opt.recording_dir);
    }
    return {recording::parse_mode(opt.recording), recording::parse_channels(opt.recording_channels)};
}

void check_config(const relay_options& opt, const interface_set& interfaces) {
    if (!ng::parse_endpoint(opt.ng_listen, true)) {
        throw std::invalid_argument("option '--ng-listen': '" + opt.ng_listen + "' is not ADDRESS:PORT");
    }
    if (!opt.metrics_listen.empty() && !ng::parse_endpoint(opt.metrics_listen, true)) {
        throw std::invalid_argument("option '--metrics-listen': '" + opt.metrics_listen + "' is not ADDRESS:PORT");
    }
    std::printf("configuration OK: %zu interface(s)", interfaces.all().size());
    for (const auto& i : interfaces.all()) {
        std::printf(" %s(port %u, %zu address(es))", i.name.c_str(), i.dpdk_port, i.addresses.size());
    }
    std::printf(", %u worker(s), NG on %s\n", opt.workers, opt.ng_listen.c_str());
}

test_fault read_test_fault() {
    test_fault f;
    const char* v = std::getenv("RTPRELAY_TEST_FAULT");
    const std::string s = v != nullptr ? v : "";
    if (s.rfind("ring=", 0) == 0) {
        f.ring = s.substr(5);
    } else if (s == "after-launch") {
        f.after_launch = true;
    } else if (!s.empty()) {
        throw std::invalid_argument("RTPRELAY_TEST_FAULT: '" + s + "' is neither ring=NAME nor after-launch");
    }
    return f;
}

void ring_deleter::operator()(rte_ring* r) const { rte_ring_free(r); }

std::unique_ptr<rte_ring, ring_deleter> make_fault_ring(const test_fault& f) {
    if (f.ring.empty()) {
        return nullptr;
    }
    rte_ring* r = rte_ring_create(f.ring.c_str(), 64, SOCKET_ID_ANY, 0);
    if (r == nullptr) {
        throw std::runtime_error("RTPRELAY_TEST_FAULT: ring '" + f.ring + "': " + rte_strerror(rte_errno));
    }
    return std::unique_ptr<rte_ring, ring_deleter>(r);
}

}  // namespace rtprelay
