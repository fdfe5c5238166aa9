#pragma once
// Steering a stream's packets to the RX queue of the worker that owns it, so the NIC does
// what the handoff rings otherwise do in software.
//
// A stream's owner is chosen from its local RTP port alone: bits 1.. of the port, masked to
// the worker count (RTP on the even port and RTCP on the odd one land together). With a
// power-of-two number of workers this is one rte_flow rule per queue on each port, matching
// the UDP destination port under a mask; any NIC whose flow API takes a masked UDP port can
// do it. Where a port refuses the rules (or the worker count is not a power of two) the
// ports keep plain RSS and the worker hands misdelivered packets to the owner (handoff
// rings): the same result, at the cost of a ring pass for about (n-1)/n of the packets.
// A sender that picks the queue itself (rtprelay-loadgen --dpdk-queues on memif, which has
// no flow API; the relay's --flow-steering=sender) uses steered_queue() too: one definition.

#include <cstdint>
#include <string>
#include <vector>

namespace rtprelay::dp {

// The queue (= worker index) a steered port delivers UDP port `udp_port` to.
constexpr uint16_t steered_queue(uint16_t udp_port, uint16_t n_queues) noexcept {
    return static_cast<uint16_t>((udp_port >> 1) & (n_queues - 1));
}
constexpr bool steerable(uint16_t n_queues) noexcept { return n_queues > 1 && (n_queues & (n_queues - 1)) == 0; }

// Installs the rules on every port in `port_ids` (after the ports started), for untagged
// frames and for each VLAN in `vlans`, over IPv4 and, with `ipv6` (the ports carry IPv6
// media), over IPv6 too. All or nothing: if any port refuses, the rules already made are
// destroyed and the reason is returned; empty on success.
std::string install_steering(const std::vector<uint16_t>& port_ids, const std::vector<uint16_t>& vlans,
                             uint16_t n_queues, bool ipv6 = false);
// Removes what install_steering made (before the ports stop).
void remove_steering(const std::vector<uint16_t>& port_ids);

}  // namespace rtprelay::dp
