#include "control/recording/policy.h"

#include <algorithm>

namespace rtprelay::recording {

const char* mode_name(mode m) {
    switch (m) {
        case mode::from_answer:
            return "from-answer";
        case mode::from_ringing:
            return "from-ringing";
        default:
            return "off";
    }
}

const char* channels_name(channels c) { return c == channels::mixed ? "mixed" : "dual"; }

std::optional<mode> parse_mode(std::string_view s) {
    if (s == "off" || s == "none") {
        return mode::off;
    }
    if (s == "from-answer") {
        return mode::from_answer;
    }
    if (s == "from-ringing") {
        return mode::from_ringing;
    }
    return std::nullopt;
}

std::optional<channels> parse_channels(std::string_view s) {
    if (s == "mixed") {
        return channels::mixed;
    }
    if (s == "dual") {
        return channels::dual;
    }
    return std::nullopt;
}

call_policy resolve(const policy& node, const policy& a, const policy& b) {
    const mode node_when = node.when.value_or(mode::off);
    const channels node_layout = node.layout.value_or(channels::dual);
    call_policy p;
    // The enum's order is the order of "earliest": off < from_answer < from_ringing.
    p.when = std::max(a.when.value_or(node_when), b.when.value_or(node_when));
    // An interface that says which layout it wants is heard before the node's default.
    if (a.layout || b.layout) {
        p.layout = a.layout == channels::dual || b.layout == channels::dual ? channels::dual : channels::mixed;
    } else {
        p.layout = node_layout;
    }
    return p;
}

}  // namespace rtprelay::recording
