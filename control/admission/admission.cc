#include "control/admission/admission.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <string>

namespace rtprelay {

bool token_bucket::take(clock::time_point now) {
    if (rate_ <= 0) {
        return true;
    }
    if (last_) {
        const double dt = std::chrono::duration<double>(now - *last_).count();
        tokens_ = std::min(rate_, tokens_ + std::max(0.0, dt) * rate_);
    }
    last_ = now;
    if (tokens_ < 1.0) {
        return false;
    }
    tokens_ -= 1.0;
    return true;
}

void token_bucket::put_back() {
    if (rate_ > 0) {
        tokens_ = std::min(rate_, tokens_ + 1.0);
    }
}

const char* refusal_name(refusal r) {
    switch (r) {
        case refusal::capacity:
            return "capacity";
        case refusal::cps:
            return "cps";
        case refusal::draining:
            return "draining";
        default:
            return "none";
    }
}

admission::admission(uint64_t node_capacity_bps, uint64_t call_bps, double node_cps, size_t n_interfaces)
    : call_bps_(call_bps), node_cps_(node_cps), ifaces_(n_interfaces) {
    node_.capacity_bps = node_capacity_bps;
}

void admission::set_interface(size_t index, uint64_t capacity_bps, double cps) {
    ifaces_.at(index).b.capacity_bps = capacity_bps;
    ifaces_.at(index).cps = token_bucket(cps);
}

std::vector<leg_cost> admission::per_interface(const std::vector<leg_cost>& legs) {
    std::vector<leg_cost> u = legs;
    std::sort(u.begin(), u.end(), [](const leg_cost& a, const leg_cost& b) {
        return a.interface != b.interface ? a.interface < b.interface : a.bps > b.bps;
    });
    u.erase(std::unique(u.begin(), u.end(),
                        [](const leg_cost& a, const leg_cost& b) { return a.interface == b.interface; }),
            u.end());
    return u;
}

namespace {
std::vector<leg_cost> flat(const std::vector<size_t>& interfaces, uint64_t bps) {
    std::vector<leg_cost> legs;
    legs.reserve(interfaces.size());
    for (size_t i : interfaces) {
        legs.push_back({i, bps});
    }
    return legs;
}

uint64_t largest(const std::vector<leg_cost>& legs) {
    uint64_t m = 0;
    for (const leg_cost& l : legs) {
        m = std::max(m, l.bps);
    }
    return m;
}
}  // namespace

refusal admission::admit(const std::vector<size_t>& interfaces, clock::time_point now) {
    return admit_legs(flat(interfaces, call_bps_), now);
}

void admission::release(const std::vector<size_t>& interfaces) { release_legs(flat(interfaces, call_bps_)); }

refusal admission::admit_legs(const std::vector<leg_cost>& legs, clock::time_point now) {
    if (draining_) {
        return refusal::draining;
    }
    const std::vector<leg_cost> ifs = per_interface(legs);
    const uint64_t node_bps = largest(legs);
    // Bandwidth first: a refusal for capacity must not use up rate-limit tokens.
    if (!node_.fits(node_bps)) {
        return refusal::capacity;
    }
    for (const leg_cost& l : ifs) {
        if (!ifaces_.at(l.interface).b.fits(l.bps)) {
            return refusal::capacity;
        }
    }
    if (!node_cps_.take(now)) {
        return refusal::cps;
    }
    for (size_t k = 0; k < ifs.size(); ++k) {
        if (!ifaces_[ifs[k].interface].cps.take(now)) {
            node_cps_.put_back();
            for (size_t j = 0; j < k; ++j) {
                ifaces_[ifs[j].interface].cps.put_back();
            }
            return refusal::cps;
        }
    }
    node_.reserved_bps += node_bps;
    ++node_.calls;
    for (const leg_cost& l : ifs) {
        ifaces_[l.interface].b.reserved_bps += l.bps;
        ++ifaces_[l.interface].b.calls;
    }
    return refusal::none;
}

void admission::release_legs(const std::vector<leg_cost>& legs) {
    const uint64_t node_bps = largest(legs);
    node_.reserved_bps -= std::min(node_.reserved_bps, node_bps);
    node_.calls -= node_.calls > 0 ? 1 : 0;
    for (const leg_cost& l : per_interface(legs)) {
        budget& b = ifaces_.at(l.interface).b;
        b.reserved_bps -= std::min(b.reserved_bps, l.bps);
        b.calls -= b.calls > 0 ? 1 : 0;
    }
}

std::optional<uint64_t> parse_bandwidth(std::string_view text) {
    if (text.empty() || text.size() > 32) {
        return std::nullopt;
    }
    std::string s(text);
    double mult = 1;
    switch (s.back()) {
        case 'k':
        case 'K':
            mult = 1e3;
            break;
        case 'm':
        case 'M':
            mult = 1e6;
            break;
        case 'g':
        case 'G':
            mult = 1e9;
            break;
        case 't':
        case 'T':
            mult = 1e12;
            break;
        default:
            break;
    }
    if (mult != 1) {
        s.pop_back();
    }
    char* end = nullptr;
    const double v = std::strtod(s.c_str(), &end);
    if (s.empty() || end != s.c_str() + s.size() || !std::isfinite(v) || v < 0 || v * mult > 1e15) {
        return std::nullopt;
    }
    return static_cast<uint64_t>(std::llround(v * mult));
}

}  // namespace rtprelay
