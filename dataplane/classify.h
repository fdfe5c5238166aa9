#pragma once
// Stage 2 of the packet path (after 1, rx_burst; worker.h numbers them): decide what a
// received frame is, from its headers alone. Fills m->l2_len / m->l3_len (used as scratch:
// we request no TX offloads) and, for UDP to one of our addresses, the flow key. ~10 ns/pkt,
// all reads within the first 64 bytes.

#include <cstdint>

#include "dataplane/counters.h"
#include "dataplane/flow_entry.h"
#include "dataplane/local_addresses.h"

struct rte_mbuf;

namespace rtprelay::dp {

enum class packet_class : uint8_t { udp, arp, icmp_echo, drop };

struct classified {
    packet_class cls = packet_class::drop;
    drop_reason why = drop_reason::count;  // set when cls == drop
};

classified classify(rte_mbuf* m, const local_addresses& locals, flow_key* key);

}  // namespace rtprelay::dp
