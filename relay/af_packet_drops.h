#pragma once
// Ingress loss that DPDK's net_af_packet does not report: frames the kernel could not put in
// the driver's RX ring (PACKET_RX_RING) because the workers had not emptied it in time.
//
// What net_af_packet reports in DPDK 22.11 (rte_eth_stats_get): ipackets/ibytes (frames the
// workers took from the ring), opackets/obytes/oerrors. imissed, ierrors and rx_nombuf stay
// 0: a full ring is never read, and an mbuf shortage leaves the frame in the ring uncounted.
// The kernel counts each packet socket's ring drops itself (getsockopt PACKET_STATISTICS:
// tp_packets, tp_drops; reading them resets them). DPDK 25.03 reads them into imissed; on an
// older DPDK this class does it, from the control thread: it finds the driver's sockets
// among the process's file descriptors (AF_PACKET, bound to the interface index the port
// reports), reads tp_drops from each queue's socket and keeps the running sum per port. The
// relay adds it to the port's imissed (rtprelay_port_rx_missed_total).
//
// Cost: one scan of /proc/self/fd when built (three system calls per descriptor), then one
// getsockopt per queue socket per poll(); the workers are not involved. Other drivers
// report their own imissed (NICs) or have no ring of their own to overflow here (net_ring,
// net_memif: the peer sees its TX ring full); net_tap's kernel queue drops show only in the
// kernel's counters of the tap interface.

#include <cstddef>
#include <cstdint>
#include <vector>

namespace rtprelay {

class af_packet_drops {
 public:
    // Reads each port's driver and interface index; watches the net_af_packet ones.
    explicit af_packet_drops(const std::vector<uint16_t>& port_ids);

    // Control thread: adds what the kernel dropped since the last call to each watched port.
    // A socket that can no longer be read (closed at shutdown) triggers one new scan.
    void poll();

    // Frames the kernel dropped on the port's rings since start (0 for other drivers).
    uint64_t dropped(uint16_t port_id) const;

    // Queue sockets found, for the start-up log and tests.
    size_t sockets() const { return sockets_.size(); }
    // Whether this DPDK needs us at all (before 25.03); false: the driver reports imissed.
    static bool needed();

 private:
    struct port_entry {
        uint16_t port_id = 0;
        int ifindex = 0;
        uint64_t dropped = 0;
    };
    struct socket_entry {
        int fd = -1;
        size_t port = 0;  // index into ports_
    };

    void find_sockets();

    std::vector<port_entry> ports_;
    std::vector<socket_entry> sockets_;
};

}  // namespace rtprelay
