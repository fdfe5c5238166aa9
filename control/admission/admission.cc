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

std::vector<size_t> admission::unique(const std::vector<size_t>& v) {
    std::vector<size_t> u = v;
    std::sort(u.begin(), u.end());
    u.erase(std::unique(u.begin(), u.end()), u.end());
    return u;
}

refusal admission::admit(const std::vector<size_t>& interfaces, clock::time_point now) {
    if (draining_) {
        return refusal::draining;
    }
    const std::vector<size_t> ifs = unique(interfaces);
    // Bandwidth first: a refusal for capacity must not use up rate-limit tokens.
    if (!node_.fits(call_bps_)) {
        return refusal::capacity;
    }
    for (size_t i : ifs) {
        if (!ifaces_.at(i).b.fits(call_bps_)) {
            return refusal::capacity;
        }
    }
    if (!node_cps_.take(now)) {
        return refusal::cps;
    }
    for (size_t k = 0; k < ifs.size(); ++k) {
        if (!ifaces_[ifs[k]].cps.take(now)) {
            node_cps_.put_back();
            for (size_t j = 0; j < k; ++j) {
                ifaces_[ifs[j]].cps.put_back();
            }
            return refusal::cps;
        }
    }
    node_.reserved_bps += call_bps_;
    ++node_.calls;
    for (size_t i : ifs) {
        ifaces_[i].b.reserved_bps += call_bps_;
        ++ifaces_[i].b.calls;
    }
    return refusal::none;
}

void admission::reserve(const std::vector<size_t>& interfaces) {
    node_.reserved_bps += call_bps_;
    ++node_.calls;
    for (size_t i : unique(interfaces)) {
        ifaces_.at(i).b.reserved_bps += call_bps_;
        ++ifaces_.at(i).b.calls;
    }
}

void admission::release(const std::vector<size_t>& interfaces) {
    node_.reserved_bps -= std::min(node_.reserved_bps, call_bps_);
    node_.calls -= node_.calls > 0 ? 1 : 0;
    for (size_t i : unique(interfaces)) {
        budget& b = ifaces_.at(i).b;
        b.reserved_bps -= std::min(b.reserved_bps, call_bps_);
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
