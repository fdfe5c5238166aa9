#include "bench/loadgen/side_sockets.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>
#include <utility>

namespace rtprelay::loadgen {

unique_fd& unique_fd::operator=(unique_fd&& o) noexcept {
    if (this != &o) {
        if (fd_ >= 0) {
            ::close(fd_);
        }
        fd_ = o.release();
    }
    return *this;
}

unique_fd::~unique_fd() {
    if (fd_ >= 0) {
        ::close(fd_);
    }
}

int unique_fd::release() { return std::exchange(fd_, -1); }

namespace {

// 4 MiB each way: at 10,000 calls one socket sees ~125k packets/s, and a scheduling hiccup
// of 20 ms must not overflow the receive queue. The kernel caps this at rmem_max/wmem_max
// unless we are privileged (SO_*BUFFORCE), so it is best effort.
constexpr int socket_buffer_bytes = 4 << 20;

bool open_one(const net_address& bind_to, unique_fd* fd, uint16_t* port, std::string* error) {
    int s = ::socket(bind_to.storage.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0) {
        *error = std::string("socket: ") + std::strerror(errno);
        return false;
    }
    unique_fd owned(s);
    int size = socket_buffer_bytes;
    if (::setsockopt(s, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) != 0) {
        ::setsockopt(s, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
    }
    if (::setsockopt(s, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof size) != 0) {
        ::setsockopt(s, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
    }
    if (::bind(s, bind_to.sa(), bind_to.len) != 0) {
        *error = "bind " + bind_to.to_string() + ": " + std::strerror(errno);
        return false;
    }
    net_address bound;
    bound.len = sizeof bound.storage;
    if (::getsockname(s, bound.sa(), &bound.len) != 0) {
        *error = std::string("getsockname: ") + std::strerror(errno);
        return false;
    }
    *port = bound.port();
    *fd = std::move(owned);
    return true;
}

bool open_here(const std::string& addr, uint32_t count, bool with_rtcp, side_sockets* out, std::string* error) {
    net_address bind_to;
    if (!make_address(addr, 0, &bind_to)) {
        *error = "not an IP address: " + addr;
        return false;
    }
    side_sockets s;
    for (uint32_t i = 0; i < count; ++i) {
        unique_fd fd;
        uint16_t port = 0;
        if (!open_one(bind_to, &fd, &port, error)) {
            return false;
        }
        s.rtp.push_back(std::move(fd));
        s.rtp_port.push_back(port);
        if (with_rtcp) {
            if (!open_one(bind_to, &fd, &port, error)) {
                return false;
            }
            s.rtcp.push_back(std::move(fd));
            s.rtcp_port.push_back(port);
        }
    }
    *out = std::move(s);
    return true;
}

}  // namespace

bool open_side_sockets(const std::string& netns, const std::string& addr, uint32_t count, bool with_rtcp,
                       side_sockets* out, std::string* error) {
    if (netns.empty()) {
        return open_here(addr, count, with_rtcp, out, error);
    }
    // A socket stays in the namespace it was created in. setns() changes only the calling
    // thread, so a short-lived thread enters the namespace, opens the sockets and switches
    // back before it ends: whatever fails, the main thread (and its NG socket) never leaves
    // the process's own namespace.
    std::string path = "/var/run/netns/" + netns;
    bool ok = false;
    std::thread worker([&] {
        unique_fd own(::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
        unique_fd target(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
        if (own.get() < 0 || target.get() < 0) {
            *error = "open " + (own.get() < 0 ? std::string("own netns") : path) + ": " + std::strerror(errno);
            return;
        }
        if (::setns(target.get(), CLONE_NEWNET) != 0) {
            *error = "setns " + path + ": " + std::strerror(errno);
            return;
        }
        ok = open_here(addr, count, with_rtcp, out, error);
        if (::setns(own.get(), CLONE_NEWNET) != 0 && ok) {
            *error = std::string("setns back: ") + std::strerror(errno);
            ok = false;
        }
        if (!ok) {
            *error = "netns " + netns + ": " + *error;
        }
    });
    worker.join();
    return ok;
}

}  // namespace rtprelay::loadgen
