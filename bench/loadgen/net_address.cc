#include "bench/loadgen/net_address.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstring>

namespace rtprelay::loadgen {

uint16_t net_address::port() const {
    if (storage.ss_family == AF_INET6) {
        return ntohs(reinterpret_cast<const sockaddr_in6*>(&storage)->sin6_port);
    }
    return ntohs(reinterpret_cast<const sockaddr_in*>(&storage)->sin_port);
}

std::string net_address::to_string() const {
    char buf[INET6_ADDRSTRLEN] = {};
    if (!valid()) {
        return "(unset)";
    }
    if (storage.ss_family == AF_INET6) {
        inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(&storage)->sin6_addr, buf, sizeof buf);
        return "[" + std::string(buf) + "]:" + std::to_string(port());
    }
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(&storage)->sin_addr, buf, sizeof buf);
    return std::string(buf) + ":" + std::to_string(port());
}

bool make_address(std::string_view ip, uint16_t port, net_address* out) {
    char text[INET6_ADDRSTRLEN] = {};
    if (ip.empty() || ip.size() >= sizeof text) {
        return false;
    }
    std::memcpy(text, ip.data(), ip.size());
    net_address a;
    auto* v4 = reinterpret_cast<sockaddr_in*>(&a.storage);
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&a.storage);
    if (inet_pton(AF_INET, text, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons(port);
        a.len = sizeof(sockaddr_in);
    } else if (inet_pton(AF_INET6, text, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons(port);
        a.len = sizeof(sockaddr_in6);
    } else {
        return false;
    }
    *out = a;
    return true;
}

const char* sdp_addrtype(std::string_view ip) { return ip.find(':') == std::string_view::npos ? "IP4" : "IP6"; }

}  // namespace rtprelay::loadgen
