#pragma once
// Turns sessions into flow entries: for a stream pair (leg X, leg Y) it publishes what a
// worker needs for packets arriving on X's ports (forward to Y's peer from Y's ports) and
// the mirror image. Owns nothing of the session; frees nothing but through RCU.

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "control/session/session.h"
#include "dataplane/flow_table.h"
#include "dataplane/local_addresses.h"
#include "dataplane/neighbour_table.h"

namespace rtprelay {

class publisher {
 public:
    publisher(dp::flow_table& flows, dp::neighbour_table& neighbours, uint16_t n_workers,
              dp::srtp::engine engine = dp::srtp::engine::native)
        : flows_(flows), neighbours_(neighbours), n_workers_(n_workers), engine_(engine) {}

    // Publishes (or re-publishes) both directions of stream `i` between legs x and y.
    // Returns false if the flow table is full.
    bool publish_pair(leg& x, leg& y, size_t i);
    // Removes stream `s`'s entries and retires its states (call after the sibling's
    // entries are removed too — remove_entries() on both, then retire_states() on both).
    void remove_entries(stream& s);
    void retire_states(stream& s);

    // Re-publishes the live entries of leg `l`'s streams with its current record_id and
    // record_channel, everything else unchanged (no new learning window: only the recording
    // stamp changes). Returns false if the flow table refused one.
    bool restamp(const leg& l);

    // The worker that owns a local (address, port): decided by the local side only, so a
    // remote peer cannot move a stream's state between workers.
    // With `steered` ports (dataplane/steering.h) it is the queue the NIC delivers the port to
    // (or, with --flow-steering=sender, the queue the peer sends the port's packets on).
    // An IPv6 address counts by the fold of its four words.
    uint8_t owner_of(uint32_t addr_be, uint16_t port) const;
    uint8_t owner_of(const ip_address& addr, uint16_t port) const;
    void set_steered(bool steered) { steered_ = steered; }
    // The data plane's media addresses: an IPv6 local address is named in the flow key by
    // its slot there (dataplane/flow_entry.h). Without it only IPv4 streams publish.
    void set_local_addresses(const dp::local_addresses* locals) { locals_ = locals; }
    // The flow key of local (addr, port); nullopt for an IPv6 address the data plane does
    // not own.
    std::optional<dp::flow_key> flow_key_of(const ip_address& addr, uint16_t port) const;

    dp::flow_table& flows() { return flows_; }

 private:
    bool publish_direction(leg& in, stream& s_in, leg& out, stream& s_out, bool rtcp);
    // Makes the stream's SRTP contexts match its SDES keys; replaced contexts are moved to
    // `old` to be retired once the new entries are published.
    void sync_contexts(stream& s, std::vector<std::unique_ptr<dp::srtp::context>>& old);

    dp::flow_table& flows_;
    dp::neighbour_table& neighbours_;
    uint16_t n_workers_;
    dp::srtp::engine engine_;
    bool steered_ = false;
    const dp::local_addresses* locals_ = nullptr;
};

// The data plane's entry for media address `a` on DPDK port `port_id`, VLAN `vlan` (0 =
// untagged): what set_local_addresses' table holds for each interface address.
dp::local_address local_address_of(const ip_address& a, uint16_t port_id, uint16_t vlan);

}  // namespace rtprelay
