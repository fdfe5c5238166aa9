#pragma once
// Floating NG addresses (README "NG addresses that move"): the NG address of a node of a
// group moves with its media addresses, so that a SIP proxy that pinned a call to a node
// (Kamailio's rtpengine module does) reaches whichever node serves the call now.
//
// The group leases each floating address like a media address (control/ha/group.h calls
// set() when this node starts or stops serving one). Serving one means: an NG socket bound
// to it (IP_FREEBIND: bound before the kernel has the address), the address on the
// management interface, and a gratuitous ARP (IPv6: an unsolicited neighbour advertisement)
// for it there; IPv4 and IPv6 alike. set() opens or closes the socket
// at once, on the control thread; the kernel side (relay/kernel_address.h) runs in order on
// a thread of this class's own, so the NG thread never waits for it. Stopping: the socket
// closes first, then the address goes, both within the control loop turn that sees the
// lease lapse (3/4 lease after the last renewal sent), before a peer can take it.
//
// A node that dies keeps nothing it should not serve: at start every floating address is
// removed from the interface (a crashed run may have left one), and the systemd unit runs
// `rtprelay --ng-float-release` after every stop, crash and kill -9 included.

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "control/address.h"

namespace rtprelay {

namespace ng {
class ng_server;
}

class ng_float {
 public:
    // Removes every address of `addresses` from `ifname` (synchronously: start-up), then
    // starts the kernel thread. `port`: the NG port every floating address listens on.
    ng_float(ng::ng_server& server, std::string ifname, std::vector<cidr> addresses, uint16_t port);
    ~ng_float();
    ng_float(const ng_float&) = delete;
    ng_float& operator=(const ng_float&) = delete;

    // Control thread: start (`on`) or stop serving floating address `address` (as
    // ip_address::to_string spells it).
    void set(const std::string& address, bool on);
    // Control thread, before the node gives its leases back: closes every floating socket
    // and removes every floating address now (synchronously), so that nothing answers here
    // once a peer may take them. set() does nothing afterwards.
    void release_all();

    // Removes every address of `addresses` from `ifname`; what failed goes to stderr. For
    // start-up and for `rtprelay --ng-float-release` (the systemd unit's ExecStopPost).
    static bool remove_all(const std::string& ifname, const std::vector<cidr>& addresses);

 private:
    struct op {
        cidr address;
        bool add = false;
    };
    void run();
    const cidr* find(const std::string& address) const;
    std::string endpoint(const cidr& a) const;

    ng::ng_server& server_;
    const std::string ifname_;
    const std::vector<cidr> addresses_;
    const uint16_t port_;

    std::mutex mu_;  // guards ops_, stop_
    std::condition_variable wake_;
    std::deque<op> ops_;  // control thread: push; kernel thread: pop
    bool stop_ = false;
    std::thread thread_;
};

}  // namespace rtprelay
