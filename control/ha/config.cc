#include "control/ha/config.h"

#include <sys/stat.h>
#include <unistd.h>

#include <charconv>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "control/interfaces.h"

namespace rtprelay::ha {

namespace {
[[noreturn]] void bad(const std::string& option, const std::string& why) {
    throw std::invalid_argument("option '--" + option + "': " + why);
}

// Group and node names become parts of Redis keys: letters, digits, '-', '_', '.'.
void check_name(const std::string& option, const std::string& name) {
    if (name.empty() || name.size() > 64) {
        bad(option, "must be 1 to 64 characters");
    }
    for (char c : name) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                        c == '_' || c == '.';
        if (!ok) {
            bad(option, "'" + name + "' may hold only letters, digits, '-', '_' and '.'");
        }
    }
}

std::string host_name() {
    char buf[256] = {};
    if (gethostname(buf, sizeof buf - 1) != 0) {
        return {};
    }
    std::string h(buf);
    return h.substr(0, h.find('.'));
}

// A secret file: readable, not readable by others (it would leak the key to every user).
std::string read_secret(const std::string& option, const std::string& path) {
    struct stat st {};
    if (stat(path.c_str(), &st) != 0) {
        bad(option, "cannot read '" + path + "'");
    }
    if ((st.st_mode & S_IROTH) != 0) {
        bad(option, "'" + path + "' is readable by every user; chmod o-r it (it holds a secret)");
    }
    std::ifstream f(path);
    if (!f) {
        bad(option, "cannot read '" + path + "'");
    }
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

// Floating NG addresses: IPv4 or IPv6 on one management interface, none of them a media address,
// and this node's --ng-listen one of them.
void check_ng_float(const group_options& o, const interface_set& interfaces, group_config* c) {
    if (o.ng_float_interface.empty() && o.ng_float_addresses.empty()) {
        return;
    }
    if (o.ng_float_interface.empty()) {
        bad("ng-float-interface", "--ng-float-addresses needs the interface they move on");
    }
    if (o.ng_float_addresses.empty()) {
        bad("ng-float-addresses", "--ng-float-interface needs the group's NG addresses (ADDR/PREFIX, every node's)");
    }
    if (o.ng_float_interface.size() >= 16 || o.ng_float_interface.find_first_of("/ \t") != std::string::npos) {
        bad("ng-float-interface", "'" + o.ng_float_interface + "' is not an interface name");
    }
    c->ng_float_interface = o.ng_float_interface;
    for (const auto& text : o.ng_float_addresses) {
        const auto n = cidr::parse(text);
        if (!n || text.find('/') == std::string::npos) {
            bad("ng-float-addresses", "'" + text + "' is not ADDRESS/PREFIX");
        }
        if (n->prefix == 0) {
            bad("ng-float-addresses", "'" + text + "': the prefix must be 1 to 32 (IPv6: 1 to 128)");
        }
        if (!n->base.is_v4() && n->base.bytes[0] == 0xfe && (n->base.bytes[1] & 0xc0) == 0x80) {
            bad("ng-float-addresses", "'" + text + "' is link-local: a floating NG address must be global");
        }
        for (const auto& other : c->ng_float) {
            if (other.base == n->base) {
                bad("ng-float-addresses", "'" + text + "' is listed twice");
            }
        }
        for (const auto& i : interfaces.all()) {
            for (const auto& m : i.addresses) {
                if (m.net.base == n->base) {
                    bad("ng-float-addresses", "'" + text + "' is a media address too (--interface " + i.name + ")");
                }
            }
        }
        c->ng_float.push_back(*n);
    }
    const host_port listen = parse_host_port("ng-listen", o.ng_listen);
    const auto listen_address = ip_address::parse(listen.host);
    for (const auto& n : c->ng_float) {
        if (listen_address && n.base == *listen_address) {
            c->ng_float_home = n.base.to_string();
        }
    }
    if (c->ng_float_home.empty()) {
        bad("ng-listen", "'" + o.ng_listen + "' must be on one of --ng-float-addresses (this node's own)");
    }
    c->ng_port = listen.port;
}
}  // namespace

std::string host_port::to_string() const {
    return (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

host_port parse_host_port(const std::string& option, const std::string& text) {
    host_port hp;
    std::string port_text;
    if (!text.empty() && text.front() == '[') {
        const size_t close = text.find(']');
        if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':') {
            bad(option, "'" + text + "' is not HOST:PORT");
        }
        hp.host = text.substr(1, close - 1);
        port_text = text.substr(close + 2);
    } else {
        const size_t colon = text.rfind(':');
        if (colon == std::string::npos || colon == 0 || text.find(':') != colon) {
            bad(option, "'" + text + "' is not HOST:PORT");
        }
        hp.host = text.substr(0, colon);
        port_text = text.substr(colon + 1);
    }
    unsigned long p = 0;
    auto r = std::from_chars(port_text.data(), port_text.data() + port_text.size(), p);
    if (hp.host.empty() || r.ec != std::errc() || r.ptr != port_text.data() + port_text.size() || p == 0 || p > 65535) {
        bad(option, "'" + text + "' is not HOST:PORT");
    }
    hp.port = static_cast<uint16_t>(p);
    return hp;
}

group_config make_group_config(const group_options& o, const interface_set& interfaces) {
    group_config c;
    check_name("group", o.group);
    c.group = o.group;
    c.node = o.node.empty() ? host_name() : o.node;
    check_name("node", c.node);
    if (o.redis.empty() == o.sentinels.empty()) {
        bad("redis", "a group needs either --redis HOST:PORT or one or more --sentinel HOST:PORT (not both)");
    }
    if (!o.redis.empty()) {
        c.redis = parse_host_port("redis", o.redis);
    }
    for (const auto& s : o.sentinels) {
        c.sentinels.push_back(parse_host_port("sentinel", s));
    }
    if (!c.sentinels.empty()) {
        check_name("redis-master", o.master_name);
    }
    c.master_name = o.master_name;
    c.user = o.user;
    if (!o.password_file.empty()) {
        std::string p = read_secret("redis-password-file", o.password_file);
        p = p.substr(0, p.find_first_of("\r\n"));
        if (p.empty()) {
            bad("redis-password-file", "'" + o.password_file + "' holds no password on its first line");
        }
        c.password = std::move(p);
    } else if (!o.user.empty()) {
        bad("redis-user", "an ACL user needs --redis-password-file");
    }
    if (o.key_file.empty()) {
        bad("group-key-file", "a group needs its sealing key (64 hex digits: openssl rand -hex 32 > FILE)");
    }
    std::string text = read_secret("group-key-file", o.key_file);
    auto key = group_key::from_hex(text);
    std::fill(text.begin(), text.end(), '\0');
    if (!key) {
        bad("group-key-file", "'" + o.key_file + "' does not hold 64 hex digits (openssl rand -hex 32 > FILE)");
    }
    c.key = *key;
    for (const auto& a : o.home_addresses) {
        // Compared as addresses and kept as the interfaces spell them (the lease keys): an
        // IPv6 address may be written in any of its forms.
        const auto parsed = ip_address::parse(a);
        bool found = false;
        for (const auto& i : interfaces.all()) {
            for (const auto& m : i.addresses) {
                found = found || (parsed && m.net.base == *parsed);
            }
        }
        if (!found) {
            bad("home-addresses", "'" + a + "' is not an address of any --interface");
        }
        c.home_addresses.push_back(parsed->to_string());
    }
    if (o.lease_ms < 200 || o.lease_ms > 60000) {
        bad("lease-ms", "must be 200 to 60000 milliseconds");
    }
    c.lease = std::chrono::milliseconds(o.lease_ms);
    if (o.redis_timeout_ms < 10 || o.redis_timeout_ms * 2 > o.lease_ms) {
        bad("redis-timeout-ms", "must be at least 10 ms and at most half of --lease-ms");
    }
    c.redis_timeout = std::chrono::milliseconds(o.redis_timeout_ms);
    if (o.queue < 16) {
        bad("redis-queue", "must be at least 16");
    }
    c.queue = o.queue;
    c.ng_address = o.ng_listen;
    // libsrtp2 (2.5) cannot be seeded: its API sets no stream's SRTCP index nor replay
    // window (srtp_set_stream_roc only hints the ROC of the next RTP packet of an SSRC it
    // has met), and it reports no index a record could carry. A taker would send SRTCP
    // indices from 1 again under the same key: keystream the dead node already used.
    if (o.srtp_engine != "native") {
        bad("srtp-engine", "'" + o.srtp_engine +
                               "' cannot serve a group: a peer taking its calls could not start above the SRTP "
                               "indices it used (keystream reuse); use native, the default");
    }
    check_ng_float(o, interfaces, &c);
    return c;
}

}  // namespace rtprelay::ha
