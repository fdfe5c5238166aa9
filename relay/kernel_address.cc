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

#include "dataplane/nd.h"

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
    ifa->ifa_family = a.base.is_v4() ? AF_INET : AF_INET6;
    ifa->ifa_prefixlen = a.prefix;
    ifa->ifa_scope = RT_SCOPE_UNIVERSE;
    ifa->ifa_index = index;
    if (a.base.is_v4()) {
        const uint32_t addr = a.base.v4_be();
        mnl_attr_put_u32(h, IFA_LOCAL, addr);
        mnl_attr_put_u32(h, IFA_ADDRESS, addr);
        if (type == RTM_NEWADDR && a.prefix < 31) {
            const uint32_t host_bits = a.prefix == 0 ? 0xffffffffu : (0xffffffffu >> a.prefix);
            mnl_attr_put_u32(h, IFA_BROADCAST, addr | htonl(host_bits));
        }
    } else {
        mnl_attr_put(h, IFA_LOCAL, 16, a.base.bytes.data());
        mnl_attr_put(h, IFA_ADDRESS, 16, a.base.bytes.data());
        if (type == RTM_NEWADDR) {
            // Not tentative: without it the kernel would not let the NG socket send from the
            // address (nor answer for it) until DAD ends, ~1 s after every takeover.
            ifa->ifa_flags = IFA_F_NODAD;
            mnl_attr_put_u32(h, IFA_FLAGS, IFA_F_NODAD);
        }
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
// Sends `frame` (`len` bytes after the Ethernet header, which the kernel writes) from packet
// socket `fd` on interface `index` to `dst`.
bool send_frame(int fd, unsigned index, uint16_t ether_type, const uint8_t dst[6], const void* frame, size_t len,
                const char* what, std::string* why) {
    sockaddr_ll to{};
    to.sll_family = AF_PACKET;
    to.sll_protocol = htons(ether_type);
    to.sll_ifindex = static_cast<int>(index);
    to.sll_halen = 6;
    std::memcpy(to.sll_addr, dst, 6);
    if (sendto(fd, frame, len, 0, reinterpret_cast<sockaddr*>(&to), sizeof to) < 0) {
        *why = err_text(what, errno);
        return false;
    }
    return true;
}

bool send_gratuitous_arp(int fd, unsigned index, const rte_ether_addr& mac, const ip_address& a, std::string* why) {
    // ARP over Ethernet (RFC 826), in DPDK's layout as the data plane's frames
    // (dataplane/arp.cc): sender = target = the address, from our MAC.
    static constexpr uint8_t broadcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    rte_arp_hdr arp{};
    arp.arp_hardware = htons(RTE_ARP_HRD_ETHER);
    arp.arp_protocol = htons(RTE_ETHER_TYPE_IPV4);
    arp.arp_hlen = RTE_ETHER_ADDR_LEN;
    arp.arp_plen = 4;
    arp.arp_data.arp_sha = mac;
    arp.arp_data.arp_sip = a.v4_be();
    arp.arp_data.arp_tip = a.v4_be();
    for (uint16_t op : {RTE_ARP_OP_REQUEST, RTE_ARP_OP_REPLY}) {
        arp.arp_opcode = htons(op);
        if (op == RTE_ARP_OP_REPLY) {
            arp.arp_data.arp_tha = arp.arp_data.arp_sha;
        }
        if (!send_frame(fd, index, ETH_P_ARP, broadcast, &arp, sizeof arp, "sending gratuitous ARP", why)) {
            return false;
        }
    }
    return true;
}

bool send_unsolicited_na(int fd, unsigned index, const rte_ether_addr& mac, const ip_address& a, std::string* why) {
    // The data plane's unsolicited advertisement (override set, to ff02::1, hop limit 255);
    // the socket writes the Ethernet header, so the frame goes without its own.
    uint8_t frame[dp::nd_frame_len(0)];
    const uint32_t len = dp::write_unsolicited_advert(frame, mac, a.bytes.data());
    const auto* eth = reinterpret_cast<const rte_ether_hdr*>(frame);
    return send_frame(fd, index, ETH_P_IPV6, eth->dst_addr.addr_bytes, frame + sizeof(rte_ether_hdr),
                      len - sizeof(rte_ether_hdr), "sending unsolicited neighbour advertisement", why);
}
}  // namespace

bool add_kernel_address(const std::string& ifname, const cidr& a, std::string* why) {
    return change_address(RTM_NEWADDR, ifname, a, EEXIST, why);
}

bool remove_kernel_address(const std::string& ifname, const cidr& a, std::string* why) {
    return change_address(RTM_DELADDR, ifname, a, EADDRNOTAVAIL, why);
}

bool announce_kernel_address(const std::string& ifname, const ip_address& a, std::string* why) {
    fd_guard s{socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC, htons(a.is_v4() ? ETH_P_ARP : ETH_P_IPV6))};
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
    rte_ether_addr mac;
    std::memcpy(mac.addr_bytes, ifr.ifr_hwaddr.sa_data, RTE_ETHER_ADDR_LEN);
    return a.is_v4() ? send_gratuitous_arp(s.fd, index, mac, a, why) : send_unsolicited_na(s.fd, index, mac, a, why);
}

}  // namespace rtprelay
