#include "dataplane/steering.h"

#include <rte_byteorder.h>
#include <rte_flow.h>

namespace rtprelay::dp {

namespace {

std::string describe(uint16_t port_id, const rte_flow_error& err) {
    return "port " + std::to_string(port_id) + ": " + (err.message != nullptr ? err.message : "flow rule refused") +
           " (type " + std::to_string(static_cast<int>(err.type)) + ")";
}

// One rule: [VLAN vid /] IPv4 (or IPv6) / UDP dst port with bits 1.. equal to `queue` under
// the worker mask -> RX queue `queue`. Returns empty on success.
std::string add_rule(uint16_t port_id, int vlan, bool v6, uint16_t queue, uint16_t n_queues, bool validate_only) {
    rte_flow_attr attr{};
    attr.ingress = 1;

    rte_flow_item_vlan vlan_spec{};
    rte_flow_item_vlan vlan_mask{};
    rte_flow_item_udp udp_spec{};
    rte_flow_item_udp udp_mask{};
    udp_spec.hdr.dst_port = rte_cpu_to_be_16(static_cast<uint16_t>(queue << 1));
    udp_mask.hdr.dst_port = rte_cpu_to_be_16(static_cast<uint16_t>((n_queues - 1) << 1));

    rte_flow_item pattern[5] = {};
    int i = 0;
    pattern[i++].type = RTE_FLOW_ITEM_TYPE_ETH;
    if (vlan >= 0) {
        vlan_spec.hdr.vlan_tci = rte_cpu_to_be_16(static_cast<uint16_t>(vlan));
        vlan_mask.hdr.vlan_tci = rte_cpu_to_be_16(0x0fff);
        pattern[i].type = RTE_FLOW_ITEM_TYPE_VLAN;
        pattern[i].spec = &vlan_spec;
        pattern[i++].mask = &vlan_mask;
    }
    pattern[i++].type = v6 ? RTE_FLOW_ITEM_TYPE_IPV6 : RTE_FLOW_ITEM_TYPE_IPV4;
    pattern[i].type = RTE_FLOW_ITEM_TYPE_UDP;
    pattern[i].spec = &udp_spec;
    pattern[i++].mask = &udp_mask;
    pattern[i].type = RTE_FLOW_ITEM_TYPE_END;

    rte_flow_action_queue to_queue{};
    to_queue.index = queue;
    rte_flow_action actions[2] = {};
    actions[0].type = RTE_FLOW_ACTION_TYPE_QUEUE;
    actions[0].conf = &to_queue;
    actions[1].type = RTE_FLOW_ACTION_TYPE_END;

    rte_flow_error err{};
    if (rte_flow_validate(port_id, &attr, pattern, actions, &err) != 0) {
        return describe(port_id, err);
    }
    if (!validate_only && rte_flow_create(port_id, &attr, pattern, actions, &err) == nullptr) {
        return describe(port_id, err);
    }
    return {};
}

}  // namespace

std::string install_steering(const std::vector<uint16_t>& port_ids, const std::vector<uint16_t>& vlans,
                             uint16_t n_queues, bool ipv6) {
    if (!steerable(n_queues)) {
        return std::to_string(n_queues) + " workers: steering needs a power of two from 2";
    }
    std::vector<int> tags{-1};
    tags.insert(tags.end(), vlans.begin(), vlans.end());
    // Validate everything first, so a refusal leaves no rule behind on most drivers; then create.
    for (const bool validate_only : {true, false}) {
        for (uint16_t p : port_ids) {
            for (int tag : tags) {
                for (const bool v6 : {false, true}) {
                    for (uint16_t q = 0; q < n_queues && (ipv6 || !v6); ++q) {
                        std::string why = add_rule(p, tag, v6, q, n_queues, validate_only);
                        if (!why.empty()) {
                            remove_steering(port_ids);
                            return why;
                        }
                    }
                }
            }
        }
    }
    return {};
}

void remove_steering(const std::vector<uint16_t>& port_ids) {
    for (uint16_t p : port_ids) {
        rte_flow_error err{};
        rte_flow_flush(p, &err);  // drivers without a flow API answer ENOSYS: nothing to remove
    }
}

}  // namespace rtprelay::dp
