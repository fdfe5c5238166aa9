#include "relay/kernel_address.h"

#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace rtprelay {

namespace {
std::string err_text(const char* what, int err) { return std::string(what) + ": " + std::strerror(err); }

// A file descriptor closed on every way out.
struct fd_guard {
    int fd;
    ~fd_guard() {
        if (fd >= 0) {
            close(fd);
        }
    }
};

// One RTM_NEWADDR / RTM_DELADDR request, acknowledged. `tolerated`: the errno that means
// "already so" (EEXIST when adding, EADDRNOTAVAIL when removing).
bool change_address(int type, const std::string& ifname, const cidr& a, int tolerated, std::string* why) {
    if (!a.base.is_v4()) {
        *why = "only IPv4 addresses float";
        return false;
    }
    const unsigned index = if_nametoindex(ifname.c_str());
    if (index == 0) {
        *why = err_text(("interface " + ifname).c_str(), errno);
        return false;
    }
    fd_guard s{socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE)};
    if (s.fd < 0) {
        *why = err_text("netlink socket", errno);
        return false;
    }
    // The kernel answers at once; the timeout only bounds a kernel that does not.
    const timeval tv{1, 0};
    setsockopt(s.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    struct {
        nlmsghdr h;
        ifaddrmsg ifa;
        char attrs[64];
    } req{};
    req.h.nlmsg_len = NLMSG_LENGTH(sizeof(ifaddrmsg));
    req.h.nlmsg_type = static_cast<uint16_t>(type);
    req.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | (type == RTM_NEWADDR ? NLM_F_CREATE | NLM_F_EXCL : 0);
    req.h.nlmsg_seq = 1;
    req.ifa.ifa_family = AF_INET;
    req.ifa.ifa_prefixlen = a.prefix;
    req.ifa.ifa_scope = RT_SCOPE_UNIVERSE;
    req.ifa.ifa_index = index;
    auto put = [&req](uint16_t attr, const void* data, size_t len) {
        auto* rta = reinterpret_cast<rtattr*>(reinterpret_cast<char*>(&req) + NLMSG_ALIGN(req.h.nlmsg_len));
        rta->rta_type = attr;
        rta->rta_len = static_cast<uint16_t>(RTA_LENGTH(len));
        std::memcpy(RTA_DATA(rta), data, len);
        req.h.nlmsg_len = NLMSG_ALIGN(req.h.nlmsg_len) + RTA_ALIGN(rta->rta_len);
    };
    const uint32_t addr = a.base.v4_be();
    put(IFA_LOCAL, &addr, 4);
    put(IFA_ADDRESS, &addr, 4);
    if (type == RTM_NEWADDR && a.prefix < 31) {
        const uint32_t host_bits = a.prefix == 0 ? 0xffffffffu : (0xffffffffu >> a.prefix);
        const uint32_t bcast = addr | htonl(host_bits);
        put(IFA_BROADCAST, &bcast, 4);
    }
    sockaddr_nl kernel{};
    kernel.nl_family = AF_NETLINK;
    if (sendto(s.fd, &req, req.h.nlmsg_len, 0, reinterpret_cast<sockaddr*>(&kernel), sizeof kernel) < 0) {
        *why = err_text("netlink send", errno);
        return false;
    }
    char buf[4096];
    const ssize_t n = recv(s.fd, buf, sizeof buf, 0);
    if (n < 0) {
        *why = err_text("netlink answer", errno);
        return false;
    }
    const auto* h = reinterpret_cast<const nlmsghdr*>(buf);
    if (!NLMSG_OK(h, static_cast<size_t>(n)) || h->nlmsg_type != NLMSG_ERROR) {
        *why = "netlink: unexpected answer";
        return false;
    }
    const auto* e = static_cast<const nlmsgerr*>(NLMSG_DATA(h));
    if (e->error == 0 || -e->error == tolerated) {
        return true;
    }
    *why = err_text(type == RTM_NEWADDR ? "adding the address" : "removing the address", -e->error);
    return false;
}
}  // namespace

bool add_kernel_address(const std::string& ifname, const cidr& a, std::string* why) {
    return change_address(RTM_NEWADDR, ifname, a, EEXIST, why);
}

bool remove_kernel_address(const std::string& ifname, const cidr& a, std::string* why) {
    return change_address(RTM_DELADDR, ifname, a, EADDRNOTAVAIL, why);
}

bool announce_kernel_address(const std::string& ifname, const ip_address& a, std::string* why) {
    if (!a.is_v4()) {
        *why = "only IPv4 addresses float";
        return false;
    }
    fd_guard s{socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC, htons(ETH_P_ARP))};
    if (s.fd < 0) {
        *why = err_text("packet socket", errno);
        return false;
    }
    ifreq ifr{};
    std::strncpy(ifr.ifr_name, ifname.c_str(), IFNAMSIZ - 1);
    if (ioctl(s.fd, SIOCGIFHWADDR, &ifr) != 0) {
        *why = err_text(("MAC of " + ifname).c_str(), errno);
        return false;
    }
    const unsigned index = if_nametoindex(ifname.c_str());
    if (index == 0) {
        *why = err_text(("interface " + ifname).c_str(), errno);
        return false;
    }
    // ARP over Ethernet (RFC 826): sender = target = the address, from our MAC.
    struct __attribute__((packed)) {
        uint16_t htype, ptype;
        uint8_t hlen, plen;
        uint16_t op;
        uint8_t sha[6];
        uint32_t spa;
        uint8_t tha[6];
        uint32_t tpa;
    } arp{};
    arp.htype = htons(ARPHRD_ETHER);
    arp.ptype = htons(ETH_P_IP);
    arp.hlen = 6;
    arp.plen = 4;
    std::memcpy(arp.sha, ifr.ifr_hwaddr.sa_data, 6);
    arp.spa = a.v4_be();
    arp.tpa = a.v4_be();
    sockaddr_ll to{};
    to.sll_family = AF_PACKET;
    to.sll_protocol = htons(ETH_P_ARP);
    to.sll_ifindex = static_cast<int>(index);
    to.sll_halen = 6;
    std::memset(to.sll_addr, 0xff, 6);
    for (uint16_t op : {ARPOP_REQUEST, ARPOP_REPLY}) {
        arp.op = htons(op);
        if (op == ARPOP_REPLY) {
            std::memcpy(arp.tha, arp.sha, 6);
        }
        if (sendto(s.fd, &arp, sizeof arp, 0, reinterpret_cast<sockaddr*>(&to), sizeof to) < 0) {
            *why = err_text("sending gratuitous ARP", errno);
            return false;
        }
    }
    return true;
}

}  // namespace rtprelay
