#pragma once
// The generator's packets, made outside the timed region: Ethernet/IPv4(or 6)/UDP frames carrying
// 172-byte RTP, one stream per call and side, round-robin over the calls, with sequence
// numbers and timestamps that advance per packet. On an SRTP leg each frame is protected
// with the peer's key from its SDP, by the project's own transform (native engine), so
// every packet is fresh to the relay's replay window.
//
// Bursts of 32 alternate between the sides (caller -> relay on port a, callee -> relay on
// port b), or all come from the callers with one_way. With several workers each has a
// generator of its own for the streams that arrive on its queue (`streams`: per side, the
// calls whose peer on that side this generator plays).

#include <array>
#include <cstdint>
#include <memory>
#include <vector>

#include <rte_ether.h>

#include "bench/pipeline/options.h"
#include "bench/pipeline/topology.h"

namespace rtprelay::pipeline {

inline constexpr uint32_t burst = 32;

// Frames in fixed slots of `stride` bytes. Burst b holds frames [32 b, min(32 b + 32, n)).
struct frame_chunk {
    // bytes: the largest frame is 14+40+8+172+16 (IPv6, GCM's tag; the bench's keys have no MKI)
    static constexpr uint32_t stride = 256;
    std::vector<uint8_t> bytes;
    std::vector<uint16_t> len;
    std::vector<uint8_t> side;  // per burst: the side (port) it arrives on
    uint32_t n = 0;

    uint32_t bursts() const { return (n + burst - 1) / burst; }
    const uint8_t* frame(uint32_t i) const { return bytes.data() + static_cast<size_t>(i) * stride; }
};

class traffic_generator {
 public:
    using stream_lists = std::array<std::vector<uint32_t>, 2>;
    traffic_generator(scenario s, const std::vector<call_info>& calls, const rte_ether_addr (&port_macs)[2],
                      bool one_way);
    traffic_generator(scenario s, const std::vector<call_info>& calls, const rte_ether_addr (&port_macs)[2],
                      bool one_way, stream_lists streams);
    // Consecutive packets of a side that belong to one call (>= 1; bench --stream-run).
    void set_stream_run(uint32_t n) { stream_run_ = n == 0 ? 1 : n; }
    // Which sides send over IPv6 (bench --ip); IPv4 unless set.
    void set_ip(ip_mode m) { ip_ = m; }
    ~traffic_generator();
    traffic_generator(const traffic_generator&) = delete;
    traffic_generator& operator=(const traffic_generator&) = delete;

    // Replaces the chunk's contents with the next `n` packets. Throws if SRTP protect fails.
    void fill(frame_chunk& c, uint32_t n);

    uint64_t generated(int side) const { return per_side_[side]; }
    // The most packets any one of this generator's streams has sent so far.
    uint64_t max_per_stream() const;

 private:
    struct stream {
        uint32_t ssrc = 0;
        uint16_t seq = 0;
        uint32_t timestamp = 0;
        std::unique_ptr<dp::srtp::context> ctx;  // the peer's send context (SRTP legs)
    };
    void build(uint32_t call, int side, uint8_t* out, uint16_t* len);

    scenario scenario_;
    const std::vector<call_info>& calls_;
    rte_ether_addr port_macs_[2];
    bool one_way_;
    stream_lists lists_;           // per side: the calls whose stream this generator sends
    std::vector<stream> streams_;  // [2 * call + side]; contexts only for streams in lists_
    uint32_t stream_run_ = 1;
    ip_mode ip_ = ip_mode::v4;
    uint64_t next_burst_ = 0;
    uint64_t per_side_[2] = {0, 0};
    uint16_t ip_id_ = 0;
};

}  // namespace rtprelay::pipeline
