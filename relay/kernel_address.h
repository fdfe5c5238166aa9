#pragma once
// An address on a kernel network interface (the management side, where NG runs), added and
// removed through rtnetlink and announced with a gratuitous ARP from a packet socket: what
// `ip addr add`, `ip addr del` and `arping -U` do, without spawning them. Each call is a
// few system calls on a local socket (tens of microseconds, never a network wait), but it
// is still kept off the NG thread (relay/ng_float.h runs them on a thread of its own).
// Needs CAP_NET_ADMIN (address changes) and CAP_NET_RAW (the ARP frame). IPv4 only.

#include <string>

#include "control/address.h"

namespace rtprelay {

// Adds `a` (address and prefix) to interface `ifname`; already there is success.
bool add_kernel_address(const std::string& ifname, const cidr& a, std::string* why);
// Removes `a` from `ifname`; not there is success.
bool remove_kernel_address(const std::string& ifname, const cidr& a, std::string* why);
// Sends a gratuitous ARP for `a` from `ifname`'s MAC to the broadcast address, as a request
// and as a reply (RFC 5227 announcement; some hosts heed only one of the two), so that
// neighbours and switches learn at once that the address is here now.
bool announce_kernel_address(const std::string& ifname, const ip_address& a, std::string* why);

}  // namespace rtprelay
