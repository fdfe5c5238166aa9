#include "dataplane/counters.h"

#include <iterator>

namespace rtprelay::dp {

namespace {
constexpr std::string_view names[] = {
#define DROP_REASON(name, text) #name,
#include "dataplane/drop_reasons.def"
#undef DROP_REASON
};
constexpr std::string_view texts[] = {
#define DROP_REASON(name, text) text,
#include "dataplane/drop_reasons.def"
#undef DROP_REASON
};
constexpr std::string_view kind_names[] = {"rtp", "rtcp", "srtp", "srtcp"};
static_assert(std::size(kind_names) == media_kind_count);
constexpr std::string_view latch_kind_names[] = {"first", "plain_move", "srtp_relatch"};
static_assert(std::size(latch_kind_names) == latch_kind_count);
}  // namespace

std::string_view latch_kind_name(latch_kind k) { return latch_kind_names[static_cast<size_t>(k)]; }

std::string_view media_kind_name(media_kind k) { return kind_names[static_cast<size_t>(k)]; }

std::string_view drop_reason_name(drop_reason r) { return names[static_cast<size_t>(r)]; }
std::string_view drop_reason_text(drop_reason r) { return texts[static_cast<size_t>(r)]; }

std::optional<drop_reason> drop_reason_of(std::string_view name) {
    for (size_t r = 0; r < drop_reason_count; ++r) {
        if (names[r] == name) {
            return static_cast<drop_reason>(r);
        }
    }
    return std::nullopt;
}

uint64_t worker_counters::total_drops() const {
    uint64_t t = 0;
    for (uint64_t d : drops) {
        t += d;
    }
    return t;
}

uint64_t worker_counters::accounted() const {
    // handed_off packets are counted again (as relayed or dropped) by the worker that
    // receives them, so they are not part of this worker's accounting.
    return relayed_rtp + relayed_rtcp + total_drops() + arp_to_control + icmp_echo_replies;
}

worker_counters sum(const worker_counters* blocks, size_t n) {
    worker_counters s;
    for (size_t i = 0; i < n; ++i) {
        const worker_counters& b = blocks[i];
        for (const counter_info& c : worker_counter_list) {
            s.*c.field += b.*c.field;
        }
        for (size_t f = 0; f < counted_interfaces; ++f) {
            for (size_t k = 0; k < latch_kind_count; ++k) {
                s.latch_changes[f][k] += b.latch_changes[f][k];
            }
        }
        for (size_t r = 0; r < drop_reason_count; ++r) {
            s.drops[r] += b.drops[r];
        }
        for (size_t p = 0; p < counted_ports; ++p) {
            for (size_t d = 0; d < traffic_dir_count; ++d) {
                for (size_t k = 0; k < media_kind_count; ++k) {
                    s.traffic[p][d][k].packets += b.traffic[p][d][k].packets;
                    s.traffic[p][d][k].bytes += b.traffic[p][d][k].bytes;
                }
            }
        }
    }
    return s;
}

}  // namespace rtprelay::dp
