#include "relay/kernel_address.h"

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/if_packet.h>
#include <linux/rtnetlink.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <rte_arp.h>
#include <rte_ether.h>

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

// A netlink socket closed on every way out.
struct mnl_guard {
    mnl_socket* nl;
    ~mnl_guard() {
        if (nl != nullptr) {
            mnl_socket_close(nl);
        }
    }
};

// One RTM_NEWADDR / RTM_DELADDR request, acknowledged (libmnl builds the message and checks
// the answer's sequence number, port and error). `tolerated`: the errno that means "already
// so" (EEXIST when adding, EADDRNOTAVAIL when removing).
bool change_address(uint16_t type, const std::string& ifname, const cidr& a, int tolerated, std::string* why) {
    if (!a.base.is_v4()) {
        *why = "only IPv4 addresses float";
        return false;
    }
    const unsigned index = if_nametoindex(ifname.c_str());
    if (index == 0) {
        *why = err_text(("interface " + ifname).c_str(), errno);
        return false;
    }
    mnl_guard s{mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC)};
    if (s.nl == nullptr || mnl_socket_bind(s.nl, 0, MNL_SOCKET_AUTOPID) < 0) {
        *why = err_text("netlink socket", errno);
        return false;
    }
    // The kernel answers at once; the timeout only bounds a kernel that does not.
    const timeval tv{1, 0};
    setsockopt(mnl_socket_get_fd(s.nl), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    constexpr uint32_t seq = 1;  // one request per socket
    char buf[4096];              // the request, then its acknowledgement (which echoes the request)
    nlmsghdr* h = mnl_nlmsg_put_header(buf);
    h->nlmsg_type = type;
    h->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | (type == RTM_NEWADDR ? NLM_F_CREATE | NLM_F_EXCL : 0);
    h->nlmsg_seq = seq;
    auto* ifa = static_cast<ifaddrmsg*>(mnl_nlmsg_put_extra_header(h, sizeof(ifaddrmsg)));
    ifa->ifa_family = AF_INET;
    ifa->ifa_prefixlen = a.prefix;
    ifa->ifa_scope = RT_SCOPE_UNIVERSE;
    ifa->ifa_index = index;
    const uint32_t addr = a.base.v4_be();
    mnl_attr_put_u32(h, IFA_LOCAL, addr);
    mnl_attr_put_u32(h, IFA_ADDRESS, addr);
    if (type == RTM_NEWADDR && a.prefix < 31) {
        const uint32_t host_bits = a.prefix == 0 ? 0xffffffffu : (0xffffffffu >> a.prefix);
        mnl_attr_put_u32(h, IFA_BROADCAST, addr | htonl(host_bits));
    }
    if (mnl_socket_sendto(s.nl, h, h->nlmsg_len) < 0) {
        *why = err_text("netlink send", errno);
        return false;
    }
    const ssize_t n = mnl_socket_recvfrom(s.nl, buf, sizeof buf);
    if (n < 0) {
        *why = err_text("netlink answer", errno);
        return false;
    }
    // The answer (its buffer reused: `h` is stale now) is the acknowledgement: 0, or -1 with
    // errno the kernel's error.
    if (mnl_cb_run(buf, static_cast<size_t>(n), seq, mnl_socket_get_portid(s.nl), nullptr, nullptr) >= 0 ||
        errno == tolerated) {
        return true;
    }
    *why = err_text(type == RTM_NEWADDR ? "adding the address" : "removing the address", errno);
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
    // ARP over Ethernet (RFC 826), in DPDK's layout as the data plane's frames
    // (dataplane/arp.cc): sender = target = the address, from our MAC.
    rte_arp_hdr arp{};
    arp.arp_hardware = htons(RTE_ARP_HRD_ETHER);
    arp.arp_protocol = htons(RTE_ETHER_TYPE_IPV4);
    arp.arp_hlen = RTE_ETHER_ADDR_LEN;
    arp.arp_plen = 4;
    std::memcpy(&arp.arp_data.arp_sha, ifr.ifr_hwaddr.sa_data, RTE_ETHER_ADDR_LEN);
    arp.arp_data.arp_sip = a.v4_be();
    arp.arp_data.arp_tip = a.v4_be();
    sockaddr_ll to{};
    to.sll_family = AF_PACKET;
    to.sll_protocol = htons(ETH_P_ARP);
    to.sll_ifindex = static_cast<int>(index);
    to.sll_halen = 6;
    std::memset(to.sll_addr, 0xff, 6);
    for (uint16_t op : {RTE_ARP_OP_REQUEST, RTE_ARP_OP_REPLY}) {
        arp.arp_opcode = htons(op);
        if (op == RTE_ARP_OP_REPLY) {
            arp.arp_data.arp_tha = arp.arp_data.arp_sha;
        }
        if (sendto(s.fd, &arp, sizeof arp, 0, reinterpret_cast<sockaddr*>(&to), sizeof to) < 0) {
            *why = err_text("sending gratuitous ARP", errno);
            return false;
        }
    }
    return true;
}

}  // namespace rtprelay
