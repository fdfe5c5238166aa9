#include "control/interfaces.h"

#include <cstdlib>

#include "control/admission/admission.h"

#include <algorithm>
#include <charconv>
#include <sstream>
#include <stdexcept>

#include "dataplane/counters.h"

namespace rtprelay {

namespace {
[[noreturn]] void bad(std::string_view name, const std::string& why) {
    throw std::invalid_argument("interface '" + std::string(name) + "': " + why);
}

template <typename T>
T number(std::string_view name, std::string_view key, std::string_view text, T max) {
    unsigned long v = 0;
    auto r = std::from_chars(text.data(), text.data() + text.size(), v);
    if (r.ec != std::errc() || r.ptr != text.data() + text.size() || v > max) {
        bad(name, std::string(key) + " '" + std::string(text) + "' is not a number up to " + std::to_string(max));
    }
    return static_cast<T>(v);
}

std::vector<std::string_view> split(std::string_view s, char sep) {
    std::vector<std::string_view> out;
    size_t start = 0;
    while (start <= s.size()) {
        const size_t end = s.find(sep, start);
        std::string_view part = s.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
        if (!part.empty()) {
            out.push_back(part);
        }
        if (end == std::string_view::npos) {
            break;
        }
        start = end + 1;
    }
    return out;
}
}  // namespace

std::optional<logical_interface::allocation> logical_interface::allocate(ip_address::family fam) {
    size_t& next = next_address[fam == ip_address::family::v4 ? 0 : 1];
    for (size_t tried = 0; tried < addresses.size(); ++tried) {
        const size_t i = (next + tried) % addresses.size();
        if (addresses[i].net.base.fam != fam) {
            continue;
        }
        if (auto p = addresses[i].pool->take()) {
            next = (i + 1) % addresses.size();
            return allocation{i, *p};
        }
    }
    return std::nullopt;
}

bool logical_interface::has_family(ip_address::family fam) const { return first_address(fam) != nullptr; }

const ip_address* logical_interface::first_address(ip_address::family fam) const {
    for (const auto& a : addresses) {
        if (a.net.base.fam == fam) {
            return &a.net.base;
        }
    }
    return nullptr;
}

void logical_interface::release(const allocation& a) { addresses.at(a.address_index).pool->give_back(a.rtp_port); }

logical_interface parse_interface(std::string_view spec, uint64_t seed) {
    std::vector<std::string_view> words = split(spec, ' ');
    if (words.empty()) {
        throw std::invalid_argument("interface: empty definition");
    }
    logical_interface li;
    li.name = std::string(words[0]);
    if (li.name.find('=') != std::string::npos) {
        throw std::invalid_argument("interface '" + li.name + "': the line must start with the interface name");
    }
    std::vector<cidr> nets;
    bool have_port = false;
    for (size_t w = 1; w < words.size(); ++w) {
        const size_t eq = words[w].find('=');
        if (eq == std::string_view::npos) {
            bad(li.name, "expected key=value, got '" + std::string(words[w]) + "'");
        }
        const std::string_view key = words[w].substr(0, eq);
        const std::string_view val = words[w].substr(eq + 1);
        if (key == "address") {
            for (std::string_view a : split(val, ',')) {
                auto c = cidr::parse(a);
                if (!c) {
                    bad(li.name, "address '" + std::string(a) + "' is not an address/prefix");
                }
                if (c->base.is_unspecified() || (!c->base.is_v4() && c->base.bytes[0] == 0xff)) {
                    bad(li.name, "address '" + std::string(a) + "' is not a unicast address");
                }
                if (!c->base.is_v4() && c->base.bytes[0] == 0xfe && (c->base.bytes[1] & 0xc0) == 0x80) {
                    // Media goes to peers beyond the link; a link-local source cannot reach them.
                    bad(li.name,
                        "address '" + std::string(a) + "' is link-local (fe80::/10): media needs a global address");
                }
                nets.push_back(*c);
            }
        } else if (key == "dpdk-port") {
            li.dpdk_port = number<uint16_t>(li.name, key, val, 7);
            have_port = true;
        } else if (key == "vlan") {
            li.vlan = number<uint16_t>(li.name, key, val, 4094);
        } else if (key == "gateway") {
            for (std::string_view gv : split(val, ',')) {
                auto g = ip_address::parse(gv);
                if (!g || g->is_unspecified()) {
                    bad(li.name, "gateway '" + std::string(gv) + "' is not an IPv4 or IPv6 address");
                }
                std::optional<ip_address>& slot = g->is_v4() ? li.gateway : li.gateway6;
                if (slot) {
                    bad(li.name, "gateway: more than one " + std::string(g->is_v4() ? "IPv4" : "IPv6") + " gateway");
                }
                slot = *g;
            }
        } else if (key == "ports") {
            const size_t dash = val.find('-');
            if (dash == std::string_view::npos) {
                bad(li.name, "ports '" + std::string(val) + "' must be MIN-MAX");
            }
            li.port_min = number<uint16_t>(li.name, "ports", val.substr(0, dash), 65535);
            li.port_max = number<uint16_t>(li.name, "ports", val.substr(dash + 1), 65535);
            if (li.port_min < 1024 || li.port_max < li.port_min + 1) {
                bad(li.name, "ports '" + std::string(val) +
                                 "' must be a range within 1024-65535 holding at least one even/odd pair");
            }
        } else if (key == "capacity") {
            auto bps = parse_bandwidth(val);
            if (!bps) {
                bad(li.name, "capacity '" + std::string(val) + "' is not a bandwidth (e.g. 800M, 1G, 2500000)");
            }
            li.capacity_bps = *bps;
        } else if (key == "cps") {
            char* end = nullptr;
            const std::string v(val);
            li.cps = std::strtod(v.c_str(), &end);
            if (v.empty() || end != v.c_str() + v.size() || !(li.cps >= 0) || li.cps > 1e6) {
                bad(li.name, "cps '" + v + "' is not a rate of new calls per second");
            }
        } else if (key == "strict-source") {
            if (val == "on" || val == "yes") {
                li.strict_source = true;
            } else if (val == "off" || val == "no") {
                li.strict_source = false;
            } else {
                bad(li.name, "strict-source '" + std::string(val) + "' must be on or off");
            }
        } else if (key == "learn-window") {
            li.learn_window_s = number<uint32_t>(li.name, key, val, 3600);
        } else if (key == "recording") {
            li.recording.when = recording::parse_mode(val);
            if (!li.recording.when) {
                bad(li.name, "recording '" + std::string(val) + "' must be off, from-answer or from-ringing");
            }
        } else if (key == "recording-channels") {
            li.recording.layout = recording::parse_channels(val);
            if (!li.recording.layout) {
                bad(li.name, "recording-channels '" + std::string(val) + "' must be mixed or dual");
            }
        } else if (key == "rx-desc" || key == "tx-desc") {
            const auto n = number<uint16_t>(li.name, key, val, 32768);
            if (n < 64) {
                bad(li.name, std::string(key) + " '" + std::string(val) + "' must be between 64 and 32768");
            }
            (key == "rx-desc" ? li.rx_desc : li.tx_desc) = n;
        } else {
            bool owned = false;
            try {
                owned = sdes::apply_policy_option(li.srtp, key, val);
            } catch (const std::invalid_argument& e) {
                bad(li.name, e.what());
            }
            if (!owned) {
                bad(li.name, "unknown key '" + std::string(key) + "'");
            }
        }
    }
    if (nets.empty()) {
        bad(li.name, "needs at least one address=ADDR/PREFIX");
    }
    if (!have_port) {
        bad(li.name, "needs dpdk-port=N (the DPDK port its packets use)");
    }
    for (const auto* g : {&li.gateway, &li.gateway6}) {
        const bool any =
            std::any_of(nets.begin(), nets.end(), [&](const cidr& c) { return *g && c.base.fam == (*g)->fam; });
        if (*g && !any) {
            bad(li.name, "gateway " + (*g)->to_string() + " has no address of its family on this interface");
        }
    }
    for (size_t i = 0; i < nets.size(); ++i) {
        li.addresses.push_back(media_address{nets[i], std::make_unique<port_pool>(li.port_min, li.port_max, seed + i)});
    }
    return li;
}

void interface_set::add(logical_interface i) {
    for (const auto& other : items_) {
        if (other.name == i.name) {
            throw std::invalid_argument("interface '" + i.name + "' is defined twice");
        }
        for (const auto& a : other.addresses) {
            for (const auto& b : i.addresses) {
                if (a.net.base == b.net.base) {
                    throw std::invalid_argument("interface '" + i.name + "': address " + b.net.base.to_string() +
                                                " already belongs to interface '" + other.name + "'");
                }
            }
        }
    }
    // The data plane counts latch changes per interface in fixed tables (dataplane/counters.h).
    if (items_.size() >= dp::counted_interfaces) {
        throw std::invalid_argument("interface '" + i.name + "': at most " + std::to_string(dp::counted_interfaces) +
                                    " interfaces");
    }
    i.index = items_.size();
    items_.push_back(std::move(i));
}

logical_interface* interface_set::find(std::string_view name) {
    for (auto& i : items_) {
        if (i.name == name) {
            return &i;
        }
    }
    return nullptr;
}

}  // namespace rtprelay
