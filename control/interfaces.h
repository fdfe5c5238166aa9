#pragma once
// Logical interfaces: a name (a region like "jp1", or "internal"/"external"), the media
// addresses it owns with their port pools, and how its packets leave: DPDK port, optional
// VLAN, gateway. Written in config as one line each:
//
//   interface = jp1 address=54.65.63.200/26,54.65.63.201/26 dpdk-port=0 gateway=54.65.63.193 ports=10000-20000 vlan=0
//
// Addresses may be IPv4, IPv6 or both (address=198.18.0.1/24,2001:2::1/64): a leg gets a
// local address of the family its peer speaks (or the NG `address family` asks for), so one
// interface can bridge an IPv4 leg to an IPv6 one. `gateway` takes one address per family
// (gateway=198.18.0.254,2001:2::fe).
//
// plus the SRTP policy (control/sdes/policy.h): srtp=off|optional|required,
// offer-suites=..., accept-suites=..., unencrypted-srtcp=allow|refuse, mki=accept|refuse;
// admission (control/admission): capacity=1G (bandwidth budget), cps=N (new calls per
// second);
// endpoint learning: strict-source=on|off, learn-window=SECONDS; call recording
// (control/recording/policy.h): recording=off|from-answer|from-ringing,
// recording-channels=mixed|dual, unset = the node's --recording / --recording-channels;
// and the DPDK port's ring sizes: rx-desc=N, tx-desc=N (descriptors per queue;
// dataplane/port_setup.h has the defaults and why).
//
// Without a gateway every peer must be on-link (test namespaces); with one, peers outside
// the address's prefix are reached through it (each family through its own gateway).

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "control/address.h"
#include "control/ports/port_pool.h"
#include "control/recording/policy.h"
#include "control/sdes/policy.h"

namespace rtprelay {

struct media_address {
    cidr net;  // the address and its on-link prefix
    std::unique_ptr<port_pool> pool;
    // New calls get ports here. Always, on a node of its own; in a group (control/ha) only
    // while this node holds the address's lease.
    bool serving = true;
};

struct logical_interface {
    std::string name;
    std::vector<media_address> addresses;
    uint16_t dpdk_port = 0;
    uint16_t vlan = 0;
    std::optional<ip_address> gateway;   // IPv4 next hop for peers off the prefix
    std::optional<ip_address> gateway6;  // IPv6 next hop for peers off the prefix
    sdes::srtp_policy srtp;
    uint64_t capacity_bps = 0;  // capacity=1G: bandwidth budget per direction, 0 = none
    double cps = 0;             // cps=N: new calls per second through it, 0 = no limit
    // Endpoint learning on its legs (dataplane/latch.h): strict-source=on drops every packet
    // not from the latched/SDP address; learn-window=S is how long after each offer/answer
    // a plain RTP leg may latch to a source its SDP did not name (0 = never).
    bool strict_source = false;
    uint32_t learn_window_s = 3;
    recording::policy recording;  // recording=, recording-channels=: unset = the node's
    // rx-desc=N / tx-desc=N: descriptors per RX / TX queue of its DPDK port, 0 = the default
    // (port_params). Interfaces sharing a port get the largest any of them asks for.
    uint16_t rx_desc = 0;
    uint16_t tx_desc = 0;
    size_t index = 0;  // position in the interface_set
    uint16_t port_min = 10000;
    uint16_t port_max = 20000;
    size_t next_address[2] = {0, 0};  // per family: round robin over addresses with free ports

    // A fresh port pair on one of the addresses of family `fam` being served, spreading calls
    // over them. Null when every such address is out of ports (or there is none: has_family
    // first).
    struct allocation {
        size_t address_index;
        uint16_t rtp_port;
    };
    std::optional<allocation> allocate(ip_address::family fam = ip_address::family::v4);
    // Claims a given pair (a call adopted from another node keeps its ports, of either
    // family: the address index names it); false when the address or port is not this
    // interface's or is in use.
    bool take(const allocation& a);
    void release(const allocation& a);
    bool has_family(ip_address::family fam) const;
    // The family of the first address: what a leg gets when nothing says otherwise.
    ip_address::family first_family() const { return addresses.front().net.base.fam; }
    // The first address of `fam`; null when the interface has none.
    const ip_address* first_address(ip_address::family fam) const;
    const std::optional<ip_address>& gateway_for(ip_address::family fam) const {
        return fam == ip_address::family::v4 ? gateway : gateway6;
    }
};

// Parses one interface line. Throws std::invalid_argument naming the field and the reason
// ("interface 'jp1': address '54.65.63.300/26' is not an address/prefix").
logical_interface parse_interface(std::string_view spec, uint64_t seed);

class interface_set {
 public:
    void add(logical_interface i);  // throws on duplicate names / overlapping addresses
    logical_interface* find(std::string_view name);
    logical_interface& front() { return items_.front(); }
    std::vector<logical_interface>& all() { return items_; }
    const std::vector<logical_interface>& all() const { return items_; }
    bool empty() const { return items_.empty(); }

 private:
    std::vector<logical_interface> items_;
};

}  // namespace rtprelay
