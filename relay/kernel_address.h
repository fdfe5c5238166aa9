#pragma once
// An address on a kernel network interface (the management side, where NG runs), added and
// removed through rtnetlink and announced from a packet socket (IPv4: a gratuitous ARP;
// IPv6: an unsolicited neighbour advertisement): what `ip addr add [nodad]`, `ip addr del`,
// `arping -U` and `ndsend` do, without spawning them. Each call is a few system calls on a
// local socket (tens of microseconds, never a network wait), but it is still kept off the
// NG thread (relay/ng_float.h runs them on a thread of its own). Needs CAP_NET_ADMIN
// (address changes) and CAP_NET_RAW (the announcement). IPv4 and IPv6.

#include <string>

#include "control/address.h"

namespace rtprelay {

// Adds `a` (address and prefix) to interface `ifname`; already there is success. An IPv6
// address is added without duplicate address detection (IFA_F_NODAD): usable at once, as a
// moved address must be, instead of ~1 s "tentative" (its lease says nobody else holds it).
bool add_kernel_address(const std::string& ifname, const cidr& a, std::string* why);
// Removes `a` from `ifname`; not there is success.
bool remove_kernel_address(const std::string& ifname, const cidr& a, std::string* why);
// Tells neighbours and switches at once that `a` is at `ifname`'s MAC now. IPv4: a
// gratuitous ARP to the broadcast address, as a request and as a reply (RFC 5227
// announcement; some hosts heed only one of the two). IPv6: an unsolicited neighbour
// advertisement (RFC 4861 7.2.6) from `a` to all nodes (ff02::1), hop limit 255, override
// flag set, target `a` with the MAC in its target link-layer address option: hosts that
// have `a` in their neighbour cache take the new MAC.
bool announce_kernel_address(const std::string& ifname, const ip_address& a, std::string* why);

}  // namespace rtprelay
