#pragma once
// A node's part in a group, on the control thread: the session observer that hands every
// changed call to the agent as a sealed record, and the per-turn step that applies what
// the agent found out (addresses taken or lost, calls to adopt, Redis back).
//
// Serving an address means: new calls may get ports on it (media_address::serving), the
// data plane answers for it (local_addresses::active) and its calls' flows are published.
// The control thread serves address i exactly while the agent's serve_until_ns(i) is in
// the future: it stops by itself when renewals stop, even if the agent thread is stuck.
//
// A change costs the control thread a snapshot of the call written as plain data into a
// slot of the agent's record ring (snapshot_flat, record_ring.h: no lock, and no allocation
// but a call's first record, which adds the call's entry to queued_);
// encoding, sealing and Redis are the agent thread's (agent.h), and a call changed again
// before the agent took it is written once (its slot is rewritten in place). A call past a
// slot's capacity, or the ring full, takes the slow way: a snapshot of heap strings into
// the agent's locked write queue (write_queue.h; counted, records_slow). Changes that could
// not be queued (both full) are remembered by call-id and written again from tick(), a few
// hundred per turn; when the agent reconnects, every call is written again.

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "control/ha/agent.h"
#include "control/ha/call_positions.h"
#include "control/ha/config.h"
#include "control/ha/recording_hook.h"
#include "control/ha/redis_link.h"
#include "control/ng/bencode.h"
#include "control/session/manager.h"

namespace rtprelay {
class interface_set;
struct media_address;
namespace dp {
struct local_addresses;
}
}  // namespace rtprelay

namespace rtprelay::ha {

// Control thread: wo; metrics: ro.
struct group_stats {
    std::atomic<uint64_t> calls_adopted{0};
    std::atomic<uint64_t> adopt_failures{0};  // records that decoded but did not fit or clashed
    std::atomic<uint64_t> calls_suspended{0};
    std::atomic<uint64_t> calls_dropped{0};     // let go: their address is a peer's now
    std::atomic<uint64_t> records_dirty{0};     // calls waiting to be written again (gauge)
    std::atomic<uint64_t> last_takeover_us{0};  // leases acquired -> every call adopted
    std::atomic<uint32_t> addresses_served{0};
    std::atomic<uint64_t> foreign_adopted{0};    // NG for a call held nowhere here: adopted from Redis
    std::atomic<uint64_t> foreign_forwarded{0};  // NG forwarded to the node that holds the call
    std::atomic<uint64_t> foreign_failed{0};     // neither: error replies (Redis down, node gone, ...)
    std::atomic<uint64_t> srtp_exposed{0};       // SRTP indices sent past what Redis acknowledged
    std::atomic<uint64_t> srtp_writes{0};        // records written for SRTP indices (srtp_progress.h)
    std::atomic<uint64_t> records_slow{0};       // queued the slow way: past a ring slot, or the ring full (agent.h)
};

class group : public session_observer {
 public:
    group(const group_config& cfg, session_manager& sessions, interface_set& interfaces, dp::local_addresses& locals);
    ~group() override;

    // Starts the agent. Before the workers launch: until a lease is taken, no address of the
    // group is served.
    void start();
    // With `release`, leases are given back so that peers take the remaining calls at once.
    void stop(bool release);

    // Every control loop turn. Returns the addresses (either family) served since the last
    // turn: announce them (gratuitous ARP, unsolicited neighbour advertisement).
    std::vector<ip_address> tick(steady::time_point now);

    void call_changed(const call& c) override;
    void call_closed(const call& c) override;

    // An NG request, before the commands see it. For a call this node does not hold (an
    // answer, re-offer, delete or query; never a new call's offer, so normal traffic never
    // waits for Redis) it reads the call's record, synchronously with a short timeout: a call
    // whose addresses this node serves is adopted and the request goes on here (nullopt);
    // a call another live node serves gets the request forwarded there and returns that
    // node's reply; otherwise an error reply saying why. nullopt for everything else.
    std::optional<ng::value> foreign_request(const ng::value& req, steady::time_point now);
    // The group's own NG commands, before anything else: `group` (this node, Redis, the
    // addresses and who holds them, the nodes and their calls) and `handover` with `to`
    // (starts a planned handover of every call and address to that node; `group` then
    // shows its phase). nullopt for other commands. Reads Redis synchronously (100 ms
    // timeouts): operator commands, not call traffic.
    std::optional<ng::value> control_request(const ng::value& req, steady::time_point now);

    const group_config& config() const { return cfg_; }
    const agent_stats& agent_counters() const { return agent_.stats(); }
    // Records handed to the agent and not yet acknowledged by Redis (or lost with a connection).
    uint64_t pending_writes() const { return agent_.pending_writes(); }
    const group_stats& counters() const { return stats_; }
    // Per address: dotted, and whether this node serves it now.
    struct address_state {
        std::string address;
        bool served = false;
    };
    std::vector<address_state> addresses() const;
    // Floating NG addresses (config ng_float): called on the control thread, from tick(),
    // when this node starts (`on`) or stops serving one, with its dotted address. The
    // callee opens or closes its NG socket and moves the kernel address (relay/ng_float.h).
    void set_ng_float(std::function<void(const std::string& address, bool on)> f) { ng_float_ = std::move(f); }

 private:
    struct address {
        std::string text;
        ip_address addr;
        std::vector<media_address*> media;  // the interfaces' entries for it
        bool ng = false;                    // a floating NG address, not a media address
        bool served = false;
    };
    static std::vector<address> collect(interface_set& interfaces, const group_config& cfg);
    static std::vector<std::string> texts(const std::vector<address>& a);
    void write(const call& c);
    // agent::put_slow, counted; a call it refuses is written again from tick().
    void queue_slow(uint64_t& where, write_op op);
    void forget_dirty(const std::string& id);
    // Applies up to `budget` of the acknowledgements in written_.
    void apply_acks(size_t budget);
    // One step of the pass over every call's SRTP indices: up to scan_calls_per_turn calls
    // after scan_after_ (group.cc); a pass starts every srtp_scan_period.
    void scan_srtp_step(steady::time_point now);
    void adopt(agent_event& e, steady::time_point now);
    void serve(address& a, bool on);
    // The Unix time (ms) of a steady time point, for a record's timestamps: the offset
    // between the two clocks is read once per unix_offset_for, so that a record costs one
    // clock read, not two (~0.15 us each on a KVM guest's kvm-clock; a pair writes two
    // records). A step of the system clock shows in records up to unix_offset_for later.
    int64_t unix_ms_at(steady::time_point now);

    bool serves(const call& c, steady::time_point now) const;
    ng::value group_report();
    void handover_step();

    enum class handover_phase : uint8_t { none, flushing, releasing, done };
    static const char* phase_name(handover_phase p);
    handover_phase phase_ = handover_phase::none;
    std::string handover_to_;

    const group_config& cfg_;
    group_config sync_cfg_;  // cfg_ with a shorter timeout, for sync_
    redis_link sync_;        // control thread's own connection (foreign_request)
    session_manager& sessions_;
    interface_set& interfaces_;
    dp::local_addresses& locals_;
    std::vector<address> addresses_;
    std::function<void(const std::string&, bool)> ng_float_;
    agent agent_;
    group_stats stats_;
    std::unordered_set<std::string> dirty_;
    // Control thread: call -> where its last record was queued (agent::put_flat), so a
    // newer state replaces it while it is still queued. One entry per call this node holds,
    // made by its first record and kept until it closes or is dropped for a peer (tick's
    // `lost`): a stale position costs nothing (put_flat takes a fresh slot), where erasing
    // taken entries cost a pass over the map and an allocation at the call's next change.
    // By address, not call-id: no string hashed or copied per change.
    call_positions queued_;
    // unix_ms_at()'s offset between the two clocks and until when it holds.
    static constexpr std::chrono::milliseconds unix_offset_for{100};
    int64_t unix_offset_ms_ = 0;
    steady::time_point unix_offset_until_{};
    // `written` events not yet applied; the front one's next acknowledgement and where its
    // call-id starts in ack_ids. Control thread only.
    std::deque<agent_event> written_;
    size_t ack_next_ = 0;
    size_t ack_at_ = 0;
    uint64_t next_token_ = 0;
    // The SRTP scan's pass (control thread): whether one is under way, the call-id it has
    // reached (a copy: that call may close in between), when the next may start.
    bool scanning_ = false;
    std::string scan_after_;
    steady::time_point next_scan_{};

 public:
    // Call recording, when configured: records carry each call's recording, and an adopted
    // call's recording goes on here. Null = none (records say "not recorded").
    void set_recording_hook(recording_hook* h) { recording_ = h; }

 private:
    recording_hook* recording_ = nullptr;
};

}  // namespace rtprelay::ha
