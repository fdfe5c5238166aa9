#pragma once
// The one delay between an address's first announcement and its second, for every
// announcement the relay makes: media addresses by the control loop (gratuitous ARP and
// unsolicited neighbour advertisements from the DPDK ports, relay/control_loop.h) and
// floating NG addresses on the management interface (relay/ng_float.h).
//
// Why a second one: the first frame goes out at the moment it is most easily lost (a link
// just up, a peer just taken over, a switch port still learning, a peer's queue not yet
// read), and a peer that misses it keeps sending to the old MAC until its ARP or neighbour
// entry ages out (tens of seconds to minutes). Why 300 ms: long enough to get past a burst
// or a port's first moments, short enough that a peer that missed the first frame sends to
// the old MAC for at most ~0.3 s more; the second one costs one frame per address.

#include <chrono>

namespace rtprelay {

inline constexpr std::chrono::milliseconds repeat_announce{300};

}  // namespace rtprelay
