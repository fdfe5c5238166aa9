#include "bench/loadgen/stream_stats.h"

#include <cmath>

namespace rtprelay::loadgen {

void stream_stats::start(uint16_t first_seq, uint32_t first_ts, uint32_t clock_rate_hz) {
    *this = stream_stats{};
    // Biased by 2^16 so the extended numbers never go negative, one below the first packet.
    max_ext_ = 65536 + static_cast<int64_t>(first_seq) - 1;
    first_ts_ = first_ts;
    ns_per_tick_ = 1e9 / static_cast<double>(clock_rate_hz);
}

bool stream_stats::test_and_set(int64_t ext) {
    const auto bit = static_cast<uint64_t>(ext % window);
    uint64_t& word = seen_[bit / 64];
    const uint64_t mask = uint64_t{1} << (bit % 64);
    const bool was = (word & mask) != 0;
    word |= mask;
    return was;
}

void stream_stats::clear_range(int64_t from, int64_t to) {
    if (to - from >= window) {
        seen_.fill(0);
        return;
    }
    for (int64_t e = from; e < to; ++e) {
        const auto bit = static_cast<uint64_t>(e % window);
        seen_[bit / 64] &= ~(uint64_t{1} << (bit % 64));
    }
}

stream_stats::verdict stream_stats::on_rtp(uint16_t seq, uint32_t rtp_ts, int64_t arrival_ns) {
    // The extended number nearest to the highest seen whose low 16 bits are `seq`.
    const auto low = static_cast<uint16_t>(max_ext_);
    const auto delta = static_cast<int16_t>(static_cast<uint16_t>(seq - low));
    const int64_t ext = max_ext_ + delta;
    verdict v = verdict::fresh;
    if (ext > max_ext_) {
        clear_range(max_ext_ + 1, ext + 1);
        test_and_set(ext);
        max_ext_ = ext;
    } else if (max_ext_ - ext >= window) {
        ++too_old_;
        return verdict::too_old;
    } else if (test_and_set(ext)) {
        ++duplicates_;
        return verdict::duplicate;
    } else {
        ++reordered_;
        v = verdict::reordered;
    }
    ++received_;

    // RFC 3550 A.8: transit time in one clock, smoothed |D| with gain 1/16. Kept in ns
    // rather than RTP ticks so a 125 us tick does not quantise it.
    const auto ticks = static_cast<uint32_t>(rtp_ts - first_ts_);
    const double media_ns = static_cast<double>(ticks) * ns_per_tick_;
    const double transit = static_cast<double>(arrival_ns) - media_ns;
    if (have_transit_) {
        const double d = std::fabs(transit - last_transit_ns_);
        jitter_ns_ += (d - jitter_ns_) / 16.0;
    }
    have_transit_ = true;
    last_transit_ns_ = transit;
    return v;
}

}  // namespace rtprelay::loadgen
