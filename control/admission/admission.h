#pragma once
// Admission control for new calls: a bandwidth budget per node and per logical interface,
// and a new-session rate limit per node and per interface (token buckets).
//
// Sizing follows the trunking provider's rule: peak bandwidth = concurrent calls x 80
// kbit/s (64 kbit/s G.711 + 16 kbit/s overhead). Budgets are per direction of a
// full-duplex link: a call reserves `call_bps` (default 80,000) in each direction on the
// node and on every interface one of its legs uses, so a 1 Gbit/s budget admits 12,500
// calls. Only new calls are checked; a re-INVITE of an admitted call never is.
//
// With `wire` (call-bandwidth = wire) each leg reserves what its packets cost on the wire
// instead (wire_bps: family and SRTP tag): an interface the amount of its costliest leg of
// the call, the node that of the call's costliest leg (the flat rule also counts a call
// once). G.711 RTP over IPv4, the seeds' case, costs the same 80 kbit/s either way.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace rtprelay {

// A rate limiter: `rate` tokens per second, bursts up to `rate` (one second's worth).
class token_bucket {
 public:
    using clock = std::chrono::steady_clock;
    explicit token_bucket(double rate = 0) : rate_(rate), tokens_(rate) {}
    bool enabled() const { return rate_ > 0; }
    double rate() const { return rate_; }
    // Takes one token if there is one (always true when disabled).
    bool take(clock::time_point now);
    // Gives back a token taken for a call that was refused later for another reason.
    void put_back();

 private:
    double rate_;
    double tokens_;
    std::optional<clock::time_point> last_;
};

// What one leg of a G.711 20 ms call sends per direction, in bit/s, counted at the IP layer
// as the seeds' 80 kbit/s is (no Ethernet framing): 50 packets/s x (160 bytes payload + 12
// RTP + srtp_tag (SRTP: the suite's tag, 10 for HMAC-SHA1 _80, 4 for _32, 16 for AES-GCM,
// plus the key's MKI if it has one; 0 plain) + 8 UDP + 20 IPv4 or 40 IPv6) x 8.
// IPv4 RTP 80,000; IPv4 SRTP_80 84,000; IPv4 AES-GCM 86,400; IPv6 RTP 88,000; IPv6 SRTP_80 92,000.
constexpr uint64_t wire_bps(bool ipv6, unsigned srtp_tag_bytes) {
    return 50u * (160u + 12u + srtp_tag_bytes + 8u + (ipv6 ? 40u : 20u)) * 8u;
}

// A leg of a new call: the interface it uses and what it costs there (bit/s per direction).
struct leg_cost {
    size_t interface = 0;
    uint64_t bps = 0;
};

enum class refusal : uint8_t { none, capacity, cps, draining };
const char* refusal_name(refusal r);

struct budget {
    uint64_t capacity_bps = 0;  // 0 = unlimited
    uint64_t reserved_bps = 0;
    uint64_t calls = 0;  // calls holding a reservation here
    bool fits(uint64_t bps) const { return capacity_bps == 0 || reserved_bps + bps <= capacity_bps; }
};

class admission {
 public:
    using clock = token_bucket::clock;

    // n_interfaces: index space of the interface budgets (interface_set order).
    admission(uint64_t node_capacity_bps, uint64_t call_bps, double node_cps, size_t n_interfaces);

    void set_interface(size_t index, uint64_t capacity_bps, double cps);

    // Admits a new call that will use `interfaces` (indexes; duplicates are counted once):
    // reserves call_bps on the node and each interface, or says why not.
    refusal admit(const std::vector<size_t>& interfaces, clock::time_point now);
    // Returns a call's reservation (same interface list as admit()).
    void release(const std::vector<size_t>& interfaces);
    // The same with each leg's own cost: the node reserves the largest, each interface the
    // largest of its legs. release_legs() takes the same list.
    refusal admit_legs(const std::vector<leg_cost>& legs, clock::time_point now);
    void release_legs(const std::vector<leg_cost>& legs);
    // What a leg reserves: wire_bps() with `wire`, call_bps otherwise.
    uint64_t leg_bps(bool ipv6, unsigned srtp_tag_bytes) const {
        return wire_ ? wire_bps(ipv6, srtp_tag_bytes) : call_bps_;
    }
    // call-bandwidth = wire: legs reserve leg_bps() by what they carry (call_bps stays the
    // unit of the sizing answers, calls_for/bandwidth_for).
    void set_wire(bool on) { wire_ = on; }
    bool wire() const { return wire_; }
    // Reserves for a call that exists already (taken over from another node of a group), each
    // leg at its own cost as admit_legs() would: never refused, no CPS token taken;
    // release_legs() gives it back as for any call.
    void reserve_legs(const std::vector<leg_cost>& legs);

    // `undrain` reopens a drained node, but not one that is shutting down.
    void drain(bool on) { draining_ = on || stopping_; }
    bool draining() const { return draining_; }
    // The drain of a stopping node (SIGTERM): for good, whatever NG asks later.
    void stop() { stopping_ = draining_ = true; }
    bool stopping() const { return stopping_; }

    uint64_t call_bps() const { return call_bps_; }
    const budget& node() const { return node_; }
    const budget& interface(size_t i) const { return ifaces_.at(i).b; }
    double node_cps() const { return node_cps_.rate(); }
    double interface_cps(size_t i) const { return ifaces_.at(i).cps.rate(); }

    // Calls that fit in `bps` at call_bps each, and the bandwidth `calls` need.
    uint64_t calls_for(uint64_t bps) const { return call_bps_ == 0 ? 0 : bps / call_bps_; }
    uint64_t bandwidth_for(uint64_t calls) const { return calls * call_bps_; }

 private:
    struct iface_state {
        budget b;
        token_bucket cps;
    };
    // Per interface (sorted, each once) the largest cost of its legs.
    static std::vector<leg_cost> per_interface(const std::vector<leg_cost>& legs);

    uint64_t call_bps_;
    budget node_;
    token_bucket node_cps_;
    std::vector<iface_state> ifaces_;
    bool draining_ = false;
    bool stopping_ = false;
    bool wire_ = false;
};

// "80k", "1G", "2.5M", "1000000" -> bits per second. nullopt if malformed.
std::optional<uint64_t> parse_bandwidth(std::string_view text);

}  // namespace rtprelay
