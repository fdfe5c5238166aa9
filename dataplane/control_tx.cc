#include "dataplane/control_tx.h"

#include <rte_ethdev.h>
#include <rte_mbuf.h>

namespace rtprelay::dp {

void control_tx::send_held(uint16_t queue, uint64_t now_tsc, worker_counters& c) {
    uint32_t kept = 0;
    for (uint32_t i = 0; i < n; ++i) {
        rte_mbuf* m = held[i];
        if (rte_eth_tx_burst(m->port, queue, &m, 1) == 1) {
            continue;
        }
        if (now_tsc - taken_tsc[i] >= hold_tsc) {
            rte_pktmbuf_free(m);
            ++c.control_tx_failed;
            continue;
        }
        held[kept] = m;  // in order: the oldest is offered first again
        taken_tsc[kept] = taken_tsc[i];
        ++kept;
    }
    n = kept;
}

void control_tx::drop_all(worker_counters& c) {
    for (uint32_t i = 0; i < n; ++i) {
        rte_pktmbuf_free(held[i]);
        held[i] = nullptr;
    }
    c.control_tx_failed += n;
    n = 0;
}

}  // namespace rtprelay::dp
