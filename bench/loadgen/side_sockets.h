#pragma once
// The UDP sockets of one side (caller A or callee B). Calls share them: call i uses socket
// i % count, and the receiver tells calls apart by SSRC, so 10,000 calls need 4 sockets,
// not 10,000. The sockets may live in another network namespace than the process.

#include <cstdint>
#include <string>
#include <vector>

#include "bench/loadgen/net_address.h"

namespace rtprelay::loadgen {

class unique_fd {
 public:
    unique_fd() = default;
    explicit unique_fd(int fd) : fd_(fd) {}
    unique_fd(unique_fd&& o) noexcept : fd_(o.release()) {}
    unique_fd& operator=(unique_fd&& o) noexcept;
    unique_fd(const unique_fd&) = delete;
    unique_fd& operator=(const unique_fd&) = delete;
    ~unique_fd();

    int get() const { return fd_; }
    int release();

 private:
    int fd_ = -1;
};

struct side_sockets {
    std::vector<unique_fd> rtp;  // bound to addr:ephemeral, one per socket index
    std::vector<uint16_t> rtp_port;
    std::vector<unique_fd> rtcp;  // same count as rtp when RTCP is on, else empty
    std::vector<uint16_t> rtcp_port;
};

// Opens `count` RTP sockets (and as many RTCP sockets if `with_rtcp`) bound to `addr`, inside
// network namespace `netns` (a name under /var/run/netns; "" = the process's own).
// Returns false with *error naming the step that failed.
bool open_side_sockets(const std::string& netns, const std::string& addr, uint32_t count, bool with_rtcp,
                       side_sockets* out, std::string* error);

}  // namespace rtprelay::loadgen
