#pragma once
// What the IPv4 and IPv6 classify tests share: classify() run on a frame received on
// rx_port, keeping what it wrote (the key, the mbuf's l2/l3 lengths) for the checks.

#include <gtest/gtest.h>

#include <rte_mbuf.h>

#include "dataplane/classify.h"
#include "tests/dataplane/test_packets.h"

namespace rtprelay::dp::test {

class classify_fixture : public ::testing::Test {
 protected:
    static constexpr uint16_t rx_port = 3;

    // Runs classify() on `f` received on rx_port; keeps l2/l3 lengths and the key.
    classified run(const bytes& f) {
        rte_mbuf* m = to_mbuf(f, rx_port);
        if (m == nullptr) {
            return {};
        }
        key_ = flow_key{0xdeadbeef, 0xdead, 0xbeef};
        const classified c = classify(m, locals_, &key_);
        l2_len_ = m->l2_len;
        l3_len_ = m->l3_len;
        rte_pktmbuf_free(m);
        return c;
    }

    drop_reason dropped(const bytes& f) {
        const classified c = run(f);
        EXPECT_EQ(c.cls, packet_class::drop);
        return c.why;
    }

    local_addresses locals_;
    flow_key key_{};
    uint16_t l2_len_ = 0;
    uint16_t l3_len_ = 0;
};

}  // namespace rtprelay::dp::test
